/// PostgreSQL's COPY text format, both ways: one line per row, fields separated by tabs, `\N`
/// for NULL, and backslash, tab, newline and carriage return escaped with a backslash.
///
/// The writer and the reader live together so that what one escapes the other reads back
/// (a round-trip test holds them to it). Both work on raw bytes: the importer encodes
/// millions of fields and the snapshot loader reads as many.
public enum CopyText {
    /// One line (with its newline) of the fields given; nil is `\N`.
    public static func line(_ fields: [String?]) -> [UInt8] {
        var utf8Count = 0
        for field in fields { utf8Count += field?.utf8.count ?? 2 }
        let capacity = 2 * utf8Count + fields.count + 1
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var writer = CopyTextWriter(cursor: buffer)
        for (index, field) in fields.enumerated() {
            if index > 0 { writer.tab() }
            if var field {
                field.withUTF8 { writer.escaped($0) }
            } else {
                writer.null()
            }
        }
        writer.byte(UInt8(ascii: "\n"))
        return Array(UnsafeBufferPointer(start: buffer, count: writer.cursor - buffer))
    }

    /// The fields of one line (without its newline), NULLs as nil.
    public static func fields(_ line: UnsafeBufferPointer<UInt8>) -> [String?] {
        var reader = CopyTextFields(line)
        var fields: [String?] = []
        while !reader.isAtEnd { fields.append(reader.text()) }
        return fields
    }
}

/// Writes COPY text through a cursor into memory the caller reserved beforehand: no capacity
/// or uniqueness checks per byte. The caller reserves the worst case (every byte escaped: twice
/// the text, plus separators).
@frozen
public struct CopyTextWriter {
    public var cursor: UnsafeMutablePointer<UInt8>

    @inlinable
    public init(cursor: UnsafeMutablePointer<UInt8>) {
        self.cursor = cursor
    }

    @inlinable @inline(__always)
    public mutating func byte(_ value: UInt8) {
        cursor.pointee = value
        cursor += 1
    }

    /// The field separator.
    @inlinable @inline(__always)
    public mutating func tab() {
        byte(0x09)
    }

    /// `\N`, a NULL.
    @inlinable @inline(__always)
    public mutating func null() {
        byte(UInt8(ascii: "\\"))
        byte(UInt8(ascii: "N"))
    }

    /// A field's value, escaped. `droppingCarriageReturns` leaves out CR bytes, for text whose CR
    /// only ever comes before LF (the importer stores CR LF as LF).
    @inlinable @inline(__always)
    public mutating func escaped(_ bytes: UnsafeBufferPointer<UInt8>, droppingCarriageReturns: Bool = false) {
        for value in bytes {
            if value > 0x0D && value != UInt8(ascii: "\\") {
                byte(value)
                continue
            }
            switch value {
            case UInt8(ascii: "\\"): byte(value); byte(value)
            case 0x09: byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "t"))
            case 0x0A: byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "n"))
            case 0x0D: if !droppingCarriageReturns { byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "r")) }
            default: byte(value)
            }
        }
    }

    /// A decimal integer.
    @inlinable
    public mutating func integer(_ value: Int) {
        var rest = value.magnitude
        if value < 0 { byte(UInt8(ascii: "-")) }
        var scale: UInt = 1
        while rest / scale >= 10 { scale *= 10 }
        while scale > 0 {
            byte(UInt8(truncatingIfNeeded: 0x30 + rest / scale))
            rest %= scale
            scale /= 10
        }
    }

    /// An element of a quoted array literal (`{"a","b"}`): `"` and `\` get a backslash for the
    /// array parser, and every backslash then gets another for COPY. At most four bytes per byte.
    @inlinable
    public mutating func arrayElement(_ bytes: UnsafeBufferPointer<UInt8>) {
        for value in bytes {
            switch value {
            case UInt8(ascii: "\""):
                byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "\\")); byte(value)
            case UInt8(ascii: "\\"):
                for _ in 0..<4 { byte(value) }
            case 0x09: byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "t"))
            case 0x0A: byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "n"))
            case 0x0D: byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "r"))
            default: byte(value)
            }
        }
    }
}

/// Walks the tab-separated fields of one line of COPY text format (`copyOut` hands lines over).
public struct CopyTextFields {
    private let line: UnsafeBufferPointer<UInt8>
    private var position = 0

    public init(_ line: UnsafeBufferPointer<UInt8>) {
        self.line = line
    }

    /// Whether every field was read. An empty line holds one empty field.
    public var isAtEnd: Bool { position > line.count }

    /// The next field's bytes as sent (escapes not undone), or nil for `\N`.
    public mutating func raw() -> UnsafeBufferPointer<UInt8>? {
        let start = min(position, line.count)
        while position < line.count, line[position] != 9 { position += 1 }
        let field = UnsafeBufferPointer(rebasing: line[start..<min(position, line.count)])
        position += 1
        if field.count == 2, field[0] == 92, field[1] == 78 { return nil }
        return field
    }

    /// The next field as text, its escapes undone; nil for `\N`.
    public mutating func text() -> String? {
        guard let field = raw() else { return nil }
        guard field.contains(92) else { return String(decoding: field, as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(field.count)
        var index = 0
        while index < field.count {
            let byte = field[index]
            if byte == 92, index + 1 < field.count {
                index += 1
                switch field[index] {
                case UInt8(ascii: "t"): bytes.append(9)
                case UInt8(ascii: "n"): bytes.append(10)
                case UInt8(ascii: "r"): bytes.append(13)
                case UInt8(ascii: "b"): bytes.append(8)
                case UInt8(ascii: "f"): bytes.append(12)
                case UInt8(ascii: "v"): bytes.append(11)
                default: bytes.append(field[index])
                }
            } else {
                bytes.append(byte)
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The next field as an integer, or nil for `\N`; the server's own integer text, unchecked.
    public mutating func optionalInt64() -> Int64? {
        guard let field = raw() else { return nil }
        var value: Int64 = 0
        var negative = false
        for byte in field {
            if byte == UInt8(ascii: "-") { negative = true; continue }
            value = value * 10 + Int64(byte &- 48)
        }
        return negative ? -value : value
    }

    public mutating func int64() -> Int64 { optionalInt64() ?? 0 }

    /// Decimal numbers as `extract(epoch …)` prints them (`1805043600.000000`).
    public mutating func double() -> Double? {
        guard let field = raw() else { return nil }
        var whole: Int64 = 0
        var fraction = 0.0
        var scale = 0.1
        var negative = false
        var afterPoint = false
        for byte in field {
            switch byte {
            case UInt8(ascii: "-"): negative = true
            case UInt8(ascii: "."): afterPoint = true
            default:
                if afterPoint {
                    fraction += Double(byte &- 48) * scale
                    scale /= 10
                } else {
                    whole = whole * 10 + Int64(byte &- 48)
                }
            }
        }
        let value = Double(whole) + fraction
        return negative ? -value : value
    }
}

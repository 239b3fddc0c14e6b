import Foundation

/// A value on its way to the server as a `$n` parameter, in PostgreSQL's text format.
///
/// Parameters are never pasted into SQL: they travel beside the statement (`PQexecParams`),
/// so quotes, semicolons and `'; DROP TABLE …` in a value are only ever data.
public struct PostgresValue: Sendable, Hashable {
    /// Text representation, or nil for SQL NULL.
    public var text: String?
    /// The parameter's type OID; 0 lets the server infer it from the statement.
    public var typeOID: UInt32

    public init(text: String?, typeOID: UInt32 = 0) {
        self.text = text
        self.typeOID = typeOID
    }

    public static let null = PostgresValue(text: nil)
}

/// A Swift type that can be sent as a parameter.
public protocol PostgresEncodable: Sendable {
    var postgresValue: PostgresValue { get }
}

/// Well-known type OIDs (`pg_type.oid`), stable across PostgreSQL versions.
public enum PostgresType {
    public static let bool: UInt32 = 16
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let varchar: UInt32 = 1043
    public static let bpchar: UInt32 = 1042
    public static let date: UInt32 = 1082
    public static let timestamp: UInt32 = 1114
    public static let timestamptz: UInt32 = 1184
    public static let numeric: UInt32 = 1700
    public static let uuid: UInt32 = 2950
    public static let jsonb: UInt32 = 3802
    public static let json: UInt32 = 114
    public static let name: UInt32 = 19
    public static let oid: UInt32 = 26
    public static let boolArray: UInt32 = 1000
    public static let int2Array: UInt32 = 1005
    public static let int4Array: UInt32 = 1007
    public static let textArray: UInt32 = 1009
    public static let varcharArray: UInt32 = 1015
    public static let int8Array: UInt32 = 1016
    public static let float8Array: UInt32 = 1022
    public static let timestamptzArray: UInt32 = 1185
    public static let uuidArray: UInt32 = 2951
}

extension PostgresValue: PostgresEncodable {
    public var postgresValue: PostgresValue { self }
}

extension String: PostgresEncodable {
    // Unknown (0) rather than text, so the server casts to the column's type (enums, citext, …).
    public var postgresValue: PostgresValue { PostgresValue(text: self, typeOID: 0) }
}

extension Substring: PostgresEncodable {
    public var postgresValue: PostgresValue { PostgresValue(text: String(self), typeOID: 0) }
}

extension Int: PostgresEncodable {
    public var postgresValue: PostgresValue { PostgresValue(text: String(self), typeOID: PostgresType.int8) }
}

extension Int64: PostgresEncodable {
    public var postgresValue: PostgresValue { PostgresValue(text: String(self), typeOID: PostgresType.int8) }
}

extension Int32: PostgresEncodable {
    public var postgresValue: PostgresValue { PostgresValue(text: String(self), typeOID: PostgresType.int4) }
}

extension Bool: PostgresEncodable {
    public var postgresValue: PostgresValue { PostgresValue(text: self ? "t" : "f", typeOID: PostgresType.bool) }
}

extension Double: PostgresEncodable {
    public var postgresValue: PostgresValue {
        let text: String
        if isNaN {
            text = "NaN"
        } else if isInfinite {
            text = self < 0 ? "-Infinity" : "Infinity"
        } else {
            text = "\(self)"
        }
        return PostgresValue(text: text, typeOID: PostgresType.float8)
    }
}

extension UUID: PostgresEncodable {
    public var postgresValue: PostgresValue { PostgresValue(text: uuidString, typeOID: PostgresType.uuid) }
}

extension Date: PostgresEncodable {
    /// Sent as an RFC 3339 instant in UTC with microseconds, PostgreSQL's own resolution.
    public var postgresValue: PostgresValue {
        PostgresValue(text: PostgresTimestamp.format(self), typeOID: PostgresType.timestamptz)
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresValue: PostgresValue {
        switch self {
        case .none: return .null
        case .some(let value): return value.postgresValue
        }
    }
}

/// Arrays travel as PostgreSQL array literals with every element quoted.
extension Array: PostgresEncodable where Element: PostgresEncodable {
    public var postgresValue: PostgresValue {
        var literal = "{"
        var elementOID: UInt32 = 0
        for (index, element) in self.enumerated() {
            if index > 0 { literal += "," }
            let value = element.postgresValue
            elementOID = value.typeOID
            guard let text = value.text else {
                literal += "NULL"
                continue
            }
            literal += "\""
            for character in text.unicodeScalars {
                if character == "\"" || character == "\\" { literal += "\\" }
                literal.unicodeScalars.append(character)
            }
            literal += "\""
        }
        literal += "}"
        return PostgresValue(text: literal, typeOID: Self.arrayOID(forElement: elementOID))
    }

    private static func arrayOID(forElement oid: UInt32) -> UInt32 {
        switch oid {
        case PostgresType.bool: return PostgresType.boolArray
        case PostgresType.int4: return PostgresType.int4Array
        case PostgresType.int8: return PostgresType.int8Array
        case PostgresType.float8: return PostgresType.float8Array
        case PostgresType.timestamptz: return PostgresType.timestamptzArray
        case PostgresType.uuid: return PostgresType.uuidArray
        default: return PostgresType.textArray
        }
    }
}

/// Fast formatting and parsing of `timestamptz` text, without a `DateFormatter` per value.
public enum PostgresTimestamp {
    /// `2027-03-14T17:00:00.000000Z`
    public static func format(_ date: Date) -> String {
        let totalMicros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        var seconds = Int64((totalMicros / 1_000_000).rounded(.down))
        let micros = Int64(totalMicros) - seconds * 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        seconds -= days * 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(micros, 6))Z"
    }

    /// Parses the server's ISO output (`2027-03-14 17:00:00+00`, `…:00.5+01:30`) of a session
    /// whose DateStyle is ISO; the connection sets it.
    public static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Date? {
        var index = 0
        let count = text.count
        func number(_ width: Int) -> Int64? {
            guard index + width <= count else { return nil }
            var value: Int64 = 0
            for offset in 0..<width {
                let byte = text[index + offset]
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            index += width
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard index < count, text[index] == byte else { return false }
            index += 1
            return true
        }
        if count >= 8, text[0] == UInt8(ascii: "i") { return .distantFuture }
        if count >= 9, text[0] == UInt8(ascii: "-"), text[1] == UInt8(ascii: "i") { return .distantPast }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
              let day = number(2)
        else { return nil }
        var seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400
        var fraction = 0.0
        if index < count, text[index] == UInt8(ascii: " ") || text[index] == UInt8(ascii: "T") {
            index += 1
            guard let hour = number(2), expect(UInt8(ascii: ":")), let minute = number(2), expect(UInt8(ascii: ":")),
                  let second = number(2)
            else { return nil }
            seconds += hour * 3600 + minute * 60 + second
            if index < count, text[index] == UInt8(ascii: ".") {
                index += 1
                var scale = 0.1
                while index < count, text[index] >= 48, text[index] <= 57 {
                    fraction += Double(text[index] - 48) * scale
                    scale /= 10
                    index += 1
                }
            }
        }
        if index < count {
            let sign: Int64
            switch text[index] {
            case UInt8(ascii: "+"): sign = 1
            case UInt8(ascii: "-"): sign = -1
            case UInt8(ascii: "Z"): sign = 0
            default: return nil
            }
            index += 1
            if sign != 0 {
                guard let hours = number(2) else { return nil }
                var offset = hours * 3600
                if expect(UInt8(ascii: ":")) {
                    guard let minutes = number(2) else { return nil }
                    offset += minutes * 60
                    if expect(UInt8(ascii: ":")), let secs = number(2) { offset += secs }
                }
                seconds -= sign * offset
            }
        }
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Days from 1970-01-01 (proleptic Gregorian), Howard Hinnant's algorithm.
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilDate(daysSinceEpoch days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

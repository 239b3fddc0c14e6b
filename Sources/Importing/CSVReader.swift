import Foundation

/// A problem in the structure of one record that does not stop the reading.
public struct CSVRecordProblem: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// `"abc"def`: text between a closing quote and the next delimiter; kept as text.
        case textAfterClosingQuote
        /// The file ended inside a quoted field; `openedOnLine` is where the quote was.
        case unclosedQuote(openedOnLine: Int)
        /// A NUL byte, which no text file has.
        case nulByte
    }

    public var kind: Kind
    /// 0-based index of the field.
    public var field: Int
    /// The line the problem is on.
    public var line: Int
}

/// A streaming RFC 4180 reader over bytes.
///
/// Reads the source in large chunks through a hand-written state machine, copies each
/// record's fields into one reused buffer and hands them out as byte slices, so memory stays
/// flat whatever the size of the file and no `String` is made unless asked for. Accepts
/// UTF-8 with or without a BOM (or Windows-1252 on request), `,` `;` or tab as delimiter
/// (detected from the header line unless given), CRLF, LF or CR line ends, and quoted fields
/// with delimiters, doubled quotes and line breaks. Records where every field is empty
/// (blank lines, `;;;` rows that spreadsheets append) are skipped; line numbers count them.
///
/// Refuses at once, with a thrown `ImportFailure`: a binary file (PNG, xlsx, UTF-16...),
/// bytes that are not UTF-8 (naming Windows-1252 when the file looks like it), read errors.
/// Structural problems of a record are reported in `problems` and reading goes on.
public final class CSVReader {
    /// The file as messages name it.
    public let fileName: String
    /// The delimiter in use, given or detected.
    public let delimiter: UInt8
    public let encoding: ImportEncoding
    /// Whether the first line ended in CRLF, so a rejects file can match.
    public private(set) var usesCRLF = false

    /// Column names to use in messages about fields, once the caller knows the header;
    /// until then fields are named `header`, as the first record is.
    public var columnNames: [String] = []

    private let input: ByteInput
    private var scanner: CSVScanner
    private var chunk: UnsafeBufferPointer<UInt8> = UnsafeBufferPointer(start: nil, count: 0)
    private var position = 0
    private var prefix: [UInt8]
    private var prefixOffset = 0
    private let readSize: Int
    /// Holds the prefix and converted chunks while they are scanned.
    private let store = ByteBuffer()
    private var atEnd = false
    private let tables: UnsafeMutablePointer<UInt8>

    /// - Parameters:
    ///   - delimiter: `,`, `;` or tab; nil detects it from the header line.
    ///   - encoding: `.windows1252` converts; `.utf8` refuses bytes that are not UTF-8.
    ///   - bufferSize: bytes per read; large reads keep the system-call count low.
    public init(
        source: ImportSource, delimiter: UInt8? = nil, encoding: ImportEncoding = .utf8,
        bufferSize: Int = 1 << 20
    ) throws(ImportFailure) {
        let input = try ByteInput(source, bufferSize: bufferSize)
        self.input = input
        readSize = max(1, bufferSize)
        fileName = input.name
        self.encoding = encoding

        // Read a prefix large enough to recognise the file, its BOM and delimiter.
        var prefix = [UInt8]()
        while prefix.count < 64 * 1024 {
            let bytes = try input.read()
            if bytes.isEmpty { break }
            prefix.append(contentsOf: bytes)
        }
        var start = 0
        if prefix.starts(with: [0xEF, 0xBB, 0xBF]) {
            start = 3
        } else if let kind = prefix.withUnsafeBufferPointer({ FileSignature.identify($0) }) {
            throw ImportFailure(ImportIssue(
                file: input.name, line: 1, field: "file", message: "not a CSV file: this looks like \(kind)"))
        }
        self.prefix = Array(prefix[start...])
        let detected = delimiter ?? Self.detectDelimiter(self.prefix)
        self.delimiter = detected
        usesCRLF = Self.firstLineEndsInCRLF(self.prefix)

        tables = UnsafeMutablePointer<UInt8>.allocate(capacity: 512)
        tables.initialize(repeating: 0, count: 512)
        for byte in [detected, 0x0A, 0x0D] { tables[Int(byte)] = 1 }  // unquoted specials
        for byte in [UInt8(ascii: "\""), 0x0A, 0x0D] { tables[256 + Int(byte)] = 1 }  // quoted
        scanner = CSVScanner(delimiter: detected, unquoted: tables, quoted: tables + 256)
    }

    deinit {
        scanner.release()
        tables.deallocate()
    }

    // MARK: Reading

    /// Advances to the next record; false at the end of the file.
    public func next() throws(ImportFailure) -> Bool {
        while true {
            guard try readRecord() else { return false }
            if scanner.byteCount == 0 && scanner.problems.isEmpty { continue }  // blank
            try checkText()
            return true
        }
    }

    /// The line on which the current record starts.
    public var line: Int { scanner.recordLine }
    public var fieldCount: Int { scanner.fieldEnds.count }
    /// False for a last record that the file ends without a line break after.
    public var endsWithLineBreak: Bool { scanner.endedWithLineBreak }
    public var problems: [CSVRecordProblem] { scanner.problems }
    public var bytesRead: Int { input.bytesRead }
    public var totalBytes: Int? { input.totalBytes }

    /// The bytes of field `index` (unquoted, unescaped), valid until `next()`.
    public func fieldBytes(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        scanner.field(index)
    }

    /// Field `index` as a `String`.
    public func field(_ index: Int) -> String {
        String(decoding: scanner.field(index), as: UTF8.self)
    }

    /// Every field of the current record as `String`s (convenient, not fast).
    public var fields: [String] { (0..<fieldCount).map(field) }

    /// The line on which byte `offset` of field `index` stands (fields may hold line breaks).
    public func line(ofField index: Int, offset: Int = 0) -> Int {
        scanner.line(ofField: index, offset: offset)
    }

    /// The name messages use for field `index`.
    public func columnName(_ index: Int) -> String {
        if columnNames.isEmpty { return "header" }
        return index < columnNames.count ? columnNames[index] : "column \(index + 1)"
    }

    // MARK: Internals

    var currentRecordBytes: UnsafeBufferPointer<UInt8> { scanner.recordBytes }
    var currentFieldEnds: [Int] { scanner.fieldEnds }

    private func readRecord() throws(ImportFailure) -> Bool {
        scanner.startRecord()
        while true {
            if position >= chunk.count {
                if atEnd { return scanner.finish() }
                try loadChunk()
                continue
            }
            if scanner.scan(chunk, from: &position) { return true }
        }
    }

    private func loadChunk() throws(ImportFailure) {
        position = 0
        if prefixOffset < prefix.count {
            // The prefix is handed out in pieces of the read size, like the rest of the file.
            let end = min(prefix.count, prefixOffset + readSize)
            store.removeAll()
            prefix.withUnsafeBufferPointer { all in
                let bytes = UnsafeBufferPointer(rebasing: all[prefixOffset..<end])
                if encoding == .windows1252 { Windows1252.convert(bytes, into: store) } else { store.append(bytes) }
            }
            prefixOffset = end
            if prefixOffset == prefix.count {
                prefix = []
                prefixOffset = 0
            }
            chunk = store.bytes
            return
        }
        let raw = try input.read()
        if raw.isEmpty {
            atEnd = true
            chunk = UnsafeBufferPointer(start: nil, count: 0)
        } else if encoding == .windows1252 {
            store.removeAll()
            Windows1252.convert(raw, into: store)
            chunk = store.bytes
        } else {
            chunk = raw
        }
    }

    /// NUL bytes become a problem of the record; bytes that are not UTF-8 stop the import.
    private func checkText() throws(ImportFailure) {
        let record = scanner.recordBytes
        let (isASCII, hasNUL) = UTF8Validation.scan(record)
        if hasNUL, let offset = UTF8Validation.firstNUL(record) {
            let field = scanner.fieldIndex(atOffset: offset)
            let fieldStart = field == 0 ? 0 : scanner.fieldEnds[field - 1]
            scanner.problems.append(CSVRecordProblem(
                kind: .nulByte, field: field, line: scanner.line(ofField: field, offset: offset - fieldStart)))
        }
        guard !isASCII, encoding == .utf8, let offset = UTF8Validation.firstInvalid(record) else { return }
        let field = scanner.fieldIndex(atOffset: offset)
        let fieldStart = field == 0 ? 0 : scanner.fieldEnds[field - 1]
        let line = scanner.line(ofField: field, offset: offset - fieldStart)
        let bytes = scanner.field(field)
        let byte = record[offset]
        let message: String
        if Windows1252.looksLikeWindows1252(record) {
            let scalar = Unicode.Scalar(Windows1252.scalar(byte)).map { String(Character($0)) } ?? "?"
            message = "not UTF-8: the file looks like Windows-1252 (byte 0x\(ImportIssue.hex(byte)) "
                + "would be \"\(scalar)\" there); save it as UTF-8 (in Excel: \"CSV UTF-8\") "
                + "or import it with --encoding cp1252"
        } else {
            message = "not UTF-8: byte 0x\(ImportIssue.hex(byte)) does not belong to a UTF-8 character; "
                + "save the file as UTF-8"
        }
        throw ImportFailure(ImportIssue(
            file: fileName, line: line, field: columnName(field), message: message, got: ImportIssue.shown(bytes)))
    }

    static func detectDelimiter(_ prefix: [UInt8]) -> UInt8 {
        var counts: [UInt8: Int] = [UInt8(ascii: ","): 0, UInt8(ascii: ";"): 0, 0x09: 0]
        var quoted = false
        for byte in prefix {
            if byte == UInt8(ascii: "\"") {
                quoted.toggle()
            } else if !quoted {
                if byte == 0x0A || byte == 0x0D { break }
                counts[byte]? += 1
            }
        }
        // Ties (a one-column header) go to the comma, then the semicolon.
        var best = UInt8(ascii: ",")
        for candidate in [UInt8(ascii: ";"), 0x09] where counts[candidate, default: 0] > counts[best, default: 0] {
            best = candidate
        }
        return best
    }

    static func firstLineEndsInCRLF(_ prefix: [UInt8]) -> Bool {
        var quoted = false
        for (index, byte) in prefix.enumerated() {
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if !quoted, byte == 0x0A || byte == 0x0D {
                return byte == 0x0D && index + 1 < prefix.count && prefix[index + 1] == 0x0A
            }
        }
        return false
    }
}

// MARK: - State machine

/// The tokenizer proper, a value type so that the hot loop runs on `inout` state without
/// the dynamic exclusivity checks of class properties.
struct CSVScanner {
    enum State { case fieldStart, unquoted, quoted, afterQuote }
    /// A CR that ended a chunk: a LF starting the next one belongs to it.
    enum PendingCR { case none, afterRecord, inQuoted }

    let delimiter: UInt8
    private let unquoted: UnsafeMutablePointer<UInt8>
    private let quoted: UnsafeMutablePointer<UInt8>

    private var state = State.fieldStart
    private(set) var line = 1
    private(set) var recordLine = 1
    private var pendingCR = PendingCR.none
    private var quoteOpenedLine = 1
    private(set) var endedWithLineBreak = true

    private var bytes: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var byteCount = 0
    var fieldEnds: [Int] = []
    var problems: [CSVRecordProblem] = []

    /// The special bytes of each state repeated across a word, for `skip`.
    private let unquotedWords: (UInt64, UInt64, UInt64)
    private let quotedWords: (UInt64, UInt64, UInt64)

    init(delimiter: UInt8, unquoted: UnsafeMutablePointer<UInt8>, quoted: UnsafeMutablePointer<UInt8>) {
        self.delimiter = delimiter
        self.unquoted = unquoted
        self.quoted = quoted
        let ones: UInt64 = 0x0101_0101_0101_0101
        unquotedWords = (UInt64(delimiter) &* ones, 0x0A &* ones, 0x0D &* ones)
        quotedWords = (UInt64(UInt8(ascii: "\"")) &* ones, 0x0A &* ones, 0x0D &* ones)
        capacity = 4096
        bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        fieldEnds.reserveCapacity(64)
    }

    func release() {
        bytes.deallocate()
    }

    var recordBytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: bytes, count: byteCount) }

    func field(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        let start = index == 0 ? 0 : fieldEnds[index - 1]
        return UnsafeBufferPointer(start: bytes + start, count: fieldEnds[index] - start)
    }

    func fieldIndex(atOffset offset: Int) -> Int {
        var low = 0
        var high = fieldEnds.count - 1
        while low < high {  // first field whose end is past `offset`
            let middle = (low + high) / 2
            if fieldEnds[middle] > offset { high = middle } else { low = middle + 1 }
        }
        return max(0, low)
    }

    /// Lines are counted from the record's start through the line breaks kept in fields.
    func line(ofField index: Int, offset: Int) -> Int {
        let end = (index == 0 ? 0 : fieldEnds[index - 1]) + offset
        var line = recordLine
        var position = 0
        while position < end {
            let byte = bytes[position]
            if byte == 0x0A {
                line += 1
            } else if byte == 0x0D {
                line += 1
                if position + 1 < byteCount, bytes[position + 1] == 0x0A { position += 1 }
            }
            position += 1
        }
        return line
    }

    mutating func startRecord() {
        byteCount = 0
        fieldEnds.removeAll(keepingCapacity: true)
        if !problems.isEmpty { problems.removeAll(keepingCapacity: true) }
        recordLine = line
        endedWithLineBreak = true
    }

    /// Consumes bytes from `position`; true when a record is complete.
    mutating func scan(_ chunk: UnsafeBufferPointer<UInt8>, from position: inout Int) -> Bool {
        guard let base = chunk.baseAddress else { return false }
        let end = chunk.count
        var index = position
        defer { position = index }
        if pendingCR != .none {
            if base[index] == 0x0A {
                if pendingCR == .inQuoted { append(0x0A) }
                index += 1
            }
            pendingCR = .none
        }
        while index < end {
            switch state {
            case .fieldStart:
                if base[index] == UInt8(ascii: "\"") {
                    state = .quoted
                    quoteOpenedLine = line
                    index += 1
                } else {
                    state = .unquoted
                }
            case .unquoted:
                let start = index
                index = Self.skip(base, from: index, to: end, past: unquotedWords, table: unquoted)
                if index > start { append(base + start, count: index - start) }
                if index == end { return false }
                let byte = base[index]
                index += 1
                fieldEnds.append(byteCount)
                state = .fieldStart
                if byte == delimiter { continue }
                line += 1
                if byte == 0x0D {
                    if index < end {
                        if base[index] == 0x0A { index += 1 }
                    } else {
                        pendingCR = .afterRecord
                    }
                }
                return true
            case .quoted:
                let start = index
                index = Self.skip(base, from: index, to: end, past: quotedWords, table: quoted)
                if index > start { append(base + start, count: index - start) }
                if index == end { return false }
                let byte = base[index]
                index += 1
                if byte == UInt8(ascii: "\"") {
                    state = .afterQuote
                } else {
                    append(byte)
                    line += 1
                    if byte == 0x0D {
                        if index < end {
                            if base[index] == 0x0A {
                                append(0x0A)
                                index += 1
                            }
                        } else {
                            pendingCR = .inQuoted
                        }
                    }
                }
            case .afterQuote:
                let byte = base[index]
                if byte == UInt8(ascii: "\"") {
                    append(byte)
                    state = .quoted
                    index += 1
                } else {
                    if byte != delimiter && byte != 0x0A && byte != 0x0D {
                        problems.append(CSVRecordProblem(kind: .textAfterClosingQuote, field: fieldEnds.count, line: line))
                    }
                    state = .unquoted
                }
            }
        }
        return false
    }

    /// The index of the first special byte at or after `index` (or `end`): eight bytes at a
    /// time where the platform is little-endian, then byte by byte through `table`.
    @inline(__always)
    private static func skip(
        _ base: UnsafePointer<UInt8>, from start: Int, to end: Int, past words: (UInt64, UInt64, UInt64),
        table: UnsafeMutablePointer<UInt8>
    ) -> Int {
        var index = start
        #if _endian(little)
        let raw = UnsafeRawPointer(base)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while index + 8 <= end {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let a = word ^ words.0
            let b = word ^ words.1
            let c = word ^ words.2
            // A byte of a, b or c is zero where `word` holds a special byte; the lowest
            // flagged byte is exact (borrows only spread upwards).
            let found = ((a &- ones) & ~a | (b &- ones) & ~b | (c &- ones) & ~c) & highs
            if found != 0 { return index + found.trailingZeroBitCount / 8 }
            index += 8
        }
        #endif
        while index < end, table[Int(base[index])] == 0 { index += 1 }
        return index
    }

    /// At the end of the input: completes a record the file ends without a line break after.
    mutating func finish() -> Bool {
        switch state {
        case .fieldStart where fieldEnds.isEmpty:
            return false
        case .quoted:
            problems.append(CSVRecordProblem(
                kind: .unclosedQuote(openedOnLine: quoteOpenedLine), field: fieldEnds.count, line: quoteOpenedLine))
        default:
            break
        }
        fieldEnds.append(byteCount)
        state = .fieldStart
        endedWithLineBreak = false
        return true
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        if byteCount == capacity { grow(to: byteCount + 1) }
        bytes[byteCount] = byte
        byteCount += 1
    }

    @inline(__always)
    private mutating func append(_ source: UnsafePointer<UInt8>, count: Int) {
        if byteCount + count > capacity { grow(to: byteCount + count) }
        (bytes + byteCount).update(from: source, count: count)
        byteCount += count
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBytes.update(from: bytes, count: byteCount)
        bytes.deallocate()
        bytes = newBytes
        capacity = newCapacity
    }
}

import Foundation

/// One problem in an import file, printed as `FILE:LINE: field: what is wrong (got "...")`.
public struct ImportIssue: Sendable, Hashable, CustomStringConvertible {
    /// The file as the user named it.
    public var file: String
    /// 1-based line in the file; for a row, the line where the row starts.
    public var line: Int
    /// The column as the file names it, or `row`, `header`, `file` for wider problems.
    public var field: String
    /// What is wrong, and what was expected.
    public var message: String
    /// The offending value as printed (quoted, escaped, shortened); nil when there is none.
    public var got: String?

    public init(file: String, line: Int, field: String, message: String, got: String? = nil) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        self.got = got
    }

    public var description: String {
        let head = "\(file):\(line): \(field): \(message)"
        guard let got else { return head }
        return head + " (got \"\(got)\")"
    }
}

extension ImportIssue {
    /// The longest value shown in a message, in bytes; longer values end in `…`.
    static let shownValueLimit = 60

    /// A value as shown in `(got "...")`: quotes, backslashes and control characters escaped,
    /// bytes that are not UTF-8 as `\xNN`, long values cut.
    static func shown(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var out = ""
        var index = 0
        var shownBytes = 0
        while index < bytes.count {
            if shownBytes >= shownValueLimit {
                out += "…"
                break
            }
            let byte = bytes[index]
            let length = UTF8Validation.sequenceLength(bytes, at: index)
            guard length > 0 else {
                out += "\\x" + hex(byte)
                index += 1
                shownBytes += 1
                continue
            }
            if length == 1 {
                switch byte {
                case UInt8(ascii: "\""): out += "\\\""
                case UInt8(ascii: "\\"): out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                case 0x00: out += "\\0"
                case 0..<0x20, 0x7F: out += "\\x" + hex(byte)
                default: out.unicodeScalars.append(Unicode.Scalar(byte))
                }
            } else {
                out += String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<index + length]), as: UTF8.self)
            }
            index += length
            shownBytes += length
        }
        return out
    }

    static func shown(_ text: String) -> String {
        var copy = text
        return copy.withUTF8 { shown($0) }
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}

/// A problem that stops the import: the file cannot be read as CSV at all (binary, empty,
/// not UTF-8, a bad header or mapping). Row problems are collected instead.
public struct ImportFailure: Error, Sendable, CustomStringConvertible {
    /// At least one issue; a bad header lists all of its problems.
    public var issues: [ImportIssue]

    public init(_ issues: [ImportIssue]) {
        self.issues = issues
    }

    public init(_ issue: ImportIssue) {
        self.issues = [issue]
    }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Collects row issues up to a cap and counts the rest, so a file with a million bad rows
/// neither floods the terminal nor fills memory.
struct IssueCollector {
    let limit: Int
    private(set) var issues: [ImportIssue] = []
    private(set) var omitted = 0

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    mutating func add(_ issue: ImportIssue) {
        if issues.count < limit {
            issues.append(issue)
        } else {
            omitted += 1
        }
    }
}

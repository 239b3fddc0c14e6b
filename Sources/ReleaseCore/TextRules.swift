/// What free text (everything that is not a code) may hold: the one table of length limits, and
/// the one control-character rule. The CLI, the importer and migration 0013's CHECKs use the
/// same numbers (README "Text limits").
///
/// Lengths count characters as PostgreSQL's `char_length` does: Unicode scalars.
/// No field may hold a control character (U+0000–U+001F, U+007F, U+0080–U+009F) — escape
/// sequences in a title would otherwise recolour every viewer's terminal — except that the
/// multi-line kinds may hold line feeds; a CR LF pair is stored as LF. A tab is refused, not
/// turned into a space: the sender sees what would change.
public enum TextField: String, Sendable, CaseIterable {
    case title
    case name
    case reason
    case description
    case evaluation
    case version
    case changeRef = "change reference"
    case login

    /// The most characters a value may have.
    public var maximumLength: Int {
        switch self {
        case .title, .name: return 200
        case .reason, .description: return 2000
        case .evaluation: return 10000
        case .version, .changeRef, .login: return 64
        }
    }

    var article: String { self == .evaluation ? "an" : "a" }

    /// Whether line feeds are allowed (titles keep line breaks in `release show`).
    public var allowsLineBreaks: Bool {
        switch self {
        case .title, .reason, .description, .evaluation: return true
        case .name, .version, .changeRef, .login: return false
        }
    }
}

/// Why a text was refused.
public enum TextProblem: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLong(field: TextField, length: Int)
    /// `position` counts characters from 1.
    case controlCharacter(field: TextField, scalar: UInt32, position: Int)

    public var description: String {
        switch self {
        case let .tooLong(field, length):
            return "\(field.article) \(field.rawValue) is at most \(field.maximumLength) characters long (this one has \(length))"
        case let .controlCharacter(field, scalar, position):
            let allowed = field.allowsLineBreaks ? " other than line breaks" : ""
            return "\(field.article) \(field.rawValue) may not hold control characters\(allowed): "
                + "\(TextRules.visible(scalar)) at character \(position)"
        }
    }
}

public enum TextRules {
    /// Whether `scalar` is a C0 or C1 control character or DEL.
    @inline(__always)
    public static func isControl(_ scalar: UInt32) -> Bool {
        scalar < 0x20 || (scalar >= 0x7F && scalar <= 0x9F)
    }

    /// `value` as stored (CR LF as LF), or the first problem with it.
    public static func checked(_ value: String, as field: TextField) throws(TextProblem) -> String {
        let stored = field.allowsLineBreaks && value.utf8.contains(0x0D)
            ? value.replacing("\r\n", with: "\n") : value
        var count = 0
        for scalar in stored.unicodeScalars {
            count += 1
            let v = scalar.value
            if isControl(v) && !(v == 0x0A && field.allowsLineBreaks) {
                throw .controlCharacter(field: field, scalar: v, position: count)
            }
        }
        if count > field.maximumLength { throw .tooLong(field: field, length: count) }
        return stored
    }

    /// `U+001B (escape)`-style name of a character, for messages.
    public static func visible(_ scalar: UInt32) -> String {
        let hex = String(scalar, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        let names: [UInt32: String] = [0x09: "tab", 0x0A: "line feed", 0x0D: "carriage return", 0x1B: "escape",
                                       0x07: "bell", 0x00: "NUL", 0x7F: "delete", 0x9B: "CSI", 0x9D: "OSC"]
        return names[scalar].map { "\(code) (\($0))" } ?? code
    }
}

import Foundation

/// What a code names, so that an error can say "window code" rather than just "code".
///
/// All codes follow one rule (see ``CodeKind/validate(_:)``): people type them on the command
/// line, in CSV files and in file names of reports, so they stay short and shell-safe, in the
/// letters of the people's own language.
public enum CodeKind: String, Sendable, Hashable, CaseIterable {
    case group
    case plan
    case release
    case package
    case unit
    case window
    case freeze
    case environment
    case model
    case criterion
    case role

    /// The longest code accepted, in Unicode scalars of its NFC form (what PostgreSQL's
    /// `length()` counts).
    public static let maximumLength = 64

    /// Checks `code` against the shared rule and returns it as it is stored: in Unicode NFC,
    /// so an "ä" typed as "a" and a combining diaeresis (as macOS writes file names) is the
    /// same code as a composed "ä".
    ///
    /// The rule: 1 to 64 letters or digits of any script (Unicode's Alphabetic property or a
    /// decimal digit: `å`, `ä`, `ö`, `ж`, `中`…), `-`, `_` or `.`, starting with a letter or a
    /// digit (so a code never looks like an option or a hidden file). No spaces, quotes, slashes,
    /// other punctuation or control characters: codes are typed on command lines, in CSV files
    /// and become folder names of reports. The database checks the same rule
    /// (`relplan_is_code`, sql/0016).
    ///
    /// Codes are case-sensitive and never trimmed: apart from NFC, what is validated is what is stored.
    @discardableResult
    public func validate(_ code: String) throws(InvalidCode) -> String {
        let canonical = Self.canonical(code)
        if let reason = Self.problem(in: canonical) {
            throw InvalidCode(kind: self, code: code, reason: reason)
        }
        return canonical
    }

    /// Whether `code` follows the rule of ``validate(_:)`` (in its NFC form).
    public func isValid(_ code: String) -> Bool {
        Self.problem(in: Self.canonical(code)) == nil
    }

    /// `text` in Unicode NFC: the form in which codes are stored and looked up.
    public static func canonical(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        return text.precomposedStringWithCanonicalMapping
    }

    private static func problem(in code: String) -> InvalidCode.Reason? {
        let scalars = code.unicodeScalars
        guard let first = scalars.first else { return .empty }
        if scalars.count > maximumLength { return .tooLong(length: scalars.count) }
        if !isLetterOrDigit(first) { return .badFirstCharacter(first) }
        for scalar in scalars where !isLetterOrDigit(scalar) && !"-_.".unicodeScalars.contains(scalar) {
            return .badCharacter(scalar)
        }
        return nil
    }

    /// A letter or a digit of any script: ASCII A-Z, a-z, 0-9; beyond ASCII, a character with
    /// Unicode's Alphabetic property (letters, letter numbers, the vowel signs of Indic scripts)
    /// or a decimal digit. This is what `[[:alnum:]]` matches in a PostgreSQL database whose
    /// LC_CTYPE is C.UTF-8 or another glibc UTF-8 locale.
    public static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0...0x7F: return false
        default:
            let properties = scalar.properties
            return properties.isAlphabetic || properties.generalCategory == .decimalNumber
        }
    }
}

/// A code that breaks the rule of ``CodeKind/validate(_:)``, with what is wrong.
public struct InvalidCode: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case empty
        case tooLong(length: Int)
        case badFirstCharacter(Unicode.Scalar)
        case badCharacter(Unicode.Scalar)
    }

    public let kind: CodeKind
    public let code: String
    public let reason: Reason

    public init(kind: CodeKind, code: String, reason: Reason) {
        self.kind = kind
        self.code = code
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .empty:
            "\(kind.rawValue) code is empty"
        case .tooLong(let length):
            "\(kind.rawValue) code '\(code)' is \(length) characters long; at most \(CodeKind.maximumLength) are allowed"
        case .badFirstCharacter(let scalar):
            "\(kind.rawValue) code '\(Self.shown(code))' starts with \(Self.shown(scalar)); it must start with a letter or a digit"
        case .badCharacter(let scalar):
            "\(kind.rawValue) code '\(Self.shown(code))' contains \(Self.shown(scalar)); only letters, digits, '-', '_' and '.' are allowed"
        }
    }

    /// A character as a message shows it: quoted when visible, else as U+XXXX (a tab, a
    /// zero-width space or an escape character would otherwise be invisible or act on the terminal).
    public static func shown(_ scalar: Unicode.Scalar) -> String {
        isVisible(scalar) ? "'\(scalar)'" : "U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4)
    }

    /// The code with its invisible characters as U+XXXX.
    static func shown(_ code: String) -> String {
        var text = ""
        for scalar in code.unicodeScalars {
            if isVisible(scalar) { text.unicodeScalars.append(scalar) } else { text += "<" + shown(scalar) + ">" }
        }
        return text
    }

    private static func isVisible(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .unassigned, .surrogate,
             .privateUse, .nonspacingMark, .enclosingMark:
            return false
        default:
            return true
        }
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

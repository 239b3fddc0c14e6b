import Foundation

/// What a code names, so that an error can say "window code" rather than just "code".
///
/// All codes follow one rule (see ``CodeKind/validate(_:)``): people type them on the command
/// line, in CSV files and in file names of reports, so they stay short and shell-safe.
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

    /// The longest code accepted.
    public static let maximumLength = 64

    /// Checks `code` against the shared rule: 1 to 64 ASCII letters, digits, `-`, `_` or `.`,
    /// starting with a letter or a digit (so a code never looks like an option or a hidden file).
    ///
    /// Codes are case-sensitive and are never trimmed or changed: what is validated is what is stored.
    public func validate(_ code: String) throws(InvalidCode) {
        if let reason = Self.problem(in: code) {
            throw InvalidCode(kind: self, code: code, reason: reason)
        }
    }

    /// Whether `code` follows the rule of ``validate(_:)``.
    public func isValid(_ code: String) -> Bool {
        Self.problem(in: code) == nil
    }

    private static func problem(in code: String) -> InvalidCode.Reason? {
        let scalars = code.unicodeScalars
        guard let first = scalars.first else { return .empty }
        if scalars.count > maximumLength { return .tooLong(length: scalars.count) }
        if !isLetterOrDigit(first) { return .badFirstCharacter(Character(first)) }
        for scalar in scalars where !isLetterOrDigit(scalar) && !"-_.".unicodeScalars.contains(scalar) {
            return .badCharacter(Character(scalar))
        }
        return nil
    }

    private static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        default: false
        }
    }
}

/// A code that breaks the rule of ``CodeKind/validate(_:)``, with what is wrong.
public struct InvalidCode: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case empty
        case tooLong(length: Int)
        case badFirstCharacter(Character)
        case badCharacter(Character)
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
        case .badFirstCharacter(let character):
            "\(kind.rawValue) code '\(code)' starts with '\(character)'; it must start with a letter or a digit"
        case .badCharacter(let character):
            "\(kind.rawValue) code '\(code)' contains '\(character)'; only letters A-Z, digits, '-', '_' and '.' are allowed"
        }
    }
}

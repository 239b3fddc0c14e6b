import Foundation

/// A release as people name it everywhere: `GROUP/CODE`, the release code being unique in its group.
public struct ReleaseRef: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let group: String
    public let code: String

    /// Validates both codes, so a `ReleaseRef` always prints as text that parses back; keeps
    /// them in NFC (``CodeKind/validate(_:)``).
    public init(group: String, code: String) throws(InvalidReleaseRef) {
        do throws(InvalidCode) {
            self.group = try CodeKind.group.validate(group)
            self.code = try CodeKind.release.validate(code)
        } catch {
            throw InvalidReleaseRef(text: "\(group)/\(code)", reason: .invalidCode(error))
        }
    }

    /// Parses `GROUP/CODE`.
    public init(parsing text: String) throws(InvalidReleaseRef) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw InvalidReleaseRef(text: text, reason: parts.count < 2 ? .missingSlash : .tooManySlashes)
        }
        do {
            try self.init(group: String(parts[0]), code: String(parts[1]))
        } catch {
            throw InvalidReleaseRef(text: text, reason: error.reason)
        }
    }

    public var description: String { Self.text(group: group, code: code) }

    /// `GROUP/CODE` for codes already known to be valid (read from the database, or a scheduler's
    /// key): the one place the form is written, without validating again on a hot path.
    public static func text(group: some StringProtocol, code: some StringProtocol) -> String {
        "\(group)/\(code)"
    }

    /// The `GROUP` of `GROUP/CODE` text without validating it; the whole text when it has no '/'.
    public static func group(ofText text: some StringProtocol) -> String {
        guard let slash = text.firstIndex(of: "/") else { return String(text) }
        return String(text[..<slash])
    }

    /// Orders by group, then by code, byte-wise: the same order in every run and on every machine.
    public static func < (lhs: ReleaseRef, rhs: ReleaseRef) -> Bool {
        if lhs.group != rhs.group { return lhs.group.utf8.lexicographicallyPrecedes(rhs.group.utf8) }
        return lhs.code.utf8.lexicographicallyPrecedes(rhs.code.utf8)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Text that is not a valid `GROUP/CODE`.
public struct InvalidReleaseRef: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case missingSlash
        case tooManySlashes
        case invalidCode(InvalidCode)
    }

    public let text: String
    public let reason: Reason

    public init(text: String, reason: Reason) {
        self.text = text
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .missingSlash:
            "'\(text)' is not a release reference: expected GROUP/CODE, e.g. CRM/R-2027.03"
        case .tooManySlashes:
            "'\(text)' is not a release reference: expected exactly one '/' between GROUP and CODE"
        case .invalidCode(let invalid):
            "'\(text)' is not a release reference: \(invalid)"
        }
    }
}

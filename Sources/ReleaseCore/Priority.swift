import Foundation

/// How much a release matters when the scheduler must choose: 1 is the highest, 5 the lowest.
///
/// Ordered by value, so sorting ascending puts the most important releases first.
public struct Priority: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public static let range = 1...5
    public static let highest = Priority(uncheckedValue: 1)
    public static let lowest = Priority(uncheckedValue: 5)
    /// What a release gets when nobody says otherwise.
    public static let `default` = Priority(uncheckedValue: 3)

    public let value: Int

    public init(_ value: Int) throws(InvalidPriority) {
        guard Self.range.contains(value) else { throw InvalidPriority(text: String(value)) }
        self.value = value
    }

    /// Parses "1" to "5", as typed on the command line or in a CSV file (surrounding spaces allowed).
    public init(parsing text: String) throws(InvalidPriority) {
        guard let priority = Self(digit: text.trimmingCharacters(in: .whitespaces).utf8) else { throw InvalidPriority(text: text) }
        self = priority
    }

    /// The rule on bytes, for the importer's hot path: exactly one digit from 1 to 5 ("05" is not a priority).
    public init?(digit bytes: some Collection<UInt8>) {
        guard bytes.count == 1, let byte = bytes.first, byte >= UInt8(ascii: "1"), byte <= UInt8(ascii: "5") else { return nil }
        self.value = Int(byte - UInt8(ascii: "0"))
    }

    /// The nearest priority: for values read from a store that already holds them to 1...5.
    public init(clamping value: Int) {
        self.value = min(Self.range.upperBound, max(Self.range.lowerBound, value))
    }

    private init(uncheckedValue: Int) {
        self.value = uncheckedValue
    }

    /// Whether `self` wins over `other` (a smaller number).
    public func isHigher(than other: Priority) -> Bool { value < other.value }

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.value < rhs.value }

    public var description: String { String(value) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let value = try container.decode(Int.self)
        do {
            try self.init(value)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// A priority outside 1...5.
public struct InvalidPriority: Error, Sendable, Hashable, CustomStringConvertible {
    public let text: String

    public init(text: String) {
        self.text = text
    }

    public var description: String {
        "priority '\(text)' is not valid: use a whole number from 1 (highest) to 5 (lowest); 3 is the default"
    }
}

import Foundation

/// Why a timestamp or date did not parse; `problem` says what was expected.
public enum TimestampParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text has none of the accepted shapes.
    case malformed(input: String, expected: String)
    /// The text is not a date (where a date alone is expected).
    case malformedDate(input: String, expected: String)
    /// The shape is right but a part is impossible (month 13, 30 February, hour 24).
    case outOfRange(input: String, problem: String)
    /// A date was given where a time of day is needed.
    case missingTime(input: String, expected: String)
    /// A time of day was given where a date alone is expected.
    case unexpectedTime(input: String)

    public var input: String {
        switch self {
        case .malformed(let input, _), .malformedDate(let input, _), .outOfRange(let input, _),
             .missingTime(let input, _), .unexpectedTime(let input):
            return input
        }
    }

    /// What is wrong, without the input: callers quote the input in their own way.
    public var problem: String {
        switch self {
        case .malformed(_, let expected): return "not a timestamp; expected \(expected)"
        case .malformedDate(_, let expected): return "not a date; expected \(expected)"
        case .outOfRange(_, let problem): return problem
        case .missingTime(_, let expected): return "a date without a time of day; expected \(expected)"
        case .unexpectedTime: return "expected a date alone (YYYY-MM-DD), not a time of day"
        }
    }

    public var description: String { "\(problem) (got \"\(input)\")" }
}

/// A custom format that cannot be used.
public struct TimestampFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public let format: String
    public let problem: String
    public var description: String { "timestamp format \"\(format)\" \(problem)" }
}

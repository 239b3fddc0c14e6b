import Foundation

/// A closed set of words that people type (roles, kinds, statuses), parsed with one friendly error.
public protocol Vocabulary: RawRepresentable, CaseIterable, Sendable, Hashable, Codable
where RawValue == String, AllCases: RandomAccessCollection {
    /// What the word is, as an error message names it ("environment kind").
    static var vocabularyName: String { get }
}

extension Vocabulary {
    /// Parses a word, ignoring case and surrounding spaces ("Prod" is `prod`), so CSV files
    /// written by hand are accepted; what is printed is always the canonical lowercase word.
    public init(parsing text: String) throws(UnknownWord) {
        let word = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let value = Self(rawValue: word) else {
            throw UnknownWord(vocabulary: Self.vocabularyName, word: text, allowed: Self.allCases.map(\.rawValue))
        }
        self = value
    }
}

/// A word outside its vocabulary; the message lists the allowed words.
public struct UnknownWord: Error, Sendable, Hashable, CustomStringConvertible {
    public let vocabulary: String
    public let word: String
    public let allowed: [String]

    public init(vocabulary: String, word: String, allowed: [String]) {
        self.vocabulary = vocabulary
        self.word = word
        self.allowed = allowed
    }

    public var description: String {
        "unknown \(vocabulary) '\(word)'\(Suggestions.didYouMean(word, in: allowed)): use one of \(allowed.joined(separator: ", "))"
    }
}

/// A person's role in a management group; the database's row-level security enforces what each may do.
public enum MemberRole: String, Vocabulary {
    case manager
    case releaseManager = "release-manager"
    case member
    case viewer

    public static let vocabularyName = "member role"
}

public enum EnvironmentKind: String, Vocabulary {
    case dev
    case test
    case staging
    case preprod
    case prod

    public static let vocabularyName = "environment kind"

    /// Bookings of every kind but production are where a release is tested.
    public var isTestEnvironment: Bool { self != .prod }
}

/// Regular windows are agreed with the business in advance; extra ones are opened on demand.
public enum WindowKind: String, Vocabulary {
    case regular
    case extra

    public static let vocabularyName = "window kind"
}

/// Only confirmed bookings are held to an environment's capacity by the database.
public enum BookingStatus: String, Vocabulary {
    case tentative
    case confirmed

    public static let vocabularyName = "booking status"
}

public enum DeviationSeverity: String, Vocabulary, Comparable {
    case low
    case medium
    case high

    public static let vocabularyName = "deviation severity"

    public static func < (lhs: DeviationSeverity, rhs: DeviationSeverity) -> Bool {
        lhs.rank < rhs.rank
    }

    private var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        }
    }
}

/// The kinds of release unit the release management process names.
public enum UnitKind: String, Vocabulary {
    case server
    case application
    case update
    case virtualServer = "virtual-server"
    case database
    case network
    case documentation
    case training
    case routine
    case agreement

    public static let vocabularyName = "unit kind"
}

import Foundation

/// How the versions of a model's units must look.
public enum VersioningRule: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Semantic Versioning 2.0.0: `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, no leading zeros, no `v`.
    case semver
    /// Calendar versioning: `YYYY.MM` or `YY.MM`, then optionally `.MICRO` (or `.DD`) and a
    /// `-modifier`: `2027.03`, `27.3.1`, `2027.03.2-hotfix`.
    case calver
    /// A regular expression (Swift `Regex` syntax) the whole version must match.
    case pattern(String)

    public var description: String {
        switch self {
        case .semver: "semver"
        case .calver: "calver"
        case .pattern(let pattern): "pattern \(pattern)"
        }
    }

    /// Checks one version; for many versions build a ``VersionMatcher`` once.
    public func check(_ version: String) throws(VersionCheckError) {
        try VersionMatcher(rule: self).check(version)
    }

    /// The reason the pattern does not compile, or nil when it does (always nil for semver and calver).
    public var patternProblem: String? {
        guard case .pattern(let pattern) = self else { return nil }
        do {
            _ = try Regex(pattern)
            return nil
        } catch {
            return String(describing: error)
        }
    }

    private enum CodingKeys: String, CodingKey {
        case pattern
    }

    /// Encoded as `"semver"`, `"calver"` or `{"pattern": "..."}`, as in a model file.
    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: CodingKeys.self) {
            self = .pattern(try keyed.decode(String.self, forKey: .pattern))
            return
        }
        let container = try decoder.singleValueContainer()
        switch try container.decode(String.self) {
        case "semver": self = .semver
        case "calver": self = .calver
        case let other:
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown versioning rule '\(other)': use semver, calver or {pattern: REGEX}")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .semver, .calver:
            var container = encoder.singleValueContainer()
            try container.encode(description)
        case .pattern(let pattern):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(pattern, forKey: .pattern)
        }
    }
}

/// A ``VersioningRule`` ready to check many versions (the pattern is compiled once).
///
/// Not `Sendable`: the standard library does not declare `Regex` so. Build one where it is used;
/// ``VersioningRule`` is the value to pass around.
public struct VersionMatcher {
    private let rule: VersioningRule
    private let regex: Regex<AnyRegexOutput>?

    public init(rule: VersioningRule) throws(VersionCheckError) {
        self.rule = rule
        if case .pattern(let pattern) = rule {
            do {
                regex = try Regex(pattern)
            } catch {
                throw VersionCheckError(version: nil, rule: rule, reason: .patternDoesNotCompile(String(describing: error)))
            }
        } else {
            regex = nil
        }
    }

    public func matches(_ version: String) -> Bool {
        problem(in: version) == nil
    }

    public func check(_ version: String) throws(VersionCheckError) {
        if let reason = problem(in: version) {
            throw VersionCheckError(version: version, rule: rule, reason: reason)
        }
    }

    private func problem(in version: String) -> VersionCheckError.Reason? {
        if version.isEmpty { return .empty }
        switch rule {
        case .semver:
            return Self.semverProblem(version).map(VersionCheckError.Reason.notSemver)
        case .calver:
            return Self.calverProblem(version).map(VersionCheckError.Reason.notCalver)
        case .pattern(let pattern):
            guard let regex else { return .patternDoesNotCompile(pattern) }
            return (try? regex.wholeMatch(in: version)) == nil ? .doesNotMatchPattern(pattern) : nil
        }
    }

    private static func semverProblem(_ version: String) -> String? {
        var rest = Substring(version)
        if let plus = rest.firstIndex(of: "+") {
            let build = rest[rest.index(after: plus)...]
            if let problem = identifiersProblem(build, part: "build metadata", numericRule: false) { return problem }
            rest = rest[..<plus]
        }
        if let dash = rest.firstIndex(of: "-") {
            let prerelease = rest[rest.index(after: dash)...]
            if let problem = identifiersProblem(prerelease, part: "pre-release", numericRule: true) { return problem }
            rest = rest[..<dash]
        }
        let core = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard core.count == 3 else { return "expected MAJOR.MINOR.PATCH, e.g. 4.2.0" }
        for (number, name) in zip(core, ["major", "minor", "patch"]) {
            guard !number.isEmpty, number.allSatisfy(\.isASCIIDigit) else { return "\(name) '\(number)' is not a number" }
            if number.count > 1 && number.first == "0" { return "\(name) '\(number)' has a leading zero" }
        }
        return nil
    }

    private static func identifiersProblem(_ text: Substring, part: String, numericRule: Bool) -> String? {
        for identifier in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !identifier.isEmpty else { return "\(part) has an empty identifier" }
            guard identifier.allSatisfy({ $0.isASCIIDigit || $0.isASCIILetter || $0 == "-" }) else {
                return "\(part) '\(identifier)' may hold only letters, digits and '-'"
            }
            if numericRule, identifier.count > 1, identifier.first == "0", identifier.allSatisfy(\.isASCIIDigit) {
                return "\(part) '\(identifier)' has a leading zero"
            }
        }
        return nil
    }

    private static func calverProblem(_ version: String) -> String? {
        var rest = Substring(version)
        if let dash = rest.firstIndex(of: "-") {
            let modifier = rest[rest.index(after: dash)...]
            guard !modifier.isEmpty,
                modifier.allSatisfy({ $0.isASCIIDigit || $0.isASCIILetter || $0 == "-" || $0 == "." })
            else { return "modifier '\(modifier)' may hold only letters, digits, '-' and '.'" }
            rest = rest[..<dash]
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) else {
            return "expected YYYY.MM[.MICRO], e.g. 2027.03 or 2027.03.1"
        }
        guard parts[0].count == 4 || parts[0].count == 2 else { return "year '\(parts[0])' must have 4 (or 2) digits" }
        guard parts[1].count <= 2, let month = Int(parts[1]), (1...12).contains(month) else {
            return "month '\(parts[1])' must be 1 to 12"
        }
        return nil
    }
}

/// A version that breaks its model's rule, or a rule that cannot be used.
public struct VersionCheckError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case empty
        case notSemver(String)
        case notCalver(String)
        case doesNotMatchPattern(String)
        case patternDoesNotCompile(String)
    }

    /// Nil when the rule itself is broken.
    public let version: String?
    public let rule: VersioningRule
    public let reason: Reason

    public init(version: String?, rule: VersioningRule, reason: Reason) {
        self.version = version
        self.rule = rule
        self.reason = reason
    }

    public var description: String {
        let subject = "version '\(version ?? "")'"
        switch reason {
        case .empty: return "version is empty"
        case .notSemver(let why): return "\(subject) is not a semantic version: \(why)"
        case .notCalver(let why): return "\(subject) is not a calendar version: \(why)"
        case .doesNotMatchPattern(let pattern): return "\(subject) does not match the pattern \(pattern)"
        case .patternDoesNotCompile(let why): return "the versioning pattern does not compile: \(why)"
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isASCIILetter: Bool { isASCII && isLetter }
}

@available(*, unavailable)
extension VersionMatcher: Sendable {}

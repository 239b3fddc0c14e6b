import Foundation

/// A template for recurring releases of the same kind: a plan made from it gets its criteria,
/// required environments, roles, versioning rule and documentation checklist.
///
/// A value may be built in code or read from a file; ``validationIssues()`` says what is wrong
/// with it, so every reader reports the same problems in the same words.
public struct ReleaseModel: Sendable, Hashable, Codable {
    public var code: String
    public var name: String
    /// The model's own version ("2.1"): models change, and plans remember which one they came from.
    public var version: String
    public var description: String
    public var phases: Phases
    /// Environments a release of this model must book before it deploys, each for at least its duration.
    public var environments: [RequiredEnvironment]
    public var roles: [Role]
    /// The rule unit versions must follow; nil accepts any non-empty version.
    public var versioning: VersioningRule?
    /// Documents a release must deliver, in the order the model lists them.
    public var documentation: [String]

    public init(
        code: String,
        name: String,
        version: String,
        description: String = "",
        phases: Phases = Phases(),
        environments: [RequiredEnvironment] = [],
        roles: [Role] = [],
        versioning: VersioningRule? = nil,
        documentation: [String] = []
    ) {
        self.code = code
        self.name = name
        self.version = version
        self.description = description
        self.phases = phases
        self.environments = environments
        self.roles = roles
        self.versioning = versioning
        self.documentation = documentation
    }

    /// The criteria of all phases, in activity order, entry before exit.
    public var allCriteria: [Criterion] {
        ReleaseActivity.allCases.flatMap { phases[$0].entry + phases[$0].exit }
    }

    public func criterion(named name: String) -> Criterion? {
        allCriteria.first { $0.name == name }
    }

    /// The criterion a person may tick with `release check`: it must exist and be manual.
    public func tickableCriterion(named name: String) throws(CriterionLookupError) -> Criterion {
        guard let criterion = criterion(named: name) else {
            throw CriterionLookupError(model: code, name: name, reason: .unknown(known: allCriteria.map(\.name)))
        }
        if case .automatic(let check) = criterion.check {
            throw CriterionLookupError(model: code, name: name, reason: .automatic(check))
        }
        return criterion
    }

    /// The names of the criteria that hold: the ticked manual ones and the automatic ones whose
    /// check passes. Ticks of unknown or automatic criteria are ignored.
    public func satisfiedCriteria(ticked: Set<String>, automatic facts: AutomaticCheckFacts) -> Set<String> {
        var satisfied = Set<String>()
        for criterion in allCriteria {
            switch criterion.check {
            case .manual where ticked.contains(criterion.name):
                satisfied.insert(criterion.name)
            case .automatic(let check) where check.holds(for: facts):
                satisfied.insert(criterion.name)
            default:
                break
            }
        }
        return satisfied
    }

    enum CodingKeys: String, CodingKey {
        case code, name, version, description, phases, environments, roles, versioning, documentation
    }
}

extension ReleaseModel {
    /// Entry and exit criteria for each of the four activities.
    public struct Phases: Sendable, Hashable, Codable {
        public var plan: Phase
        public var buildAndTest: Phase
        public var deploy: Phase
        public var evaluateAndClose: Phase

        public init(
            plan: Phase = Phase(),
            buildAndTest: Phase = Phase(),
            deploy: Phase = Phase(),
            evaluateAndClose: Phase = Phase()
        ) {
            self.plan = plan
            self.buildAndTest = buildAndTest
            self.deploy = deploy
            self.evaluateAndClose = evaluateAndClose
        }

        public subscript(activity: ReleaseActivity) -> Phase {
            get {
                switch activity {
                case .plan: plan
                case .buildAndTest: buildAndTest
                case .deploy: deploy
                case .evaluateAndClose: evaluateAndClose
                }
            }
            set {
                switch activity {
                case .plan: plan = newValue
                case .buildAndTest: buildAndTest = newValue
                case .deploy: deploy = newValue
                case .evaluateAndClose: evaluateAndClose = newValue
                }
            }
        }

        enum CodingKeys: String, CodingKey {
            case plan
            case buildAndTest = "build-and-test"
            case deploy
            case evaluateAndClose = "evaluate-and-close"
        }
    }

    public struct Phase: Sendable, Hashable, Codable {
        /// Must hold before a release enters the activity.
        public var entry: [Criterion]
        /// Must hold before a release leaves the activity.
        public var exit: [Criterion]

        public init(entry: [Criterion] = [], exit: [Criterion] = []) {
            self.entry = entry
            self.exit = exit
        }

        public subscript(boundary: PhaseBoundary) -> [Criterion] {
            switch boundary {
            case .entry: entry
            case .exit: exit
            }
        }
    }

    public enum PhaseBoundary: String, Sendable, Hashable, CaseIterable {
        case entry
        case exit
    }

    /// A named check; its name is what people tick and what refusals list.
    public struct Criterion: Sendable, Hashable, Codable {
        public var name: String
        public var check: CriterionCheck
        public var description: String

        public init(name: String, check: CriterionCheck = .manual, description: String = "") {
            self.name = name
            self.check = check
            self.description = description
        }
    }

    public struct RequiredEnvironment: Sendable, Hashable, Codable {
        /// An environment code (`TEST-INT`); any environment, whatever its kind.
        public var environment: String
        /// Wall-clock seconds the release must have the environment booked for.
        public var durationSeconds: Int

        public init(environment: String, durationSeconds: Int) {
            self.environment = environment
            self.durationSeconds = durationSeconds
        }

        enum CodingKeys: String, CodingKey {
            case environment
            case durationSeconds = "duration_seconds"
        }
    }

    /// A role a plan made from the model needs people for (release manager, implementer, tester).
    public struct Role: Sendable, Hashable, Codable {
        public var name: String
        public var description: String

        public init(name: String, description: String = "") {
            self.name = name
            self.description = description
        }
    }
}

/// Who decides whether a criterion holds: a person who ticks it, or the system.
public enum CriterionCheck: Sendable, Hashable, Codable, CustomStringConvertible {
    case manual
    case automatic(AutomaticCheck)

    /// The word used in files and JSON: `manual` or the automatic check's name.
    public var description: String {
        switch self {
        case .manual: "manual"
        case .automatic(let check): check.rawValue
        }
    }

    /// Parses `manual` or one of the automatic checks.
    public init(parsing text: String) throws(UnknownWord) {
        if text == "manual" {
            self = .manual
            return
        }
        guard let check = AutomaticCheck(rawValue: text) else {
            throw UnknownWord(
                vocabulary: "criterion check", word: text,
                allowed: ["manual"] + AutomaticCheck.allCases.map(\.rawValue)
            )
        }
        self = .automatic(check)
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

/// The checks the system can decide from what it stores.
public enum AutomaticCheck: String, Vocabulary {
    /// Every test booking of the release has ended (and there is at least one).
    case testBookingFinished = "test-booking-finished"
    /// No deviation of severity high is open.
    case noOpenHighDeviations = "no-open-high-deviations"
    /// Every unit has a version that follows the model's versioning rule.
    case allUnitsVersioned = "all-units-versioned"

    public static let vocabularyName = "automatic check"

    public func holds(for facts: AutomaticCheckFacts) -> Bool {
        switch self {
        case .testBookingFinished: facts.testBookingsFinished
        case .noOpenHighDeviations: facts.openHighDeviations == 0
        case .allUnitsVersioned: facts.unitsWithoutValidVersion == 0
        }
    }
}

/// What the store knows about a release, enough to decide every ``AutomaticCheck``.
public struct AutomaticCheckFacts: Sendable, Hashable {
    /// True when the release has test bookings and all of them have ended.
    public var testBookingsFinished: Bool
    public var openHighDeviations: Int
    /// Units with no version, or one that breaks the model's versioning rule.
    public var unitsWithoutValidVersion: Int

    public init(testBookingsFinished: Bool, openHighDeviations: Int, unitsWithoutValidVersion: Int) {
        self.testBookingsFinished = testBookingsFinished
        self.openHighDeviations = openHighDeviations
        self.unitsWithoutValidVersion = unitsWithoutValidVersion
    }
}

/// A criterion name that cannot be ticked.
public struct CriterionLookupError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case unknown(known: [String])
        case automatic(AutomaticCheck)
    }

    public let model: String
    public let name: String
    public let reason: Reason

    public init(model: String, name: String, reason: Reason) {
        self.model = model
        self.name = name
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .unknown(let known) where known.isEmpty:
            "release model \(model) has no criteria; '\(name)' cannot be ticked"
        case .unknown(let known):
            "release model \(model) has no criterion '\(name)'; its criteria are \(known.joined(separator: ", "))"
        case .automatic(let check):
            "criterion '\(name)' of release model \(model) is automatic (\(check.rawValue)): the system decides it, nobody ticks it"
        }
    }
}

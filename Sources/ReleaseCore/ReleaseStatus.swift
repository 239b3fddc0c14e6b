import Foundation

/// Where a release is in its lifecycle. The open statuses run in this order, one step at a time;
/// `cancelled` can be reached from any of them.
public enum ReleaseStatus: String, Vocabulary, Comparable {
    case planned
    case building
    case testing
    case ready
    case deploying
    case deployed
    case evaluating
    case closed
    case cancelled

    public static let vocabularyName = "release status"

    /// The forward path, without `cancelled`.
    public static let path: [ReleaseStatus] = [
        .planned, .building, .testing, .ready, .deploying, .deployed, .evaluating, .closed,
    ]

    /// Closed and cancelled releases never change again.
    public var isFinal: Bool { self == .closed || self == .cancelled }

    /// Releases still open take part in conflicts; closed and cancelled ones are history.
    public var isActive: Bool { !isFinal }

    /// A release whose deployment has begun is fixed in time: the resolver never moves it.
    public var hasStartedDeploying: Bool {
        switch self {
        case .deploying, .deployed, .evaluating, .closed: true
        case .planned, .building, .testing, .ready, .cancelled: false
        }
    }

    /// The status one step forward, or nil for a final status.
    public var next: ReleaseStatus? {
        guard !isFinal, let index = Self.path.firstIndex(of: self) else { return nil }
        return Self.path[index + 1]
    }

    /// The ITIL activity the status belongs to; nil for `cancelled`.
    public var activity: ReleaseActivity? {
        switch self {
        case .planned: .plan
        case .building, .testing, .ready: .buildAndTest
        case .deploying, .deployed: .deploy
        case .evaluating, .closed: .evaluateAndClose
        case .cancelled: nil
        }
    }

    /// Path order, with `cancelled` last.
    public static func < (lhs: ReleaseStatus, rhs: ReleaseStatus) -> Bool {
        lhs.order < rhs.order
    }

    private var order: Int { Self.path.firstIndex(of: self) ?? Self.path.count }
}

/// The four activities of the release management process; a release model sets entry and exit
/// criteria for each.
public enum ReleaseActivity: String, Vocabulary, Comparable {
    case plan
    case buildAndTest = "build-and-test"
    case deploy
    case evaluateAndClose = "evaluate-and-close"

    public static let vocabularyName = "release activity"

    /// The statuses of the activity, in path order.
    public var statuses: [ReleaseStatus] {
        ReleaseStatus.path.filter { $0.activity == self }
    }

    /// The name people use in conversation ("build & test").
    public var title: String {
        switch self {
        case .plan: "plan"
        case .buildAndTest: "build & test"
        case .deploy: "deploy"
        case .evaluateAndClose: "evaluate & close"
        }
    }

    public static func < (lhs: ReleaseActivity, rhs: ReleaseActivity) -> Bool {
        lhs.order < rhs.order
    }

    private var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }
}

import Foundation
import ReleaseCore

/// A half-open time range `[start, end)`.
///
/// Half-open so that a booking ending at 18:00 and another starting at 18:00 do not overlap.
/// A range whose end is not after its start is empty: it overlaps nothing.
public struct Interval: Sendable, Hashable, Codable {
    public var start: Date
    public var end: Date

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }

    public var duration: TimeInterval { end.timeIntervalSince(start) }
    public var isEmpty: Bool { end <= start }

    /// True when both ranges share at least one instant.
    public func overlaps(_ other: Interval) -> Bool {
        !isEmpty && !other.isEmpty && start < other.end && other.start < end
    }

    /// True when `other` lies entirely within this range.
    public func contains(_ other: Interval) -> Bool {
        other.start >= start && other.end <= end
    }

    /// The same range, moved by `delta` seconds.
    public func shifted(by delta: TimeInterval) -> Interval {
        Interval(start: start.addingTimeInterval(delta), end: end.addingTimeInterval(delta))
    }
}

/// A release's claim on an environment for a time range.
public struct Booking: Sendable, Hashable {
    public var id: Int64
    public var environment: String
    public var interval: Interval
    public var status: BookingStatus

    public init(id: Int64, environment: String, interval: Interval, status: BookingStatus = .tentative) {
        self.id = id
        self.environment = environment
        self.interval = interval
        self.status = status
    }
}

/// What the scheduler needs to know about one release.
public struct Release: Sendable, Hashable {
    /// `GROUP/CODE`, unique in the portfolio.
    public var key: String
    public var group: String
    public var priority: Priority
    public var status: ReleaseStatus
    /// Pinned releases are never moved by the resolver.
    public var pinned: Bool
    /// The code of the service window the release is assigned to.
    public var window: String?
    public var deploy: Interval?
    /// The last instant at which the deployment may end.
    public var deadline: Date?
    /// Keys of releases that must have finished deploying before this one starts.
    public var dependsOn: [String]
    /// Configuration items changed by the release's units.
    public var targets: [String]
    public var implementer: String?
    public var bookings: [Booking]
    /// Environments the release model requires: each must be booked.
    public var requiredEnvironments: [String]
    /// Freeze codes an admin overrode for this release.
    public var freezeOverrides: [String]

    public init(
        key: String,
        group: String,
        priority: Priority = .default,
        status: ReleaseStatus = .planned,
        pinned: Bool = false,
        window: String? = nil,
        deploy: Interval? = nil,
        deadline: Date? = nil,
        dependsOn: [String] = [],
        targets: [String] = [],
        implementer: String? = nil,
        bookings: [Booking] = [],
        requiredEnvironments: [String] = [],
        freezeOverrides: [String] = []
    ) {
        self.key = key
        self.group = group
        self.priority = priority
        self.status = status
        self.pinned = pinned
        self.window = window
        self.deploy = deploy
        self.deadline = deadline
        self.dependsOn = dependsOn
        self.targets = targets
        self.implementer = implementer
        self.bookings = bookings
        self.requiredEnvironments = requiredEnvironments
        self.freezeOverrides = freezeOverrides
    }
}

/// A predetermined slot for planned changes.
public struct Window: Sendable, Hashable {
    public var code: String
    public var interval: Interval
    /// How many releases the window holds.
    public var capacity: Int
    public var kind: WindowKind

    public init(code: String, interval: Interval, capacity: Int = 1, kind: WindowKind = .regular) {
        self.code = code
        self.interval = interval
        self.capacity = capacity
        self.kind = kind
    }
}

public struct Environment: Sendable, Hashable {
    public var code: String
    public var kind: EnvironmentKind
    /// How many releases may use the environment at once.
    public var capacity: Int

    public init(code: String, kind: EnvironmentKind = .test, capacity: Int = 1) {
        self.code = code
        self.kind = kind
        self.capacity = capacity
    }
}

/// A period when nothing may be deployed (global) or nothing may use one environment.
public struct Freeze: Sendable, Hashable {
    public var code: String
    public var interval: Interval
    /// `nil` for a global freeze.
    public var environment: String?
    public var reason: String

    public init(code: String, interval: Interval, environment: String? = nil, reason: String = "") {
        self.code = code
        self.interval = interval
        self.environment = environment
        self.reason = reason
    }
}

/// Everything the scheduler looks at, as of one instant. Filled by the database layer.
///
/// Lookups are by code: a release naming a window, environment or dependency that the
/// snapshot does not contain is treated as described on ``ConflictType``.
public struct Snapshot: Sendable, Hashable {
    public var releases: [Release]
    public var windows: [Window]
    public var environments: [Environment]
    public var freezes: [Freeze]
    /// Configuration item -> the item it is part of (`crm-api` -> `srv-crm-01`), chains of up to
    /// ``maxTargetLinks`` links (links beyond are not followed).
    public var targetParents: [String: String]
    /// The most links from a configuration item to the root of its hierarchy: the database
    /// refuses a deeper chain (sql/0010, `relplan_target_max_depth()`).
    public static let maxTargetLinks = 32
    /// Moves never put a booking or a deployment before this instant.
    public var now: Date

    public init(
        releases: [Release] = [],
        windows: [Window] = [],
        environments: [Environment] = [],
        freezes: [Freeze] = [],
        targetParents: [String: String] = [:],
        now: Date
    ) {
        self.releases = releases
        self.windows = windows
        self.environments = environments
        self.freezes = freezes
        self.targetParents = targetParents
        self.now = now
    }
}

import Foundation
import ReleaseCore

/// The kinds of conflict the scheduler finds.
///
/// Only active releases take part: a cancelled or closed release never conflicts.
/// A release without a deployment interval is *unscheduled*: it counts towards its window's
/// capacity and its bookings count towards their environments, but checks that need a
/// deployment time skip it.
///
/// - `window-capacity` (error): more releases are assigned to a service window than its capacity.
/// - `environment-overlap` (error): at some instant more releases hold a booking of an
///   environment than its capacity; tentative and confirmed bookings count alike, and a release
///   with two overlapping bookings of one environment counts once. One conflict per maximal
///   overloaded period, listing every release booked during it.
/// - `target-collision` (error): two releases change the same configuration item, or one changes
///   an item that is part (at any depth) of an item the other changes, in overlapping
///   deployments. One conflict per pair of releases; `target` is the larger item.
/// - `implementer-busy` (error): one person deploys two releases in overlapping deployments.
/// - `freeze` (error): a deployment overlaps a global freeze, or a booking overlaps a freeze of
///   its environment, unless the freeze is overridden for that release.
/// - `dependency-order` (error): a release starts deploying before a release it depends on has
///   finished, or depends on a release that is unscheduled, cancelled or not in the snapshot.
///   A closed dependency is satisfied.
/// - `outside-window` (warning): a release's deployment does not lie inside its service window.
/// - `untested` (warning): the deployment starts before one of the release's bookings of a
///   non-production environment ends, or an environment its release model requires is not
///   booked at all.
/// - `deadline` (warning): the deployment ends after the release's deadline.
///
/// Errors make the plan impossible or forbidden as written (two things cannot use one slot, a
/// freeze forbids the change, a dependency breaks). Warnings mark a plan that can be carried out
/// but breaks an agreement or a quality gate: a release manager may decide to accept them.
///
/// A release naming a window or environment the snapshot does not know is not checked against
/// it, except that an unknown environment is taken as a test environment of capacity 1.
public enum ConflictType: String, Sendable, Hashable, Codable, CaseIterable {
    case windowCapacity = "window-capacity"
    case environmentOverlap = "environment-overlap"
    case targetCollision = "target-collision"
    case implementerBusy = "implementer-busy"
    case freeze = "freeze"
    case outsideWindow = "outside-window"
    case dependencyOrder = "dependency-order"
    case untested = "untested"
    case deadline = "deadline"

    public var severity: Severity {
        switch self {
        case .windowCapacity, .environmentOverlap, .targetCollision, .implementerBusy, .freeze,
             .dependencyOrder:
            .error
        case .outsideWindow, .untested, .deadline:
            .warning
        }
    }

    /// Position in the declared order, used to sort conflicts.
    var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
}

public enum Severity: String, Sendable, Hashable, Codable, CaseIterable {
    case error, warning
}

/// One conflict, ready to be printed as the `conflicts --format json` contract describes.
public struct Conflict: Sendable, Hashable {
    public var type: ConflictType
    public var severity: Severity
    public var window: String?
    public var environment: String?
    public var target: String?
    /// Sorted release keys.
    public var releases: [String]
    /// Sorted, unique management groups of `releases`.
    public var groups: [String]
    /// One line a release manager understands, times in RFC 3339 UTC (what JSON and CSV carry).
    /// Set through `text`, so the two always say the same.
    public private(set) var message: String
    /// The same line with its instants kept apart, so tables and reports print them in a
    /// person's zone (``TimedText/rendered(instant:interval:)``).
    public var text: TimedText {
        didSet { message = text.utc }
    }
    /// Stable across runs while the same releases conflict over the same resources:
    /// built from the type, the resources (window, environment, target, freeze, implementer,
    /// dependency) and the sorted release keys. Unique within one detection run.
    public var identity: String

    public init(
        type: ConflictType,
        severity: Severity? = nil,
        window: String? = nil,
        environment: String? = nil,
        target: String? = nil,
        releases: [String],
        groups: [String],
        message: String,
        identity: String
    ) {
        self.init(type: type, severity: severity, window: window, environment: environment, target: target, releases: releases,
                  groups: groups, text: TimedText(parsingUTC: message), identity: identity)
    }

    public init(
        type: ConflictType,
        severity: Severity? = nil,
        window: String? = nil,
        environment: String? = nil,
        target: String? = nil,
        releases: [String],
        groups: [String],
        text: TimedText,
        identity: String
    ) {
        self.type = type
        self.severity = severity ?? type.severity
        self.window = window
        self.environment = environment
        self.target = target
        self.releases = releases
        self.groups = groups
        self.text = text
        self.message = text.utc
        self.identity = identity
    }
}

extension Conflict: Encodable {
    private enum CodingKeys: String, CodingKey {
        case type, severity, window, environment, target, releases, groups, message
    }

    /// Encodes the contract's fields; absent resources are written as `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(severity, forKey: .severity)
        try container.encode(window, forKey: .window)
        try container.encode(environment, forKey: .environment)
        try container.encode(target, forKey: .target)
        try container.encode(releases, forKey: .releases)
        try container.encode(groups, forKey: .groups)
        try container.encode(message, forKey: .message)
    }
}

extension Conflict {
    /// The freeze a `freeze` conflict is about, which its identity names (`freeze=CODE`; codes
    /// hold no `|`); nil for other conflicts. Derived rather than stored, so conflict_history
    /// rows and their identities stay as they are: two freezes over one window were always two
    /// conflicts, only the RESOURCE column showed the window for both.
    public var freeze: String? {
        guard type == .freeze else { return nil }
        for part in identity.split(separator: "|") where part.hasPrefix("freeze=") {
            return String(part.dropFirst("freeze=".count))
        }
        return nil
    }

    /// What a table's RESOURCE column shows: the freeze of a freeze conflict, else the window,
    /// environment or target.
    public var resource: (kind: String, code: String)? {
        if let freeze { return ("freeze", freeze) }
        if let window { return ("window", window) }
        if let environment { return ("environment", environment) }
        if let target { return ("target", target) }
        return nil
    }

    /// Deterministic order: by type (declaration order), then identity.
    static func precedes(_ a: Conflict, _ b: Conflict) -> Bool {
        if a.type != b.type { return a.type.rank < b.type.rank }
        return a.identity < b.identity
    }
}

extension Conflict {
    /// Equal when every field the contract prints is equal: `text` is `message` with its instants
    /// kept apart, however its pieces happen to be split.
    public static func == (a: Conflict, b: Conflict) -> Bool {
        a.type == b.type && a.severity == b.severity && a.window == b.window && a.environment == b.environment
            && a.target == b.target && a.releases == b.releases && a.groups == b.groups && a.message == b.message
            && a.identity == b.identity
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(identity)
        hasher.combine(message)
    }
}

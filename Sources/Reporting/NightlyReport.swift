import Foundation
import Scheduling

/// Everything one nightly report says, for all groups or for one: what the renderers turn into
/// `conflicts.json`, `conflicts.csv`, `report.md`, `report.html` and `calendar.ics`.
///
/// It is plain data, gathered by the store in one consistent snapshot; rendering does no I/O.
public struct NightlyReport: Sendable {
    /// How a conflict stands against the previous run.
    public enum Status: String, Sendable, CaseIterable {
        /// First seen in this run.
        case new
        /// Seen before, still there.
        case open
        /// Gone since the previous run.
        case resolved
    }

    public struct TrackedConflict: Sendable {
        public var conflict: Conflict
        public var status: Status
        public var firstSeen: Date
        public var lastSeen: Date
        /// When it disappeared (only for `resolved`).
        public var resolvedAt: Date?

        public init(conflict: Conflict, status: Status, firstSeen: Date, lastSeen: Date, resolvedAt: Date? = nil) {
            self.conflict = conflict
            self.status = status
            self.firstSeen = firstSeen
            self.lastSeen = lastSeen
            self.resolvedAt = resolvedAt
        }
    }

    public struct PendingProposal: Sendable {
        public var id: Int64
        public var release: String
        public var group: String
        public var action: String
        public var from: String
        public var to: String
        public var reason: String
        public var proposedBy: String
        public var proposedAt: Date

        public init(id: Int64, release: String, group: String, action: String, from: String, to: String, reason: String,
                    proposedBy: String, proposedAt: Date) {
            self.id = id
            self.release = release
            self.group = group
            self.action = action
            self.from = from
            self.to = to
            self.reason = reason
            self.proposedBy = proposedBy
            self.proposedAt = proposedAt
        }
    }

    /// A service window in the horizon with the releases assigned to it.
    public struct WindowLoad: Sendable {
        public var code: String
        public var interval: Interval
        public var capacity: Int
        public var kind: String
        /// Release keys (`GROUP/CODE`), in deployment order.
        public var releases: [String]

        public var used: Int { releases.count }

        public init(code: String, interval: Interval, capacity: Int, kind: String, releases: [String]) {
            self.code = code
            self.interval = interval
            self.capacity = capacity
            self.kind = kind
            self.releases = releases
        }
    }

    public struct EnvironmentLane: Sendable {
        public var code: String
        public var name: String
        public var kind: String
        public var capacity: Int

        public init(code: String, name: String, kind: String, capacity: Int) {
            self.code = code
            self.name = name
            self.kind = kind
            self.capacity = capacity
        }
    }

    /// A bar on the timeline: a deployment (in a window lane) or a booking (in an environment lane).
    public struct Bar: Sendable {
        public enum Lane: Sendable, Hashable {
            case window(String)
            case environment(String)
        }

        public var lane: Lane
        public var release: String
        public var group: String
        public var title: String
        public var interval: Interval
        /// `deployment`, or the booking's status (`tentative`, `confirmed`).
        public var kind: String

        public init(lane: Lane, release: String, group: String, title: String, interval: Interval, kind: String) {
            self.lane = lane
            self.release = release
            self.group = group
            self.title = title
            self.interval = interval
            self.kind = kind
        }
    }

    public struct FreezePeriod: Sendable {
        public var code: String
        public var interval: Interval
        public var environment: String?
        public var reason: String

        public init(code: String, interval: Interval, environment: String?, reason: String) {
            self.code = code
            self.interval = interval
            self.environment = environment
            self.reason = reason
        }
    }

    /// A scheduled deployment, for the calendar.
    public struct Deployment: Sendable {
        public var release: String
        public var group: String
        public var title: String
        public var window: String?
        public var interval: Interval
        public var status: String

        public init(release: String, group: String, title: String, window: String?, interval: Interval, status: String) {
            self.release = release
            self.group = group
            self.title = title
            self.window = window
            self.interval = interval
            self.status = status
        }
    }

    public var generatedAt: Date
    /// Zone for every time a person reads (tables, HTML, Markdown, calendar TZID).
    public var timeZone: TimeZone
    /// The period the report looks at: from now to now + horizon.
    public var horizon: Interval
    /// nil: the report for all groups; else the group whose sub-folder this is.
    public var group: String?
    /// Every group code, in a stable order (colours are assigned by position).
    public var groups: [String]
    /// New first, then open by age (oldest first), then resolved.
    public var conflicts: [TrackedConflict]
    public var proposals: [PendingProposal]
    /// Open moves waiting on another group's open moves (``groupWaits`` lists them per group).
    public var waits: [WaitLink] = []
    public var windows: [WindowLoad]
    public var environments: [EnvironmentLane]
    public var bars: [Bar]
    public var freezes: [FreezePeriod]
    public var deployments: [Deployment]
    /// `CET`/`CEST`: the names of the zone's times for the calendar (nil: Foundation's, if it has any).
    public var zoneNames: ZoneAbbreviations?
    /// The language of text people wrote (titles, reasons), for HTML's `lang` (``ReportLanguage``).
    public var textLanguage: String?

    public init(generatedAt: Date, timeZone: TimeZone, horizon: Interval, group: String?, groups: [String],
                conflicts: [TrackedConflict], proposals: [PendingProposal], windows: [WindowLoad],
                environments: [EnvironmentLane], bars: [Bar], freezes: [FreezePeriod], deployments: [Deployment]) {
        self.generatedAt = generatedAt
        self.timeZone = timeZone
        self.horizon = horizon
        self.group = group
        self.groups = groups
        self.conflicts = conflicts
        self.proposals = proposals
        self.windows = windows
        self.environments = environments
        self.bars = bars
        self.freezes = freezes
        self.deployments = deployments
    }

    public var newCount: Int { conflicts.filter { $0.status == .new }.count }
    /// New and open together: what is still there.
    public var unresolvedCount: Int { conflicts.filter { $0.status != .resolved }.count }
    public var resolvedCount: Int { conflicts.filter { $0.status == .resolved }.count }
}

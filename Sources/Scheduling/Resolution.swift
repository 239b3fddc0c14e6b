import Foundation
import ReleaseCore

/// What the resolver proposes for the whole portfolio.
public struct Resolution: Sendable, Hashable {
    /// Sorted by release key, then action.
    public var proposals: [Proposal]
    /// Every release still in a conflict once the proposals are applied, sorted by key.
    public var unresolved: [Unresolved]
    /// How each group of interacting conflicts was solved, in the order they were solved.
    public var components: [ComponentReport]

    public init(proposals: [Proposal] = [], unresolved: [Unresolved] = [], components: [ComponentReport] = []) {
        self.proposals = proposals
        self.unresolved = unresolved
        self.components = components
    }
}

public enum ProposalAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// The release moves to another window; its deployment keeps its offset from the window's
    /// start and its duration, and its bookings move by the same amount.
    case moveWindow = "move-window"
    /// One booking moves; the deployment stays.
    case shiftBooking = "shift-booking"
    /// The release keeps its window; its deployment moves inside it (it lay outside but fits),
    /// keeping its duration, and its bookings move by the same amount.
    case retime
}

/// A booking's new time range.
public struct BookingMove: Sendable, Hashable {
    public var bookingID: Int64
    public var environment: String
    public var from: Interval
    public var to: Interval

    public init(bookingID: Int64, environment: String, from: Interval, to: Interval) {
        self.bookingID = bookingID
        self.environment = environment
        self.from = from
        self.to = to
    }
}

/// One change the resolver proposes.
public struct Proposal: Sendable, Hashable {
    /// `GROUP/CODE`.
    public var release: String
    public var action: ProposalAction
    /// The old window code (`move-window`), the booking's old range as `start/end`
    /// (`shift-booking`) or the deployment's old range (`retime`).
    public var from: String
    /// The new window code, the booking's new range or the deployment's new range.
    public var to: String
    /// What the change resolves, why this target and what it costs.
    public var reason: String
    public var newWindow: String?
    public var newDeploy: Interval?
    public var bookingMoves: [BookingMove]

    public init(
        release: String, action: ProposalAction, from: String, to: String, reason: String,
        newWindow: String? = nil, newDeploy: Interval? = nil, bookingMoves: [BookingMove] = []
    ) {
        self.release = release
        self.action = action
        self.from = from
        self.to = to
        self.reason = reason
        self.newWindow = newWindow
        self.newDeploy = newDeploy
        self.bookingMoves = bookingMoves
    }
}

/// A release the proposals leave in a conflict, with why.
public struct Unresolved: Sendable, Hashable {
    public var release: String
    public var reason: String

    public init(release: String, reason: String) {
        self.release = release
        self.reason = reason
    }
}

public enum SolveMethod: String, Sendable, Hashable, Codable, CaseIterable {
    /// Branch and bound finished: no better placement of these releases exists.
    case exact
    /// Too large for the budget: releases were placed one at a time, lowest priority first.
    case greedy
    /// Nothing in the component may move.
    case fixed
}

/// One group of conflicts whose resolutions interact.
public struct ComponentReport: Sendable, Hashable {
    /// Sorted keys of the releases in the component's conflicts.
    public var releases: [String]
    public var method: SolveMethod
    /// Placements scored by the exact search (0 when it was not tried).
    public var searchNodes: Int

    public init(releases: [String], method: SolveMethod, searchNodes: Int) {
        self.releases = releases
        self.method = method
        self.searchNodes = searchNodes
    }
}

/// Tuning of ``Resolver``. The defaults suit a portfolio of any size.
public struct ResolverOptions: Sendable, Hashable {
    /// Time the exact search may spend on one component before it falls back to the greedy
    /// placement. Converted to a count of scored placements (``nodesPerSecond``), so the
    /// outcome is the same on every machine.
    public var exactBudget: Duration
    /// Conversion of ``exactBudget`` to search nodes: about what one core scores per second
    /// in a release build (a node is one partial placement, a few microseconds).
    public var nodesPerSecond: Int
    /// Components with more movable releases than this skip the exact search.
    public var maxExactReleases: Int
    /// Components that could interact through a later move are solved together while the
    /// product of their releases' placement counts stays at or under this.
    public var mergeSearchSpace: Double
    /// How many of the nearest earlier windows a release may move to.
    public var windowsBefore: Int
    /// How many of the nearest later windows a release may move to.
    public var windowsAfter: Int

    public init(
        exactBudget: Duration = .milliseconds(100),
        nodesPerSecond: Int = 200_000,
        maxExactReleases: Int = 10,
        mergeSearchSpace: Double = 20_000,
        windowsBefore: Int = 4,
        windowsAfter: Int = 8
    ) {
        self.exactBudget = exactBudget
        self.nodesPerSecond = nodesPerSecond
        self.maxExactReleases = maxExactReleases
        self.mergeSearchSpace = mergeSearchSpace
        self.windowsBefore = windowsBefore
        self.windowsAfter = windowsAfter
    }

    var nodeBudget: Int {
        let (seconds, attoseconds) = exactBudget.components
        let total = Double(seconds) + Double(attoseconds) / 1e18
        return max(1, Int(total * Double(nodesPerSecond)))
    }
}

extension Proposal: Encodable {
    private enum CodingKeys: String, CodingKey { case release, action, from, to, reason }

    /// The contract's fields: release, action, from, to, reason.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(release, forKey: .release)
        try container.encode(action, forKey: .action)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(reason, forKey: .reason)
    }
}

extension Unresolved: Encodable {}

extension Resolution: Encodable {
    private enum CodingKeys: String, CodingKey { case proposals, unresolved }

    /// `{"proposals": [...], "unresolved": [...]}` as `schedule resolve --format json` prints it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(proposals, forKey: .proposals)
        try container.encode(unresolved, forKey: .unresolved)
    }
}

import Foundation
import ReleaseStore
import Reporting
import Scheduling

// The scheduling use cases: finding conflicts, resolving them (and applying the moves), and
// deciding on the moves proposed to a group.

/// `conflicts`: every conflict of the portfolio, filtered as asked; with `standing`, also how they
/// stand against the last nightly run (new, open, resolved; nil before the first run).
public struct FindConflicts: UseCase {
    public let group: String?
    public let from: Date?
    public let to: Date?
    public let zone: TimeZone
    public let standing: Bool

    public init(group: String? = nil, from: Date? = nil, to: Date? = nil, zone: TimeZone, standing: Bool = false) {
        self.group = group
        self.from = from
        self.to = to
        self.zone = zone
        self.standing = standing
    }

    public struct Found: Sendable {
        public let conflicts: [Conflict]
        public let standing: (new: Int, open: Int, resolved: Int)?

        /// The contract's document (`conflicts --format json`), generated at `now`.
        public func document(generatedAt now: Date = Date()) -> JSONValue {
            ConflictFormats.withStanding(ConflictFormats.document(conflicts, generatedAt: now),
                                         new: standing?.new, open: standing?.open, resolved: standing?.resolved)
        }
    }

    public func run(in session: DatabaseSession) throws -> Found {
        let conflicts = try ScheduleStore(session.db, deadlineZone: zone).conflicts(group: group, from: from, to: to)
        let standing = self.standing ? try ReportStore().standing(of: conflicts, group: group, session.db) : nil
        return Found(conflicts: conflicts, standing: standing)
    }
}

/// `schedule resolve [--apply]`: what the resolver proposes and, applied, what was done.
public struct ResolveConflicts: UseCase {
    public let apply: Bool
    public let group: String?
    public let budgetSeconds: Double
    public let zone: TimeZone

    /// What `apply` did: the moves made, the proposals stored for other groups, what waits on whom.
    public typealias Applied = ApplyOutcome

    public init(apply: Bool, group: String? = nil, budgetSeconds: Double = 2, zone: TimeZone) {
        self.apply = apply
        self.group = group
        self.budgetSeconds = budgetSeconds
        self.zone = zone
    }

    public func run(in session: DatabaseSession) throws -> ScheduleViews.ResolveRun {
        try ScheduleViews.resolve(session.db, apply: apply, group: group, budgetSeconds: budgetSeconds, by: try session.person(), zone: zone)
    }
}

/// `schedule proposals`: moves waiting for their groups (with `all`, decided ones too).
public struct ListProposals: UseCase {
    public let group: String?
    public let all: Bool

    public init(group: String? = nil, all: Bool = false) {
        self.group = group
        self.all = all
    }

    public func run(in session: DatabaseSession) throws -> [StoredProposal] {
        try ScheduleStore(session.db, deadlineZone: .current).proposals(group: group, status: all ? nil : "pending")
    }
}

/// `schedule accept`: the move is made, or approved to wait on others; a proposal that can no
/// longer be made (stale) or was decided otherwise is bad data (`Failure.invalid`), as the CLI
/// always answered it. Accepting an accepted one again is no error.
public struct AcceptProposal: UseCase {
    public let id: Int64

    public init(_ id: Int64) {
        self.id = id
    }

    public func run(in session: DatabaseSession) throws -> DecisionOutcome {
        let outcome = try ScheduleStore(session.db, deadlineZone: .current).accept(id, by: try session.person())
        guard outcome.status == "accepted" || outcome.status == "approved" else {
            throw Failure(.invalid, ScheduleViews.refusal(outcome, id: id, wanted: "accepted")?.message ?? "proposal \(id) is \(outcome.status)")
        }
        return outcome
    }
}

/// `schedule reject`: with the reason; one decided already is bad data (`Failure.invalid`).
public struct RejectProposal: UseCase {
    public let id: Int64
    public let reason: String

    public init(_ id: Int64, reason: String) {
        self.id = id
        self.reason = reason
    }

    public func run(in session: DatabaseSession) throws -> DecisionOutcome {
        let outcome = try ScheduleStore(session.db, deadlineZone: .current).reject(id, reason: reason, by: try session.person())
        if let refusal = ScheduleViews.refusal(outcome, id: id, wanted: "rejected") { throw Failure(.invalid, refusal.message) }
        return outcome
    }
}

// MARK: What the CLI says after a decision

extension ResolveConflicts {
    /// What `--apply` did, what it stored for others, and what waits on whom: the lines after
    /// the resolution's text.
    public static func summary(_ outcome: Applied) -> String {
        let own = outcome.waiting.filter { $0.status == "approved" }
        var text = "\napplied \(outcome.applied.count) move\(outcome.applied.count == 1 ? "" : "s")"
        text += "; stored \(outcome.proposed.count) proposal\(outcome.proposed.count == 1 ? "" : "s") for other groups"
        if !own.isEmpty { text += "; \(own.count) move\(own.count == 1 ? "" : "s") of yours wait\(own.count == 1 ? "s" : "") on them" }
        text += "\n"
        for move in outcome.applied { text += "  moved \(move) now\n" }
        for (release, id) in outcome.proposed.sorted(by: { $0.id < $1.id }) {
            text += "  proposal \(id) for \(release): its group accepts with `relplan schedule accept \(id)`\n"
        }
        for move in outcome.waiting where !move.waitsOn.isEmpty {
            let mark = move.status == "approved" ? "your move \(move.id)" : "proposal \(move.id)"
            text += "  \(mark): \(move.waitText)\n"
        }
        if !own.isEmpty {
            text += "your waiting moves are carried out by the database as soon as what they wait on is accepted (relplan schedule proposals)\n"
        }
        return text
    }
}

extension AcceptProposal {
    /// The move made, or what it waits on, or that it was made already; then every other move
    /// the decision carried out or withdrew.
    public static func summary(_ outcome: DecisionOutcome, id: Int64) -> String {
        let p = outcome.proposal
        var text: String
        if outcome.status == "approved" {
            text = "approved proposal \(id) for \(p.release): it waits on " + outcome.waitsOn.map {
                "\($0.release) \($0.doing) (proposal \($0.id) for \($0.group))"
            }.joined(separator: ", ") + "; the database carries it out when those are accepted\n"
        } else if outcome.carriedOut.isEmpty {
            // Decided before: nothing to do, and it says so (exit 0: the move is made).
            text = "proposal \(id) for \(p.release) is accepted already (moved from \(p.from) to \(p.to)); nothing changed\n"
        } else {
            text = "accepted proposal \(id): \(p.release) moved from \(p.from) to \(p.to)\n"
        }
        return text + consequences(outcome, except: id)
    }

    /// The moves a decision carried out or withdrew besides the proposal itself.
    static func consequences(_ outcome: DecisionOutcome, except id: Int64) -> String {
        var text = ""
        for move in outcome.carriedOut where move.id != id {
            text += "  carried out move \(move.id) (\(move.group)): \(move.release) moved from \(move.from) to \(move.to)\n"
        }
        for move in outcome.withdrawn where move.id != id {
            text += "  withdrew move \(move.id) (\(move.group)) for \(move.release): \(move.decisionReason ?? "")\n"
        }
        return text
    }
}

extension RejectProposal {
    /// The rejection, then every move it withdrew (those that waited on it).
    public static func summary(_ outcome: DecisionOutcome, id: Int64) -> String {
        "rejected proposal \(id)\n" + AcceptProposal.consequences(outcome, except: id)
    }
}

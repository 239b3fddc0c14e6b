import Foundation
import Postgres
import ReleaseStore
import Reporting
import Scheduling

/// The scheduling use cases as the CLI and the server both run them, and their JSON.
public enum ScheduleViews {
    /// `conflicts --format json`: the contract's document, with its standing against the last nightly run.
    public static func conflictsJSON(_ db: Connection, group: String?, from: Date?, to: Date?, zone: TimeZone,
                                     now: Date = Date()) throws -> (document: JSONValue, count: Int) {
        let found = try FindConflicts(group: group, from: from, to: to, zone: zone, standing: true).run(in: DatabaseSession(db))
        return (found.document(generatedAt: now), found.conflicts.count)
    }

    /// The document of conflicts already detected (the server keeps them between plan changes),
    /// with their standing against the nightly job's history as of now.
    public static func conflictsJSON(_ db: Connection, conflicts: [Conflict], group: String?,
                                     now: Date = Date()) throws -> (document: JSONValue, count: Int) {
        let found = FindConflicts.Found(conflicts: conflicts, standing: try ReportStore().standing(of: conflicts, group: group, db))
        return (found.document(generatedAt: now), conflicts.count)
    }

    /// `schedule resolve [--apply]`: what the resolver proposes, and with `apply` what was done
    /// (moves made, proposals stored, what waits), only `group`'s shown when given.
    public struct ResolveRun: Sendable {
        public var resolution: Resolution
        public let outcome: ApplyOutcome?

        public var json: JSONValue {
            var proposalIDs: [String: Int64] = [:]
            for (release, id) in outcome?.proposed ?? [] { proposalIDs[release] = id }
            return ConflictFormats.resolutionJSON(resolution, proposalIDs: proposalIDs, applied: Set(outcome?.applied ?? []),
                                                  waiting: (outcome?.waiting ?? []).map { ($0.release, $0.status, $0.waitsOn.map(\.id)) })
        }
    }

    public static func resolve(_ db: Connection, apply: Bool, group: String?, budgetSeconds: Double, by me: Identity,
                               zone: TimeZone) throws -> ResolveRun {
        let store = ScheduleStore(db, deadlineZone: zone)
        var options = ResolverOptions()
        options.exactBudget = .milliseconds(Int(budgetSeconds * 1000))
        var run: ResolveRun
        if apply {
            // Computed and stored in one transaction under the scheduler's lock.
            let (computed, done) = try store.resolveAndApply(options: options, by: me)
            run = ResolveRun(resolution: computed, outcome: done)
        } else {
            run = ResolveRun(resolution: Resolver(options: options).resolve(try store.portfolio().snapshot), outcome: nil)
        }
        if let group {
            run.resolution.proposals = run.resolution.proposals.filter { $0.release.hasPrefix(group + "/") }
            run.resolution.unresolved = run.resolution.unresolved.filter { $0.release.hasPrefix(group + "/") }
        }
        return run
    }

    /// An accept or reject that did not take: stale (the portfolio changed) or decided already.
    public static func refusal(_ outcome: DecisionOutcome, id: Int64, wanted: String) -> Failure? {
        let p = outcome.proposal
        if outcome.status == wanted || (wanted == "accepted" && outcome.status == "approved") { return nil }
        if outcome.status == "stale" && wanted == "accepted" {
            return Failure(.conflict, "proposal \(id) for \(p.release) can no longer be carried out: \(outcome.detail ?? "the portfolio changed"); it is marked stale (nothing moved); run `relplan schedule resolve --apply` to compute a new plan")
        }
        return Failure(.conflict, "proposal \(id) is \(outcome.status) already" + (outcome.detail.map { " (\($0))" } ?? ""))
    }

    /// A decision's outcome: the proposal's status now, what it waits on, what it carried out or withdrew.
    public static func decisionJSON(_ outcome: DecisionOutcome) -> JSONValue {
        func move(_ p: StoredProposal) -> JSONValue {
            .object([("id", .int(Int(p.id))), ("release", .string(p.release)), ("group", .string(p.group)), ("from", .string(p.from)),
                     ("to", .string(p.to)), ("status", .string(p.status)), ("decision_reason", .string(p.decisionReason))])
        }
        return .object([
            ("id", .int(Int(outcome.proposal.id))), ("release", .string(outcome.proposal.release)), ("from", .string(outcome.proposal.from)),
            ("to", .string(outcome.proposal.to)), ("status", .string(outcome.status)), ("detail", .string(outcome.detail)),
            ("waits_on", .array(outcome.waitsOn.map { w in
                .object([("id", .int(Int(w.id))), ("release", .string(w.release)), ("group", .string(w.group)), ("doing", .string(w.doing))])
            })),
            ("carried_out", .array(outcome.carriedOut.map(move))),
            ("withdrawn", .array(outcome.withdrawn.map(move))),
        ])
    }
}

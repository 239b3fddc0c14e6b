import Foundation
import Postgres
import ReleaseCore
import Scheduling

/// A proposal as stored for the group that owns the release.
public struct StoredProposal: Sendable, Equatable {
    public let id: Int64
    public let release: String
    public let group: String
    public let action: String
    public let from: String
    public let to: String
    public let reason: String
    public let status: String
    public let proposedBy: String
    public let proposedAt: Date
    public let decisionReason: String?
    /// The plan the move belongs to (moves stored by one `schedule resolve --apply`).
    public var plan: Int64? = nil
    /// Moves it waits on, and open moves that wait on it.
    public var waitsOn: [Link] = []
    public var neededBy: [Link] = []

    /// Another move of the chain: its id, release and status.
    public struct Link: Sendable, Equatable {
        public let id: Int64
        public let release: String
        public let status: String

        init?(_ text: String) {
            let parts = text.split(separator: " ")
            guard parts.count == 3, let id = Int64(parts[0]) else { return nil }
            self.id = id
            release = String(parts[1])
            status = String(parts[2])
        }

        public var group: String { ReleaseRef.group(ofText: release) }
    }
}

/// A snapshot and the row version of every release in it, read in one transaction.
public struct Portfolio: Sendable {
    public let snapshot: Snapshot
    public let versions: [String: Int]
}

/// What `schedule resolve --apply` did.
public struct ApplyOutcome: Sendable, Equatable {
    /// Moves made now: the caller plans for the releases' groups.
    public let applied: [String]
    /// Moves stored as proposals for the groups that own the releases, with their ids.
    public let proposed: [(release: String, id: Int64)]
    /// Every move stored and not carried out yet: the caller's own approved moves that wait on
    /// others, and the proposals for other groups, with what each waits on.
    public let waiting: [WaitingMove]

    public static func == (lhs: ApplyOutcome, rhs: ApplyOutcome) -> Bool {
        lhs.applied == rhs.applied && lhs.proposed.map(\.release) == rhs.proposed.map(\.release)
            && lhs.proposed.map(\.id) == rhs.proposed.map(\.id) && lhs.waiting == rhs.waiting
    }
}

/// A stored move that is not carried out yet.
public struct WaitingMove: Sendable, Equatable {
    public let id: Int64
    public let release: String
    /// `approved` (its owner agreed: it waits on others) or `pending` (its owner decides).
    public let status: String
    public let waitsOn: [Wait]

    public struct Wait: Sendable, Equatable {
        public let id: Int64
        public let release: String
        /// What that move must do: "leaving SW-4", "freeing TEST-INT", "finishing earlier".
        public let doing: String

        public var group: String { ReleaseRef.group(ofText: release) }
    }

    /// "CRM/H waits on HR/J leaving W4: proposal 12 for HR".
    public var waitText: String {
        "\(release) waits on " + waitsOn.map { "\($0.release) \($0.doing): proposal \($0.id) for \($0.group)" }.joined(separator: "; ")
    }
}

/// What deciding on a proposal did, in the one transaction of the decision.
public struct DecisionOutcome: Sendable, Equatable {
    /// The proposal's status now: accepted, approved (waits on others), rejected, or stale.
    public let status: String
    /// Why, for stale and rejected ones.
    public let detail: String?
    public let proposal: StoredProposal
    /// Moves carried out by this decision (the proposal itself, and those that waited on it).
    public let carriedOut: [StoredProposal]
    /// Moves withdrawn by it, with their reasons.
    public let withdrawn: [StoredProposal]
    /// What an approved proposal waits on.
    public let waitsOn: [WaitingMove.Wait]
}

/// Conflict detection and resolution against the database: the snapshot in, moves out.
///
/// Moves are made only for releases of groups the caller plans for; everything else becomes a
/// proposal its owners accept or reject, and the caller's moves that need another group's move
/// first are stored approved, waiting on it: the database carries them out in the transaction of
/// the acceptance that completes them (sql/0014). Writers are serialised by the database's own
/// lock (`relplan_lock_scheduler`, a row lock nobody else may take), waited for at most
/// `relplan.scheduler_lock_timeout`; then it fails with `StoreError.busy` naming the holder.
public struct ScheduleStore {
    let db: Connection
    let zone: TimeZone
    let now: Date

    public init(_ db: Connection, deadlineZone zone: TimeZone, now: Date = Date()) {
        self.db = db
        self.zone = zone
        self.now = now
    }

    public func snapshot() throws -> Snapshot {
        try SnapshotLoader(db, deadlineZone: zone, now: now).load()
    }

    /// A snapshot to resolve and then apply: it remembers the version of every release.
    public func portfolio() throws -> Portfolio {
        let (snapshot, versions) = try SnapshotLoader(db, deadlineZone: zone, now: now).loadWithVersions()
        return Portfolio(snapshot: snapshot, versions: versions)
    }

    /// Conflicts, optionally only those touching a group, or a time range of windows and deployments.
    public func conflicts(group: String? = nil, from: Date? = nil, to: Date? = nil, in snapshot: Snapshot? = nil) throws -> [Conflict] {
        let snapshot = try snapshot ?? self.snapshot()
        return Self.filter(ConflictDetector.detect(in: snapshot), snapshot: snapshot, group: group, from: from, to: to)
    }

    static func filter(_ conflicts: [Conflict], snapshot: Snapshot, group: String?, from: Date?, to: Date?) -> [Conflict] {
        guard group != nil || from != nil || to != nil else { return conflicts }
        var deploys: [String: Interval] = [:]
        for release in snapshot.releases { deploys[release.key] = release.deploy }
        return conflicts.filter { conflict in
            if let group, !conflict.groups.contains(group) { return false }
            if from == nil && to == nil { return true }
            let range = Interval(start: from ?? .distantPast, end: to ?? .distantFuture)
            return conflict.releases.contains { deploys[$0].map(range.overlaps) ?? true }
        }
    }

    // MARK: Resolution

    /// Computes the plan and carries it out in one transaction, under the scheduler's lock, so that
    /// nothing another scheduler does falls between computing and storing. A concurrent change by
    /// hand makes the database refuse (40001): the plan is computed again, up to five times.
    /// Refused the same way every time (the computed plan breaks a rule the database checks and the
    /// resolver does not), it is not retryable: `.internalInconsistency` (65), not 75.
    public func resolveAndApply(options: ResolverOptions = ResolverOptions(), by identity: Identity) throws -> (Resolution, ApplyOutcome) {
        try naming {
          do {
            return try db.retryingTransaction { db in
                try db.execute("SELECT relplan_lock_scheduler()")
                let store = ScheduleStore(db, deadlineZone: zone, now: now)
                let portfolio = try store.portfolio()
                let resolution = Resolver(options: options).resolve(portfolio.snapshot)
                return (resolution, try store.store(resolution, portfolio, by: identity, db))
            }
          } catch let error as PostgresError where error.sqlState == .serializationFailure && error.message.contains("compute it again") {
            throw StoreError.internalInconsistency(
                "the plan was computed again and refused each time (\(error.message)); nothing was changed and retrying will not help: "
                + "`relplan schedule resolve` without --apply shows the plan; please report this")
          }
        }
    }

    /// Stores a resolution computed earlier from `portfolio`: refused (75, compute again) when a
    /// release it moves changed since.
    public func apply(_ resolution: Resolution, computedFrom portfolio: Portfolio, by identity: Identity) throws -> ApplyOutcome {
        try naming {
          do {
            return try db.transaction { db in
                try db.execute("SELECT relplan_lock_scheduler()")
                for release in Set(resolution.proposals.map(\.release)).sorted() {
                    let key = try Lookup.release(try ReleaseRef(parsing: release), db)
                    guard key.version == portfolio.versions[release] else {
                        throw StoreError.changedSinceComputed("\(release) changed since the proposals were computed; run schedule resolve again")
                    }
                }
                return try store(resolution, portfolio, by: identity, db)
            }
          } catch let error as PostgresError where error.sqlState == .serializationFailure {
            throw StoreError.changedSinceComputed("\(error.message); run schedule resolve again")
          }
        }
    }

    /// Orders the plan for the caller (``Coordination``) and hands it to `relplan_store_plan`.
    private func store(_ resolution: Resolution, _ portfolio: Portfolio, by identity: Identity, _ db: Connection) throws -> ApplyOutcome {
        let plan = Coordination.plan(resolution, in: portfolio.snapshot, by: Set(identity.plannerGroups))
        guard !plan.isEmpty else { return ApplyOutcome(applied: [], proposed: [], waiting: []) }
        var items: [String] = []
        var windowIDs: [String: Int] = [:]
        for move in plan {
            let p = move.proposal
            let key = try Lookup.release(try ReleaseRef(parsing: p.release), db)
            var window = "null"
            // A retime names its own window: the database then knows the release stays in it.
            if p.action != .shiftBooking, let code = p.newWindow {
                if windowIDs[code] == nil { windowIDs[code] = try Lookup.id(.window, code, db) }
                window = String(windowIDs[code] ?? 0)
            }
            let deploy = p.action == .shiftBooking ? nil : p.newDeploy
            let bookings = p.bookingMoves.map {
                "{\"booking\":\($0.bookingID),\"start\":\(jsonString(PostgresTimestamp.format($0.to.start))),\"end\":\(jsonString(PostgresTimestamp.format($0.to.end)))}"
            }
            items.append("""
                {"release":\(key.id),"action":\(jsonString(p.action.rawValue)),"window":\(window),\
                "deploy_start":\(deploy.map { jsonString(PostgresTimestamp.format($0.start)) } ?? "null"),\
                "deploy_end":\(deploy.map { jsonString(PostgresTimestamp.format($0.end)) } ?? "null"),\
                "bookings":[\(bookings.joined(separator: ","))],"reason":\(jsonString(p.reason)),\
                "version":\(portfolio.versions[p.release] ?? key.version),"needs":[\(move.needs.map { String($0.move + 1) }.joined(separator: ","))]}
                """)
        }
        let planJSON = "[" + items.joined(separator: ",") + "]"
        let rows = try db.query("SELECT idx, id, status, waits_on FROM relplan_store_plan(\(planJSON)::jsonb, \(zone.identifier))").rows
        var ids = [Int64](repeating: 0, count: plan.count)
        var statuses = [String](repeating: "", count: plan.count)
        for row in rows {
            let i = try row.decode(Int.self, "idx") - 1
            guard plan.indices.contains(i) else { continue }
            ids[i] = try row.decode(Int64.self, "id")
            statuses[i] = try row.decode(String.self, "status")
        }
        var applied: [String] = []
        var proposed: [(String, Int64)] = []
        var waiting: [WaitingMove] = []
        for (i, move) in plan.enumerated() {
            if statuses[i] == "accepted" && move.isOwn { applied.append(move.proposal.release); continue }
            if !move.isOwn { proposed.append((move.proposal.release, ids[i])) }
            if statuses[i] == "pending" || statuses[i] == "approved" {
                waiting.append(WaitingMove(id: ids[i], release: move.proposal.release, status: statuses[i], waitsOn: move.needs.map {
                    WaitingMove.Wait(id: ids[$0.move], release: plan[$0.move].proposal.release, doing: $0.doing)
                }))
            }
        }
        return ApplyOutcome(applied: applied, proposed: proposed, waiting: waiting)
    }

    /// The scheduler's lock not granted in time (55P03 from `relplan_lock_scheduler`) becomes
    /// `.busy`, naming who holds it.
    func naming<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError where error.sqlState == .lockNotAvailable {
            if let holder = (try? db.query("SELECT relplan_scheduler_holder() AS holder").first?.decode(String?.self, "holder")) ?? nil {
                throw StoreError.busy("the scheduler is busy: \(holder) is applying or deciding moves; nothing was changed, retry")
            }
            // Not the scheduler's lock: a row or table lock of another session (lock_timeout).
            let holders = (try? LockHolders.likely(db)) ?? []
            throw StoreError.busy("could not get a lock within lock_timeout (\(holders.isEmpty ? "its holder has finished since" : "held by " + holders.joined(separator: "; "))); nothing was changed, retry")
        }
    }

    public func proposals(group: String?, status: String? = nil) throws -> [StoredProposal] {
        let group = group.map(CodeKind.canonical)
        if let group { _ = try Lookup.id(.group, group, db) }
        return try proposals(where: """
            (\(group)::text IS NULL OR g.code = \(group))
            AND (\(status)::text IS NULL OR p.status = \(status) OR (\(status) = 'pending' AND p.status = 'approved'))
            """, db)
    }

    func proposals(where condition: SQL, _ db: Connection) throws -> [StoredProposal] {
        try db.query("""
            SELECT p.id, g.code || '/' || r.code, g.code, p.action, p.from_text, p.to_text, p.reason, p.status, p.proposed_by,
                   p.proposed_at, p.decision_reason, p.plan_id,
                   coalesce((SELECT array_agg(q.id::text || ' ' || qg.code || '/' || qr.code || ' ' || q.status ORDER BY q.id)
                             FROM schedule_proposal q JOIN release qr ON qr.id = q.release_id JOIN management_group qg ON qg.id = q.group_id
                             WHERE q.id = ANY (p.waits_on)), '{}'),
                   coalesce((SELECT array_agg(q.id::text || ' ' || qg.code || '/' || qr.code || ' ' || q.status ORDER BY q.id)
                             FROM schedule_proposal q JOIN release qr ON qr.id = q.release_id JOIN management_group qg ON qg.id = q.group_id
                             WHERE p.id = ANY (q.waits_on) AND q.status IN ('pending', 'approved')), '{}')
            FROM schedule_proposal p JOIN release r ON r.id = p.release_id JOIN management_group g ON g.id = p.group_id
            WHERE \(condition)
            ORDER BY p.id
            """).rows.map {
            let (id, release, group, action, from, to, reason, status, proposedBy, proposedAt, decisionReason, plan, waitsOn, neededBy)
                = try $0.decode((Int64, String, String, String, String, String, String, String, String, Date, String?, Int64?,
                                 [String], [String]).self)
            return StoredProposal(id: id, release: release, group: group, action: action, from: from, to: to, reason: reason,
                                  status: status, proposedBy: proposedBy, proposedAt: proposedAt, decisionReason: decisionReason,
                                  plan: plan, waitsOn: waitsOn.compactMap(StoredProposal.Link.init),
                                  neededBy: neededBy.compactMap(StoredProposal.Link.init))
        }
    }

    /// The owning group accepts a proposal. If it holds now it is carried out at once, with every
    /// move that waited only on it; if it needs moves of its plan that are not carried out yet, it
    /// is approved and waits on them. The database re-checks every hard rule either way.
    public func accept(_ id: Int64, by identity: Identity) throws -> DecisionOutcome {
        try decide(id, accept: true, reason: nil, by: identity)
    }

    /// Rejects a proposal (or takes back one's own approval), saying why; whatever waited on it is withdrawn.
    @discardableResult
    public func reject(_ id: Int64, reason: String, by identity: Identity) throws -> DecisionOutcome {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw StoreError.invalid("say why (--reason)") }
        return try decide(id, accept: false, reason: reason, by: identity)
    }

    private func decide(_ id: Int64, accept: Bool, reason: String?, by identity: Identity) throws -> DecisionOutcome {
        try naming {
            try db.retryingTransaction { db in
                try db.execute("SELECT relplan_lock_scheduler()")
                guard let stored = try proposals(where: "p.id = \(id)", db).first else {
                    throw StoreError.notFound(kind: "proposal", code: String(id), suggestion: nil)
                }
                try identity.require([.manager, .releaseManager], in: stored.group,
                                     to: "\(accept ? "accept" : "reject") proposals for \(stored.release)")
                var waits: [Int64] = []
                var needs: [WaitingMove.Wait] = []
                if accept && stored.status == "pending", let plan = stored.plan {
                    // What it must wait on is worked out now, against the portfolio as it is.
                    let state = try ScheduleStore(db, deadlineZone: zone, now: now).snapshot()
                    let open = try openMoves(of: plan, db).filter { $0.id != id }
                    if let move = try openMoves(of: plan, db, only: id).first {
                        let found = Coordination.prerequisites(of: move.proposal, among: open.enumerated().map { ($0.offset, $0.element.proposal) },
                                                               in: state) ?? []
                        waits = found.map { open[$0.move].id }
                        needs = found.map { WaitingMove.Wait(id: open[$0.move].id, release: open[$0.move].proposal.release, doing: $0.doing) }
                    }
                }
                guard let row = try db.query("SELECT status, detail FROM relplan_decide(\(id), \(accept), \(reason)::text, \(waits)::bigint[], \(zone.identifier)::text)").first else {
                    throw StoreError.internalInconsistency("relplan_decide returned nothing")
                }
                let status = try row.decode(String.self, "status")
                let changed = try proposals(where: "p.decided_at = now() AND p.status IN ('accepted', 'withdrawn')", db)
                return DecisionOutcome(
                    status: status, detail: try row.decode(String?.self, "detail"),
                    proposal: try proposals(where: "p.id = \(id)", db).first.unwrapOrThrow("proposal \(id)"),
                    carriedOut: changed.filter { $0.status == "accepted" }, withdrawn: changed.filter { $0.status == "withdrawn" },
                    waitsOn: status == "approved" ? needs : [])
            }
        }
    }

    // MARK: Internals

    private struct OpenMove {
        let id: Int64
        let proposal: Proposal
    }

    /// The moves of a plan not carried out yet, as the resolver's proposals.
    private func openMoves(of plan: Int64, _ db: Connection, only: Int64? = nil) throws -> [OpenMove] {
        try db.query("""
            SELECT p.id, g.code || '/' || r.code AS release, p.action, p.from_text, p.to_text, w.code AS new_window,
                   lower(p.new_deploy) AS start, upper(p.new_deploy) AS end, p.booking_moves::text AS booking_moves, p.reason
            FROM schedule_proposal p JOIN release r ON r.id = p.release_id JOIN management_group g ON g.id = p.group_id
            LEFT JOIN service_window w ON w.id = p.new_window_id
            WHERE p.plan_id = \(plan) AND (\(only)::bigint IS NULL OR p.id = \(only)) AND (\(only)::bigint IS NOT NULL OR p.status IN ('pending', 'approved'))
            ORDER BY p.id
            """).rows.map { row in
            var bookingMoves: [BookingMove] = []
            if let data = try row.decode(String.self, "booking_moves").data(using: .utf8),
               let items = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] {
                for item in items {
                    guard let booking = (item["booking"] as? NSNumber)?.int64Value,
                          let start = (item["start"] as? String).flatMap(parseTimestamp), let end = (item["end"] as? String).flatMap(parseTimestamp),
                          let fromStart = (item["from_start"] as? String).flatMap(parseTimestamp),
                          let fromEnd = (item["from_end"] as? String).flatMap(parseTimestamp) else { continue }
                    bookingMoves.append(BookingMove(bookingID: booking, environment: item["environment"] as? String ?? "",
                                                    from: Interval(start: fromStart, end: fromEnd), to: Interval(start: start, end: end)))
                }
            }
            let start = try row.decode(Date?.self, "start")
            let end = try row.decode(Date?.self, "end")
            return OpenMove(id: try row.decode(Int64.self, "id"), proposal: Proposal(
                release: try row.decode(String.self, "release"),
                action: ProposalAction(rawValue: try row.decode(String.self, "action")) ?? .moveWindow,
                from: try row.decode(String.self, "from_text"), to: try row.decode(String.self, "to_text"),
                reason: try row.decode(String.self, "reason"), newWindow: try row.decode(String?.self, "new_window"),
                newDeploy: start.flatMap { s in end.map { Interval(start: s, end: $0) } }, bookingMoves: bookingMoves))
        }
    }

    private func parseTimestamp(_ text: String) -> Date? {
        Array(text.utf8).withUnsafeBufferPointer { PostgresTimestamp.parse($0) }
    }
}

private func jsonString(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

extension Optional {
    func unwrapOrThrow(_ what: String) throws -> Wrapped {
        guard let value = self else { throw StoreError.internalInconsistency("\(what) vanished") }
        return value
    }
}

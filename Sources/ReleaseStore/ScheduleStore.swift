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

    public static func == (lhs: ApplyOutcome, rhs: ApplyOutcome) -> Bool {
        lhs.applied == rhs.applied && lhs.proposed.map(\.release) == rhs.proposed.map(\.release) && lhs.proposed.map(\.id) == rhs.proposed.map(\.id)
    }
}

/// Conflict detection and resolution against the database: the snapshot in, moves out.
///
/// Moves are applied only to releases of groups the caller plans for; everything else becomes a
/// proposal its owners accept or reject. Applying locks out other appliers (an advisory lock),
/// re-checks that every moved release is as it was when the proposals were computed, and that
/// no window goes over capacity: otherwise it refuses and nothing moves.
public struct ScheduleStore {
    let db: Connection
    let zone: TimeZone
    let now: Date

    /// Serialises the scheduler's writes (apply, accept) across sessions.
    static let applyLock: Int64 = 7217

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

    /// Applies the moves of `resolution` that the caller may make and stores the others as proposals,
    /// all in one transaction. `snapshot` is the one the resolution was computed from.
    public func apply(_ resolution: Resolution, computedFrom portfolio: Portfolio, by identity: Identity) throws -> ApplyOutcome {
        try db.retryingTransaction { db in
            try db.execute("SELECT pg_advisory_xact_lock($1)", [Self.applyLock])
            // Each release is looked up once, under the lock: nothing the proposals rest on may have
            // changed since they were computed.
            var keys: [String: ReleaseKey] = [:]
            for proposal in resolution.proposals where keys[proposal.release] == nil {
                let key = try Lookup.release(try ReleaseRef(parsing: proposal.release), db)
                guard key.version == portfolio.versions[proposal.release] else {
                    throw StoreError.changedSinceComputed(
                        "\(proposal.release) changed since the proposals were computed; run schedule resolve again")
                }
                keys[proposal.release] = key
            }
            var applied: [String] = []
            var proposed: [(String, Int64)] = []
            for proposal in resolution.proposals {
                guard let key = keys[proposal.release] else { continue }
                if identity.isPlanner(of: key.ref.group) {
                    try move(key, proposal, db)
                    applied.append(proposal.release)
                } else {
                    proposed.append((proposal.release, try storeProposal(key, proposal, db)))
                }
            }
            try requireWindowCapacity(for: resolution.proposals.compactMap(\.newWindow), db)
            return ApplyOutcome(applied: applied, proposed: proposed)
        }
    }

    /// Stores proposals for their owners without applying anything (`schedule resolve` without
    /// `--apply` only prints; this is for a run that hands every move to its owners).
    public func propose(_ resolution: Resolution) throws -> [(release: String, id: Int64)] {
        let versions = try releaseVersions(resolution.proposals.map(\.release))
        return try db.retryingTransaction { db in
            try resolution.proposals.compactMap { proposal in
                guard let key = versions[proposal.release] else { return nil }
                return (proposal.release, try storeProposal(key, proposal, db))
            }
        }
    }

    public func proposals(group: String?, status: String? = nil) throws -> [StoredProposal] {
        let group = group.map(CodeKind.canonical)
        if let group { _ = try Lookup.id(.group, group, db) }
        return try db.query("""
            SELECT p.id, g.code || '/' || r.code, g.code, p.action, p.from_text, p.to_text, p.reason, p.status, p.proposed_by,
                   p.proposed_at, p.decision_reason
            FROM schedule_proposal p JOIN release r ON r.id = p.release_id JOIN management_group g ON g.id = p.group_id
            WHERE ($1::text IS NULL OR g.code = $1) AND ($2::text IS NULL OR p.status = $2)
            ORDER BY p.id
            """, [group, status]).rows.map {
            StoredProposal(id: try $0.decode(Int64.self, 0), release: try $0.decode(String.self, 1), group: try $0.decode(String.self, 2),
                           action: try $0.decode(String.self, 3), from: try $0.decode(String.self, 4), to: try $0.decode(String.self, 5),
                           reason: try $0.decode(String.self, 6), status: try $0.decode(String.self, 7),
                           proposedBy: try $0.decode(String.self, 8), proposedAt: try $0.decode(Date.self, 9),
                           decisionReason: try $0.decode(String?.self, 10))
        }
    }

    /// The owning group accepts a proposal: the move is made if the release is as it was then.
    public func accept(_ id: Int64, by identity: Identity) throws -> StoredProposal {
        try db.retryingTransaction { db in
            try db.execute("SELECT pg_advisory_xact_lock($1)", [Self.applyLock])
            let (proposal, key, stored) = try loadProposal(id, db)
            try identity.require([.manager, .releaseManager], in: key.ref.group, to: "accept proposals for \(key.ref)")
            guard stored.status == "pending" else { throw StoreError.invalid("proposal \(id) is \(stored.status) already") }
            guard key.version == stored.releaseVersion else {
                throw StoreError.changedSinceComputed("\(key.ref) changed since proposal \(id) was made; run schedule resolve again")
            }
            try move(key, proposal, db)
            try requireWindowCapacity(for: proposal.newWindow.map { [$0] } ?? [], db)
            try db.execute("""
                UPDATE schedule_proposal SET status = 'accepted' WHERE id = $1
                """, [id])
            return try proposals(group: nil).first { $0.id == id }.unwrapOrThrow("proposal \(id)")
        }
    }

    public func reject(_ id: Int64, reason: String, by identity: Identity) throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw StoreError.invalid("say why (--reason)") }
        try db.retryingTransaction { db in
            let (_, key, stored) = try loadProposal(id, db)
            try identity.require([.manager, .releaseManager], in: key.ref.group, to: "reject proposals for \(key.ref)")
            guard stored.status == "pending" else { throw StoreError.invalid("proposal \(id) is \(stored.status) already") }
            try db.execute("""
                UPDATE schedule_proposal SET status = 'rejected', decision_reason = $2
                WHERE id = $1
                """, [id, reason])
        }
    }

    // MARK: Internals

    private func releaseVersions(_ refs: [String]) throws -> [String: ReleaseKey] {
        var keys: [String: ReleaseKey] = [:]
        for text in Set(refs) {
            keys[text] = try Lookup.release(try ReleaseRef(parsing: text), db)
        }
        return keys
    }

    /// Moves one release and its bookings as the proposal says; older proposals for it lapse.
    private func move(_ key: ReleaseKey, _ proposal: Proposal, _ db: Connection) throws {
        try db.execute("UPDATE schedule_proposal SET status = 'superseded' WHERE release_id = $1 AND status = 'pending'", [key.id])
        if let window = proposal.newWindow {
            let windowID = try Lookup.id(.window, window, db)
            let changed = try db.execute("""
                UPDATE release SET window_id = $2, deploy_start = $3, deploy_end = $4 WHERE id = $1
                """, [key.id, windowID, proposal.newDeploy?.start, proposal.newDeploy?.end])
            if changed == 0 {
                throw StoreError.permissionDenied(who: "you", what: "move \(key.ref)", why: "the database's policies refused the change")
            }
        } else if let deploy = proposal.newDeploy {
            try db.execute("UPDATE release SET deploy_start = $2, deploy_end = $3 WHERE id = $1", [key.id, deploy.start, deploy.end])
        }
        // A release's bookings all shift by one delta: move the last first when shifting later (and
        // the first first when earlier), so none collides with a sibling that has yet to move.
        let later = proposal.bookingMoves.first.map { $0.to.start > $0.from.start } ?? true
        for move in proposal.bookingMoves.sorted(by: { later ? $0.from.start > $1.from.start : $0.from.start < $1.from.start }) {
            do {
                try db.savepoint { db in
                    try db.execute("UPDATE environment_booking SET during = tstzrange($2, $3) WHERE id = $1 AND release_id = $4",
                                   [move.bookingID, move.to.start, move.to.end, key.id])
                }
            } catch let error as PostgresError where error.sqlState == "23P01" {
                // Someone confirmed that time since the resolution was computed: refused whole, retryable.
                throw try Releases.environmentTaken(
                    move.environment, try Lookup.id(.environment, move.environment, db), move.to.start, move.to.end, for: key.id, db)
            }
        }
    }

    private func storeProposal(_ key: ReleaseKey, _ proposal: Proposal, _ db: Connection) throws -> Int64 {
        let windowID = try Lookup.optionalID(.window, proposal.newWindow, db)
        let moves = proposal.bookingMoves.map {
            "{\"booking\":\($0.bookingID),\"environment\":\(jsonString($0.environment)),\"start\":\(jsonString(PostgresTimestamp.format($0.to.start))),\"end\":\(jsonString(PostgresTimestamp.format($0.to.end))),\"from_start\":\(jsonString(PostgresTimestamp.format($0.from.start))),\"from_end\":\(jsonString(PostgresTimestamp.format($0.from.end)))}"
        }
        // An older pending proposal for the same release is superseded by this one.
        try db.execute("UPDATE schedule_proposal SET status = 'superseded' WHERE release_id = $1 AND status = 'pending'", [key.id])
        guard let id = try db.query("""
            INSERT INTO schedule_proposal (group_id, release_id, action, from_text, to_text, new_window_id, new_deploy, booking_moves,
                                           reason, release_version)
            VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::timestamptz IS NULL THEN NULL ELSE tstzrange($7, $8) END, $9::jsonb, $10, $11)
            RETURNING id
            """, [key.groupID, key.id, proposal.action.rawValue, proposal.from, proposal.to, windowID, proposal.newDeploy?.start,
                  proposal.newDeploy?.end, "[" + moves.joined(separator: ",") + "]", proposal.reason, key.version]).first?.decode(Int64.self, 0) else {
            throw StoreError.internalInconsistency("INSERT … RETURNING returned nothing")
        }
        return id
    }

    private struct StoredRow {
        let status: String
        let releaseVersion: Int
    }

    private func loadProposal(_ id: Int64, _ db: Connection) throws -> (Proposal, ReleaseKey, StoredRow) {
        guard let row = try db.query("""
            SELECT g.code, r.code, p.action, p.from_text, p.to_text, w.code, lower(p.new_deploy), upper(p.new_deploy),
                   p.booking_moves::text, p.reason, p.status, p.release_version
            FROM schedule_proposal p JOIN release r ON r.id = p.release_id JOIN management_group g ON g.id = p.group_id
            LEFT JOIN service_window w ON w.id = p.new_window_id WHERE p.id = $1
            """, [id]).first else { throw StoreError.notFound(kind: "proposal", code: String(id), suggestion: nil) }
        let ref = try ReleaseRef(group: try row.decode(String.self, 0), code: try row.decode(String.self, 1))
        let key = try Lookup.release(ref, db)
        var bookingMoves: [BookingMove] = []
        if let data = try row.decode(String.self, 8).data(using: .utf8),
           let items = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] {
            for item in items {
                guard let booking = (item["booking"] as? NSNumber)?.int64Value, let start = item["start"] as? String, let end = item["end"] as? String,
                      let startDate = parseTimestamp(start), let endDate = parseTimestamp(end) else { continue }
                let to = Interval(start: startDate, end: endDate)
                let from = (item["from_start"] as? String).flatMap(parseTimestamp).flatMap { s in
                    (item["from_end"] as? String).flatMap(parseTimestamp).map { Interval(start: s, end: $0) }
                } ?? to
                bookingMoves.append(BookingMove(bookingID: booking, environment: item["environment"] as? String ?? "", from: from, to: to))
            }
        }
        let start = try row.decode(Date?.self, 6)
        let end = try row.decode(Date?.self, 7)
        let proposal = Proposal(
            release: ref.description, action: ProposalAction(rawValue: try row.decode(String.self, 2)) ?? .moveWindow,
            from: try row.decode(String.self, 3), to: try row.decode(String.self, 4), reason: try row.decode(String.self, 9),
            newWindow: try row.decode(String?.self, 5),
            newDeploy: start.flatMap { s in end.map { Interval(start: s, end: $0) } }, bookingMoves: bookingMoves)
        return (proposal, key, StoredRow(status: try row.decode(String.self, 10), releaseVersion: try row.decode(Int.self, 11)))
    }

    /// The scheduler's moves never over-fill a window (people's own moves may; that is a conflict to resolve).
    private func requireWindowCapacity(for windows: [String], _ db: Connection) throws {
        for window in Set(windows).sorted() {
            guard let row = try db.query("""
                SELECT w.capacity, (SELECT count(*) FROM release r WHERE r.window_id = w.id AND r.status NOT IN ('cancelled', 'closed')),
                       (SELECT string_agg(g.code || '/' || r.code, ', ' ORDER BY g.code, r.code) FROM release r
                        JOIN management_group g ON g.id = r.group_id WHERE r.window_id = w.id AND r.status NOT IN ('cancelled', 'closed'))
                FROM service_window w WHERE w.code = $1
                """, [window]).first else { continue }
            let capacity = try row.decode(Int.self, 0)
            if try row.decode(Int.self, 1) > capacity {
                throw StoreError.capacityTaken(what: "service window \(window) (capacity \(capacity))", holder: try row.decode(String?.self, 2) ?? "?")
            }
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

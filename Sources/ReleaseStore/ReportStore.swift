import Foundation
import Postgres
import Scheduling

/// A conflict as the history knows it after a run.
public struct HistoryEntry: Sendable {
    public enum Status: String, Sendable { case new, open, resolved }
    public let conflict: Conflict
    public let status: Status
    public let firstSeen: Date
    public let lastSeen: Date
    public let resolvedAt: Date?
}

/// What the nightly report reads besides the snapshot: names people recognise, pending proposals.
public struct ReportContext: Sendable {
    public let snapshot: Snapshot
    public let titles: [String: String]
    public let environmentNames: [String: String]
    public let groups: [String]
    public let proposals: [StoredProposal]
}

/// Reads and records for `report nightly`. Reading happens on any server (a standby too);
/// recording the history and the run lock need the primary.
public struct ReportStore {
    public init() {}

    /// Refuses unless the login may record the nightly history (a member of relplan_reporter,
    /// sql/0019): checked before any work, so a person's run stops at once instead of after reading.
    public func requireReporter(_ db: Connection) throws {
        let row = try db.query("SELECT current_user::text AS login, pg_has_role(current_user, 'relplan_reporter', 'MEMBER') AS reporter").first
        guard try row?.decode(Bool.self, "reporter") != true else { return }
        let login = try row?.decode(String.self, "login") ?? "this login"
        throw StoreError.permissionDenied(
            who: login, what: "run the nightly report",
            why: "only the nightly job's login records the conflict history (relplan_reporter); "
                + "an admin makes one with `relplan user create LOGIN --reporter`, and everyone reads the report it writes")
    }

    /// Takes the nightly lock without waiting, or says who holds it. The lock is a row lock on
    /// `relplan_lock` (sql/0018) that nobody but `relplan_nightly_lock()` can take; it lasts as
    /// long as the transaction this opens on `db`, so `db` must be a connection of its own, kept
    /// open (and otherwise unused) for the whole run and released with `unlock`.
    public func tryLock(_ db: Connection) throws -> String? {
        try db.execute("BEGIN", simple: true)
        let row = try db.query("SELECT got, holder_pid FROM relplan_nightly_lock()").first
        if try row?.decode(Bool.self, "got") == true { return nil }
        _ = try? db.execute("ROLLBACK", simple: true)
        guard let pid = try row?.decode(Int?.self, "holder_pid") else { return "another session" }
        return try LockHolders.describe(pid: pid, db) ?? "another session (pid \(pid))"
    }

    public func unlock(_ db: Connection) {
        _ = try? db.execute("ROLLBACK", simple: true)
    }

    /// Whether `db` reads a standby (`pg_is_in_recovery()`): the nightly job logs where it read.
    public func readsStandby(_ db: Connection) throws -> Bool {
        try db.query("SELECT pg_is_in_recovery()").first?.decode(Bool.self) ?? false
    }

    /// The snapshot and everything else the report shows, in one read-only repeatable-read transaction.
    public func readContext(_ db: Connection, deadlineZone: TimeZone, now: Date) throws -> ReportContext {
        try db.transaction(.snapshot) { db in
            let snapshot = try SnapshotLoader(db, deadlineZone: deadlineZone, now: now).read(db)
            var titles: [String: String] = [:]
            try db.copyOut("""
                COPY (SELECT g.code || '/' || r.code, r.title FROM release r JOIN management_group g ON g.id = r.group_id
                      WHERE r.title <> '') TO STDOUT
                """) { line in
                var fields = CopyTextFields(line)
                if let key = fields.text() { titles[key] = fields.text() ?? "" }
            }
            var names: [String: String] = [:]
            for row in try db.query("SELECT code, name FROM environment").rows {
                let (code, name) = try row.decode((String, String).self)
                names[code] = name
            }
            let groups = try db.query("SELECT code FROM management_group ORDER BY code").rows.map { try $0.decode(String.self, "code") }
            let proposals = try ScheduleStore(db, deadlineZone: deadlineZone, now: now).proposals(group: nil, status: "pending")
            return ReportContext(snapshot: snapshot, titles: titles, environmentNames: names, groups: groups, proposals: proposals)
        }
    }

    /// How `conflicts` stand against the last nightly run: new (not open in the history), open
    /// (open there too) and resolved (open there, gone now; among those involving `group`).
    /// nil when no nightly report has run yet: there is nothing to compare with.
    public func standing(of conflicts: [Conflict], group: String?, _ db: Connection) throws -> (new: Int, open: Int, resolved: Int)? {
        guard try db.query("SELECT EXISTS (SELECT FROM report_run) AS ran").first?.decode(Bool.self, "ran") == true else { return nil }
        var open = Set<String>()
        var openGroups: [String: [String]] = [:]
        for row in try db.query("SELECT identity, groups FROM conflict_history WHERE resolved_at IS NULL").rows {
            let (identity, groups) = try row.decode((String, [String]).self)
            open.insert(identity)
            openGroups[identity] = groups
        }
        let current = Set(conflicts.map(\.identity))
        let stillOpen = current.intersection(open).count
        let resolved = open.subtracting(current).filter { identity in group.map { openGroups[identity]?.contains($0) ?? false } ?? true }.count
        return (conflicts.count - stillOpen, stillOpen, resolved)
    }

    /// Records this run's conflicts and returns every conflict with its status: new and open ones,
    /// and those resolved since the previous run.
    public func record(_ conflicts: [Conflict], startedAt: Date, now: Date, _ db: Connection) throws -> [HistoryEntry] {
        try db.retryingTransaction { db in try recordHistory(conflicts, startedAt: startedAt, now: now, db) }
    }

    /// One calendar event as the nightly job records it: which calendar ('' for all groups, else
    /// the group's code), its UID, and a digest of its time and content.
    public struct CalendarEvent: Sendable {
        public let calendar: String
        public let uid: String
        public let fingerprint: String

        public init(calendar: String, uid: String, fingerprint: String) {
            self.calendar = calendar
            self.uid = uid
            self.fingerprint = fingerprint
        }
    }

    /// SEQUENCE and LAST-MODIFIED of an event, by calendar and UID.
    public typealias Revisions = [String: [String: (sequence: Int, lastModified: Date)]]

    /// Records the run's conflicts (as `record`) and, in the same transaction, its calendars'
    /// events: `events` turns the history into the events, and each gets its SEQUENCE (up by one
    /// when its digest changed since it was last recorded) and LAST-MODIFIED.
    public func record(_ conflicts: [Conflict], startedAt: Date, now: Date, _ db: Connection,
                       events: ([HistoryEntry]) throws -> [CalendarEvent]) throws -> (history: [HistoryEntry], revisions: Revisions) {
        try db.retryingTransaction { db in
            let history = try recordHistory(conflicts, startedAt: startedAt, now: now, db)
            let recorded = try events(history)
            var revisions: Revisions = [:]
            guard !recorded.isEmpty else { return (history, revisions) }
            for row in try db.query("""
                SELECT calendar, uid, sequence, last_modified
                FROM relplan_record_calendar_events(\(recorded.map(\.calendar)), \(recorded.map(\.uid)), \(recorded.map(\.fingerprint)), \(now))
                """).rows {
                let (calendar, uid, sequence, lastModified) = try row.decode((String, String, Int, Date).self)
                revisions[calendar, default: [:]][uid] = (sequence, lastModified)
            }
            return (history, revisions)
        }
    }

    private func recordHistory(_ conflicts: [Conflict], startedAt: Date, now: Date, _ db: Connection) throws -> [HistoryEntry] {
        var known: [String: (firstSeen: Date, open: Bool)] = [:]
        for row in try db.query("SELECT identity, first_seen, resolved_at IS NULL AS open FROM conflict_history").rows {
            let (identity, firstSeen, open) = try row.decode((String, Date, Bool).self)
            known[identity] = (firstSeen, open)
        }
        var entries: [HistoryEntry] = []
        for conflict in conflicts {
            if let previous = known[conflict.identity], previous.open {
                entries.append(HistoryEntry(conflict: conflict, status: .open, firstSeen: previous.firstSeen, lastSeen: now, resolvedAt: nil))
            } else {
                entries.append(HistoryEntry(conflict: conflict, status: .new, firstSeen: now, lastSeen: now, resolvedAt: nil))
            }
        }
        try db.execute("""
            INSERT INTO conflict_history AS h (identity, type, severity, window_code, environment, target, releases, groups, message,
                                               first_seen, last_seen)
            SELECT c.identity, c.type, c.severity, nullif(c.window_code, ''), nullif(c.environment, ''), nullif(c.target, ''),
                   string_to_array(c.releases, '|'), string_to_array(c.groups, '|'), c.message, c.first_seen, \(now)
            FROM unnest(\(entries.map(\.conflict.identity))::text[], \(entries.map(\.conflict.type.rawValue))::text[],
                        \(entries.map(\.conflict.severity.rawValue))::text[], \(entries.map { $0.conflict.window ?? "" })::text[],
                        \(entries.map { $0.conflict.environment ?? "" })::text[], \(entries.map { $0.conflict.target ?? "" })::text[],
                        \(entries.map { $0.conflict.releases.joined(separator: "|") })::text[],
                        \(entries.map { $0.conflict.groups.joined(separator: "|") })::text[], \(entries.map(\.conflict.message))::text[],
                        \(entries.map(\.firstSeen))::timestamptz[])
                 AS c(identity, type, severity, window_code, environment, target, releases, groups, message, first_seen)
            ON CONFLICT (identity) DO UPDATE SET
                last_seen = EXCLUDED.last_seen, message = EXCLUDED.message, releases = EXCLUDED.releases, groups = EXCLUDED.groups,
                first_seen = CASE WHEN h.resolved_at IS NULL THEN h.first_seen ELSE EXCLUDED.first_seen END,
                resolved_at = NULL
            """)
        let resolved = try db.query("""
            UPDATE conflict_history SET resolved_at = \(now)
            WHERE resolved_at IS NULL AND NOT (identity = ANY (\(conflicts.map(\.identity))::text[]))
            RETURNING identity, type, window_code, environment, target, releases, groups, message, first_seen, last_seen
            """).rows.map { row -> HistoryEntry in
            let (identity, type, window, environment, target, releases, groups, message, firstSeen, lastSeen)
                = try row.decode((String, String, String?, String?, String?, [String], [String], String, Date, Date).self)
            let conflict = Conflict(
                type: ConflictType(rawValue: type) ?? .windowCapacity, window: window, environment: environment, target: target,
                releases: releases, groups: groups, message: message, identity: identity)
            return HistoryEntry(conflict: conflict, status: .resolved, firstSeen: firstSeen, lastSeen: lastSeen, resolvedAt: now)
        }
        try db.execute("INSERT INTO report_run (started_at, conflicts, new, resolved) VALUES (\(startedAt), \(conflicts.count), \(entries.filter { $0.status == .new }.count), \(resolved.count))")
        return entries + resolved.sorted { $0.conflict.identity < $1.conflict.identity }
    }
}

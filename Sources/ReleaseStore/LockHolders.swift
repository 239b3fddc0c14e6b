import Foundation
import Postgres

/// Names the sessions that hold locks another session waits for, from what every role may see:
/// pg_locks, and the login, pid and application of pg_stat_activity (when the transaction began
/// only where the viewer may see it: its own logins, or pg_read_all_stats).
public enum LockHolders {
    /// One session by its backend pid, or nil when it is gone.
    public static func describe(pid: Int, _ db: Connection) throws -> String? {
        try db.query("""
            SELECT coalesce(usename::text, '?') AS login, coalesce(application_name, '') AS app, xact_start, pid, NULL::text AS locks
            FROM pg_stat_activity WHERE pid = \(pid)
            """).rows.first.map(line)
    }

    /// The sessions of this database (other than `db`'s own) that could hold a lock someone waited
    /// for: those holding a table lock stronger than ROW EXCLUSIVE on one of relplan's tables
    /// (named first, with the lock), and those in a transaction that wrote or locked rows (it
    /// holds its transaction id); when there are none, those in a transaction that reads relplan's
    /// tables (they hold up DDL, e.g. a migration). At most `limit`.
    public static func likely(_ db: Connection, limit: Int = 3) throws -> [String] {
        let rows = try db.query("""
            WITH here AS (SELECT oid FROM pg_database WHERE datname = current_database()),
            tables AS (
                SELECT l.pid, l.mode, c.relname
                FROM pg_locks l JOIN pg_class c ON c.oid = l.relation, here
                WHERE l.locktype = 'relation' AND l.granted AND l.database = here.oid AND c.relnamespace = 'public'::regnamespace),
            strong AS (
                SELECT pid, string_agg(DISTINCT replace(mode, 'Lock', '') || ' on ' || relname, ', ') AS locks FROM tables
                WHERE mode NOT IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock') GROUP BY pid),
            writing AS (SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'transactionid' AND granted AND mode = 'ExclusiveLock')
            SELECT coalesce(a.usename::text, '?') AS login, coalesce(a.application_name, '') AS app, a.xact_start, a.pid, s.locks,
                   CASE WHEN s.pid IS NOT NULL THEN 1 WHEN a.pid IN (SELECT pid FROM writing) THEN 2 ELSE 3 END AS tier
            FROM pg_stat_activity a JOIN here ON a.datid = here.oid LEFT JOIN strong s ON s.pid = a.pid
            WHERE a.pid <> pg_backend_pid()
              AND (s.pid IS NOT NULL OR a.pid IN (SELECT pid FROM writing) OR a.pid IN (SELECT pid FROM tables))
            ORDER BY tier, a.pid
            """).rows
        let tiers = try rows.map { try $0.decode(Int.self, "tier") }
        let best = tiers.contains { $0 < 3 } ? 2 : 3
        return try zip(rows, tiers).filter { $0.1 <= best }.prefix(limit).map { try line($0.0) }
    }

    /// A row of either statement above, read by name (one of them also has the tier).
    private static func line(_ row: Row) throws -> String {
        let login = try row.decode(String.self, "login"), app = try row.decode(String.self, "app")
        let since = try row.decode(Date?.self, "xact_start"), pid = try row.decode(Int.self, "pid")
        let locks = try row.decode(String?.self, "locks")
        var details = ["pid \(pid)"]
        if let locks { details.append("holding \(locks)") }
        if let since { details.append("in a transaction since \(Timestamp.text(since))") }
        return "\(login)\(app.isEmpty ? "" : " (\(app))") (\(details.joined(separator: ", ")))"
    }
}

import Foundation
import Logging
import Postgres

/// The limits every CLI session runs under, so that no other session can make a command hang:
/// lock_timeout 10s (the longest a command waits for a lock another session holds) and
/// statement_timeout 1h (generous for a million-row import or the nightly report). A value the
/// session already has from PGOPTIONS, the connection string's `options`, or ALTER ROLE/DATABASE
/// … SET is kept: `PGOPTIONS='-c lock_timeout=2s'` overrides the default, `-c lock_timeout=0` turns it off.
public enum SessionLimits {
    public static let lockTimeout = "10s"
    public static let statementTimeout = "1h"

    public static func apply(to connection: Connection, statementTimeout: String = statementTimeout) throws {
        _ = try connection.query("""
            SELECT set_config(s.name, d.value, false)
            FROM (VALUES ('lock_timeout', \(lockTimeout)), ('statement_timeout', \(statementTimeout))) AS d(name, value)
            JOIN pg_catalog.pg_settings s ON s.name = d.name
            WHERE s.source NOT IN ('client', 'user', 'database', 'database user')
            """)
    }

    /// After a lock timeout: how long the session waited and which sessions likely hold the lock,
    /// asked on a fresh connection (the failed transaction has let its own locks go).
    public static func lockTimeoutMessage(conninfo: String) -> String {
        guard let probe = try? Connection(conninfo: conninfo, logger: Logger(label: "relplan.postgres")) else {
            return "could not get a lock within lock_timeout (another session held it); nothing was changed, safe to retry"
        }
        defer { probe.close() }
        try? apply(to: probe)
        let wait = (try? probe.query("SELECT current_setting('lock_timeout') AS wait").first?.decode(String.self, "wait")) ?? nil
        let holders = (try? LockHolders.likely(probe)) ?? []
        let who = holders.isEmpty ? "its holder has finished since" : "held by \(holders.joined(separator: "; "))"
        return "could not get a lock within \(wait ?? "lock_timeout") (lock_timeout; \(who)); nothing was changed, safe to retry"
    }
}

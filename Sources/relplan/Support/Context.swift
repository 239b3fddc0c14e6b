import ArgumentParser
import Foundation
import Logging
import Postgres
import ReleaseStore

/// Options every command that talks to the database shares.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "A libpq connection string or URI; else RELPLAN_DATABASE_URL, else libpq's PG* variables.",
            valueName: "conninfo"))
    var databaseURL: String?

    @Flag(name: .long, help: "Show the database's own error text and debug logging.")
    var verbose = false

    var conninfo: String {
        databaseURL ?? ProcessInfo.processInfo.environment["RELPLAN_DATABASE_URL"] ?? ""
    }

    /// Connects, or explains where it tried and exits 69 — or 75 when the database is failing over
    /// (every server down, a standby or not ready, as a multi-host string sees it mid-failover).
    func connect(overrides: [String: String] = [:], purpose: String = "") throws -> Connection {
        LoggingSystem.bootstrapOnce(verbose: verbose)
        let connection: Connection
        do {
            connection = try Connection(conninfo: conninfo, overrides: overrides, logger: Logger(label: "relplan.postgres"))
        } catch let error as PostgresError where error.kind == .connectionLost {
            throw error  // the server went away while the session was set up: restarting or failing over (exit 75)
        } catch let error as PostgresError {
            if error.isFailingOver { throw CLIError(.temporaryFailure, ErrorReporter.failingOver(error)) }
            throw CLIError(.unavailable, "cannot connect to PostgreSQL\(purpose) (\(describeTarget())): \(error.message)")
        }
        do {
            try SessionLimits.apply(to: connection)
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// Runs `body` with a connection and turns every error into a message and an exit code.
    func run(_ body: (Connection) throws -> Void) throws {
        do {
            let connection = try connect()
            defer { connection.close() }
            try body(connection)
        } catch {
            throw ErrorReporter(verbose: verbose, conninfo: conninfo).exit(for: error)
        }
    }

    private func describeTarget() -> String {
        if !conninfo.isEmpty { return Redaction.conninfo(conninfo) }
        let env = ProcessInfo.processInfo.environment
        let host = env["PGHOST"] ?? "the default socket"
        let port = env["PGPORT"] ?? "5432"
        return env["PGSERVICE"].map { "service \($0)" } ?? "host \(host), port \(port)"
    }
}

/// The limits every CLI session runs under, so that no other session can make a command hang:
/// lock_timeout 10s (the longest a command waits for a lock another session holds) and
/// statement_timeout 1h (generous for a million-row import or the nightly report). A value the
/// session already has from PGOPTIONS, the connection string's `options`, or ALTER ROLE/DATABASE
/// … SET is kept: `PGOPTIONS='-c lock_timeout=2s'` overrides the default, `-c lock_timeout=0` turns it off.
enum SessionLimits {
    static let lockTimeout = "10s"
    static let statementTimeout = "1h"

    static func apply(to connection: Connection) throws {
        _ = try connection.query("""
            SELECT set_config(s.name, d.value, false)
            FROM (VALUES ('lock_timeout', $1), ('statement_timeout', $2)) AS d(name, value)
            JOIN pg_catalog.pg_settings s ON s.name = d.name
            WHERE s.source NOT IN ('client', 'user', 'database', 'database user')
            """, [lockTimeout, statementTimeout])
    }

    /// After a lock timeout: how long the session waited and which sessions likely hold the lock,
    /// asked on a fresh connection (the failed transaction has let its own locks go).
    static func lockTimeoutMessage(conninfo: String) -> String {
        guard let probe = try? Connection(conninfo: conninfo, logger: Logger(label: "relplan.postgres")) else {
            return "could not get a lock within lock_timeout (another session held it); nothing was changed, safe to retry"
        }
        defer { probe.close() }
        try? apply(to: probe)
        let wait = (try? probe.query("SELECT current_setting('lock_timeout')").first?.decode(String.self, 0)) ?? nil
        let holders = (try? LockHolders.likely(probe)) ?? []
        let who = holders.isEmpty ? "its holder has finished since" : "held by \(holders.joined(separator: "; "))"
        return "could not get a lock within \(wait ?? "lock_timeout") (lock_timeout; \(who)); nothing was changed, safe to retry"
    }
}

/// Hides passwords in connection strings before they reach a message.
enum Redaction {
    static func conninfo(_ text: String) -> String {
        var redacted = text
        if let range = redacted.range(of: #"password\s*=\s*('([^'\\]|\\.)*'|\S+)"#, options: .regularExpression) {
            redacted.replaceSubrange(range, with: "password=***")
        }
        if let range = redacted.range(of: #"(://[^:/@]*:)[^@]*@"#, options: .regularExpression) {
            let match = String(redacted[range])
            if let colon = match.dropFirst(3).firstIndex(of: ":") {
                redacted.replaceSubrange(range, with: String(match[..<colon]) + ":***@")
            }
        }
        return redacted
    }
}

extension LoggingSystem {
    nonisolated(unsafe) private static var bootstrapped = false

    /// Notices and warnings go to stderr only with --verbose; a person sees relplan's own messages.
    static func bootstrapOnce(verbose: Bool) {
        guard !bootstrapped else { return }
        bootstrapped = true
        bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .error
            return handler
        }
    }
}

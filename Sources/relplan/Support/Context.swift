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

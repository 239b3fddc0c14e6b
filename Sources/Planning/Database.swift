import Foundation
import Logging
import Postgres
import ReleaseStore

/// Where PostgreSQL is, as the person gave it, and how a session there is opened: with relplan's
/// session limits, and with failover told apart from an unreachable server. The CLI and the nightly
/// job open every connection through it, so neither names the driver.
public struct DatabaseTarget: Sendable {
    /// A libpq connection string or URI; empty: libpq's own PG* variables and defaults.
    public let conninfo: String

    public init(conninfo: String) {
        self.conninfo = conninfo
    }

    /// Connects, or explains where it tried (unavailable) — or says the database is failing over
    /// (retryable: every server down, a standby or not ready, as a multi-host string sees it mid-failover).
    public func connect(overrides: [String: String] = [:], purpose: String = "") throws -> Connection {
        let connection: Connection
        do {
            connection = try Connection(conninfo: conninfo, overrides: overrides, logger: Logger(label: "relplan.postgres"))
        } catch let error as PostgresError where error.kind == .connectionLost {
            throw error  // the server went away while the session was set up: restarting or failing over (retryable)
        } catch let error as PostgresError {
            if error.isFailingOver { throw Failure(.retryable, Failure.failingOver(error)) }
            throw Failure(.unavailable, "cannot connect to PostgreSQL\(purpose) (\(describeTarget())): \(error.message)")
        }
        do {
            try SessionLimits.apply(to: connection)
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    /// Runs one use case on a connection of its own, closed afterwards whatever happens.
    public func perform<Case: UseCase>(_ useCase: Case) throws -> Case.Output {
        let connection = try connect()
        defer { connection.close() }
        return try useCase.run(in: DatabaseSession(connection))
    }

    /// Where a failed connection tried, without its password.
    public func describeTarget() -> String {
        if !conninfo.isEmpty { return Redaction.conninfo(conninfo) }
        let env = ProcessInfo.processInfo.environment
        let host = env["PGHOST"] ?? "the default socket"
        let port = env["PGPORT"] ?? "5432"
        return env["PGSERVICE"].map { "service \($0)" } ?? "host \(host), port \(port)"
    }
}

/// One person's connection while a use case runs; who they are is read once, when first asked.
public final class DatabaseSession {
    public let db: Connection
    private var identity: Identity?

    public init(_ db: Connection) {
        self.db = db
    }

    /// The person the session runs as, with their groups and roles (read on first use).
    public func person() throws -> Identity {
        if let identity { return identity }
        let read = try Identity.current(db)
        identity = read
        return read
    }
}

/// One thing a person asks relplan to do: its inputs are the type's fields, its answer `Output`.
/// The CLI parses into one, performs it and prints the output; the server does the same per request.
public protocol UseCase {
    associatedtype Output
    func run(in session: DatabaseSession) throws -> Output
}

/// Hides passwords in connection strings before they reach a message.
public enum Redaction {
    public static func conninfo(_ text: String) -> String {
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

import CLibPQ
import Foundation

/// An error from the server or from libpq, with everything the server said about it.
///
/// The server's fields are kept as they came, so callers can branch on `sqlState`
/// (`.uniqueViolation`, `.insufficientPrivilege`, `.serializationFailure` …)
/// and still show a person the primary message, detail and hint.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server could not be reached or refused the connection.
        case connectionFailed
        /// The connection broke while a statement was running: it may or may not have committed.
        case connectionLost
        /// The server executed the statement and reported an error (see `sqlState`).
        case server
        /// A column could not be decoded as the Swift type asked for.
        case decoding
        /// The client library misbehaved or was used wrongly (a COPY not in progress, …).
        case client
    }

    public var kind: Kind
    /// Five-character SQLSTATE, for `.server` errors.
    public var sqlState: SQLState?
    public var message: String
    public var detail: String?
    public var hint: String?
    public var constraint: String?
    public var table: String?
    public var column: String?
    /// The statement that failed, as sent (values travel separately, so it holds no data).
    public var statement: String?
    /// For `.connectionLost` and the server going away: the connection broke while the transaction
    /// was being committed, so it may have committed or not; no one can tell without looking.
    public var mayHaveCommitted = false

    public init(
        kind: Kind, message: String, sqlState: SQLState? = nil, detail: String? = nil, hint: String? = nil,
        constraint: String? = nil, table: String? = nil, column: String? = nil, statement: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.column = column
        self.statement = statement
    }

    public var description: String {
        var text = message
        if let sqlState { text = "\(text) (SQLSTATE \(sqlState))" }
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        return text
    }

    /// Serialization failures and deadlocks: the transaction did not commit and may simply be run again.
    public var isRetryableTransactionFailure: Bool {
        guard kind == .server else { return false }
        switch sqlState {
        case .serializationFailure, .deadlockDetected: return true
        default: return false
        }
    }

    /// Lock or statement timeouts, and the server shutting down: nothing was done, trying later may work.
    public var isTemporary: Bool {
        if isRetryableTransactionFailure { return true }
        guard kind == .server else { return false }
        switch sqlState {
        case .lockNotAvailable, .queryCanceled, .adminShutdown, .crashShutdown, .cannotConnectNow, .tooManyConnections: return true
        default: return false
        }
    }

    public var isInsufficientPrivilege: Bool { kind == .server && sqlState == .insufficientPrivilege }

    /// A write refused because the session cannot write (`25006`): a hot standby, or a read-only
    /// transaction. Nothing was changed; the primary would have taken it.
    public var isReadOnlyServer: Bool { kind == .server && sqlState == .readOnlySQLTransaction }

    /// The server ending sessions because it shuts down, restarts after a crash, or is not ready
    /// yet (`57P01`, `57P02`, `57P03`): what a session sees while its database fails over.
    public var isServerGoingAway: Bool {
        guard kind == .server else { return false }
        switch sqlState {
        case .adminShutdown, .crashShutdown, .cannotConnectNow: return true
        default: return false
        }
    }

    /// For `.connectionFailed`: the servers libpq tried, in order, and why each gave up.
    public var attempts: [ConnectionAttempt] {
        kind == .connectionFailed ? ConnectionAttempt.parse(message) : []
    }

    /// For `.connectionFailed`: no server takes a session right now, but only for reasons a failover
    /// (or a restart) explains: every server tried refused, timed out, is a read-only standby, or is
    /// starting up or shutting down, and either the connection string names several servers or one
    /// said it is a standby or not ready. One server that refuses is simply down (unreachable);
    /// a bad password or an unknown host is never a failover.
    public var isFailingOver: Bool {
        let attempts = attempts
        guard !attempts.isEmpty, attempts.allSatisfy({ $0.outcome != .other }) else { return false }
        return Set(attempts.map(\.server)).count > 1 || attempts.contains { $0.outcome == .readOnly || $0.outcome == .notReady }
    }
}

/// One server libpq tried while connecting, read from its error text (libpq 14 and later write
/// one line per server: `connection to server at "db1" (10.0.0.1), port 5432 failed: REASON`).
public struct ConnectionAttempt: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// Nothing listens there (connection refused, no socket): the server is down.
        case refused
        /// `connect_timeout` passed without an answer.
        case timedOut
        /// A hot standby, or a session that cannot write: `target_session_attrs=read-write` passed it by.
        case readOnly
        /// Starting up, shutting down, in recovery, closed the connection at once, or refused the
        /// SSL request with an error (no backend could be started for it).
        case notReady
        /// Anything else: a password, an unknown host, a missing database.
        case other
    }

    /// `host:port`, or the socket's path.
    public let server: String
    public let outcome: Outcome
    /// What libpq or the server said, without the `FATAL:` prefix.
    public let reason: String

    static func parse(_ message: String) -> [ConnectionAttempt] {
        message.split(separator: "\n").compactMap { line -> ConnectionAttempt? in
            guard line.hasPrefix("connection to server "), let failed = line.range(of: " failed: ") else { return nil }
            var server = String(line[line.index(line.startIndex, offsetBy: "connection to server ".count)..<failed.lowerBound])
            // `at "db1" (10.0.0.1), port 5432` → `db1:5432`; `on socket "/run/x/.s.PGSQL.5432"` → the path.
            server = server.replacingOccurrences(of: #" \([^)]*\)"#, with: "", options: .regularExpression)
                .replacingOccurrences(of: "\"", with: "")
            if server.hasPrefix("at ") {
                server = String(server.dropFirst(3)).replacingOccurrences(of: ", port ", with: ":")
            } else if server.hasPrefix("on socket ") {
                server = String(server.dropFirst("on socket ".count))
            }
            var reason = String(line[failed.upperBound...])
            if reason.hasPrefix("FATAL:") { reason = String(reason.dropFirst("FATAL:".count)).trimmingLeadingWhitespace() }
            return ConnectionAttempt(server: server, outcome: outcome(of: reason.lowercased()), reason: reason)
        }
    }

    private static func outcome(of reason: String) -> Outcome {
        func has(_ texts: String...) -> Bool { texts.contains { reason.contains($0) } }
        if has("connection refused", "no such file or directory") { return .refused }
        if has("timeout expired") { return .timedOut }
        if has("session is read-only", "server is in hot standby mode") { return .readOnly }
        if has("the database system is starting up", "the database system is shutting down",
               "the database system is in recovery mode", "the database system is not yet accepting connections",
               "the database system is not accepting connections", "server closed the connection unexpectedly",
               "connection reset by peer",
               // The postmaster answered the SSL request with an error before any session existed:
               // it could not start a backend (a fork failure, a restart under way), never a setting.
               "server sent an error response during ssl exchange") {
            return .notReady
        }
        return .other
    }
}

extension PostgresError {
    /// Reads the diagnostic fields of a failed result.
    init(result: OpaquePointer, statement: String?, connection: OpaquePointer) {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        let lost = PQstatus(connection) == CONNECTION_BAD
        let primary = field(CLIBPQ_DIAG_MESSAGE_PRIMARY)
            ?? String(cString: PQresultErrorMessage(result)).trimmingTrailingWhitespace()
        self.init(
            // An error libpq made itself (no SQLSTATE) means the server went away mid-statement:
            // "server closed the connection unexpectedly", even before PQstatus says so.
            kind: lost || field(CLIBPQ_DIAG_SQLSTATE) == nil ? .connectionLost : .server,
            message: primary.isEmpty ? Self.connectionMessage(connection) : primary,
            sqlState: field(CLIBPQ_DIAG_SQLSTATE).map(SQLState.init(rawValue:)),
            detail: field(CLIBPQ_DIAG_MESSAGE_DETAIL),
            hint: field(CLIBPQ_DIAG_MESSAGE_HINT),
            constraint: field(CLIBPQ_DIAG_CONSTRAINT_NAME),
            table: field(CLIBPQ_DIAG_TABLE_NAME),
            column: field(CLIBPQ_DIAG_COLUMN_NAME),
            statement: statement
        )
    }

    static func connectionMessage(_ connection: OpaquePointer) -> String {
        guard let message = PQerrorMessage(connection) else { return "unknown libpq error" }
        return String(cString: message).trimmingTrailingWhitespace()
    }

    static func lost(_ connection: OpaquePointer, statement: String?) -> PostgresError {
        PostgresError(kind: .connectionLost, message: connectionMessage(connection), statement: statement)
    }
}

extension String {
    func trimmingLeadingWhitespace() -> String { String(drop { $0.isWhitespace }) }

    func trimmingTrailingWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}

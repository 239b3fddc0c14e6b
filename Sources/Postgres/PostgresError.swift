import CLibPQ

/// An error from the server or from libpq, with everything the server said about it.
///
/// The server's fields are kept as they came, so callers can branch on `sqlState`
/// (`23505` unique violation, `42501` insufficient privilege, `40001` serialization failure …)
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
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    public var constraint: String?
    public var table: String?
    public var column: String?
    /// The statement that failed, as sent (values travel separately, so it holds no data).
    public var statement: String?

    public init(
        kind: Kind, message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil,
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
        kind == .server && (sqlState == "40001" || sqlState == "40P01")
    }

    /// Lock or statement timeouts, and the server shutting down: nothing was done, trying later may work.
    public var isTemporary: Bool {
        if isRetryableTransactionFailure { return true }
        guard kind == .server, let sqlState else { return false }
        return ["55P03", "57014", "57P01", "57P02", "57P03", "53300"].contains(sqlState)
    }

    public var isInsufficientPrivilege: Bool { kind == .server && sqlState == "42501" }
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
            sqlState: field(CLIBPQ_DIAG_SQLSTATE),
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
    func trimmingTrailingWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}

import CLibPQ
import Foundation
import Logging

/// One session with a PostgreSQL server through libpq.
///
/// A `Connection` is deliberately not `Sendable`: libpq forbids using one `PGconn` from two
/// threads at once, so a connection has one owner at a time (GRDB's rule for its SQLite handle).
/// It is closed exactly once, when the last reference goes away, or earlier with `close()`.
public final class Connection {
    private var handle: OpaquePointer?
    private let noticeSink: Unmanaged<NoticeSink>
    var savepointDepth = 0
    public let logger: Logger

    /// Whether statements are prepared once and then reused, by their text and parameter types.
    /// For long-lived sessions (a server's): planning can cost more than running (a release's
    /// page under row-level security: 5–15 ms to plan, about 1 ms to run), and a prepared
    /// statement is planned once, then PostgreSQL keeps a generic plan where it is no worse.
    /// Off for a CLI's short session, where preparing would only add a round trip.
    public var cachesStatements = false
    private var preparedStatements: [PreparedKey: String] = [:]
    private var preparedCount = 0
    /// Statements beyond this many run unprepared (text built at run time must not grow the cache forever).
    static let preparedLimit = 256

    private struct PreparedKey: Hashable {
        let text: String
        let types: [UInt32]
    }

    /// Opens a session.
    ///
    /// - Parameter conninfo: a libpq connection string (`host=… dbname=…`) or URI
    ///   (`postgresql://…`). Empty means libpq's own defaults: `PGHOST`, `PGPORT`, `PGUSER`,
    ///   `PGDATABASE`, `PGSERVICE`, `~/.pgpass`, which is how most sites configure clients.
    /// - Parameter overrides: connection keywords that win over the conninfo's, e.g.
    ///   `["target_session_attrs": "read-write"]` to reach the primary of a multi-host string.
    public init(conninfo: String = "", overrides: [String: String] = [:], applicationName: String = "relplan",
                logger: Logger = Logger(label: "relplan.postgres")) throws {
        self.logger = logger
        // Retained until deinit, which also runs when this initializer throws.
        noticeSink = Unmanaged.passRetained(NoticeSink(logger: logger))
        // Keywords after the expanded dbname override what the conninfo says.
        let extra = overrides.sorted { $0.key < $1.key }
        let keywords = ["dbname", "fallback_application_name"] + extra.map(\.key)
        let values = [conninfo, applicationName] + extra.map(\.value)
        let connection: OpaquePointer? = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            throw PostgresError(kind: .connectionFailed, message: "out of memory while connecting")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = PostgresError.connectionMessage(connection)
            PQfinish(connection)
            throw PostgresError(kind: .connectionFailed, message: message)
        }
        handle = connection
        PQsetNoticeProcessor(connection, { context, message in
            guard let context, let message else { return }
            let sink = Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue()
            sink.logger.notice("\(String(cString: message).trimmingTrailingWhitespace())")
        }, noticeSink.toOpaque())
        // Decoding relies on ISO dates in UTC; set them once for the session.
        try execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'", simple: true)
    }

    deinit {
        if let handle { PQfinish(handle) }
        noticeSink.release()
    }

    /// Closes the session now; further use throws `connectionLost`.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// The server's host (or socket folder) this session reached, for messages.
    public var host: String { handle.flatMap { PQhost($0) }.map { String(cString: $0) } ?? "" }
    public var port: String { handle.flatMap { PQport($0) }.map { String(cString: $0) } ?? "" }
    public var database: String { handle.flatMap { PQdb($0) }.map { String(cString: $0) } ?? "" }
    public var user: String { handle.flatMap { PQuser($0) }.map { String(cString: $0) } ?? "" }
    /// The server process serving this session (for `pg_terminate_backend` in fault tests).
    public var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }
    public var isOpen: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }
    /// Whether a transaction block is open, so helpers know to use savepoints.
    public var isInTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    func requireHandle(_ statement: String?) throws -> OpaquePointer {
        guard let handle else {
            throw PostgresError(kind: .connectionLost, message: "the connection is closed", statement: statement)
        }
        return handle
    }

    // MARK: Statements

    /// Runs one statement whose interpolated values travel as `$n` parameters, and returns its rows.
    @discardableResult
    public func query(_ sql: SQL) throws -> QueryResult {
        try run(sql.text, sql.binds)
    }

    /// `query` for statements run for their effect; returns the number of rows affected.
    @discardableResult
    public func execute(_ sql: SQL) throws -> Int {
        try run(sql.text, sql.binds, forEffect: true).affectedRows
    }

    /// Runs one statement with `$n` placeholders and their values given apart. Prefer `query(_: SQL)`,
    /// which numbers them itself; the parameters are required here so that an interpolated string
    /// without them is an `SQL` (binds), never text pasted into this one.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable]) throws -> QueryResult {
        try run(sql, parameters.map(\.postgresValue))
    }

    /// `query(_:_:)` for statements run for their effect; returns the number of rows affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [any PostgresEncodable]) throws -> Int {
        try run(sql, parameters.map(\.postgresValue), forEffect: true).affectedRows
    }

    /// `forEffect`: run for what it changes. Outside a transaction block such a statement commits
    /// as it ends, so a connection lost on the way leaves it unknown whether it did
    /// (`mayHaveCommitted`); inside one, the COMMIT decides (see `transaction`).
    private func run(_ sql: String, _ parameters: [PostgresValue], forEffect: Bool = false) throws -> QueryResult {
        let handle = try requireHandle(sql)
        let values = try checkedValues(parameters, statement: sql)
        let autocommit = forEffect && PQtransactionStatus(handle) == PQTRANS_IDLE
        let name = cachesStatements ? try preparedName(sql, types: values.map(\.typeOID), handle) : nil
        let result = withParameters(values) { types, pointers in
            if let name { return PQexecPrepared(handle, name, Int32(values.count), pointers, nil, nil, 0) }
            return PQexecParams(handle, sql, Int32(values.count), types, pointers, nil, nil, 0)
        }
        do {
            return try checked(result, statement: sql, connection: handle)
        } catch var error as PostgresError {
            if name != nil { forgetPrepared(sql, types: values.map(\.typeOID), after: error) }
            if autocommit && (error.kind == .connectionLost || error.isServerGoingAway) { error.mayHaveCommitted = true }
            throw error
        }
    }

    /// The name `sql` is prepared under on this session, preparing it the first time; nil once
    /// the cache is full. A failed PREPARE (bad SQL, an aborted transaction) throws as running would.
    private func preparedName(_ sql: String, types: [UInt32], _ handle: OpaquePointer) throws -> String? {
        let key = PreparedKey(text: sql, types: types)
        if let name = preparedStatements[key] { return name }
        guard preparedStatements.count < Self.preparedLimit else { return nil }
        preparedCount += 1
        let name = "relplan_\(preparedCount)"
        _ = try checked(PQprepare(handle, name, sql, Int32(types.count), types), statement: sql, connection: handle)
        preparedStatements[key] = name
        return name
    }

    /// A prepared statement whose tables changed shape under it (a migration while the session
    /// lived) fails once with 0A000; the next run prepares it anew.
    private func forgetPrepared(_ sql: String, types: [UInt32], after error: PostgresError) {
        guard error.sqlState == .featureNotSupported else { return }
        preparedStatements[PreparedKey(text: sql, types: types)] = nil
    }

    /// Runs a script of several statements without parameters (migrations, session set-up).
    public func execute(_ sql: String, simple: Bool) throws {
        let handle = try requireHandle(sql)
        // PQexec returns only the last result; an error in any statement stops the script.
        _ = try checked(PQexec(handle, sql), statement: sql, connection: handle)
    }

    /// `name` quoted as an identifier by libpq (`PQescapeIdentifier`), which also checks it is valid
    /// text in the session's encoding; `SQL`'s `\(identifier:)` quotes the same way without a session.
    public func escapeIdentifier(_ name: String) throws -> String {
        let handle = try requireHandle(nil)
        let count = name.utf8.count
        guard let escaped = PQescapeIdentifier(handle, name, count) else {
            throw PostgresError(kind: .client, message: PostgresError.connectionMessage(handle))
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// Prepares a statement once per session, for hot paths that run it many times.
    public func prepare(_ name: String, _ sql: String) throws {
        let handle = try requireHandle(sql)
        _ = try checked(PQprepare(handle, name, sql, 0, nil), statement: sql, connection: handle)
    }

    /// Runs a statement prepared with `prepare`.
    @discardableResult
    public func query(prepared name: String, _ parameters: [any PostgresEncodable] = []) throws -> QueryResult {
        let handle = try requireHandle(name)
        let values = try checkedValues(parameters.map(\.postgresValue), statement: name)
        let result = withParameters(values) { _, pointers in
            PQexecPrepared(handle, name, Int32(values.count), pointers, nil, nil, 0)
        }
        return try checked(result, statement: "EXECUTE \(name)", connection: handle)
    }

    /// PostgreSQL text cannot hold NUL; refuse rather than let C strings cut the value short.
    private func checkedValues(_ values: [PostgresValue], statement: String) throws -> [PostgresValue] {
        for (index, value) in values.enumerated() {
            if let text = value.text, text.utf8.contains(0) {
                throw PostgresError(
                    kind: .client, message: "parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot hold",
                    statement: statement)
            }
        }
        return values
    }

    func checked(_ result: OpaquePointer?, statement: String?, connection: OpaquePointer) throws -> QueryResult {
        guard let result else { throw PostgresError.lost(connection, statement: statement) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN, PGRES_COPY_OUT:
            return QueryResult(result, statement: statement)
        default:
            let error = PostgresError(result: result, statement: statement, connection: connection)
            PQclear(result)
            throw error
        }
    }
}

@available(*, unavailable)
extension Connection: Sendable {}

/// Holds the logger the C notice callback writes to; it lives as long as the connection.
private final class NoticeSink: Sendable {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
}

private func withCStringArray<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return body(pointers.map { $0.map { UnsafePointer($0) } })
}

private func withParameters<R>(
    _ values: [PostgresValue], _ body: ([UInt32], [UnsafePointer<CChar>?]) -> R
) -> R {
    let types = values.map(\.typeOID)
    let pointers: [UnsafeMutablePointer<CChar>?] = values.map { value in value.text.map { strdup($0) } ?? nil }
    defer { pointers.forEach { free($0) } }
    return body(types, pointers.map { $0.map { UnsafePointer($0) } })
}

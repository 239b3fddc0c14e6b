import Foundation

/// How a transaction runs.
public struct TransactionOptions: Sendable, Equatable {
    public enum Isolation: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    public var isolation: Isolation
    public var readOnly: Bool

    public init(isolation: Isolation = .readCommitted, readOnly: Bool = false) {
        self.isolation = isolation
        self.readOnly = readOnly
    }

    public static let `default` = TransactionOptions()
    /// One consistent picture of the database, for reports and the scheduler's snapshot;
    /// runs on a hot standby too.
    public static let snapshot = TransactionOptions(isolation: .repeatableRead, readOnly: true)

    var beginStatement: String {
        "BEGIN ISOLATION LEVEL \(isolation.rawValue)\(readOnly ? " READ ONLY" : "")"
    }
}

/// How a transaction ended, carrying what its body returned: a dry run's body returns
/// `.rolledBack(findings)` instead of throwing to undo its work.
public enum TransactionOutcome<Value> {
    case committed(Value)
    case rolledBack(Value)

    public var value: Value {
        switch self {
        case .committed(let value), .rolledBack(let value): value
        }
    }

    public var isCommitted: Bool {
        if case .committed = self { return true }
        return false
    }
}

extension Connection {
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// Opens a transaction of its own; inside one already this is a programming error (the
    /// options could not apply), and `savepoint` is the call that nests.
    public func transaction<T>(_ options: TransactionOptions = .default, _ body: (Connection) throws -> T) throws -> T {
        try transaction(options, outcome: { .committed(try body($0)) }).value
    }

    /// Runs `body` in a transaction that it ends itself: `.committed(value)` commits,
    /// `.rolledBack(value)` rolls back (a dry run); a thrown error rolls back and is rethrown.
    ///
    /// When the connection breaks during the COMMIT, the error says so (`mayHaveCommitted`):
    /// the server may have committed before it went away.
    @discardableResult
    public func transaction<T>(
        _ options: TransactionOptions = .default, outcome body: (Connection) throws -> TransactionOutcome<T>
    ) throws -> TransactionOutcome<T> {
        guard !isInTransaction else {
            throw PostgresError(
                kind: .client, message: "a transaction is open already on this connection; nest with savepoint",
                statement: options.beginStatement)
        }
        try execute(options.beginStatement, simple: true)
        let outcome: TransactionOutcome<T>
        do {
            outcome = try body(self)
        } catch {
            if isOpen { try? execute("ROLLBACK", simple: true) }
            throw error
        }
        guard outcome.isCommitted else {
            try execute("ROLLBACK", simple: true)
            return outcome
        }
        do {
            try execute("COMMIT", simple: true)
        } catch var error as PostgresError {
            if isOpen, isInTransaction { try? execute("ROLLBACK", simple: true) }
            if error.kind == .connectionLost || error.isServerGoingAway { error.mayHaveCommitted = true }
            throw error
        }
        return outcome
    }

    /// Runs `body` inside a savepoint of the current transaction; only its work is undone when it throws.
    public func savepoint<T>(_ body: (Connection) throws -> T) throws -> T {
        try savepoint(outcome: { .committed(try body($0)) }).value
    }

    /// A savepoint that `body` ends itself: `.committed` releases it (its work stays in the
    /// transaction), `.rolledBack` rolls back to it. Outside a transaction it is an error.
    @discardableResult
    public func savepoint<T>(outcome body: (Connection) throws -> TransactionOutcome<T>) throws -> TransactionOutcome<T> {
        guard isInTransaction else {
            throw PostgresError(kind: .client, message: "a savepoint needs an open transaction; begin one with transaction",
                                statement: "SAVEPOINT")
        }
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "relplan_sp_\(savepointDepth)"
        try execute("SAVEPOINT \(name)", simple: true)
        let outcome: TransactionOutcome<T>
        do {
            outcome = try body(self)
        } catch {
            if isOpen { try? execute("ROLLBACK TO SAVEPOINT \(name)", simple: true) }
            throw error
        }
        if outcome.isCommitted {
            try execute("RELEASE SAVEPOINT \(name)", simple: true)
        } else {
            try execute("ROLLBACK TO SAVEPOINT \(name)", simple: true)
        }
        return outcome
    }

    /// Runs a whole transaction, again when it fails with a serialization failure or a deadlock
    /// (SQLSTATE 40001, 40P01), at most `attempts` times with jittered backoff.
    ///
    /// Only those two errors are retried: the server guarantees the transaction did not commit.
    /// A lost connection is never retried, since the COMMIT may have gone through.
    public func retryingTransaction<T>(
        _ options: TransactionOptions = .default, attempts: Int = 5, _ body: (Connection) throws -> T
    ) throws -> T {
        try retrying(attempts: attempts) { try transaction(options, body) }
    }

    /// Runs `body` again when it fails with a serialization failure or a deadlock, as
    /// `retryingTransaction` does, without opening a transaction: for one statement in autocommit
    /// (atomic by itself), which saves the BEGIN and COMMIT round trips.
    public func retrying<T>(attempts: Int = 5, _ body: () throws -> T) throws -> T {
        var attempt = 1
        while true {
            do {
                return try body()
            } catch let error as PostgresError where error.isRetryableTransactionFailure && attempt < attempts {
                let base = 0.01 * Double(1 << min(attempt, 6))
                Thread.sleep(forTimeInterval: base * Double.random(in: 0.5...1.5))
                logger.debug("retrying after \(error.sqlState?.rawValue ?? "?") (attempt \(attempt + 1) of \(attempts))")
                attempt += 1
            }
        }
    }
}

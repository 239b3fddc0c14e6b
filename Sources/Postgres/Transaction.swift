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

extension Connection {
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// Inside an open transaction this becomes a savepoint, so helpers compose.
    public func transaction<T>(_ options: TransactionOptions = .default, _ body: (Connection) throws -> T) throws -> T {
        if isInTransaction { return try savepoint(body) }
        try execute(options.beginStatement, simple: true)
        let value: T
        do {
            value = try body(self)
        } catch {
            if isOpen { try? execute("ROLLBACK", simple: true) }
            throw error
        }
        do {
            try execute("COMMIT", simple: true)
        } catch {
            if isOpen, isInTransaction { try? execute("ROLLBACK", simple: true) }
            throw error
        }
        return value
    }

    /// Runs `body` inside a savepoint of the current transaction; only its work is undone when it throws.
    public func savepoint<T>(_ body: (Connection) throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "relplan_sp_\(savepointDepth)"
        try execute("SAVEPOINT \(name)", simple: true)
        do {
            let value = try body(self)
            try execute("RELEASE SAVEPOINT \(name)", simple: true)
            return value
        } catch {
            if isOpen { try? execute("ROLLBACK TO SAVEPOINT \(name)", simple: true) }
            throw error
        }
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
                logger.debug("retrying after \(error.sqlState ?? "?") (attempt \(attempt + 1) of \(attempts))")
                attempt += 1
            }
        }
    }
}

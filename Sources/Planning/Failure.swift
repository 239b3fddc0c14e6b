import Foundation
import Postgres
import ReleaseStore

/// What kind of failure an error is, in words shared by the CLI (exit codes) and the server (HTTP statuses).
public enum FailureKind: Sendable, Equatable {
    /// The request itself is malformed (CLI 64, HTTP 400).
    case usage
    /// A code that names nothing (CLI 65, HTTP 404).
    case notFound
    /// The data is wrong or contradicts what is stored (CLI 65, HTTP 422).
    case invalid
    /// The database's policies refuse it (CLI 77, HTTP 403).
    case permission
    /// Someone else changed or holds it: show again and retry (CLI 75, HTTP 409).
    case conflict
    /// Temporary: a lock, a timeout, a failover; nothing was changed (CLI 75, HTTP 503).
    case retryable
    /// PostgreSQL cannot be reached (CLI 69, HTTP 503).
    case unavailable
}

/// An error put into one line a person acts on, and its kind.
public struct Failure: Error, Sendable, CustomStringConvertible {
    public let kind: FailureKind
    public let message: String

    public init(_ kind: FailureKind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The store's and PostgreSQL's errors in words; nil for an error of another type.
    /// `verbose` keeps the database's own text (detail, hint) in data errors.
    public static func classify(_ error: Error, verbose: Bool = false) -> Failure? {
        switch error {
        case let error as Failure:
            return error
        case let error as StoreError:
            switch error {
            case .notFound: return Failure(.notFound, error.description)
            case .invalid, .migrationChanged, .internalInconsistency: return Failure(.invalid, error.description)
            case .permissionDenied: return Failure(.permission, error.description)
            case .staleWrite, .capacityTaken, .changedSinceComputed: return Failure(.conflict, error.description)
            case .busy: return Failure(.retryable, error.description)
            }
        case let error as PostgresError:
            return classify(postgres: error, verbose: verbose)
        default:
            return nil
        }
    }

    private static func classify(postgres error: PostgresError, verbose: Bool) -> Failure {
        switch error.kind {
        case .connectionFailed:
            if error.isFailingOver { return Failure(.retryable, failingOver(error)) }
            return Failure(.unavailable, "cannot connect to PostgreSQL: \(error.message)")
        case .connectionLost:
            if error.mayHaveCommitted || error.statement == "COMMIT" {
                return Failure(.retryable, "lost the connection to PostgreSQL while committing (\(error.message)): the database server "
                    + "went away (restarting or failing over); \(mayHaveCommitted)")
            }
            return Failure(.retryable, "lost the connection to PostgreSQL (\(error.message)): the database server went away "
                + "(restarting or failing over); nothing was committed, safe to retry")
        default:
            break
        }
        if error.isInsufficientPrivilege {
            return Failure(.permission, "permission denied: \(error.message)")
        }
        if error.isReadOnlyServer {
            return Failure(.retryable, "PostgreSQL refused a write (\(error.message)): this session is read-only, on a standby "
                + "or a primary being demoted; writes go to the primary (target_session_attrs=read-write in the connection "
                + "string finds it). Nothing was changed; try again")
        }
        if error.isServerGoingAway {
            let outcome = error.mayHaveCommitted || error.statement == "COMMIT"
                ? mayHaveCommitted
                : "nothing was committed, safe to retry"
            return Failure(.retryable, "the database is failing over or restarting (\(error.message)); \(outcome)")
        }
        if error.isTemporary {
            let why: String
            switch error.sqlState {
            case .lockNotAvailable: why = "a lock was held too long by another session"
            case .queryCanceled: why = "the statement ran longer than statement_timeout"
            case .serializationFailure: why = "a concurrent change conflicted (serialization failure)"
            case .deadlockDetected: why = "a deadlock with another session"
            default: why = error.message
            }
            return Failure(.retryable, "\(why); nothing was changed, safe to retry")
        }
        if let state = error.sqlState, state.class == .integrityConstraintViolation || state.class == .dataException {
            return Failure(.invalid, verbose ? error.description : error.message)
        }
        return Failure(.invalid, verbose ? error.description : "the database refused: \(error.message)")
    }

    /// A COMMIT whose answer never came: the server may have committed before it went away.
    static let mayHaveCommitted = "the change may or may not have been committed (whole or not at all): "
        + "check with `relplan release show` or `relplan release list` before retrying"

    /// No server takes writes right now, for reasons a failover explains (`PostgresError.isFailingOver`).
    public static func failingOver(_ error: PostgresError) -> String {
        let servers = error.attempts.map { attempt -> String in
            switch attempt.outcome {
            case .refused: return "\(attempt.server) refuses connections"
            case .timedOut: return "\(attempt.server) does not answer"
            case .readOnly: return "\(attempt.server) is a read-only standby"
            case .notReady, .other: return "\(attempt.server): \(attempt.reason)"
            }
        }
        return "the database is failing over: no primary takes writes right now (\(servers.joined(separator: "; "))). "
            + "Nothing was done; try again in a few seconds"
    }
}

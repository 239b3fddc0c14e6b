import ArgumentParser
import Foundation
import Postgres
import ReleaseStore

/// The documented exit codes (sysexits).
enum ExitStatus: Int32 {
    case ok = 0
    case conflictsFound = 1
    case usage = 64
    case dataError = 65
    case unavailable = 69
    case temporaryFailure = 75
    case permissionDenied = 77
}

/// An error the CLI already put into words.
struct CLIError: Error, CustomStringConvertible {
    let status: ExitStatus
    let message: String

    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { message }
}

/// Turns any error into one line on stderr and an exit code.
struct ErrorReporter {
    let verbose: Bool
    /// Where to ask who holds a lock after a lock timeout; nil: do not ask.
    var conninfo: String? = nil

    func exit(for error: Error) -> ExitCode {
        let (status, message) = classify(error)
        emitError("relplan: \(message)\n")
        if verbose, let error = error as? PostgresError {
            emitError("  postgres: \(error.description.replacingOccurrences(of: "\n", with: "\n  "))\n")
            if let statement = error.statement {
                emitError("  statement: \(statement)\n")
            }
        }
        return ExitCode(status.rawValue)
    }

    func classify(_ error: Error) -> (ExitStatus, String) {
        switch error {
        case let error as CLIError:
            return (error.status, error.message)
        case let error as StoreError:
            switch error {
            case .notFound, .invalid: return (.dataError, error.description)
            case .permissionDenied: return (.permissionDenied, error.description)
            case .staleWrite, .capacityTaken, .changedSinceComputed, .busy: return (.temporaryFailure, error.description)
            case .migrationChanged: return (.dataError, error.description)
            case .internalInconsistency: return (.dataError, error.description)
            }
        case let error as PostgresError:
            return classify(postgres: error)
        case let error as ValidationError:
            return (.usage, error.message)
        default:
            return (.dataError, "\(error)")
        }
    }

    private func classify(postgres error: PostgresError) -> (ExitStatus, String) {
        switch error.kind {
        case .connectionFailed:
            if error.isFailingOver { return (.temporaryFailure, Self.failingOver(error)) }
            return (.unavailable, "cannot connect to PostgreSQL: \(error.message)")
        case .connectionLost:
            if error.statement == "COMMIT" {
                return (.temporaryFailure, "lost the connection to PostgreSQL while committing (\(error.message)): the database server "
                    + "went away (restarting or failing over); the change was made whole or not at all, so look before retrying")
            }
            return (.temporaryFailure, "lost the connection to PostgreSQL (\(error.message)): the database server went away "
                + "(restarting or failing over); nothing was committed, safe to retry")
        default:
            break
        }
        if error.isInsufficientPrivilege {
            return (.permissionDenied, "permission denied: \(error.message)")
        }
        if error.isReadOnlyServer {
            return (.temporaryFailure, "PostgreSQL refused a write (\(error.message)): this session is read-only, on a standby "
                + "or a primary being demoted; writes go to the primary (target_session_attrs=read-write in the connection "
                + "string finds it). Nothing was changed; try again")
        }
        if error.isServerGoingAway {
            let outcome = error.statement == "COMMIT"
                ? "the change was made whole or not at all, so look before retrying"
                : "nothing was committed, safe to retry"
            return (.temporaryFailure, "the database is failing over or restarting (\(error.message)); \(outcome)")
        }
        if error.isTemporary {
            let why: String
            switch error.sqlState {
            case "55P03":
                if let conninfo { return (.temporaryFailure, SessionLimits.lockTimeoutMessage(conninfo: conninfo)) }
                why = "a lock was held too long by another session"
            case "57014": why = "the statement ran longer than statement_timeout"
            case "40001": why = "a concurrent change conflicted (serialization failure)"
            case "40P01": why = "a deadlock with another session"
            default: why = error.message
            }
            return (.temporaryFailure, "\(why); nothing was changed, safe to retry")
        }
        if let state = error.sqlState, state.hasPrefix("23") || state.hasPrefix("22") {
            return (.dataError, verbose ? error.description : error.message)
        }
        return (.dataError, verbose ? error.description : "the database refused: \(error.message)")
    }

    /// No server takes writes right now, for reasons a failover explains (`PostgresError.isFailingOver`).
    static func failingOver(_ error: PostgresError) -> String {
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

import ArgumentParser
import Foundation
import Postgres
import ReleaseStore
import Planning

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
        case let error as ValidationError:
            return (.usage, error.message)
        case let error as PostgresError where error.sqlState == .lockNotAvailable && conninfo != nil:
            // A lock timeout: say who holds the lock, asked on a connection of its own.
            return (.temporaryFailure, SessionLimits.lockTimeoutMessage(conninfo: conninfo ?? ""))
        default:
            guard let failure = Failure.classify(error, verbose: verbose) else { return (.dataError, "\(error)") }
            return (ExitStatus(failure.kind), failure.message)
        }
    }

    /// No server takes writes right now, for reasons a failover explains (`PostgresError.isFailingOver`).
    static func failingOver(_ error: PostgresError) -> String { Failure.failingOver(error) }
}

extension ExitStatus {
    /// The documented exit code of each kind of failure.
    init(_ kind: FailureKind) {
        switch kind {
        case .usage: self = .usage
        case .notFound, .invalid: self = .dataError
        case .permission: self = .permissionDenied
        case .conflict, .retryable: self = .temporaryFailure
        case .unavailable: self = .unavailable
        }
    }
}

import Foundation
import Postgres
import ReleaseStore

/// The documented exit codes (sysexits) of relplan's commands.
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    case conflictsFound = 1
    case usage = 64
    case dataError = 65
    case unavailable = 69
    case temporaryFailure = 75
    case permissionDenied = 77
}

extension ExitStatus {
    /// The documented exit code of each kind of failure.
    public init(_ kind: FailureKind) {
        switch kind {
        case .usage: self = .usage
        case .notFound, .invalid: self = .dataError
        case .permission: self = .permissionDenied
        case .conflict, .retryable: self = .temporaryFailure
        case .unavailable: self = .unavailable
        }
    }
}

/// An error as a command reports it: its exit code, the problems to list first (an import's rows),
/// the one line a person reads, and with --verbose the database's own text (lines under it).
public struct ErrorReport: Sendable {
    public let status: ExitStatus
    public let problems: [String]
    public let message: String
    public let details: [String]

    public init(_ status: ExitStatus, _ message: String, problems: [String] = [], details: [String] = []) {
        self.status = status
        self.problems = problems
        self.message = message
        self.details = details
    }

    /// Classifies an error of the library, the store or the driver. `conninfo`: where to ask who
    /// holds a lock after a lock timeout (nil: do not ask).
    public init(_ error: Error, verbose: Bool, conninfo: String? = nil) {
        var details: [String] = []
        if verbose, let error = error as? PostgresError {
            details.append("  postgres: \(error.description.replacingOccurrences(of: "\n", with: "\n  "))")
            if let statement = error.statement { details.append("  statement: \(statement)") }
        }
        if let refusal = error as? ImportRefusal {
            self.init(.dataError, refusal.description, problems: refusal.problems)
        } else if let error = error as? PostgresError, error.sqlState == .lockNotAvailable, let conninfo {
            // A lock timeout: say who holds the lock, asked on a connection of its own.
            self.init(.temporaryFailure, SessionLimits.lockTimeoutMessage(conninfo: conninfo), details: details)
        } else if let failure = Failure.classify(error, verbose: verbose) {
            self.init(ExitStatus(failure.kind), failure.message, details: details)
        } else {
            self.init(.dataError, "\(error)", details: details)
        }
    }
}

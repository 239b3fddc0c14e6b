import ArgumentParser
import Foundation
import Planning

/// An error the CLI already put into words: a usage error of its own arguments, mostly.
struct CLIError: Error, CustomStringConvertible {
    let status: ExitStatus
    let message: String

    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { message }
}

/// Turns any error into one line on stderr (and with --verbose the database's own text) and an exit code.
struct ErrorReporter {
    let verbose: Bool
    /// Where to ask who holds a lock after a lock timeout; nil: do not ask.
    var conninfo: String? = nil

    func exit(for error: Error) -> ExitCode {
        let report = self.report(error)
        emitError(report.problems.map { $0 + "\n" }.joined())
        emitError("relplan: \(report.message)\n")
        for line in report.details { emitError(line + "\n") }
        return ExitCode(report.status.rawValue)
    }

    func report(_ error: Error) -> ErrorReport {
        switch error {
        case let error as CLIError: return ErrorReport(error.status, error.message)
        case let error as ValidationError: return ErrorReport(.usage, error.message)
        default: return ErrorReport(error, verbose: verbose, conninfo: conninfo)
        }
    }
}

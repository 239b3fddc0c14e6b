import ArgumentParser
import Foundation
import Logging
import Planning

/// Options every command that talks to the database shares.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "A libpq connection string or URI; else RELPLAN_DATABASE_URL, else libpq's PG* variables.",
            valueName: "conninfo"))
    var databaseURL: String?

    @Flag(name: .long, help: "Show the database's own error text and debug logging.")
    var verbose = false

    var conninfo: String {
        databaseURL ?? ProcessInfo.processInfo.environment["RELPLAN_DATABASE_URL"] ?? ""
    }

    /// Where the person pointed relplan, with logging set up as --verbose asks before anything connects.
    var database: DatabaseTarget {
        LoggingSystem.bootstrapOnce(verbose: verbose)
        return DatabaseTarget(conninfo: conninfo)
    }

    /// Performs one use case on a connection of its own; any error becomes its message and exit code.
    @discardableResult
    func perform<Case: UseCase>(_ useCase: Case) throws -> Case.Output {
        do {
            return try database.perform(useCase)
        } catch {
            throw ErrorReporter(verbose: verbose, conninfo: conninfo).exit(for: error)
        }
    }
}

extension LoggingSystem {
    nonisolated(unsafe) private static var bootstrapped = false

    /// Notices and warnings go to stderr only with --verbose; a person sees relplan's own messages.
    static func bootstrapOnce(verbose: Bool) {
        guard !bootstrapped else { return }
        bootstrapped = true
        bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .error
            return handler
        }
    }
}

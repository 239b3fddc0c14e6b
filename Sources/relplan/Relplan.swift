import ArgumentParser
import Foundation

@main
struct Relplan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relplan",
        abstract: "Plan releases for several management groups in one shared PostgreSQL database.",
        discussion: """
            Connects as you, with libpq's own rules (PGHOST, PGPORT, PGUSER, PGDATABASE, PGSERVICE, \
            ~/.pgpass) or --database-url / RELPLAN_DATABASE_URL. What you may change is decided by \
            the database itself: the row-level security policies of your groups.

            Exit codes: 0 ok; 1 conflicts found (with --exit-code); 64 usage; 65 bad input data; \
            69 database unreachable; 75 temporary failure, safe to retry; 77 permission denied.
            """,
        subcommands: [
            DatabaseCommand.self, GroupCommand.self, UserCommand.self, MemberCommand.self,
            EnvironmentCommand.self, WindowCommand.self, FreezeCommand.self, TargetCommand.self,
            ModelCommand.self, PlanCommand.self, ReleaseCommand.self, PackageCommand.self, UnitCommand.self,
            BookCommand.self, DeviationCommand.self, ConflictsCommand.self, ScheduleCommand.self, ReportCommand.self, AuditCommand.self, ImportCommand.self,
            ServeCommand.self,
        ]
    )

    /// Parses and runs the command; every failure becomes one line on stderr and a documented exit code.
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if let refused = RejectedWord.usageError(for: error, message: message(for: error)) {
                // A word outside its vocabulary: ReleaseCore's message, as when it was checked in `run`.
                Foundation.exit(ErrorReporter(verbose: false).exit(for: refused).rawValue)
            }
            exit(withError: error)  // usage errors: ArgumentParser's message and help, exit 64
        }
        do {
            try command.run()
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            exit(withError: error)  // --help and usage errors surfacing from a command's run
        } catch {
            Foundation.exit(ErrorReporter(verbose: verboseRequested).exit(for: error).rawValue)
        }
    }

    private static var verboseRequested: Bool { CommandLine.arguments.contains("--verbose") }
}

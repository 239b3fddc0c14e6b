import ArgumentParser
import Foundation
import ReleaseCore
import Planning
import Reporting

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Reports for people and calendars.", subcommands: [Nightly.self])

    struct Nightly: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the nightly conflict report: JSON, CSV, Markdown, HTML with a timeline, and iCalendar.",
            discussion: """
                Writes conflicts.json, conflicts.csv, report.md, report.html and calendar.ics into --out for all \
                groups, and a sub-folder per group with only what concerns it. Each run records the conflicts it \
                finds, so the report says what is new since the last run, what is still open and for how long, \
                and what got resolved. Files are written under temporary names and renamed: a reader never sees \
                half a report.

                Runs as the nightly job's login (`relplan user create LOGIN --reporter`): any other login \
                exits 77 before doing anything. One run at a time: a second one exits 75 at once, naming who \
                holds the lock. The data is read in \
                one read-only, repeatable-read transaction, so it may come from a standby \
                (target_session_attrs=prefer-standby); the history is recorded on the primary.

                Examples:
                  relplan report nightly --out /var/lib/relplan/report --tz Europe/Stockholm
                  relplan report nightly --out ./report --group CRM --horizon 30d --exit-code
                """)
        @Option(help: "The folder to write into (created if missing).", completion: .directory) var out: String
        @Option(help: "Only this group's report.") var group: String?
        @Option(help: "How far ahead to look, e.g. 90d, 12w.") var horizon = "90d"
        @Flag(help: "Exit 1 when new conflicts appeared since the last run.") var exitCode = false
        @OptionGroup var time: ZoneOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let zone = try time.zone
            let seconds: Int
            do { seconds = try Durations.seconds(in: horizon) } catch { throw CLIError(.usage, "--horizon: \(error)") }
            let job = NightlyJob(folder: URL(fileURLWithPath: out), group: group, horizonSeconds: seconds, zone: zone)
            let summary: NightlyJob.Summary?
            do {
                summary = try job.run(on: connection.database)
            } catch {
                throw ErrorReporter(verbose: connection.verbose, conninfo: connection.conninfo).exit(for: error)
            }
            guard let summary else { return }
            emitError(summary.line + "\n")
            if exitCode && summary.new > 0 { throw ExitCode(ExitStatus.conflictsFound.rawValue) }
        }
    }
}

import ArgumentParser
import Foundation
import Logging
import Postgres
import ReleaseCore
import ReleaseStore
import Planning
import Reporting
import Scheduling
import Synchronization

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
        @Option(help: "The folder to write into (created if missing).") var out: String
        @Option(help: "Only this group's report.") var group: String?
        @Option(help: "How far ahead to look, e.g. 90d, 12w.") var horizon = "90d"
        @Flag(help: "Exit 1 when new conflicts appeared since the last run.") var exitCode = false
        @OptionGroup var time: ZoneOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let zone = try time.zone
            let seconds: Int
            do { seconds = try Durations.seconds(in: horizon) } catch { throw CLIError(.usage, "--horizon: \(error)") }
            let startedAt = Date()
            var newConflicts = 0
            do {
                LoggingSystem.bootstrapOnce(verbose: connection.verbose)
                // The lock and the history live on the primary; the reading may happen on a standby.
                let primary = try connectPrimary()
                defer { primary.close() }
                // The lock is a row lock held by an open transaction: on a connection of its own.
                let lock = try connectPrimary()
                defer { lock.close() }
                let store = ReportStore()
                try store.requireReporter(primary)
                if let holder = try store.tryLock(lock) {
                    throw CLIError(.temporaryFailure, "another nightly report is running, held by \(holder); retry when it has finished")
                }
                defer { store.unlock(lock) }
                let reader = try connection.connect()
                defer { reader.close() }
                // Where the reads happen, asked in the reading session itself (--verbose shows it).
                let standby = try reader.query("SELECT pg_is_in_recovery()").first?.decode(Bool.self, 0) ?? false
                reader.logger.info("""
                    nightly report: reading from \(reader.host):\(reader.port) (pg_is_in_recovery = \(standby), \
                    \(standby ? "a standby" : "the primary")); history and lock on \(primary.host):\(primary.port)
                    """)
                let now = Date()
                let context = try store.readContext(reader, deadlineZone: zone, now: now)
                let conflicts = ConflictDetector.detect(in: context.snapshot)
                if let group, !context.groups.contains(group) {
                    throw StoreError.notFound(kind: "group", code: group, suggestion: Suggestions.nearest(to: group, in: context.groups))
                }
                let folder = URL(fileURLWithPath: out)
                let groups = group == nil ? context.groups : []
                let zoneNames = ZoneAbbreviations.system(for: zone)
                let textLanguage = ReportLanguage.forUserText(zone: zone)
                // The reports are independent: build them on every core. Their calendars' events get
                // their SEQUENCE in the transaction that records the history; then render and write.
                var renderers: [ReportRenderer] = []
                var digests: [[CalendarEventDigest]] = []
                let recorded = try store.record(conflicts, startedAt: startedAt, now: now, primary) { history in
                    let builder = NightlyBuilder(context: context, history: history, zone: zone, now: now,
                                                 horizon: Interval(start: now, end: now.addingTimeInterval(TimeInterval(seconds))))
                    let built = Mutex<[Int: (ReportRenderer, [CalendarEventDigest])]>([:])
                    DispatchQueue.concurrentPerform(iterations: groups.count + 1) { index in
                        var report = builder.report(group: index == 0 ? group : groups[index - 1])
                        report.zoneNames = zoneNames
                        report.textLanguage = textLanguage
                        let renderer = ReportRenderer(report)
                        let events = renderer.calendarEvents()
                        built.withLock { $0[index] = (renderer, events) }
                    }
                    let all = built.withLock { table in (0...groups.count).compactMap { table[$0] } }
                    renderers = all.map(\.0)
                    digests = all.map(\.1)
                    return zip(renderers, digests).flatMap { renderer, events in
                        events.map { ReportStore.CalendarEvent(calendar: renderer.report.group ?? "", uid: $0.uid, fingerprint: $0.fingerprint) }
                    }
                }
                let rendered = Mutex<[Int: Result<[ReportFile], Error>]>([:])
                let toRender = renderers
                DispatchQueue.concurrentPerform(iterations: toRender.count) { index in
                    let renderer = toRender[index]
                    let revisions = (recorded.revisions[renderer.report.group ?? ""] ?? [:]).mapValues {
                        EventRevision(sequence: $0.sequence, lastModified: $0.lastModified)
                    }
                    let result = Result { () throws -> [ReportFile] in try renderer.files(revisions: revisions) }
                    rendered.withLock { $0[index] = result }
                }
                guard let all = renderers.first?.report else { return }
                for index in 0...groups.count {
                    let target = index == 0 ? folder : folder.appendingPathComponent(groups[index - 1])
                    guard let result = rendered.withLock({ $0[index] }) else { continue }
                    do {
                        try ReportFiles.write(try result.get(), to: target)
                    } catch let error as CLIError {
                        throw error
                    } catch {
                        throw CLIError(.dataError, "cannot render the report: \(error)")
                    }
                }
                newConflicts = all.newCount
                let summary = "relplan nightly: \(all.unresolvedCount) conflict\(all.unresolvedCount == 1 ? "" : "s") "
                    + "(\(all.newCount) new, \(all.resolvedCount) resolved since the last run), "
                    + "\(all.proposals.count) pending proposal\(all.proposals.count == 1 ? "" : "s"); written to \(folder.path)"
                emitError(summary + "\n")
            } catch {
                throw ErrorReporter(verbose: connection.verbose, conninfo: connection.conninfo).exit(for: error)
            }
            if exitCode && newConflicts > 0 { throw ExitCode(ExitStatus.conflictsFound.rawValue) }
        }

        private func connectPrimary() throws -> Connection {
            try connection.connect(overrides: ["target_session_attrs": "read-write"],
                                   purpose: " to a writable server for the report's history and lock")
        }
    }
}

/// Writes a report's files into a folder, each under a temporary name first, then renamed.
enum ReportFiles {
    static func write(_ files: [ReportFile], to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in files {
            let final = folder.appendingPathComponent(file.name)
            let temporary = folder.appendingPathComponent(".\(file.name).tmp-\(ProcessInfo.processInfo.processIdentifier)")
            do {
                try file.contents.write(to: temporary)
                if rename(temporary.path, final.path) != 0 {
                    throw CLIError(.dataError, "cannot rename \(temporary.path) to \(final.path): \(String(cString: strerror(errno)))")
                }
            } catch let error as CLIError {
                throw error
            } catch {
                try? FileManager.default.removeItem(at: temporary)
                throw CLIError(.dataError, "cannot write \(final.path): \(error.localizedDescription)")
            }
        }
    }
}

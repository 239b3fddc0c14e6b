import Foundation
import Postgres
import ReleaseCore
import ReleaseStore
import Reporting
import Scheduling
import Synchronization

/// `report nightly`: the nightly job. Takes the run lock on the primary, reads one consistent
/// snapshot (a standby will do), records the conflict history, builds the report for everyone and
/// for each group, renders every format and writes the files under temporary names, renamed.
public struct NightlyJob: Sendable {
    /// The folder to write into (created if missing); each group's report in a sub-folder.
    public let folder: URL
    /// Only this group's report; nil: everyone's and each group's.
    public let group: String?
    /// How far ahead the report looks.
    public let horizonSeconds: Int
    public let zone: TimeZone

    public init(folder: URL, group: String?, horizonSeconds: Int, zone: TimeZone) {
        self.folder = folder
        self.group = group
        self.horizonSeconds = horizonSeconds
        self.zone = zone
    }

    /// What the run found and wrote: the figures of the whole report.
    public struct Summary: Sendable {
        public let unresolved: Int
        public let new: Int
        public let resolved: Int
        public let pendingProposals: Int
        public let folder: URL

        /// The one line the job writes to stderr.
        public var line: String {
            "relplan nightly: \(unresolved) conflict\(unresolved == 1 ? "" : "s") "
                + "(\(new) new, \(resolved) resolved since the last run), "
                + "\(pendingProposals) pending proposal\(pendingProposals == 1 ? "" : "s"); written to \(folder.path)"
        }
    }

    /// Runs the job against `database`; nil when there was no report to write.
    public func run(on database: DatabaseTarget) throws -> Summary? {
        let startedAt = Date()
        // The lock and the history live on the primary; the reading may happen on a standby.
        let primary = try connectPrimary(database)
        defer { primary.close() }
        // The lock is a row lock held by an open transaction: on a connection of its own.
        let lock = try connectPrimary(database)
        defer { lock.close() }
        let store = ReportStore()
        try store.requireReporter(primary)
        if let holder = try store.tryLock(lock) {
            throw Failure(.retryable, "another nightly report is running, held by \(holder); retry when it has finished")
        }
        defer { store.unlock(lock) }
        let reader = try database.connect()
        defer { reader.close() }
        // Where the reads happen, asked in the reading session itself (--verbose shows it).
        let standby = try store.readsStandby(reader)
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
        let groups = group == nil ? context.groups : []
        let zoneNames = ZoneAbbreviations.system(for: zone)
        let textLanguage = ReportLanguage.forUserText(zone: zone)
        // The reports are independent: build them on every core. Their calendars' events get
        // their SEQUENCE in the transaction that records the history; then render and write.
        var renderers: [ReportRenderer] = []
        var digests: [[CalendarEventDigest]] = []
        let recorded = try store.record(conflicts, startedAt: startedAt, now: now, primary) { history in
            let builder = NightlyBuilder(context: context, history: history, zone: zone, now: now,
                                         horizon: Interval(start: now, end: now.addingTimeInterval(TimeInterval(horizonSeconds))))
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
        guard let all = renderers.first?.report else { return nil }
        for index in 0...groups.count {
            let target = index == 0 ? folder : folder.appendingPathComponent(groups[index - 1])
            guard let result = rendered.withLock({ $0[index] }) else { continue }
            do {
                try ReportFiles.write(try result.get(), to: target)
            } catch let error as Failure {
                throw error
            } catch {
                throw Failure(.invalid, "cannot render the report: \(error)")
            }
        }
        return Summary(unresolved: all.unresolvedCount, new: all.newCount, resolved: all.resolvedCount,
                       pendingProposals: all.proposals.count, folder: folder)
    }

    private func connectPrimary(_ database: DatabaseTarget) throws -> Connection {
        try database.connect(overrides: ["target_session_attrs": "read-write"],
                             purpose: " to a writable server for the report's history and lock")
    }
}

/// Writes a report's files into a folder, each under a temporary name first, then renamed.
public enum ReportFiles {
    public static func write(_ files: [ReportFile], to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in files {
            let final = folder.appendingPathComponent(file.name)
            let temporary = folder.appendingPathComponent(".\(file.name).tmp-\(ProcessInfo.processInfo.processIdentifier)")
            do {
                try file.contents.write(to: temporary)
                if rename(temporary.path, final.path) != 0 {
                    throw Failure(.invalid, "cannot rename \(temporary.path) to \(final.path): \(String(cString: strerror(errno)))")
                }
            } catch let error as Failure {
                throw error
            } catch {
                try? FileManager.default.removeItem(at: temporary)
                throw Failure(.invalid, "cannot write \(final.path): \(error.localizedDescription)")
            }
        }
    }
}

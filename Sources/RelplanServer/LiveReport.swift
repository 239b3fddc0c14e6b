import Foundation
import Postgres
import ReleaseCore
import ReleaseStore
import Planning
import Reporting
import Scheduling

/// The nightly report's calendar and page, built now, as the person asking: the same builder and
/// renderer as `relplan report nightly`, the history read and not recorded.
enum LiveReport {
    /// The nightly report's default horizon.
    static let horizonSeconds: TimeInterval = 90 * 86_400

    static func renderer(_ db: Connection, group: String?, zone: TimeZone, now: Date = Date(),
                         from: Date? = nil, to: Date? = nil, environment: String? = nil) throws -> ReportRenderer {
        let store = ReportStore()
        let context = try store.readContext(db, deadlineZone: zone, now: now)
        if let group, !context.groups.contains(group) {
            throw StoreError.notFound(kind: "group", code: group, suggestion: Suggestions.nearest(to: group, in: context.groups))
        }
        let environments = context.snapshot.environments.map(\.code)
        if let environment, !environments.contains(environment) {
            throw StoreError.notFound(kind: "environment", code: environment, suggestion: Suggestions.nearest(to: environment, in: environments))
        }
        let conflicts = ConflictDetector.detect(in: context.snapshot)
        let history = try store.liveHistory(of: conflicts, now: now, db)
        let start = from ?? now
        let end = to ?? start.addingTimeInterval(horizonSeconds)
        guard end > start else { throw Failure(.usage, "to must be after from") }
        let builder = NightlyBuilder(context: context, history: history, zone: zone, now: now, horizon: Interval(start: start, end: end))
        var report = builder.report(group: group)
        if let environment {
            let booking = Set(context.snapshot.releases.filter { $0.bookings.contains { $0.environment == environment } }.map(\.key))
            report = narrowed(report, toEnvironment: environment, releasesBooking: booking)
        }
        report.zoneNames = ZoneAbbreviations.system(for: zone)
        report.textLanguage = ReportLanguage.forUserText(zone: zone)
        return ReportRenderer(report)
    }

    /// The calendar of one shared environment: its lane, the releases that book it (their
    /// deployments and windows), the conflicts they are in, the freezes that hold there.
    static func narrowed(_ report: NightlyReport, toEnvironment environment: String, releasesBooking: Set<String>) -> NightlyReport {
        var report = report
        func involved(_ releases: [String]) -> Bool { releases.contains(where: releasesBooking.contains) }
        report.conflicts = report.conflicts.filter { $0.conflict.environment == environment || involved($0.conflict.releases) }
        report.proposals = report.proposals.filter { releasesBooking.contains($0.release) }
        report.environments = report.environments.filter { $0.code == environment }
        report.bars = report.bars.filter { bar in
            switch bar.lane {
            case .environment(let code): return code == environment
            case .window: return releasesBooking.contains(bar.release)
            }
        }
        let windows = Set(report.bars.compactMap { bar -> String? in if case .window(let code) = bar.lane { return code } else { return nil } })
        report.windows = report.windows.filter { windows.contains($0.code) }
        report.deployments = report.deployments.filter { releasesBooking.contains($0.release) }
        report.freezes = report.freezes.filter { $0.environment == nil || $0.environment == environment }
        return report
    }

    /// `calendar.ics` as the nightly job would write it now: each event keeps the SEQUENCE the job
    /// recorded, one up (and LAST-MODIFIED now) when it changed since.
    static func calendar(_ db: Connection, group: String?, zone: TimeZone, now: Date = Date(), from: Date? = nil, to: Date? = nil) throws -> String {
        let renderer = try renderer(db, group: group, zone: zone, now: now, from: from, to: to)
        let recorded = try ReportStore().recordedEvents(calendar: group ?? "", db)
        var revisions: [String: EventRevision] = [:]
        for event in renderer.calendarEvents() {
            guard let known = recorded[event.uid] else { continue }
            revisions[event.uid] = known.fingerprint == event.fingerprint
                ? EventRevision(sequence: known.sequence, lastModified: known.lastModified)
                : EventRevision(sequence: known.sequence + 1, lastModified: now)
        }
        return renderer.calendar(revisions: revisions)
    }
}

/// The server's embedded files (`Sources/RelplanServer/Assets/*`, `openapi.yaml`).
enum Assets {
    static func text(_ name: String) -> String? {
        embedded.first { $0.file == name }?.text
    }

    /// The nightly report's stylesheet, cut from its template's `<style>`: the server's pages look like the report.
    static let reportStylesheet: String? = {
        guard let template = text("report.html.mustache"), let open = template.range(of: "<style>"),
              let close = template.range(of: "</style>", range: open.upperBound..<template.endIndex) else { return nil }
        return String(template[open.upperBound..<close.lowerBound])
    }()
}

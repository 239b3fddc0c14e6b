import Foundation
import Scheduling

/// One file of the nightly report: its name in the output folder and its bytes.
public struct ReportFile: Sendable, Equatable {
    public let name: String
    public let contents: Data

    public init(name: String, contents: Data) {
        self.name = name
        self.contents = contents
    }
}

/// Turns a `NightlyReport` into the files `report nightly` writes, one function per file.
///
/// Rendering is pure and deterministic (same report, same bytes), so a nightly job can compare
/// runs and a test can pin the output. Text for people is in the report's zone; machine fields
/// are RFC 3339 UTC.
public struct ReportRenderer: Sendable {
    public let report: NightlyReport
    public let limits: ReportLimits
    /// New, then open by age, then resolved, with explicit tie-breaks.
    let ordered: [NightlyReport.TrackedConflict]

    public init(_ report: NightlyReport, limits: ReportLimits = ReportLimits()) {
        self.report = report
        self.limits = limits
        self.ordered = ConflictOrder.sorted(report.conflicts)
    }

    /// The file names, in the order `files()` returns them.
    public static let fileNames = ["conflicts.json", "conflicts.csv", "report.md", "report.html", "calendar.ics"]

    /// `conflicts.json`: the contract's `conflicts` document plus `id`, `status`, `first_seen`,
    /// `resolved_at` per conflict, `new`/`open`/`resolved` counts in the summary, and
    /// `coordination`: per group, moves waiting on other groups' moves and moves waiting on its own.
    public func conflictsJSON() -> String {
        ConflictExport.json(ordered, generatedAt: report.generatedAt, extra: [("coordination", CoordinationExport.json(report))])
    }

    /// `conflicts.csv`: the contract's columns plus `id`, `status`, `first_seen`, `resolved_at`.
    public func conflictsCSV() -> String {
        ConflictExport.csv(ordered)
    }

    /// `report.md`: a digest a person reads in a minute.
    public func markdown() throws(ReportError) -> String {
        let digest = ReportDigest(report, ordered: ordered, limits: limits, escape: MarkdownText.escape)
        return try TemplateRendering.render(digest, template: "report.md.mustache")
    }

    /// `report.html`: the digest and a timeline, in one self-contained file (no network).
    public func html() throws(ReportError) -> String {
        let page = HTMLPage(
            digest: ReportDigest(report, ordered: ordered, limits: limits, escape: { $0 }),
            timeline: Timeline(report, ordered: ordered, limits: limits)
        )
        return try TemplateRendering.render(page, template: "report.html.mustache")
    }

    /// The calendar's events by UID with a digest of each one's time and content: what the
    /// nightly job records to give each event its SEQUENCE (it goes up when the digest changes).
    public func calendarEvents() -> [CalendarEventDigest] {
        let clock = ReportClock(zone: report.timeZone)
        return CalendarExport.events(report, ordered: ordered).map { CalendarEventDigest(uid: $0.uid, fingerprint: $0.fingerprint(clock)) }
    }

    /// `calendar.ics`: windows, freezes and deployments for a calendar subscription, each event
    /// with its SEQUENCE and LAST-MODIFIED from `revisions` (by UID; SEQUENCE 0 when missing).
    public func calendar(revisions: [String: EventRevision] = [:]) -> String {
        CalendarExport.render(report, events: CalendarExport.events(report, ordered: ordered), sequences: revisions)
    }

    /// Every file, named as in `fileNames`.
    public func files(revisions: [String: EventRevision] = [:]) throws(ReportError) -> [ReportFile] {
        [
            ReportFile(name: "conflicts.json", contents: Data(conflictsJSON().utf8)),
            ReportFile(name: "conflicts.csv", contents: Data(conflictsCSV().utf8)),
            ReportFile(name: "report.md", contents: Data(try markdown().utf8)),
            ReportFile(name: "report.html", contents: Data(try html().utf8)),
            ReportFile(name: "calendar.ics", contents: Data(calendar(revisions: revisions).utf8)),
        ]
    }
}

/// A calendar event's UID and a digest of what it says (its time and content).
public struct CalendarEventDigest: Sendable, Equatable {
    public let uid: String
    public let fingerprint: String
}

/// An event's SEQUENCE and LAST-MODIFIED, as the nightly job keeps them between runs.
public struct EventRevision: Sendable, Equatable {
    public let sequence: Int
    public let lastModified: Date

    public init(sequence: Int, lastModified: Date) {
        self.sequence = sequence
        self.lastModified = lastModified
    }
}

/// What `report.html.mustache` renders.
struct HTMLPage {
    let digest: ReportDigest
    let timeline: Timeline
}

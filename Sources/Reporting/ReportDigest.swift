import Foundation
import Scheduling

/// How much `report.md` and `report.html` show before pointing to the complete files
/// (`conflicts.csv`, `calendar.ics`): a digest is read in a minute, and a timeline of 400 lanes
/// is read by nobody.
public struct ReportLimits: Sendable, Equatable {
    public var conflictsPerStatus: Int
    public var proposals: Int
    public var windows: Int
    public var releasesPerWindow: Int
    public var freezes: Int
    /// Service-window lanes on the timeline (the earliest windows in the horizon).
    public var windowLanes: Int
    public var environmentLanes: Int
    /// Bars drawn in one lane (the earliest); the lane's tooltip counts the rest.
    public var barsPerLane: Int
    /// Overlapping bars are stacked in up to this many rows of a lane.
    public var rowsPerLane: Int

    public init(conflictsPerStatus: Int = 200, proposals: Int = 100, windows: Int = 40, releasesPerWindow: Int = 8,
                freezes: Int = 50, windowLanes: Int = 120, environmentLanes: Int = 100, barsPerLane: Int = 40,
                rowsPerLane: Int = 4) {
        self.conflictsPerStatus = conflictsPerStatus
        self.proposals = proposals
        self.windows = windows
        self.releasesPerWindow = releasesPerWindow
        self.freezes = freezes
        self.windowLanes = windowLanes
        self.environmentLanes = environmentLanes
        self.barsPerLane = barsPerLane
        self.rowsPerLane = rowsPerLane
    }
}

/// What `report.md` and `report.html` both say, as text ready for a template.
///
/// Built once per format with that format's escaping: Markdown escapes its own syntax here,
/// HTML leaves the text raw because Mustache escapes it.
struct ReportDigest {
    struct ConflictLine {
        let id: String
        let status: String
        let type: String
        let severity: String
        /// `window SW-2027-03-20`; nil when the conflict names no resource.
        let resource: String?
        let releases: String
        let message: String
        /// `open for 6 days (since 2027-03-04 02:00)`, `resolved 2027-03-09 02:00 after 3 days`
        let age: String
    }

    struct ConflictSection {
        let key: String
        let title: String
        let items: [ConflictLine]
        let hasItems: Bool
        let count: Int
        /// `… and 12 more in conflicts.csv`; nil when everything is listed.
        let more: String?
    }

    struct ProposalLine {
        let id: String
        let release: String
        let action: String
        let from: String
        let to: String
        let reason: String
        let proposedBy: String
        let proposedAt: String
    }

    struct WindowLine {
        let code: String
        let when: String
        let kind: String
        let load: String
        let isFull: Bool
        let isOver: Bool
        /// Width of the load gauge in percent (capped at 100).
        let percent: Int
        let releases: String
    }

    struct FreezeLine {
        let code: String
        let when: String
        let scope: String
        let reason: String
    }

    let title: String
    let scope: String
    let date: String
    let generated: String
    let generatedUTC: String
    let zone: String
    let horizon: String
    let newCount: Int
    let openCount: Int
    let resolvedCount: Int
    let sections: [ConflictSection]
    let proposals: [ProposalLine]
    let hasProposals: Bool
    let proposalsMore: String?
    /// Per group: moves of yours waiting on others, others waiting on you.
    let coordination: [CoordinationGroup]
    let hasCoordination: Bool
    let windows: [WindowLine]
    let hasWindows: Bool
    let windowsMore: String?
    let freezes: [FreezeLine]
    let hasFreezes: Bool
    let freezesMore: String?
    /// BCP 47 language of text people wrote (`sv`), for HTML's `lang`; nil when unknown.
    let textLanguage: String?

    /// - Parameter escape: applied to every piece of text that comes from the data.
    init(_ report: NightlyReport, ordered: [NightlyReport.TrackedConflict], limits: ReportLimits,
         escape: (String) -> String) {
        let clock = ReportClock(zone: report.timeZone)
        let now = report.generatedAt
        scope = escape(report.group ?? "all groups")
        date = clock.date(now)
        title = "Conflict report: \(scope), \(date)"
        generated = clock.dateTime(now)
        generatedUTC = Timestamps.rfc3339(now)
        zone = escape(report.timeZone.identifier)
        horizon = "\(clock.date(report.horizon.start)) to \(clock.date(report.horizon.end))"

        var counts: [NightlyReport.Status: Int] = [:]
        for tracked in ordered { counts[tracked.status, default: 0] += 1 }
        newCount = counts[.new] ?? 0
        openCount = counts[.open] ?? 0
        resolvedCount = counts[.resolved] ?? 0

        sections = NightlyReport.Status.allCases.map { status in
            let listed = Array(ordered.lazy.filter { $0.status == status }.prefix(limits.conflictsPerStatus)).map {
                Self.line($0, now: now, clock: clock, escape: escape)
            }
            let count = counts[status] ?? 0
            return ConflictSection(
                key: status.rawValue,
                title: Self.sectionTitle(status),
                items: listed,
                hasItems: !listed.isEmpty,
                count: count,
                more: Self.more(count - listed.count, in: "conflicts.csv")
            )
        }

        let proposals = report.proposals
            .filter { report.group == nil || $0.group == report.group }
            .sorted { ($0.proposedAt, $0.id) < ($1.proposedAt, $1.id) }
        // Proposals are stored with UTC times in their text; people read them in the report's zone.
        let times = LocalTimes(zone: report.timeZone)
        self.proposals = proposals.prefix(limits.proposals).map { p in
            ProposalLine(id: String(p.id), release: escape(p.release), action: escape(p.action), from: escape(times.render(utc: p.from)),
                         to: escape(times.render(utc: p.to)), reason: escape(times.render(utc: p.reason)), proposedBy: escape(p.proposedBy),
                         proposedAt: clock.dateTime(p.proposedAt))
        }
        hasProposals = !self.proposals.isEmpty
        proposalsMore = Self.more(proposals.count - self.proposals.count, in: "the output of relplan schedule proposals")
        coordination = Self.coordinationGroups(report, escape: escape)
        hasCoordination = !coordination.isEmpty

        let upcoming = report.windows
            .filter { $0.interval.end > now && $0.interval.start < report.horizon.end }
            .sorted { ($0.interval.start, $0.code) < ($1.interval.start, $1.code) }
        windows = upcoming.prefix(limits.windows).map { w in
            let shown = w.releases.prefix(limits.releasesPerWindow).map(escape)
            let rest = w.releases.count - shown.count
            let releases = w.releases.isEmpty ? "no releases yet" : shown.joined(separator: ", ") + (rest > 0 ? ", +\(rest) more" : "")
            return WindowLine(
                code: escape(w.code), when: clock.span(w.interval), kind: escape(w.kind),
                load: "\(w.used)/\(w.capacity) used",
                isFull: w.used == w.capacity, isOver: w.used > w.capacity,
                percent: w.capacity > 0 ? min(100, w.used * 100 / w.capacity) : 100,
                releases: releases
            )
        }
        hasWindows = !windows.isEmpty
        windowsMore = Self.more(upcoming.count - windows.count, in: "calendar.ics", noun: "window")

        let ahead = report.freezes
            .filter { $0.interval.end > now }
            .sorted { ($0.interval.start, $0.code) < ($1.interval.start, $1.code) }
        freezes = ahead.prefix(limits.freezes).map { f in
            FreezeLine(code: escape(f.code), when: clock.span(f.interval),
                       scope: f.environment.map { "environment \(escape($0))" } ?? "all environments",
                       reason: escape(f.reason))
        }
        hasFreezes = !freezes.isEmpty
        textLanguage = report.textLanguage
        freezesMore = Self.more(ahead.count - freezes.count, in: "calendar.ics", noun: "freeze")
    }

    private static func line(_ tracked: NightlyReport.TrackedConflict, now: Date, clock: ReportClock,
                             escape: (String) -> String) -> ConflictLine {
        let c = tracked.conflict
        let resource = c.resource.map { "\($0.kind) \(escape($0.code))" }
        let age: String
        switch tracked.status {
        case .new: age = "new, first seen \(clock.dateTime(tracked.firstSeen))"
        case .open:
            age = "open for \(Wording.age(from: tracked.firstSeen, to: now, clock: clock)) (since \(clock.dateTime(tracked.firstSeen)))"
        case .resolved:
            let end = tracked.resolvedAt ?? tracked.lastSeen
            age = "resolved \(clock.dateTime(end)) after \(Wording.age(from: tracked.firstSeen, to: end, clock: clock))"
        }
        return ConflictLine(
            id: escape(c.identity), status: tracked.status.rawValue, type: c.type.rawValue, severity: c.severity.rawValue,
            resource: resource, releases: c.releases.map(escape).joined(separator: ", "),
            message: escape(c.message(in: clock.zone)), age: age
        )
    }

    private static func sectionTitle(_ status: NightlyReport.Status) -> String {
        switch status {
        case .new: "New conflicts"
        case .open: "Open conflicts, oldest first"
        case .resolved: "Resolved since the last run"
        }
    }

    private static func more(_ count: Int, in place: String, noun: String? = nil) -> String? {
        guard count > 0 else { return nil }
        let counted = noun.map { Wording.count(count, "more \($0)") } ?? "\(count) more"
        return "… and \(counted) in \(place)"
    }
}

/// Backslash escapes for the characters that would turn data into Markdown syntax.
enum MarkdownText {
    static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var previous: Character = " "
        var iterator = text.makeIterator()
        var current = iterator.next()
        while let character = current {
            let next = iterator.next()
            switch character {
            case "\\", "`", "*", "[", "]", "<", ">", "|", "#":
                output.append("\\")
                output.append(character)
            case "_" where !(previous.isLetter || previous.isNumber) || !(next?.isLetter == true || next?.isNumber == true):
                // Inside a word (`HR_PAY`) an underscore is plain text; at its edges it starts emphasis.
                output.append("\\_")
            case "\n", "\r", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}":
                output.append(" ")
            default:
                output.append(character)
            }
            previous = character
            current = next
        }
        return output
    }
}

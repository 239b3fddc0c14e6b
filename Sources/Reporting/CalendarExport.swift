import Foundation
import Scheduling

/// `calendar.ics` (RFC 5545): every service window, freeze and scheduled deployment as an event
/// in the report's zone, so people subscribe once and see the plan in their own calendar.
///
/// UIDs are built from kind and code (`window-SW-2027-03-13@relplan`), so a calendar client that
/// re-reads the file every night updates events instead of duplicating them.
enum CalendarExport {
    static let productID = "-//relplan//nightly report//EN"

    /// One VEVENT, before it is written: what its SEQUENCE is kept for.
    struct Event: Sendable {
        let uid: String
        let interval: Interval
        let summary: String
        let description: String
        let categories: [String]
        let transparent: Bool
        let cancelled: Bool

        /// A digest of everything the event says in `zone` (FNV-1a, 64 bits, hex): it changes
        /// when the event's time or content does, and only then.
        func fingerprint(_ clock: ReportClock) -> String {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            func mix(_ text: String) {
                for byte in text.utf8 {
                    hash ^= UInt64(byte)
                    hash = hash &* 0x100_0000_01b3
                }
                hash ^= 0x1F
                hash = hash &* 0x100_0000_01b3
            }
            mix(clock.zone.identifier)
            mix(clock.icalLocal(interval.start))
            mix(clock.icalLocal(max(interval.end, interval.start)))
            mix(summary)
            mix(description)
            for category in categories { mix(category) }
            mix(transparent ? "T" : "O")
            mix(cancelled ? "C" : "")
            let hex = String(hash, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }
    }

    /// Every event of the report's calendar, in the order it is written.
    static func events(_ report: NightlyReport, ordered: [NightlyReport.TrackedConflict]) -> [Event] {
        let windows = report.windows.sorted { ($0.interval.start, $0.code) < ($1.interval.start, $1.code) }
        let freezes = report.freezes.sorted { ($0.interval.start, $0.code) < ($1.interval.start, $1.code) }
        let deployments = report.deployments.sorted {
            ($0.interval.start, $0.release, $0.interval.end, $0.window ?? "", $0.title)
                < ($1.interval.start, $1.release, $1.interval.end, $1.window ?? "", $1.title)
        }
        var events: [Event] = []
        events.reserveCapacity(windows.count + freezes.count + deployments.count)
        var uids = UIDSet()
        for w in windows {
            let releases = w.releases.isEmpty ? "none yet" : w.releases.joined(separator: ", ")
            events.append(Event(
                uid: uids.claim("window-\(w.code)") + "@relplan", interval: w.interval,
                summary: "Service window \(w.code) (\(w.used)/\(w.capacity) used)",
                description: "Service window \(w.code) (\(w.kind)), capacity \(w.capacity), \(w.used) used.\nReleases: \(releases)",
                categories: ["service-window"], transparent: true, cancelled: false))
        }
        for f in freezes {
            events.append(Event(
                uid: uids.claim("freeze-\(f.code)") + "@relplan", interval: f.interval,
                summary: "Freeze \(f.code): \(OneLine.text(f.reason))",
                description: f.environment.map { "Freeze of environment \($0): no booking of it may overlap. \(f.reason)" }
                    ?? "Freeze of all deployments: none may overlap. \(f.reason)",
                categories: ["freeze"], transparent: true, cancelled: false))
        }
        let notes = conflictNotes(ordered)
        for d in deployments {
            var description = "Deployment of \(d.release) (\(d.group)): \(d.title)\nStatus: \(d.status)"
            if let window = d.window { description += "\nService window: \(window)" }
            let conflicts = notes[d.release] ?? []
            if !conflicts.isEmpty {
                description += "\n\nConflicts:"
                for c in conflicts { description += "\n- \(c.type.rawValue) (\(c.severity.rawValue)): \(c.message(in: report.timeZone))" }
            }
            events.append(Event(
                uid: uids.claim("deployment-\(d.release)") + "@relplan", interval: d.interval,
                summary: "\(conflicts.isEmpty ? "" : "⚠ ")Deploy \(d.release): \(OneLine.text(d.title))",
                description: description,
                categories: conflicts.isEmpty ? ["deployment"] : ["deployment", "conflict"],
                transparent: false, cancelled: d.status == "cancelled"))
        }
        return events
    }

    /// The calendar. `sequences` gives each event's SEQUENCE and LAST-MODIFIED by UID, as the
    /// nightly job keeps them; an event without an entry has SEQUENCE 0 and no LAST-MODIFIED.
    static func render(_ report: NightlyReport, events: [Event], sequences: [String: EventRevision] = [:]) -> String {
        let clock = ReportClock(zone: report.timeZone)
        let tzid = "TZID=\(ICalendarText.parameterValue(report.timeZone.identifier))"
        let stamp = utcStamp(report.generatedAt)
        var ics = ICalendarText()

        ics.line("BEGIN:VCALENDAR")
        ics.property("VERSION", "2.0")
        ics.property("PRODID", productID)
        ics.property("CALSCALE", "GREGORIAN")
        ics.property("METHOD", "PUBLISH")
        ics.property("X-WR-CALNAME", text: "relplan: \(report.group ?? "all groups")")
        ics.property("X-WR-TIMEZONE", text: report.timeZone.identifier)

        var spanStart = report.horizon.start, spanEnd = report.horizon.end
        for interval in events.lazy.map(\.interval) {
            spanStart = min(spanStart, interval.start)
            spanEnd = max(spanEnd, interval.end)
        }
        writeTimeZone(report.timeZone, names: report.zoneNames, from: spanStart, to: spanEnd, into: &ics)

        for event in events {
            let revision = sequences[event.uid]
            ics.line("BEGIN:VEVENT")
            ics.property("UID", text: event.uid)
            ics.property("DTSTAMP", stamp)
            ics.property("SEQUENCE", String(revision?.sequence ?? 0))
            if let modified = revision?.lastModified { ics.property("LAST-MODIFIED", utcStamp(modified)) }
            ics.property("DTSTART;\(tzid)", clock.icalLocal(event.interval.start))
            ics.property("DTEND;\(tzid)", clock.icalLocal(max(event.interval.end, event.interval.start)))
            ics.property("SUMMARY", text: event.summary)
            ics.property("DESCRIPTION", text: event.description)
            ics.property("CATEGORIES", texts: event.categories)
            ics.property("TRANSP", event.transparent ? "TRANSPARENT" : "OPAQUE")
            if event.cancelled { ics.property("STATUS", "CANCELLED") }
            ics.line("END:VEVENT")
        }
        ics.line("END:VCALENDAR")
        return ics.text
    }

    /// Unresolved conflicts by release, in the report's order.
    private static func conflictNotes(_ ordered: [NightlyReport.TrackedConflict]) -> [String: [Conflict]] {
        var notes: [String: [Conflict]] = [:]
        for tracked in ordered where tracked.status != .resolved {
            for release in tracked.conflict.releases { notes[release, default: []].append(tracked.conflict) }
        }
        return notes
    }

    /// A `VTIMEZONE` with one observance per offset change between `start` and `end`, and the one
    /// in force at `start`, so a client without the zone's rules still reads every event right.
    static func writeTimeZone(_ zone: TimeZone, names: ZoneAbbreviations? = nil, from start: Date, to end: Date,
                              into ics: inout ICalendarText) {
        let changes = offsetChanges(zone, from: start, to: end)
        // `CET`/`CEST` as the zone database says; Foundation's own (`GMT+1` on Linux) only when it is
        // a name, else none (TZNAME is optional).
        func name(_ date: Date) -> String? {
            if let names { return names.name(daylight: zone.isDaylightSavingTime(for: date)) }
            guard let own = zone.abbreviation(for: date), !own.hasPrefix("GMT+"), !own.hasPrefix("GMT-"),
                  !own.hasPrefix("UTC+"), !own.hasPrefix("UTC-") else { return nil }
            return own
        }
        ics.line("BEGIN:VTIMEZONE")
        ics.property("TZID", text: zone.identifier)
        if changes.isEmpty {
            let offset = zone.secondsFromGMT(for: start)
            writeObservance(zone.isDaylightSavingTime(for: start) ? "DAYLIGHT" : "STANDARD", onset: "19700101T000000",
                            from: offset, to: offset, name: name(start), into: &ics)
        }
        for change in changes {
            let before = zone.secondsFromGMT(for: change.addingTimeInterval(-1))
            let after = zone.secondsFromGMT(for: change)
            // The onset is written as the wall-clock time just before the change (RFC 5545 §3.6.5).
            let onset = ReportClock(zone: TimeZone(secondsFromGMT: before) ?? zone).icalLocal(change)
            writeObservance(zone.isDaylightSavingTime(for: change) ? "DAYLIGHT" : "STANDARD", onset: onset,
                            from: before, to: after, name: name(change), into: &ics)
        }
        ics.line("END:VTIMEZONE")
    }

    /// The last change at or before `start` and every change up to `end`.
    static func offsetChanges(_ zone: TimeZone, from start: Date, to end: Date) -> [Date] {
        var changes: [Date] = []
        var cursor = start.addingTimeInterval(-400 * 86_400)
        var lastBeforeStart: Date?
        // Bounded: two changes a year for the longest plan anyone would publish.
        for _ in 0..<2_000 {
            guard let next = zone.nextDaylightSavingTimeTransition(after: cursor), next <= end else { break }
            if next <= start { lastBeforeStart = next } else { changes.append(next) }
            cursor = next
        }
        return (lastBeforeStart.map { [$0] } ?? []) + changes
    }

    private static func writeObservance(_ kind: String, onset: String, from: Int, to: Int, name: String?,
                                        into ics: inout ICalendarText) {
        ics.line("BEGIN:\(kind)")
        ics.property("DTSTART", onset)
        ics.property("TZOFFSETFROM", utcOffset(from))
        ics.property("TZOFFSETTO", utcOffset(to))
        if let name, !name.isEmpty { ics.property("TZNAME", text: name) }
        ics.line("END:\(kind)")
    }

    /// `+0100`, `-0330`, `+053328` (seconds only when there are some).
    static func utcOffset(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let magnitude = abs(seconds)
        var text = sign + ReportClock.pad(magnitude / 3600) + ReportClock.pad(magnitude / 60 % 60)
        if magnitude % 60 != 0 { text += ReportClock.pad(magnitude % 60) }
        return text
    }

    /// `20270310T010000Z`
    static func utcStamp(_ date: Date) -> String {
        String(Timestamps.rfc3339(date).unicodeScalars.filter { $0 != "-" && $0 != ":" })
    }
}

/// UIDs made unique within one calendar, deterministically: a repeated base gets `-2`, `-3`, …
private struct UIDSet {
    private var seen: [String: Int] = [:]

    mutating func claim(_ base: String) -> String {
        let count = (seen[base] ?? 0) + 1
        seen[base] = count
        return count == 1 ? base : "\(base)-\(count)"
    }
}

/// iCalendar content lines: CRLF endings, folded at 75 octets without splitting a UTF-8
/// sequence, TEXT values escaped.
///
/// Works on UTF-8 bytes: a calendar of a hundred thousand deployments is a million lines, and
/// appending `Unicode.Scalar`s to a `String` one by one costs seconds.
struct ICalendarText {
    private var bytes: [UInt8] = []
    private var current: [UInt8] = []

    init() {
        bytes.reserveCapacity(1 << 16)
        current.reserveCapacity(256)
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// `NAME:value`, where `value` is already in the property's value syntax.
    mutating func property(_ name: String, _ value: String) {
        current.append(contentsOf: name.utf8)
        current.append(UInt8(ascii: ":"))
        current.append(contentsOf: value.utf8)
        flush()
    }

    /// `NAME:value` with `value` escaped as TEXT.
    mutating func property(_ name: String, text value: String) {
        current.append(contentsOf: name.utf8)
        current.append(UInt8(ascii: ":"))
        Self.appendEscaped(value, to: &current)
        flush()
    }

    /// `NAME:a,b,c`: a list of TEXT values, each escaped.
    mutating func property(_ name: String, texts values: [String]) {
        current.append(contentsOf: name.utf8)
        current.append(UInt8(ascii: ":"))
        for (index, value) in values.enumerated() {
            if index > 0 { current.append(UInt8(ascii: ",")) }
            Self.appendEscaped(value, to: &current)
        }
        flush()
    }

    mutating func line(_ content: String) {
        current.append(contentsOf: content.utf8)
        flush()
    }

    /// Writes the pending line, folded: at most 75 octets per physical line, the continuation's
    /// leading space included, and never a break before a UTF-8 continuation byte.
    private mutating func flush() {
        var start = 0
        var limit = 75
        while current.count - start > limit {
            var cut = start + limit
            while cut > start + 1 && current[cut] & 0xC0 == 0x80 { cut -= 1 }
            bytes.append(contentsOf: current[start..<cut])
            bytes.append(contentsOf: [13, 10, 32])
            start = cut
            limit = 74
        }
        bytes.append(contentsOf: current[start...])
        bytes.append(contentsOf: [13, 10])
        current.removeAll(keepingCapacity: true)
    }

    /// TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and newline; other control
    /// characters but tab are not allowed in TEXT and are dropped.
    static func escape(_ value: String) -> String {
        var output: [UInt8] = []
        appendEscaped(value, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static func appendEscaped(_ value: String, to output: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"), UInt8(ascii: ";"), UInt8(ascii: ","):
                output.append(UInt8(ascii: "\\"))
                output.append(byte)
            case UInt8(ascii: "\n"):
                output.append(UInt8(ascii: "\\"))
                output.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\t"):
                output.append(byte)
            case 0..<0x20, 0x7F:
                break
            default:
                output.append(byte)
            }
        }
    }

    /// A parameter value, quoted when it holds `:`, `;` or `,` (zone names do not, but be safe).
    static func parameterValue(_ value: String) -> String {
        let cleaned = value.replacingOccurrences(of: "\"", with: "")
        return cleaned.contains(where: { $0 == ":" || $0 == ";" || $0 == "," }) ? "\"\(cleaned)\"" : cleaned
    }
}

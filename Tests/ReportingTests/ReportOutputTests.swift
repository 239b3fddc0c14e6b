import Foundation
@testable import Reporting
import Scheduling
import Testing
import TestSupport

/// What issue 15 asks of every output: times for people in the report's zone, CSV per RFC 4180
/// that spreadsheets cannot run, calendars every client reads, HTML the Nu checker accepts.
@Suite("report outputs for people, spreadsheets and calendar clients")
struct ReportOutputTests {
    // MARK: Times

    @Test("a conflict's times are local in Markdown, HTML and the calendar, RFC 3339 UTC in JSON and CSV")
    func localTimesForPeople() throws {
        let renderer = ReportRenderer(ReportFixtures.report())
        // The overlap conflict's message says 2027-03-16T07:00:00Z: 08:00 in Stockholm (CET).
        #expect(renderer.conflictsJSON().contains("from 2027-03-16T07:00:00Z"))
        #expect(renderer.conflictsCSV().contains("from 2027-03-16T07:00:00Z"))
        let markdown = try renderer.markdown(), html = try renderer.html()
        for text in [markdown, html] {
            #expect(text.contains("from 2027-03-16 08:00"))
            #expect(!text.contains("2027-03-16T07:00:00Z"))
        }
        let calendar = renderer.calendar().replacingOccurrences(of: "\r\n ", with: "")
        #expect(calendar.contains("from 2027-03-16 08:00"))
    }

    @Test("messages keep their instants apart and render them in any zone, across a DST change")
    func timedText() {
        let text: TimedText = "deployment of A (\(TimedText.Piece.interval(1_806_183_000, 1_806_201_000))) ends at \(TimedText.Piece.instant(1_806_201_000))"
        #expect(text.utc == "deployment of A (2027-03-27T21:30:00Z/2027-03-28T02:30:00Z) ends at 2027-03-28T02:30:00Z")
        #expect(TimedText(parsingUTC: text.utc) == text)
        let stockholm = LocalTimes(zone: ReportFixtures.stockholm)
        // 22:30 CET to 04:30 CEST (the clocks jump at 02:00).
        #expect(stockholm.render(text) == "deployment of A (2027-03-27 22:30 – 2027-03-28 04:30) ends at 2027-03-28 04:30")
        #expect(stockholm.render(utc: "booked 2027-10-30T23:00:00Z/2027-10-31T01:30:00Z") == "booked 2027-10-31 01:00–02:30")
        // Text that only looks like a time is left alone.
        #expect(stockholm.render(utc: "R-2027-03-16T07:00:00 and 12027-03-16T07:00:00Z") == "R-2027-03-16T07:00:00 and 12027-03-16T07:00:00Z")
        let conflict = Conflict(type: .deadline, releases: ["A/B"], groups: ["A"], text: text, identity: "x")
        #expect(conflict.message == text.utc)
        #expect(conflict == Conflict(type: .deadline, releases: ["A/B"], groups: ["A"], message: text.utc, identity: "x"))
    }

    @Test("schedule resolve's text gives the reasons' times in the zone; its JSON and CSV keep UTC")
    func resolutionTimes() {
        let resolution = Resolution(
            proposals: [Proposal(release: "HR/PAY-8", action: .shiftBooking, from: "2027-03-16T07:00:00Z", to: "2027-03-18T07:00:00Z",
                                 reason: "shifted booking 4 of TEST-INT for HR/PAY-8 48 h later, to 2027-03-18T07:00:00Z")],
            unresolved: [Unresolved(release: "CRM/R-1", reason: "deployment of CRM/R-1 (2027-10-30T20:00:00Z/2027-10-31T03:00:00Z) overlaps freeze F")])
        let text = ConflictFormats.resolutionText(resolution, zone: ReportFixtures.stockholm)
        #expect(text.contains("- shifted booking 4 of TEST-INT for HR/PAY-8 48 h later, to 2027-03-18 08:00\n"))
        #expect(text.contains("- CRM/R-1: deployment of CRM/R-1 (2027-10-30 22:00 – 2027-10-31 04:00) overlaps freeze F\n"))
        #expect(ConflictFormats.resolutionCSV(resolution).contains("to 2027-03-18T07:00:00Z"))
        #expect(ConflictFormats.resolutionJSON(resolution).serialized(pretty: false).contains("to 2027-03-18T07:00:00Z"))
    }

    // MARK: CSV

    static let risky = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR first",
                        "plain, with \"quotes\"", "två\r\nrader", "-5", "+3.5"]

    /// Python's csv module, dialect excel (or `;` with the BOM read as utf-8-sig).
    static let csvReader = #"""
    import csv, json, sys
    raw = open(sys.argv[1], "rb").read()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    delimiter = sys.argv[2]
    rows = list(csv.reader(text.splitlines(keepends=True), dialect="excel", delimiter=delimiter))
    records = raw.split(b"\r\n")
    bare_lf = any(b"\n" in record for record in records)
    print(json.dumps({"bom": bom, "rows": rows, "bare_lf": bare_lf, "ends_crlf": raw.endswith(b"\r\n")}))
    """#

    static func readCSV(_ text: String, dialect: CSVDialect = .standard) throws -> (bom: Bool, rows: [[String]], crlf: Bool) {
        let output = try PythonCheck.run(csvReader, on: text, fileExtension: "csv",
                                         arguments: [String(Character(Unicode.Scalar(dialect.delimiter)))])
        let json = try #require(output as? [String: Any])
        let bareLF = json["bare_lf"] as? Bool ?? true
        return (json["bom"] as? Bool ?? false, json["rows"] as? [[String]] ?? [], !bareLF && json["ends_crlf"] as? Bool == true)
    }

    /// What a neutralised field reads as: a quote before a formula's first character, one line.
    static func expected(_ value: String) -> String {
        let oneLine = OneLine.text(value)
        guard let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return oneLine }
        return Double(value) != nil ? value : "'" + oneLine
    }

    @Test("every CSV output neutralises formulas, keeps one line per record, ends records with CRLF", arguments: [CSVDialect.standard, .excel])
    func csvOutputs(dialect: CSVDialect) throws {
        let listing = Listing(noun: "releases", columns: ["code", "title", "priority"],
                              rows: Self.risky.map { [.text("R1"), .text($0), .int(-1)] })
        let conflicts = Self.risky.map {
            Conflict(type: .targetCollision, target: $0, releases: ["A/B", "C/D"], groups: ["A", "C"], message: $0, identity: $0)
        }
        let resolution = Resolution(proposals: Self.risky.map {
            Proposal(release: "A/B", action: .moveWindow, from: $0, to: $0, reason: $0)
        }, unresolved: [], components: [])
        var report = ReportFixtures.report()
        report.conflicts = conflicts.map { .init(conflict: $0, status: .new, firstSeen: ReportFixtures.generatedAt, lastSeen: ReportFixtures.generatedAt) }
        let outputs: [(String, String, Int)] = [
            ("listing", listing.render(.csv, zone: ReportFixtures.stockholm, csv: dialect), 1),
            ("conflicts", ConflictFormats.csv(conflicts, dialect: dialect), 4),
            ("resolution", ConflictFormats.resolutionCSV(resolution, dialect: dialect), 2),
        ]
        for (name, text, column) in outputs {
            let parsed = try Self.readCSV(text, dialect: dialect)
            #expect(parsed.bom == dialect.byteOrderMark, "\(name)")
            #expect(parsed.crlf, "\(name): records end with CRLF, and no bare LF")
            #expect(parsed.rows.count == Self.risky.count + 1, "\(name): one record per value")
            #expect(parsed.rows.dropFirst().map { $0[column] } == Self.risky.map(Self.expected), "\(name)")
        }
        // The nightly report's conflicts.csv is RFC 4180 (no --excel there).
        if dialect == .standard {
            let parsed = try Self.readCSV(ReportRenderer(report).conflictsCSV())
            #expect(parsed.crlf)
            #expect(Set(parsed.rows.dropFirst().map { $0[4] }) == Set(Self.risky.map(Self.expected)))
            #expect(Set(parsed.rows.dropFirst().map { $0[7] }) == Set(Self.risky.map(Self.expected)))
            // JSON is unchanged.
            #expect(ReportRenderer(report).conflictsJSON().contains(#""target" : "=HYPERLINK(\"http://evil.example\",\"x\")""#)
                || ReportRenderer(report).conflictsJSON().contains(#""target": "=HYPERLINK(\"http://evil.example\",\"x\")""#))
        }
        // Negative numbers stay numbers.
        #expect(try Self.readCSV(listing.render(.csv, zone: .gmt, csv: dialect), dialect: dialect).rows[1][2] == "-1")
    }

    @Test("--excel writes a UTF-8 BOM and ';', Swedish letters as UTF-8")
    func excelDialect() throws {
        let listing = Listing(noun: "releases", columns: ["code", "title"], rows: [[.text("LÖN-1"), .text("Rättning; del 1")]])
        let bytes = Array(listing.render(.csv, csv: .excel).utf8)
        #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
        #expect(String(decoding: bytes.dropFirst(3), as: UTF8.self) == "code;title\r\nLÖN-1;\"Rättning; del 1\"\r\n")
    }

    // MARK: Calendar

    /// vobject reads the file with the file's own VTIMEZONE (the zone renamed, so no zone
    /// database can help), and prints each event's wall-clock start and end and its UTC instants.
    static let vobjectReader = #"""
    import json, sys, datetime
    try:
        import vobject
    except ImportError as error:
        print(f"vobject is not installed ({error})", file=sys.stderr)
        sys.exit(3)
    raw = open(sys.argv[1], encoding="utf-8").read().replace(sys.argv[2], "X-Relplan-Own-Zone")
    cal = vobject.readOne(raw)
    events = {}
    for event in cal.vevent_list:
        start, end = event.dtstart.value, event.dtend.value
        assert start.tzinfo is not None and end.tzinfo is not None
        events[event.uid.value] = {
            "start": start.replace(tzinfo=None).isoformat(), "end": end.replace(tzinfo=None).isoformat(),
            "start_utc": start.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_utc": end.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "zone": start.tzinfo.tzname(start),
        }
    names = sorted({sub.tzname.value for tz in cal.vtimezone_list for sub in tz.getChildren() if hasattr(sub, "tzname")})
    print(json.dumps({"events": events, "tznames": names}))
    """#

    /// Windows on both sides of the March and October changes: (code, UTC start, UTC end, local start, local end).
    static let dstWindows: [(String, String, String, String, String)] = [
        ("SW-2027-03-20", "2027-03-20T21:00:00Z", "2027-03-21T01:00:00Z", "2027-03-20T22:00:00", "2027-03-21T02:00:00"),
        ("SW-2027-03-27", "2027-03-27T21:00:00Z", "2027-03-28T02:00:00Z", "2027-03-27T22:00:00", "2027-03-28T04:00:00"),
        ("SW-2027-04-03", "2027-04-03T20:00:00Z", "2027-04-04T00:00:00Z", "2027-04-03T22:00:00", "2027-04-04T02:00:00"),
        ("SW-2027-10-23", "2027-10-23T20:00:00Z", "2027-10-24T00:00:00Z", "2027-10-23T22:00:00", "2027-10-24T02:00:00"),
        ("SW-2027-10-30", "2027-10-30T20:00:00Z", "2027-10-31T03:00:00Z", "2027-10-30T22:00:00", "2027-10-31T04:00:00"),
        ("SW-2027-11-06", "2027-11-06T21:00:00Z", "2027-11-07T01:00:00Z", "2027-11-06T22:00:00", "2027-11-07T02:00:00"),
    ]

    static func dstReport() -> NightlyReport {
        var report = ReportFixtures.report()
        report.horizon = ReportFixtures.interval("2027-03-10T01:00:00Z", "2027-12-01T00:00:00Z")
        report.windows = dstWindows.map { .init(code: $0.0, interval: ReportFixtures.interval($0.1, $0.2), capacity: 2, kind: "regular", releases: []) }
        report.deployments = []
        report.freezes = []
        report.zoneNames = ZoneAbbreviations.system(for: ReportFixtures.stockholm)
        return report
    }

    @Test("vobject and icalendar read every window either side of both DST changes at its wall-clock time, from the file's own VTIMEZONE")
    func dstThroughTwoParsers() throws {
        let ics = ReportRenderer(Self.dstReport()).calendar()
        let output = try #require(try PythonCheck.run(Self.vobjectReader, on: ics, fileExtension: "ics", arguments: ["Europe/Stockholm"]) as? [String: Any])
        let events = try #require(output["events"] as? [String: [String: Any]])
        #expect(events.count == Self.dstWindows.count)
        // TZNAMEs as people know them, not GMT+1.
        #expect(output["tznames"] as? [String] == ["CEST", "CET"])
        let icalendar = try CalendarTests.parse(ics, renameZone: true)
        for (code, utcStart, utcEnd, localStart, localEnd) in Self.dstWindows {
            let event = events["window-\(code)@relplan"]
            #expect(event?["start"] as? String == localStart, "\(code) via vobject")
            #expect(event?["end"] as? String == localEnd, "\(code) via vobject")
            #expect(event?["start_utc"] as? String == utcStart, "\(code) via vobject")
            #expect(event?["end_utc"] as? String == utcEnd, "\(code) via vobject")
            // The zone vobject used is the file's own: it names the time as the VTIMEZONE does.
            let summer = ["SW-2027-04-03", "SW-2027-10-23", "SW-2027-10-30"].contains(code)
            #expect(event?["zone"] as? String == (summer ? "CEST" : "CET"), "\(code) starts in \(summer ? "summer" : "standard") time")
            let other = icalendar.events["window-\(code)@relplan"]
            #expect(CalendarTests.moment(other, "start") == (localStart, utcStart, "X-Relplan-Unknown-Zone"), "\(code) via icalendar")
            #expect(CalendarTests.moment(other, "end") == (localEnd, utcEnd, "X-Relplan-Unknown-Zone"), "\(code) via icalendar")
        }
        #expect(ics.contains("TZNAME:CET\r\n") && ics.contains("TZNAME:CEST\r\n") && !ics.contains("GMT+"))
    }

    @Test("the zone database's names: CET/CEST, GMT/BST, JST; none for a zone known only by its offset")
    func zoneNames() throws {
        #expect(ZoneAbbreviations.parse(posixTZ: "CET-1CEST,M3.5.0,M10.5.0/3") == .init(standard: "CET", daylight: "CEST"))
        #expect(ZoneAbbreviations.parse(posixTZ: "GMT0BST,M3.5.0/1,M10.5.0") == .init(standard: "GMT", daylight: "BST"))
        #expect(ZoneAbbreviations.parse(posixTZ: "JST-9") == .init(standard: "JST", daylight: nil))
        #expect(ZoneAbbreviations.parse(posixTZ: "<+03>-3") == nil)
        #expect(ZoneAbbreviations.system(for: ReportFixtures.stockholm) == .init(standard: "CET", daylight: "CEST"))
    }

    @Test("an event's digest changes when its time or content does, and only then; SEQUENCE and LAST-MODIFIED are written")
    func sequences() throws {
        let report = ReportFixtures.report()
        let before = Dictionary(uniqueKeysWithValues: ReportRenderer(report).calendarEvents().map { ($0.uid, $0.fingerprint) })
        #expect(ReportRenderer(report).calendarEvents().map(\.fingerprint) == ReportRenderer(report).calendarEvents().map(\.fingerprint))
        var moved = report
        let index = try #require(moved.deployments.firstIndex { $0.release == "FIN/GL-12" })
        moved.deployments[index].interval = ReportFixtures.interval("2027-03-13T23:00:00Z", "2027-03-14T00:30:00Z")
        let after = Dictionary(uniqueKeysWithValues: ReportRenderer(moved).calendarEvents().map { ($0.uid, $0.fingerprint) })
        #expect(Set(before.keys) == Set(after.keys))
        #expect(before.keys.filter { before[$0] != after[$0] } == ["deployment-FIN/GL-12@relplan"])

        let modified = ReportFixtures.utc("2027-03-09T01:00:00Z")
        let ics = ReportRenderer(report).calendar(revisions: ["deployment-FIN/GL-12@relplan": EventRevision(sequence: 3, lastModified: modified)])
        let unfolded = ics.replacingOccurrences(of: "\r\n ", with: "")
        #expect(unfolded.contains("UID:deployment-FIN/GL-12@relplan\r\nDTSTAMP:20270310T010000Z\r\nSEQUENCE:3\r\nLAST-MODIFIED:20270309T010000Z\r\n"))
        #expect(unfolded.contains("UID:deployment-HR/PAY-7@relplan\r\nDTSTAMP:20270310T010000Z\r\nSEQUENCE:0\r\nDTSTART"))
    }

    // MARK: HTML

    @Test("the Nu HTML checker finds no error in report.html, all groups and one, with lang on Swedish text")
    func nuChecker() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-nu-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var files: [URL] = []
        for (name, group, language) in [("all", nil, "sv"), ("crm", "CRM", nil)] as [(String, String?, String?)] {
            var report = ReportFixtures.report(group: group)
            report.textLanguage = language
            let html = try ReportRenderer(report).html()
            if language != nil { #expect(html.contains(#"lang="sv" xml:lang="sv""#)) } else { #expect(!html.contains(#"lang="sv""#)) }
            let file = folder.appendingPathComponent("\(name).html")
            try Data(html.utf8).write(to: file)
            files.append(file)
        }
        #expect(try NuHTMLChecker.errors(files) == [])
    }

    @Test("severity is a word beside its colour, every header has a scope, the legend names the groups")
    func accessibility() throws {
        let html = try ReportRenderer(ReportFixtures.report()).html()
        #expect(html.contains(#"<td class="severity severity-error">error</td>"#))
        #expect(html.contains(#"<td class="severity severity-warning">warning</td>"#))
        #expect(!html.contains("<th>"))
        #expect(html.components(separatedBy: "<th ").count == html.components(separatedBy: #"<th scope="col">"#).count)
        #expect(html.contains("group CRM</li>"))
        #expect(html.contains("3/2 used, over capacity"))
    }

    @Test("a group's language: the locale first, else the zone, else none")
    func language() {
        #expect(ReportLanguage.forUserText(zone: ReportFixtures.stockholm, environment: [:]) == "sv")
        #expect(ReportLanguage.forUserText(zone: .gmt, environment: ["LANG": "sv_SE.UTF-8"]) == "sv")
        #expect(ReportLanguage.forUserText(zone: .gmt, environment: ["LC_ALL": "C.UTF-8"]) == nil)
        #expect(ReportLanguage.forUserText(zone: .gmt, environment: [:]) == nil)
    }
}

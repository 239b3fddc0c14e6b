import Foundation
@testable import Reporting
import Scheduling
import Testing
import TestSupport

@Suite("calendar.ics")
struct CalendarTests {
    /// Parses the calendar with Python's `icalendar` and prints what it understood. With
    /// `rename`, the zone's TZID is replaced by one no library knows, so times can only be read
    /// through the file's own VTIMEZONE.
    static let parser = #"""
    import json, sys, datetime
    try:
        import icalendar
    except ImportError as error:
        print(f"icalendar is not installed ({error})", file=sys.stderr)
        sys.exit(3)
    raw = open(sys.argv[1], "rb").read()
    zone = sys.argv[2]
    if sys.argv[3] == "rename":
        raw = raw.replace(zone.encode(), b"X-Relplan-Unknown-Zone")
    cal = icalendar.Calendar.from_ical(raw)
    def moment(component, name):
        value = component.decoded(name)
        return {"local": value.replace(tzinfo=None).isoformat(), "offset": value.utcoffset().total_seconds(),
                "utc": value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tzid": component[name].params.get("TZID")}
    events = []
    for event in cal.walk("VEVENT"):
        categories = event.get("CATEGORIES")
        events.append({
            "uid": str(event["UID"]), "summary": str(event["SUMMARY"]), "description": str(event["DESCRIPTION"]),
            "categories": [str(c) for c in categories.cats] if categories is not None else [],
            "dtstamp": event.decoded("DTSTAMP").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "start": moment(event, "DTSTART"), "end": moment(event, "DTEND"),
        })
    timezones = []
    for tz in cal.walk("VTIMEZONE"):
        timezones.append({"tzid": str(tz["TZID"]),
                          "observances": [[sub.name, str(sub.get("DTSTART").to_ical().decode())] for sub in tz.subcomponents]})
    print(json.dumps({"prodid": str(cal["PRODID"]), "version": str(cal["VERSION"]), "calscale": str(cal["CALSCALE"]),
                      "name": str(cal["X-WR-CALNAME"]), "events": events, "timezones": timezones}))
    """#

    struct Parsed {
        let calendar: [String: Any]
        let events: [String: [String: Any]]
    }

    static func parse(_ ics: String, zone: String = "Europe/Stockholm", renameZone: Bool = false) throws -> Parsed {
        let output = try PythonCheck.run(parser, on: ics, fileExtension: "ics", arguments: [zone, renameZone ? "rename" : "keep"])
        let calendar = try #require(output as? [String: Any])
        let events = try #require(calendar["events"] as? [[String: Any]])
        var byUID: [String: [String: Any]] = [:]
        for event in events {
            let uid = try #require(event["uid"] as? String)
            #expect(byUID[uid] == nil, "UID \(uid) appears twice")
            byUID[uid] = event
        }
        return Parsed(calendar: calendar, events: byUID)
    }

    static func moment(_ event: [String: Any]?, _ name: String) -> (local: String, utc: String, tzid: String?) {
        let value = event?[name] as? [String: Any]
        return (value?["local"] as? String ?? "", value?["utc"] as? String ?? "", value?["tzid"] as? String)
    }

    let ics = ReportRenderer(ReportFixtures.report()).calendar()

    @Test("an independent parser reads every window, freeze and deployment under a stable UID")
    func eventsAndUIDs() throws {
        let parsed = try Self.parse(ics)
        #expect(parsed.calendar["prodid"] as? String == "-//relplan//nightly report//EN")
        #expect(parsed.calendar["version"] as? String == "2.0")
        #expect(parsed.calendar["calscale"] as? String == "GREGORIAN")
        #expect(parsed.calendar["name"] as? String == "relplan: all groups")
        #expect(Set(parsed.events.keys) == [
            "window-SW-2027-03-13@relplan", "window-SW-2027-03-20@relplan", "window-SW-2027-03-27@relplan",
            "window-SW-2027-04-03@relplan", "freeze-FRZ-EASTER@relplan", "freeze-FRZ-STAGE-MIG@relplan",
            "deployment-CRM/R-2027.03@relplan", "deployment-HR/PAY-7@relplan", "deployment-FIN/GL-12@relplan",
            "deployment-CRM/R-2027.04@relplan", "deployment-HR/PAY-8@relplan", "deployment-FIN/GL-13@relplan",
            "deployment-CRM/R-2027.05@relplan",
        ])
        let window = parsed.events["window-SW-2027-03-13@relplan"]
        #expect(window?["summary"] as? String == "Service window SW-2027-03-13 (3/4 used)")
        #expect(window?["categories"] as? [String] == ["service-window"])
        #expect(window?["dtstamp"] as? String == "2027-03-10T01:00:00Z")
        #expect(Self.moment(window, "start") == ("2027-03-13T22:00:00", "2027-03-13T21:00:00Z", "Europe/Stockholm"))
        #expect(Self.moment(window, "end") == ("2027-03-14T02:00:00", "2027-03-14T01:00:00Z", "Europe/Stockholm"))

        // TEXT escaping round-trips commas, semicolons, quotes and non-ASCII letters.
        let deployment = parsed.events["deployment-CRM/R-2027.03@relplan"]
        #expect(deployment?["summary"] as? String == "Deploy CRM/R-2027.03: Kunder & <avtal>, mars; \"stor\"")
        #expect(parsed.events["deployment-HR/PAY-7@relplan"]?["summary"] as? String == "Deploy HR/PAY-7: Lönekörning – våren, del 1")
        #expect((parsed.events["freeze-FRZ-STAGE-MIG@relplan"]?["description"] as? String)?.contains("Storage migration; STAGE offline") == true)
    }

    @Test("an unresolved conflict adds a note to the deployments it concerns")
    func conflictNotes() throws {
        let parsed = try Self.parse(ics)
        let frozen = parsed.events["deployment-CRM/R-2027.05@relplan"]
        #expect(frozen?["categories"] as? [String] == ["deployment", "conflict"])
        let description = try #require(frozen?["description"] as? String)
        #expect(description.contains("Conflicts:\n- freeze (error): CRM/R-2027.05 deploys during freeze FRZ-EASTER (\"Easter, no changes\")"))
        let crowded = try #require(parsed.events["deployment-HR/PAY-8@relplan"]?["description"] as? String)
        #expect(crowded.contains("window-capacity (error): service window SW-2027-03-20 holds 3 releases, capacity 2"))
        #expect(crowded.contains("environment-overlap (error)"))
        // A resolved conflict adds nothing.
        let resolved = try #require(parsed.events["deployment-FIN/GL-12@relplan"]?["description"] as? String)
        #expect(!resolved.contains("Conflicts"))
        #expect(parsed.events["deployment-FIN/GL-12@relplan"]?["categories"] as? [String] == ["deployment"])
    }

    @Test("a window across the start of summer time keeps its local times, read through the file's own VTIMEZONE too")
    func springForward() throws {
        for rename in [false, true] {
            let parsed = try Self.parse(ics, renameZone: rename)
            let window = parsed.events["window-SW-2027-03-27@relplan"]
            // Saturday 22:00 CET to Sunday 04:00 CEST: five hours, not six.
            #expect(Self.moment(window, "start").local == "2027-03-27T22:00:00")
            #expect(Self.moment(window, "start").utc == "2027-03-27T21:00:00Z")
            #expect(Self.moment(window, "end").local == "2027-03-28T04:00:00")
            #expect(Self.moment(window, "end").utc == "2027-03-28T02:00:00Z")
        }
    }

    @Test("the end of summer time and a window ending at the spring gap are read right")
    func dstEdges() throws {
        var report = ReportFixtures.report()
        report.windows = [
            // Last Saturday of October: 22:00 CEST to 04:00 CET, seven hours.
            .init(code: "SW-2027-10-30", interval: ReportFixtures.interval("2027-10-30T20:00:00Z", "2027-10-31T03:00:00Z"),
                  capacity: 2, kind: "regular", releases: []),
            // 22:00 CET to "02:00", the instant the clocks jump to 03:00 CEST.
            .init(code: "SW-2027-03-27-SHORT", interval: ReportFixtures.interval("2027-03-27T21:00:00Z", "2027-03-28T01:00:00Z"),
                  capacity: 2, kind: "extra", releases: []),
        ]
        let calendar = ReportRenderer(report).calendar()
        for rename in [false, true] {
            let parsed = try Self.parse(calendar, renameZone: rename)
            let autumn = parsed.events["window-SW-2027-10-30@relplan"]
            #expect(Self.moment(autumn, "start") == ("2027-10-30T22:00:00", "2027-10-30T20:00:00Z", rename ? "X-Relplan-Unknown-Zone" : "Europe/Stockholm"))
            #expect(Self.moment(autumn, "end").local == "2027-10-31T04:00:00")
            #expect(Self.moment(autumn, "end").utc == "2027-10-31T03:00:00Z")
            let short = parsed.events["window-SW-2027-03-27-SHORT@relplan"]
            #expect(Self.moment(short, "start").local == "2027-03-27T22:00:00")
            #expect(Self.moment(short, "end").local == "2027-03-28T03:00:00")
            #expect(Self.moment(short, "end").utc == "2027-03-28T01:00:00Z")
            let zones = try #require(parsed.calendar["timezones"] as? [[String: Any]])
            let observances = try #require(zones.first?["observances"] as? [[String]])
            // The change before the first event, and both changes of 2027.
            #expect(observances == [["STANDARD", "20261025T030000"], ["DAYLIGHT", "20270328T020000"], ["STANDARD", "20271031T030000"]])
        }
    }

    @Test("a zone without daylight saving time gets one fixed observance")
    func fixedZone() throws {
        var report = ReportFixtures.report()
        report.timeZone = TimeZone(identifier: "Asia/Tokyo")!
        let parsed = try Self.parse(ReportRenderer(report).calendar(), zone: "Asia/Tokyo", renameZone: true)
        let window = parsed.events["window-SW-2027-03-13@relplan"]
        #expect(Self.moment(window, "start") == ("2027-03-14T06:00:00", "2027-03-13T21:00:00Z", "X-Relplan-Unknown-Zone"))
        let zones = try #require(parsed.calendar["timezones"] as? [[String: Any]])
        #expect(zones.first?["observances"] as? [[String]] == [["STANDARD", "19700101T000000"]])
    }

    @Test("every line ends in CRLF and is at most 75 octets, folded between UTF-8 sequences")
    func lines() throws {
        var report = ReportFixtures.report()
        report.deployments[0].title = String(repeating: "åäö€😀", count: 40) + ";,\\\nslut"
        let calendar = ReportRenderer(report).calendar()
        let bytes = Array(calendar.utf8)
        #expect(bytes.suffix(2) == [13, 10])
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == 13 {
                #expect(index + 1 < bytes.count && bytes[index + 1] == 10, "CR without LF at byte \(index)")
                lines.append(current)
                current = []
                index += 2
                continue
            }
            #expect(bytes[index] != 10, "bare LF at byte \(index)")
            current.append(bytes[index])
            index += 1
        }
        for line in lines {
            #expect(line.count <= 75, "line of \(line.count) octets")
            #expect(String(validating: line, as: UTF8.self) != nil, "a fold split a UTF-8 sequence")
        }
        // Unfolded, the summary is the escaped title on one line (a SUMMARY holds one); the
        // description keeps the title's line break.
        let unfolded = calendar.replacingOccurrences(of: "\r\n ", with: "")
        #expect(unfolded.contains("SUMMARY:Deploy CRM/R-2027.03: " + String(repeating: "åäö€😀", count: 40) + "\\;\\,\\\\ slut\r\n"))
        let parsed = try Self.parse(calendar)
        #expect(parsed.events["deployment-CRM/R-2027.03@relplan"]?["summary"] as? String
            == "Deploy CRM/R-2027.03: " + String(repeating: "åäö€😀", count: 40) + ";,\\ slut")
        #expect((parsed.events["deployment-CRM/R-2027.03@relplan"]?["description"] as? String)?.contains(";,\\\nslut") == true)
    }

    @Test("TEXT escaping and offsets")
    func helpers() {
        #expect(ICalendarText.escape("a\\b;c,d\ne\r\u{1}f\tg") == "a\\\\b\\;c\\,d\\nef\tg")
        #expect(CalendarExport.utcOffset(3600) == "+0100")
        #expect(CalendarExport.utcOffset(-12_600) == "-0330")
        #expect(CalendarExport.utcOffset(4_028) == "+010708")
        var text = ICalendarText()
        text.line(String(repeating: "x", count: 75))
        text.line(String(repeating: "y", count: 76))
        #expect(text.text == String(repeating: "x", count: 75) + "\r\n" + String(repeating: "y", count: 75) + "\r\n y\r\n")
    }
}

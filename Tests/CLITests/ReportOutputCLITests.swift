import Foundation
import Postgres
import Testing
import TestSupport

/// Issue 15 through the binary and a real database: SEQUENCE across runs, one window load in
/// every folder and format, CSV that spreadsheets and the importer read, HTML the Nu checker
/// accepts, times for people in their zone.
@Suite("Report outputs through the CLI")
struct ReportOutputCLITests {
    /// Three groups sharing window W1 (capacity 3, full), CRM alone in W2, HR alone in W3; a
    /// deployment of CRM/A outside W1's hours gives a conflict whose message names times.
    struct Portfolio {
        let f: PlanningFixture
        let windowStart: [String: Date]

        static func make() throws -> Portfolio {
            let f = try PlanningFixture.make(people: ["alice", "bob", "carol"])
            let hour = (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600
            let base = Date(timeIntervalSince1970: hour + 10 * 86_400)
            let admin = try f.database.connect(user: f.login("admin"))
            var starts: [String: Date] = [:]
            for (index, code) in ["W1", "W2", "W3"].enumerated() {
                let start = base.addingTimeInterval(Double(index) * 7 * 86_400)
                starts[code] = start
                try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ($1, $2, $3, 3)",
                                  [code, start, start.addingTimeInterval(4 * 3600)])
            }
            for (group, person) in [("CRM", "alice"), ("HR", "bob"), ("FIN", "carol")] {
                try f.run("admin", "group", "create", group, "--name", group)
                try f.run("admin", "member", "add", group, f.login(person), "--role", "release-manager")
                try f.run(person, "plan", "create", group, "P", "--title", "P")
            }
            func stamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
            let w1 = try #require(starts["W1"]), w2 = try #require(starts["W2"]), w3 = try #require(starts["W3"])
            let releases: [(String, String, String, String, Date, Date)] = [
                ("alice", "CRM", "A", "W1", w1.addingTimeInterval(-3600), w1.addingTimeInterval(3600)),   // starts before W1: outside-window
                ("bob", "HR", "B", "W1", w1, w1.addingTimeInterval(7200)),
                ("carol", "FIN", "C", "W1", w1.addingTimeInterval(3600), w1.addingTimeInterval(7200)),
                ("alice", "CRM", "D", "W2", w2, w2.addingTimeInterval(3600)),
                ("bob", "HR", "E", "W3", w3, w3.addingTimeInterval(3600)),
            ]
            for (person, group, code, window, start, end) in releases {
                let result = try f.run(person, ["release", "create", group, code, "--plan", "P", "--window", window,
                                                "--deploy-start", stamp(start), "--deploy-end", stamp(end)])
                #expect(result.status == 0, "\(result)")
            }
            return Portfolio(f: f, windowStart: starts)
        }

        func report(_ folder: URL, _ extra: String...) throws -> CLIResult {
            let result = try f.run("reporter", ["report", "nightly", "--out", folder.path, "--tz", "Europe/Stockholm"] + extra)
            #expect(result.status == 0, "\(result)")
            return result
        }
    }

    static func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("relplan-report-out-\(UUID().uuidString)")
    }

    /// UID → (SEQUENCE, LAST-MODIFIED) as Python's icalendar reads them.
    static let sequenceReader = #"""
    import json, sys
    try:
        import icalendar
    except ImportError as error:
        print(f"icalendar is not installed ({error})", file=sys.stderr)
        sys.exit(3)
    cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
    out = {}
    for event in cal.walk("VEVENT"):
        modified = event.get("LAST-MODIFIED")
        out[str(event["UID"])] = {"sequence": int(event.get("SEQUENCE", -1)),
                                  "modified": modified.dt.strftime("%Y-%m-%dT%H:%M:%SZ") if modified is not None else None}
    print(json.dumps(out))
    """#

    static func sequences(_ calendar: URL) throws -> [String: (sequence: Int, modified: String?)] {
        let text = try String(contentsOf: calendar, encoding: .utf8)
        let json = try #require(try PythonCheck.run(sequenceReader, on: text, fileExtension: "ics") as? [String: [String: Any]])
        return json.mapValues { ($0["sequence"] as? Int ?? -1, $0["modified"] as? String) }
    }

    @Test("a moved release's event gets a higher SEQUENCE and a new LAST-MODIFIED; untouched events keep theirs, in every calendar")
    func sequenceAcrossRuns() throws {
        let p = try Portfolio.make()
        defer { p.f.drop() }
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try p.report(folder)
        let first = try Self.sequences(folder.appendingPathComponent("calendar.ics"))
        let firstCRM = try Self.sequences(folder.appendingPathComponent("CRM/calendar.ics"))
        #expect(first["deployment-CRM/D@relplan"]?.sequence == 0)
        #expect(first.values.allSatisfy { $0.modified != nil })

        // Nothing changed: nothing goes up.
        try p.report(folder)
        let second = try Self.sequences(folder.appendingPathComponent("calendar.ics"))
        #expect(second.mapValues(\.sequence) == first.mapValues(\.sequence))
        #expect(second.mapValues(\.modified) == first.mapValues(\.modified))

        Thread.sleep(forTimeInterval: 1.1)
        let moved = try p.f.run("alice", "release", "move", "CRM/D", "--window", "W3")
        #expect(moved.status == 0, "\(moved)")
        try p.report(folder)
        let third = try Self.sequences(folder.appendingPathComponent("calendar.ics"))
        let thirdCRM = try Self.sequences(folder.appendingPathComponent("CRM/calendar.ics"))
        for (before, after) in [(first, third), (firstCRM, thirdCRM)] {
            let d = "deployment-CRM/D@relplan"
            #expect((after[d]?.sequence ?? -1) > (before[d]?.sequence ?? 0), "the moved deployment's SEQUENCE goes up")
            #expect((after[d]?.modified ?? "") > (before[d]?.modified ?? "~"))
            // W1's events and deployments did not change.
            for uid in before.keys where uid.contains("W1") || ["deployment-CRM/A@relplan", "deployment-HR/B@relplan"].contains(uid) {
                #expect(after[uid]?.sequence == before[uid]?.sequence, "\(uid)")
                #expect(after[uid]?.modified == before[uid]?.modified, "\(uid)")
            }
        }
        // The store: one row per calendar and event, readable by everyone, written by nobody directly.
        let viewer = try p.f.database.connect(user: p.f.login("bob"))
        let rows = try viewer.query("SELECT sequence FROM calendar_event_sequence WHERE calendar = '' AND uid = 'deployment-CRM/D@relplan'").rows
        #expect(try rows.first?.decode(Int.self) == third["deployment-CRM/D@relplan"]?.sequence)
        for statement in ["INSERT INTO calendar_event_sequence VALUES ('', 'x@relplan', 'f', 0, now())",
                          "UPDATE calendar_event_sequence SET sequence = 0", "DELETE FROM calendar_event_sequence"] {
            expectPermissionDenied(statement) { try viewer.execute(SQL(unsafeSQL: statement)) }
        }
    }

    /// `N/M used` of `window` in one file, as each format writes it.
    static func load(of window: String, in folder: URL, _ file: String) throws -> String? {
        let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
        let lines: [Substring]
        switch file {
        case "calendar.ics":
            return text.replacingOccurrences(of: "\r\n ", with: "").split(separator: "\r\n")
                .first { $0.hasPrefix("SUMMARY:Service window \(window) (") }
                .flatMap { $0.split(separator: "(").last?.split(separator: " ").first.map(String.init) }
        case "report.md": lines = text.split(separator: "\n").filter { $0.hasPrefix("- \(window), ") }
        default: lines = text.split(separator: "\n").filter { $0.contains("<tr") && $0.contains("<td>\(window)</td>") }
        }
        guard let line = lines.first, let range = line.range(of: #"[0-9]+/[0-9]+ used"#, options: .regularExpression) else { return nil }
        return String(line[range].dropLast(5))
    }

    @Test("every folder and format counts every release in a window, whatever its group; a group's calendar holds its releases and the windows they use")
    func oneLoadEverywhere() throws {
        let p = try Portfolio.make()
        defer { p.f.drop() }
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try p.report(folder)
        let listed = try p.f.run("alice", "window", "list", "--format", "json")
        let windows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: [[String: Any]]])
        var expected: [String: String] = [:]
        for w in windows["windows"] ?? [] {
            if let code = w["code"] as? String, let used = w["used"] as? Int, let capacity = w["capacity"] as? Int { expected[code] = "\(used)/\(capacity)" }
        }
        #expect(expected == ["W1": "3/3", "W2": "1/3", "W3": "1/3"])
        let shown: [String: Set<String>] = ["": ["W1", "W2", "W3"], "CRM": ["W1", "W2"], "HR": ["W1", "W3"], "FIN": ["W1"]]
        for (group, codes) in shown {
            let sub = group.isEmpty ? folder : folder.appendingPathComponent(group)
            for file in ["report.md", "report.html", "calendar.ics"] {
                for code in ["W1", "W2", "W3"] {
                    let load = try Self.load(of: code, in: sub, file)
                    if codes.contains(code) {
                        #expect(load == expected[code], "\(group.isEmpty ? "all" : group)/\(file): \(code)")
                    } else {
                        #expect(load == nil, "\(group)/\(file) shows \(code), which none of its releases uses")
                    }
                }
            }
            if !group.isEmpty {
                let uids = try Self.sequences(sub.appendingPathComponent("calendar.ics")).keys
                // Every group here has releases in windows: an empty calendar would pass the next check.
                #expect(uids.contains { $0.hasPrefix("deployment-\(group)/") }, "\(group): \(uids)")
                #expect(uids.filter { $0.hasPrefix("deployment-") }.allSatisfy { $0.hasPrefix("deployment-\(group)/") }, "\(group): \(uids)")
            }
        }
        // The Nu HTML checker over every report.html the run wrote.
        let pages = NuHTMLChecker.reports(under: folder)
        #expect(pages.count == 4)
        #expect(try NuHTMLChecker.errors(pages) == [])
    }

    @Test("conflicts and schedule resolve show times in --tz for people, RFC 3339 UTC in JSON; the JSON summary gains new/open/resolved once there is history")
    func localTimesAndStanding() throws {
        let p = try Portfolio.make()
        defer { p.f.drop() }
        let w1 = try #require(p.windowStart["W1"])
        func local(_ date: Date) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "Europe/Stockholm")
            formatter.dateFormat = "yyyy-MM-dd HH:mm"
            return formatter.string(from: date)
        }
        let utc = ISO8601DateFormatter().string(from: w1.addingTimeInterval(-3600))
        let table = try p.f.run("alice", "conflicts", "--tz", "Europe/Stockholm")
        #expect(table.stdout.contains("outside-window: deployment of CRM/A (\(local(w1.addingTimeInterval(-3600)))"), "\(table)")
        #expect(!table.stdout.contains(utc), "\(table)")
        let json = try p.f.run("alice", "conflicts", "--format", "json", "--tz", "Europe/Stockholm")
        #expect(json.stdout.contains(utc), "\(json)")
        func summary(_ result: CLIResult) throws -> [String: Any] {
            let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            return try #require(document["summary"] as? [String: Any])
        }
        // No nightly run yet: the keys are there, null.
        let before = try summary(json)
        #expect(before["new"] is NSNull && before["open"] is NSNull && before["resolved"] is NSNull, "\(before)")

        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try p.report(folder)
        try p.f.run("alice", "release", "move", "CRM/A", "--window", "W2")   // resolves outside-window (keeps its offset: still outside W2)
        let after = try summary(try p.f.run("alice", "conflicts", "--format", "json"))
        let total = after["total"] as? Int ?? -1
        #expect((after["new"] as? Int ?? -1) + (after["open"] as? Int ?? -1) == total, "\(after)")
        #expect(after["resolved"] is Int, "\(after)")

        let resolve = try p.f.run("alice", "schedule", "resolve", "--tz", "Europe/Stockholm")
        #expect(resolve.status == 0, "\(resolve)")
        #expect(resolve.stdout.range(of: #"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"#, options: .regularExpression) == nil, "\(resolve)")
    }

    /// Python's csv module, dialect excel, on `relplan ... --format csv [--excel]`.
    static let csvRows = #"""
    import csv, json, sys
    raw = open(sys.argv[1], "rb").read()
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(text.splitlines(keepends=True), dialect="excel", delimiter=sys.argv[2]))
    print(json.dumps({"bom": raw.startswith(b"\xef\xbb\xbf"), "rows": rows,
                      "crlf": raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")}))
    """#

    static func csv(_ text: String, delimiter: String = ",") throws -> (bom: Bool, rows: [[String]], crlf: Bool) {
        let json = try #require(try PythonCheck.run(csvRows, on: text, fileExtension: "csv", arguments: [delimiter]) as? [String: Any])
        return (json["bom"] as? Bool ?? false, json["rows"] as? [[String]] ?? [], json["crlf"] as? Bool ?? false)
    }

    @Test("release list CSV round-trips through Python's csv (excel) and the importer, plain and --excel; formulas are neutralised")
    func csvRoundTrip() throws {
        let p = try Portfolio.make()
        defer { p.f.drop() }
        try p.f.run("alice", "release", "create", "CRM", "T1", "--plan", "P")
        try p.f.run("alice", "release", "create", "CRM", "T2", "--plan", "P")
        let admin = try p.f.database.connect()
        try admin.execute("UPDATE release SET title = $1 WHERE code = 'T1'", ["Rättning, \"stor\"; del 1"])
        try admin.execute("UPDATE release SET title = $1 WHERE code = 'T2'", ["Lön – våren"])
        let json = try p.f.run("alice", "release", "list", "--group", "CRM", "--format", "json")
        let releases = try #require((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: [[String: Any]]])?["releases"])
        let mapping = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-mapping-\(UUID().uuidString).yaml")
        try Data("columns:\n  code: release\n  title: release_title\nignore: [status]\n".utf8).write(to: mapping)
        defer { try? FileManager.default.removeItem(at: mapping) }
        for excel in [false, true] {
            let result = try p.f.run("alice", ["release", "list", "--group", "CRM", "--format", "csv"] + (excel ? ["--excel"] : []))
            #expect(result.status == 0, "\(result)")
            let parsed = try Self.csv(result.stdout, delimiter: excel ? ";" : ",")
            #expect(parsed.bom == excel)
            #expect(parsed.crlf)
            let header = try #require(parsed.rows.first)
            #expect(header == ["group", "code", "plan", "title", "window", "deploy_start", "deploy_end", "priority", "status", "deadline"])
            #expect(parsed.rows.count == releases.count + 1)
            for (row, release) in zip(parsed.rows.dropFirst(), releases) {
                for (index, column) in header.enumerated() {
                    let value = release[column]
                    let text = value is NSNull || value == nil ? "" : value.map { "\($0)" } ?? ""
                    #expect(row[index] == text, "\(column) of \(release["code"] ?? "?")")
                }
            }
            // The importer reads the file back: nothing changes.
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-export-\(UUID().uuidString).csv")
            try Data(result.stdout.utf8).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let again = try p.f.run("alice", "import", file.path, "--group", "CRM", "--mapping", mapping.path, "--dry-run")
            #expect(again.status == 0, "\(again)")
            #expect(again.stdout.contains("\(releases.count) rows, 0 releases created, 0 changed, \(releases.count) unchanged, 0 rejected"), "\(again)")
        }

        // A title a spreadsheet would run: shown as text, in every CSV the CLI writes.
        let formulas = ["=HYPERLINK(\"http://evil.example\",\"klicka\")", "+1+cmd", "-2+3", "@SUM(A1:A9)"]
        for (index, title) in formulas.enumerated() {
            try p.f.run("alice", "release", "create", "CRM", "F\(index)", "--plan", "P")
            try admin.execute("UPDATE release SET title = $1 WHERE code = $2", [title, "F\(index)"])
        }
        for arguments in [["release", "list", "--format", "csv"], ["plan", "show", "CRM/P", "--format", "csv"],
                          ["release", "show", "CRM/F0", "--format", "csv"]] {
            let result = try p.f.run("alice", arguments)
            let titles = Set(try Self.csv(result.stdout).rows.dropFirst().map { $0[3] })
            for title in formulas where arguments[1] != "show" || title == formulas[0] {
                #expect(titles.contains("'" + title), "\(arguments.joined(separator: " ")): \(title)")
                #expect(!titles.contains(title))
            }
        }
        let listed = try p.f.run("alice", "release", "list", "--format", "json")
        #expect(listed.stdout.contains(#"=HYPERLINK(\"http://evil.example\""#), "JSON is unchanged")
        let usage = try p.f.run("alice", "release", "list", "--excel")
        #expect(usage.status == 64 && usage.stderr.contains("--excel needs --format csv"), "\(usage)")
    }

    @Test("a title with line breaks keeps them in release show and is one line in tables, CSV and the calendar's SUMMARY")
    func multiLineTitles() throws {
        let p = try Portfolio.make()
        defer { p.f.drop() }
        let admin = try p.f.database.connect()
        // A CSV export's CR LF is stored as LF (README "What text may hold"); 0013 refuses a CR.
        try admin.execute("UPDATE release SET title = $1 WHERE code = 'D'", ["Rad ett\nRad två"])
        let shown = try p.f.run("alice", "release", "show", "CRM/D")
        #expect(shown.stdout.contains("CRM/D  Rad ett\n       Rad två\n"), "\(shown)")
        #expect(!shown.stdout.contains("\r"))
        let table = try p.f.run("alice", "release", "list")
        #expect(table.stdout.contains("Rad ett Rad två"), "\(table)")
        let csv = try p.f.run("alice", "release", "list", "--format", "csv")
        #expect(csv.stdout.contains(",Rad ett Rad två,"), "\(csv)")
        #expect(try Self.csv(csv.stdout).crlf)
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try p.report(folder)
        let ics = try String(contentsOf: folder.appendingPathComponent("calendar.ics"), encoding: .utf8).replacingOccurrences(of: "\r\n ", with: "")
        #expect(ics.contains("SUMMARY:Deploy CRM/D: Rad ett Rad två\r\n"))
        #expect(ics.contains("Rad ett\\nRad två"), "the DESCRIPTION keeps the break")
    }
}

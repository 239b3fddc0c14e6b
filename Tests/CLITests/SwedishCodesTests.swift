import Foundation
import Postgres
import Testing
import TestSupport

/// Codes as a Swedish release manager writes them (LÖN, Årsskifte-2027, kärna), through the CLI,
/// the importer, the database's CHECK constraints and every report format and folder.
@Suite("Swedish codes end to end")
struct SwedishCodesTests {
    /// "ä" and "Ö" as a + U+0308 and O + U+0308, as macOS exports write them.
    static let decomposedLÖN = "LO\u{0308}N"
    static let decomposedKärna = "ka\u{0308}rna"

    static func day(_ offset: Int, _ time: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date().addingTimeInterval(Double(offset) * 86_400)) + " " + time
    }

    private func ok(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) -> CLIResult {
        #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        return result
    }

    private func python(_ script: String, _ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "python: \(text)")
        return text
    }

    @Test("a Swedish export imports, re-imports as nothing changed, and appears in every output")
    func swedishExport() throws {
        let f = try PlanningFixture.make(people: ["alice"])
        defer { f.drop() }
        // The group's code typed decomposed: stored composed, found either way.
        _ = ok(try f.run("admin", "group", "create", Self.decomposedLÖN, "--name", "Lön och förmåner"))
        _ = ok(try f.run("admin", "member", "add", "LÖN", f.login("alice"), "--role", "release-manager"))
        _ = ok(try f.run("admin", "env", "create", "Testmiljö", "--name", "Testmiljön", "--kind", "test"))
        _ = ok(try f.run("admin", "window", "create", "Fönster-1", "--start", Self.day(30, "18:00"), "--end", Self.day(30, "23:00"),
                         "--capacity", "1"))
        // Two freezes over the same window: two conflicts, each naming its own freeze.
        _ = ok(try f.run("admin", "freeze", "create", "Årsbokslut", "--start", Self.day(29, "00:00"), "--end", Self.day(31, "00:00"),
                         "--reason", "Bokslut"))
        _ = ok(try f.run("admin", "freeze", "create", "Julstopp", "--start", Self.day(30, "12:00"), "--end", Self.day(32, "00:00"),
                         "--reason", "Jul"))

        let csv = """
            förvaltningsgrupp;releaseplan;planrubrik;release;releaserubrik;servicefönster;releasepaket;releaseenhet;enhetstyp;mål;version;miljö;miljö_start;miljö_slut
            LÖN;Lönesystem-2027;Lönesystem 2027;Årsskifte-2027;Årsskiftet;Fönster-1;\(Self.decomposedKärna);lön-api;application;srv-lön-01;4.2.0;Testmiljö;\(Self.day(20, "08:00"));\(Self.day(22, "17:00"))
            \(Self.decomposedLÖN);Lönesystem-2027;;Årsskifte-2027;;;kärna;lön-db;database;srv-lön-db;2.0;;;
            LÖN;Lönesystem-2027;;Förmåner-Q1;Förmåner;Fönster-1;förmåner;förmån-web;application;srv-förmån;1.0;;;

            """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lön-\(UUID().uuidString).csv").path
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }

        let first = ok(try f.run("alice", "import", path))
        #expect(first.stdout.contains("2 releases created"), "\(first)")
        let again = ok(try f.run("alice", "import", path))
        #expect(again.stdout.contains("nothing changed"), "\(again)")

        // Stored in NFC: the decomposed and the composed spellings are one package, one group.
        let db = try f.database.connect()
        let packages = try db.query("SELECT code FROM release_package ORDER BY code").rows.map { try $0.decode(String.self) }
        #expect(packages.map { Array($0.utf8) } == ["förmåner", "kärna"].map { Array($0.utf8) })
        #expect(try db.query("SELECT count(*) FROM release_unit").first?.decode(Int.self) == 3)
        #expect(try db.query("SELECT count(*) FROM management_group WHERE code = 'LÖN' AND code IS NFC NORMALIZED").first?
            .decode(Int.self) == 1)
        #expect(try db.query("SELECT count(*) FROM target WHERE code = 'srv-lön-01'").first?.decode(Int.self) == 1)

        // The CLI finds codes typed either way, and suggests the nearest one.
        let shown = ok(try f.run("alice", "release", "show", "\(Self.decomposedLÖN)/A\u{030A}rsskifte-2027"))
        #expect(shown.stdout.contains("Årsskifte-2027") && shown.stdout.contains("kärna"), "\(shown)")
        for arguments in [["release", "list"], ["plan", "list"], ["conflicts"], ["audit"]] {
            let listed = ok(try f.run("alice", arguments + ["--group", Self.decomposedLÖN, "--format", "csv"]))
            #expect(listed.stdout.contains("LÖN"), "\(arguments) --group with a decomposed LÖN: \(listed)")
        }
        let inWindow = ok(try f.run("alice", "release", "list", "--window", "Fo\u{0308}nster-1"))
        #expect(inWindow.stdout.contains("Årsskifte-2027"), "\(inWindow)")
        let typo = try f.run("alice", "release", "show", "LÖN/Årskifte-2027")
        #expect(typo.status != 0 && typo.stderr.contains("did you mean LÖN/Årsskifte-2027?"), "\(typo)")
        let lower = try f.run("alice", "release", "show", "lön/Årsskifte-2027")
        #expect(lower.status != 0 && lower.stderr.contains("did you mean LÖN?"), "codes are case-sensitive: \(lower)")

        // conflicts: the window is over capacity and two freezes each have their own RESOURCE.
        let table = ok(try f.run("alice", "conflicts"))
        let freezeRows = table.stdout.split(separator: "\n").filter { $0.hasPrefix("freeze ") }
        #expect(freezeRows.contains { $0.contains("Årsbokslut") } && freezeRows.contains { $0.contains("Julstopp") }, "\(table)")
        #expect(table.stdout.contains("Fönster-1"), "\(table)")
        let json = ok(try f.run("alice", "conflicts", "--format", "json"))
        let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let releases = (parsed?["conflicts"] as? [[String: Any]] ?? []).flatMap { $0["releases"] as? [String] ?? [] }
        #expect(releases.contains("LÖN/Årsskifte-2027") && releases.contains("LÖN/Förmåner-Q1"), "\(json)")
        let csvOut = ok(try f.run("alice", "conflicts", "--format", "csv"))
        #expect(csvOut.stdout.contains("LÖN/Årsskifte-2027"), "\(csvOut)")

        // The nightly report: every format, and a folder named LÖN (in NFC).
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-lön-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try f.run("reporter", "report", "nightly", "--out", folder.path)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.contains { Array($0.utf8) == Array("LÖN".utf8) }, "\(names)")
        for name in ["report.md", "report.html", "conflicts.json", "conflicts.csv", "calendar.ics"] {
            for place in [folder, folder.appendingPathComponent("LÖN")] {
                let text = try String(contentsOf: place.appendingPathComponent(name), encoding: .utf8)
                #expect(text.contains("Årsskifte-2027"), "\(place.lastPathComponent)/\(name) lacks Årsskifte-2027")
            }
        }
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("freeze Årsbokslut") && html.contains("freeze Julstopp"), "the report's RESOURCE names each freeze")
        // An independent iCalendar parser reads the calendar, UIDs and all.
        let uids = try python("""
            import sys, icalendar
            cal = icalendar.Calendar.from_ical(open(sys.argv[1], encoding="utf-8").read())
            uids = [str(c["UID"]) for c in cal.walk() if c.name == "VEVENT"]
            assert len(uids) == len(set(uids)), uids
            print("\\n".join(uids))
            """, folder.appendingPathComponent("calendar.ics").path)
        #expect(uids.contains("Årsskifte-2027"), "\(uids)")
        #expect(uids.contains("Fönster-1"), "\(uids)")
    }

    @Test("refused codes: the CLI, the importer and plain SQL refuse the same ones")
    func refused() throws {
        let f = try PlanningFixture.make(people: ["alice"])
        defer { f.drop() }
        let refused = ["LÖN X", "LÖN/2", "LÖN'", "LÖN\"", "-LÖN", "LÖN\t", "LÖN\u{1B}[2J", String(repeating: "ä", count: 65)]
        for code in refused {
            let result = try f.run("admin", "group", "create", code, "--name", "x")
            #expect(result.status == 64, "group create \(code.debugDescription): \(result)")
            #expect(!result.stderr.contains("\u{1B}"), "an escape character reaches the terminal: \(result)")
        }
        _ = ok(try f.run("admin", "group", "create", String(repeating: "ä", count: 64), "--name", "64 ä"))
        _ = ok(try f.run("admin", "group", "create", "Зарплата", "--name", "Cyrillic"))
        _ = ok(try f.run("admin", "group", "create", "LÖN", "--name", "Lön"))
        let twice = try f.run("admin", "group", "create", Self.decomposedLÖN, "--name", "Lön again")
        #expect(twice.status != 0 && twice.stderr.contains("exists already"), "a decomposed LÖN is the same code: \(twice)")
        _ = ok(try f.run("admin", "member", "add", "LÖN", f.login("alice"), "--role", "release-manager"))

        // Plain SQL: the CHECK constraints hold the same rule.
        let db = try f.database.connect()
        for code in refused + [Self.decomposedLÖN + "2"] {
            // Refused by the code's CHECK, not by anything else that could go wrong with the statement.
            #expect(sqlStateOf { try db.execute("INSERT INTO management_group (code, name) VALUES ($1, 'x')", [code]) } == "23514",
                    "INSERT \(code.debugDescription)")
            #expect(try db.query("SELECT relplan_is_code($1)", [code]).first?.decode(Bool.self) == false, "\(code.debugDescription)")
        }
        try db.execute("INSERT INTO management_group (code, name) VALUES ('Årsskifte-grupp', 'x')")
        #expect(try db.query("SELECT relplan_is_code($1)", ["中文.工资_2"]).first?.decode(Bool.self) == true)

        // The importer: one bad code per row, each named with its line and field.
        let csv = """
            group,plan,release,package
            LÖN,Plan-1,R 1,kärna
            LÖN,Plan-1,-R2,kärna
            LÖN,Plan/1,R3,kärna
            LÖN,Plan-1,R4,kär'na
            LÖN,Plan-1,R5,\(String(repeating: "ö", count: 65))
            LÖN,Plan-1,Årsskifte-2027,\(Self.decomposedKärna)

            """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).csv").path
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let aborted = try f.run("alice", "import", path)
        #expect(aborted.status == 65, "\(aborted)")
        for (line, field) in [(2, "release"), (3, "release"), (4, "plan"), (5, "package"), (6, "package")] {
            #expect(aborted.stderr.contains(":\(line): \(field):"), "line \(line) \(field): \(aborted)")
        }
        #expect(aborted.stderr.contains("(not ' ')") && aborted.stderr.contains("at most 64 characters"), "\(aborted)")
        #expect(!aborted.stderr.contains(":7:"), "the decomposed kärna is a valid code: \(aborted)")
        let rejects = FileManager.default.temporaryDirectory.appendingPathComponent("rejects-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: rejects) }
        let skipped = try f.run("alice", "import", path, "--on-error", "skip", "--rejects", rejects)
        #expect(skipped.status == 0 || skipped.status == 65, "\(skipped)")
        let written = try String(contentsOfFile: rejects, encoding: .utf8)
        #expect(written.contains("R 1") && written.contains("kär'na") && !written.contains("Årsskifte-2027"), "\(written)")
        #expect(try db.query("SELECT code FROM release_package").rows.map { Array(try $0.decode(String.self).utf8) }
            == [Array("kärna".utf8)])
    }
}

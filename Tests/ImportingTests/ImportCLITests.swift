import Foundation
import Postgres
import Testing
import TestSupport

/// Imports that work, through the binary: the example files, re-imports, dry runs, skipping bad
/// releases, standard input, the batch record, and a killed import.
@Suite("Importing through the CLI")
struct ImportCLITests {
    @Test("the Swedish export imports; the same file again changes nothing, audit trail included")
    func swedishExportAndReimport() throws {
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        let path = ImportCLIFixture.swedishExample
        let first = try f.run("alice", "import", path, "--tz", "Europe/Stockholm")
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.hasPrefix("imported \(path): 7 rows, 3 releases created, 0 changed, 0 unchanged, 0 rejected"), "\(first)")

        let shown = try f.run("alice", "release", "show", "CRM/R-4", "--format", "json")
        let json = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any]
        #expect(json?["title"] as? String == "Fakturaexport; nytt format\n(ekonomi och lön)")  // CR LF stored as LF (README "What text may hold")
        #expect(json?["window"] as? String == "SW-2027-05-01")
        #expect(json?["deploy_start"] as? String == "2027-05-01T20:00:00Z")  // the window's start, 22:00 CEST
        #expect(json?["depends_on"] as? [String] == ["CRM/R-3"])
        let units = (json?["packages"] as? [[String: Any]])?.flatMap { ($0["units"] as? [[String: Any]]) ?? [] }
        #expect(units?.map { $0["code"] as? String } == ["crm-invoice-export", "crm-invoice-job"])
        let bookings = json?["bookings"] as? [[String: Any]]
        #expect(bookings?.first?["start"] as? String == "2027-04-28T06:00:00Z")
        #expect(bookings?.first?["status"] as? String == "tentative")
        let r3 = try f.run("alice", "release", "show", "CRM/R-3", "--format", "json")
        let r3json = try JSONSerialization.jsonObject(with: Data(r3.stdout.utf8)) as? [String: Any]
        #expect(r3json?["priority"] as? Int == 2)
        #expect(r3json?["deadline"] as? String == "2027-06-30")
        #expect((r3json?["packages"] as? [[String: Any]])?.count == 2)

        let before = try f.footprint()
        let again = try f.run("alice", "import", path, "--tz", "Europe/Stockholm")
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.hasPrefix("nothing changed: \(path): 7 rows, 0 releases created, 0 changed, 3 unchanged, 0 rejected"),
                "\(again)")
        #expect(again.stdout.contains("the same file was imported as batch"), "\(again)")
        #expect(try f.footprint() == before, "a second import of the same file wrote something")
    }

    @Test("a dry run shows creations, then field changes and the conflicts a changed file adds and removes")
    func dryRun() throws {
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        let path = ImportCLIFixture.swedishExample
        let before = try f.footprint()
        let preview = try f.run("alice", "import", path, "--dry-run", "--tz", "Europe/Stockholm")
        #expect(preview.status == 0, "\(preview)")
        #expect(preview.stdout.contains("dry run of \(path): 7 rows, 3 releases created"), "\(preview)")
        #expect(preview.stdout.contains("  + CRM/R-3 \"Kundportal: inloggning med BankID\": plan CRM-INT, window SW-2027-05-01, "
            + "deployment 2027-05-01 22:00 – 2027-05-02 02:00, priority 2, deadline 2027-06-30, 3 units, 2 bookings"), "\(preview)")
        #expect(preview.stdout.contains("conflicts it would add:\n  + dependency-order: CRM/R-4 starts deploying"), "\(preview)")
        #expect(try f.footprint() == before, "a dry run wrote something")

        try f.expectOK(f.run("alice", "import", path, "--tz", "Europe/Stockholm"))
        // R-4 moves after R-3 (which removes the dependency conflict), R-5 moves a week, and
        // R-5 books TEST-INT while R-3 holds it.
        var text = try ImportCLIFixture.example(path)
        text = text.replacingOccurrences(of: "SW-2027-05-01;3;", with: "SW-2027-05-08;3;")
            .replacingOccurrences(of: "kundregistret;SW-2027-05-08", with: "kundregistret;SW-2027-05-15")
            .replacingOccurrences(of: "TEST-INT;2027-05-03 08:00;2027-05-04 17:00", with: "TEST-INT;2027-04-26 08:00;2027-04-26 17:00")
        let changed = try ImportCLIFixture.file("crm-export-sv.csv", text)
        let afterImport = try f.footprint()
        let diff = try f.run("alice", "import", changed, "--dry-run", "--tz", "Europe/Stockholm")
        #expect(diff.status == 0, "\(diff)")
        #expect(diff.stdout.contains("2 changed, 1 unchanged"), "\(diff)")
        #expect(diff.stdout.contains("  ~ CRM/R-4: window SW-2027-05-01 → SW-2027-05-08\n"), "\(diff)")
        #expect(diff.stdout.contains("  ~ CRM/R-4: deployment 2027-05-01 22:00 – 2027-05-02 02:00 → 2027-05-08 22:00 – 2027-05-09 02:00\n"), "\(diff)")
        #expect(diff.stdout.contains("  ~ CRM/R-5: window SW-2027-05-08 → SW-2027-05-15\n"), "\(diff)")
        #expect(diff.stdout.contains("  ~ CRM/R-5: booking TEST-INT + 2027-04-26 08:00 – 2027-04-26 17:00\n"), "\(diff)")
        #expect(diff.stdout.contains("conflicts it would add:\n  + environment-overlap: environment TEST-INT"), "\(diff)")
        #expect(diff.stdout.contains("conflicts it would remove:\n  - dependency-order: CRM/R-4"), "\(diff)")
        // Its conflict messages give times in --tz, as every text for people does.
        #expect(diff.stdout.contains("between 2027-04-26 08:00 and"), "\(diff)")
        #expect(diff.stdout.range(of: #"T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"#, options: .regularExpression) == nil, "\(diff)")
        #expect(try f.footprint() == afterImport, "a dry run wrote something")

        let json = try f.run("alice", "import", changed, "--dry-run", "--format", "json", "--tz", "Europe/Stockholm")
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(document?["dry_run"] as? Bool == true)
        #expect(document?["changed"] as? Int == 2)
        let releases = document?["releases"] as? [[String: Any]]
        let r4 = releases?.first { $0["release"] as? String == "CRM/R-4" }
        let window = (r4?["changes"] as? [[String: Any]])?.first { $0["field"] as? String == "window" }
        #expect(window?["from"] as? String == "SW-2027-05-01" && window?["to"] as? String == "SW-2027-05-08", "\(json)")
        #expect((document?["conflicts_added"] as? [[String: Any]])?.first?["type"] as? String == "environment-overlap")

        // The import itself prints a document with the same keys, the previews null.
        let real = try f.run("alice", "import", changed, "--format", "json", "--tz", "Europe/Stockholm")
        let imported = try #require(try JSONSerialization.jsonObject(with: Data(real.stdout.utf8)) as? [String: Any], "\(real)")
        #expect(Set(imported.keys) == Set(document?.keys.map { $0 } ?? []), "\(real)")
        #expect(imported["releases"] is NSNull && imported["conflicts_added"] is NSNull && imported["conflicts_removed"] is NSNull)
    }

    @Test("--on-error skip imports the good releases and writes the others' rows with reasons")
    func skipBadReleases() throws {
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        let text = """
            group,plan,release,window,package,unit,unit_kind,target,version,depends_on
            CRM,CRM-Q,R-1,SW-2027-05-01,core,crm-api,application,crm-api,4.2.0,
            CRM,CRM-Q,R-2,SW-2027-05-08,core,crm-api,application,crm-api,4.3.0,
            CRM,CRM-Q,R-2,SW-2027-05-08,core,crm-db,databse,crm-db,1.0,
            CRM,CRM-Q,R-3,SW-2027-05-08,core,crm-web,application,crm-web,1.0,CRM/R-9
            CRM,CRM-Q,R-4,SW-2027-05-15,,,,,,CRM/R-3
            HR,PAY,PAY-1,SW-2027-05-15,,,,,,

            """
        let path = try ImportCLIFixture.file("skip.csv", text)
        let rejects = FileManager.default.temporaryDirectory.appendingPathComponent("rejects-\(UUID().uuidString).csv").path
        let result = try f.run("alice", "import", path, "--on-error", "skip", "--rejects", rejects)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("1 release created, 0 changed, 0 unchanged, 4 rejected"), "\(result)")
        #expect(result.stdout.contains("wrote 5 rejected rows to \(rejects)"), "\(result)")
        #expect(result.stderr.contains("warning: \(path):4: unit_kind: unknown unit kind (did you mean database?) (got \"databse\")"), "\(result)")
        let list = try f.run("alice", "release", "list", "--group", "CRM", "--format", "csv")
        #expect(list.stdout.contains("CRM,R-1,"), "\(list)")
        #expect(!list.stdout.contains("CRM,R-2,") && !list.stdout.contains("CRM,R-3,") && !list.stdout.contains("CRM,R-4,"), "\(list)")

        let written = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(written.first == "group,plan,release,window,package,unit,unit_kind,target,version,depends_on,reason")
        #expect(written.count == 6, "\(written)")
        let login = f.planning.login("alice")
        let expected = [
            "CRM,CRM-Q,R-2,SW-2027-05-08,core,crm-db,databse,crm-db,1.0,,line 4: unit_kind: unknown unit kind (did you mean database?)",
            "CRM,CRM-Q,R-2,SW-2027-05-08,core,crm-api,application,crm-api,4.3.0,,release CRM/R-2 is skipped: another of its rows has a problem",
            "CRM,CRM-Q,R-3,SW-2027-05-08,core,crm-web,application,crm-web,1.0,CRM/R-9,line 5: depends_on: unknown release CRM/R-9: it is neither in the database nor in the file (did you mean CRM/R-1?)",
            "CRM,CRM-Q,R-4,SW-2027-05-15,,,,,,CRM/R-3,\"line 6: depends_on: depends on CRM/R-3, which is skipped, so CRM/R-4 is skipped too\"",
            "HR,PAY,PAY-1,SW-2027-05-15,,,,,,,line 7: group: \(login) may not write group HR: \(login) is not a manager or release-manager of HR",
        ]
        for line in expected {
            #expect(written.contains(line), "missing \(line) in\n\(written.joined(separator: "\n"))")
        }
    }

    @Test("- imports standard input, recorded under <stdin>")
    func standardInput() throws {
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        let text = "release;releaseplan;servicefönster;releaserubrik\nR-7;CRM-Q;SW-2027-05-01;Från standard in\n"
        let result = try f.run("alice", ["import", "-", "--group", "CRM"], stdin: text)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasPrefix("imported <stdin>: 1 row, 1 release created"), "\(result)")
        let shown = try f.run("alice", "release", "show", "CRM/R-7", "--format", "json")
        #expect(shown.stdout.contains("Från standard in"), "\(shown)")
        #expect(try f.admin.query("SELECT file_name FROM import_batch").first?.decode(String.self) == "<stdin>")
        let bad = try f.run("alice", ["import", "-", "--group", "CRM"], stdin: "release,plan\nR 8,CRM-Q\n")
        #expect(bad.status == 65, "\(bad)")
        #expect(bad.stderr.contains("<stdin>:2: release: a code may hold only letters"), "\(bad)")
    }

    @Test("each import that changes something is recorded in import_batch with the file's SHA-256")
    func batchRecord() throws {
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        let path = ImportCLIFixture.swedishExample
        let result = try f.run("alice", "import", path, "--tz", "Europe/Stockholm", "--format", "json")
        #expect(result.status == 0, "\(result)")
        let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let row = try f.admin.query("""
            SELECT b.id, b.file_name, b.sha256, b.rows, b.created, b.updated, b.unchanged, b.rejected, b.imported_by,
                   array(SELECT g.code FROM management_group g WHERE g.id = ANY (b.group_ids) ORDER BY g.code)
            FROM import_batch b
            """).first
        let sha256sum = Process()
        sha256sum.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        sha256sum.arguments = [path]
        let output = Pipe()
        sha256sum.standardOutput = output
        try sha256sum.run()
        let expected = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
        sha256sum.waitUntilExit()
        #expect(try row?.decode(String.self, "sha256") == String(expected))
        #expect(summary?["sha256"] as? String == String(expected))
        #expect(summary?["batch"] as? Int == (try row?.decode(Int.self, "id")))
        #expect(try row?.decode(String.self, "file_name") == path)
        #expect(try row?.decode(Int.self, "rows") == 7)
        #expect(try ["created", "updated", "unchanged", "rejected"].map { column in try row?.decode(Int.self, column) } == [3, 0, 0, 0])
        #expect(try row?.decode(String.self, "imported_by") == f.planning.login("alice"))
        #expect(try row?.decode([String].self, "array") == ["CRM"])
    }

    @Test("an importer killed with SIGKILL in the middle of a large import leaves nothing of it")
    func killedImport() throws {
        let f = try Self.benchFixture()
        defer { f.drop() }
        let path = try ImportCLIFixture.file("large.csv", Self.largeFile(releases: 20_000, rowsPerRelease: 10))
        let before = try f.footprint()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["import", path]
        var environment = ProcessInfo.processInfo.environment
        environment["RELPLAN_DATABASE_URL"] = f.planning.database.conninfo + " user=\(f.planning.login("alice"))"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 0.5)
        #expect(process.isRunning, "the import finished within 0.5 s: make the file larger")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        // The server notices the lost client and rolls back; wait for its session to end.
        for _ in 0..<100 {
            let sessions = try f.admin.query("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND usename = $2",
                                             [f.planning.database.name, f.planning.login("alice")]).first?.decode(Int.self)
            if sessions == 0 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(try f.footprint() == before)
    }

    @Test("a large import shows its steps on one line of a terminal, and nothing on a pipe")
    func progressOnATerminal() throws {
        let f = try Self.benchFixture()
        defer { f.drop() }
        // 100,000 rows: the size from which the steps after reading are shown.
        let path = try ImportCLIFixture.file("progress.csv", Self.largeFile(releases: 10_000, rowsPerRelease: 10))
        let piped = try f.planning.run("alice", "import", path)
        #expect(piped.status == 0, "\(piped)")
        #expect(piped.stderr.isEmpty)

        // `script` runs the import on a pseudo-terminal and copies what it wrote.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", "'\(CLI.binary)' import '\(path)'", "/dev/null"]
        var environment = ProcessInfo.processInfo.environment
        environment["RELPLAN_DATABASE_URL"] = f.planning.database.conninfo + " user=\(f.planning.login("alice"))"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        // Each step rewrites the line (carriage return, erase to its end); the summary replaces it.
        let steps = text.components(separatedBy: "\r\u{1B}[K").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let name = URL(fileURLWithPath: path).lastPathComponent
        for step in ["checking", "merging", "merging releases (1 of 5)", "merging units (4 of 5)", "merging bookings (5 of 5)"] {
            #expect(steps.contains { $0.hasSuffix(" s)") && $0.contains("\(name): 100,000 rows read; \(step)… (") }, "no step \(step) in \(steps)")
        }
        #expect(steps.last?.hasPrefix("nothing changed: ") == true, "\(steps)")
    }

    /// After a rolled-back import (a dry run) and a vacuum, PostgreSQL takes the planning tables
    /// for nearly empty until the next ANALYZE, whatever was imported since; the re-import then
    /// probed them row by row (a million-row re-import took 199 s instead of 7). Here 10,000
    /// releases: seconds per statement that way, well under one by hashing.
    @Test("a re-import right after a large import stays fast while the statistics still say empty")
    func staleStatisticsAfterADryRun() throws {
        let f = try Self.benchFixture()
        defer { f.drop() }
        let file = Self.largeFile(releases: 10_000, rowsPerRelease: 2)
        let path = try ImportCLIFixture.file("stale.csv", file)
        let changed = try ImportCLIFixture.file("stale-changed.csv",
                                                String(decoding: file, as: UTF8.self).replacingOccurrences(of: "Release ", with: "Changed "))
        // Autovacuum would truncate the dry run's dead pages (or analyze) first, and the statistics
        // this test is about would never arise: off for these tables, in this test's database.
        let superuser = try f.planning.database.connect()
        try superuser.execute("""
            ALTER TABLE release_plan SET (autovacuum_enabled = false); ALTER TABLE release SET (autovacuum_enabled = false);
            ALTER TABLE release_package SET (autovacuum_enabled = false); ALTER TABLE release_unit SET (autovacuum_enabled = false);
            ALTER TABLE environment_booking SET (autovacuum_enabled = false)
            """, simple: true)
        #expect(try f.planning.run("alice", "import", path, "--dry-run").status == 0)
        try superuser.execute("VACUUM (TRUNCATE false) release_plan, release, release_package, release_unit, environment_booking",
                              simple: true)
        #expect(try f.planning.run("alice", "import", path).status == 0)
        let stats = try #require(try superuser.query("SELECT reltuples, relpages FROM pg_class WHERE relname = 'release'").first)
        let (tuples, pages) = try stats.decode((Double, Int).self)
        // One live row counted on many pages: PostgreSQL takes the table for nearly empty.
        #expect(tuples == 1)
        #expect(pages > 100)
        let again = try CLI.run(["import", changed], database: f.planning.database, user: f.planning.login("alice"),
                                environment: ["PGOPTIONS": "-c statement_timeout=5s"])
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.contains("10000 changed"), "\(again)")
    }

    @Test("relplan audit shows a bulk entry's first keys and how many in a table, all of them in json")
    func bulkAuditThroughTheCLI() throws {
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        var file = "group,plan,release,release_title,window,priority,package,unit,unit_kind,target,version\n"
        for release in 1...3 {
            for unit in 1...40 { file += "CRM,CRM-Q,B-\(release),Bulk,SW-2027-05-01,3,core,u-\(unit),application,ci-\(unit),1.0\n" }
        }
        #expect(try f.planning.run("alice", "import", try ImportCLIFixture.file("bulk.csv", file)).status == 0)
        let table = try f.planning.run("alice", "audit", "--group", "CRM")
        let line = try #require(table.stdout.split(separator: "\n").first { $0.contains("release_unit") })
        #expect(line.contains("… (120 keys)"), "\(line)")
        #expect(line.contains("120 rows in 3 releases"), "\(line)")
        #expect(line.count < 250, "\(line)")
        let json = try f.planning.run("alice", "audit", "--group", "CRM", "--format", "json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let entries = try #require(document["entries"] as? [[String: Any]])
        let units = try #require(entries.first { $0["table"] as? String == "release_unit" })
        #expect((units["row"] as? String)?.split(whereSeparator: { $0 == "," || $0 == ";" }).count == 120)
        // Read for one release, its own part: 40 rows.
        let release = try f.planning.run("alice", "audit", "--release", "CRM/B-2")
        let own = try #require(release.stdout.split(separator: "\n").first { $0.contains("release_unit") })
        #expect(own.contains("… (40 keys)") && own.contains("40 rows"), "\(own)")
    }

    /// The fixture with the benchmark's groups, windows and environments (scripts/bench-seed.sql),
    /// alice release-manager of every group: what `largeFile` refers to.
    static func benchFixture() throws -> ImportCLIFixture {
        let f = try ImportCLIFixture.make()
        try f.admin.execute(try String(contentsOf: ImportCLIFixture.examples.appendingPathComponent("../../scripts/bench-seed.sql"),
                                       encoding: .utf8), simple: true)
        try f.admin.execute("""
            INSERT INTO membership (group_id, role_name, role) SELECT id, $1, 'release-manager' FROM management_group WHERE code LIKE 'G__'
            """, [f.planning.login("alice")])
        return f
    }

    /// The shape of scripts/gen-import-csv's files, small enough to write in a test.
    static func largeFile(releases: Int, rowsPerRelease: Int) -> [UInt8] {
        let dates = Self.saturdays()
        var out: [UInt8] = []
        out.reserveCapacity(releases * rowsPerRelease * 110)
        out += Array("group,plan,release,release_title,window,priority,package,unit,unit_kind,target,version,environment,env_start,env_end\n".utf8)
        for number in 0..<releases {
            let group = number % 10 == 9 ? "G10" : "G0\(number % 10 + 1)"
            let serial = number / 10
            let week = 4 + serial % 100
            let head = Array("\(group),PLAN-\(serial / 100),R-\(serial),Release \(serial),BW-\(dates[week].saturday),3,".utf8)
            for row in 0..<rowsPerRelease {
                out += head
                out += Array("pkg-\(row % 2),unit-\(row),application,ci-\(serial % 400),1.\(row),".utf8)
                out += Array((row == 0 ? "BENCH-PROD,\(dates[week].saturday) 21:00,\(dates[week].sunday) 03:00\n" : ",,\n").utf8)
            }
        }
        return out
    }

    /// The bench windows' Saturdays (2030-01-05 and every week after) with the Sundays after them.
    static func saturdays() -> [(saturday: String, sunday: String)] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        let first = calendar.date(from: DateComponents(year: 2030, month: 1, day: 5)) ?? Date()
        func text(_ days: Int) -> String {
            let day = calendar.date(byAdding: .day, value: days, to: first) ?? first
            let parts = calendar.dateComponents([.year, .month, .day], from: day)
            func pad(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
            return "\(parts.year ?? 0)-\(pad(parts.month))-\(pad(parts.day))"
        }
        return (0..<104).map { (text(7 * $0), text(7 * $0 + 1)) }
    }
}

import Foundation
import Postgres
import Testing
import TestSupport

/// The nightly report through the binary: history across runs, one folder per group, files whole.
@Suite("Nightly report through the CLI")
struct ReportCLITests {
    private func conflicts(_ folder: URL) throws -> [[String: Any]] {
        let data = try Data(contentsOf: folder.appendingPathComponent("conflicts.json"))
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return json?["conflicts"] as? [[String: Any]] ?? []
    }

    private func statuses(_ folder: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        for c in try conflicts(folder) {
            let key = "\(c["type"] as? String ?? "?"):\((c["releases"] as? [String] ?? []).joined(separator: ","))"
            result[key] = c["status"] as? String
        }
        return result
    }

    @Test("two runs with a change in between: new, open and resolved")
    func history() throws {
        let f = try PlanningFixture.make(people: ["alice", "bob"])
        defer { f.drop() }
        let base = Date().addingTimeInterval(30 * 86_400)
        let admin = try f.database.connect(user: f.login("admin"))
        for (index, code) in ["W1", "W2", "W3"].enumerated() {
            let start = base.addingTimeInterval(Double(index) * 7 * 86_400)
            try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ($1, $2, $3, 1)",
                              [code, start, start.addingTimeInterval(4 * 3600)])
        }
        for (group, person) in [("CRM", "alice"), ("HR", "bob")] {
            try f.run("admin", "group", "create", group, "--name", group)
            try f.run("admin", "member", "add", group, f.login(person), "--role", "release-manager")
        }
        try f.run("alice", "plan", "create", "CRM", "P", "--title", "P")
        try f.run("bob", "plan", "create", "HR", "P", "--title", "P")
        try f.run("alice", "release", "create", "CRM", "A", "--plan", "P", "--window", "W1")
        try f.run("bob", "release", "create", "HR", "B", "--plan", "P", "--window", "W1")       // W1 over capacity
        try f.run("alice", "release", "create", "CRM", "C", "--plan", "P", "--window", "W3")

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try f.run("reporter", "report", "nightly", "--out", folder.path, "--exit-code")
        #expect(first.status == 1, "new conflicts with --exit-code: \(first)")
        #expect(first.stderr.contains("1 new"), "\(first)")
        #expect(try statuses(folder) == ["window-capacity:CRM/A,HR/B": "new"])

        // Unchanged: the same conflict is open now, and nothing new.
        let second = try f.run("reporter", "report", "nightly", "--out", folder.path, "--exit-code")
        #expect(second.status == 0, "\(second)")
        #expect(try statuses(folder) == ["window-capacity:CRM/A,HR/B": "open"])

        // bob moves his release out (resolving W1) and into W3 (a new conflict).
        try f.run("bob", "release", "move", "HR/B", "--window", "W3")
        let third = try f.run("reporter", "report", "nightly", "--out", folder.path)
        #expect(third.status == 0, "\(third)")
        #expect(try statuses(folder) == ["window-capacity:CRM/A,HR/B": "resolved", "window-capacity:CRM/C,HR/B": "new"])
        let resolved = try conflicts(folder).first { $0["status"] as? String == "resolved" }
        #expect(resolved?["resolved_at"] as? String != nil)
        #expect(resolved?["first_seen"] as? String != nil)

        // A sub-folder per group, with only what concerns it.
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(names == ["CRM", "HR", "calendar.ics", "conflicts.csv", "conflicts.json", "report.html", "report.md"])
        #expect(try statuses(folder.appendingPathComponent("HR")).count == 2)
        let markdown = try String(contentsOf: folder.appendingPathComponent("CRM/report.md"), encoding: .utf8)
        #expect(markdown.contains("CRM"))
        // Every report.html of the run (all groups and each group's) passes the Nu HTML checker.
        let pages = NuHTMLChecker.reports(under: folder)
        #expect(pages.count == 3)
        #expect(try NuHTMLChecker.errors(pages) == [])
        // No temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).allSatisfy { !$0.contains(".tmp-") })
    }

    @Test("only the nightly job's login runs it: anyone else exits 77 before doing anything, and forged history is refused")
    func onlyTheReporter() throws {
        let f = try PlanningFixture.make(people: ["alice", "bob", "dave"])
        defer { f.drop() }
        let admin = try f.database.connect(user: f.login("admin"))
        let start = Date().addingTimeInterval(30 * 86_400)
        try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ('W1', $1, $2, 1)",
                          [start, start.addingTimeInterval(4 * 3600)])
        for (group, person) in [("CRM", "alice"), ("HR", "bob")] {
            try f.run("admin", "group", "create", group, "--name", group)
            try f.run("admin", "member", "add", group, f.login(person), "--role", "release-manager")
            try f.run(person, "plan", "create", group, "P", "--title", "P")
            try f.run(person, "release", "create", group, "A", "--plan", "P", "--window", "W1")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let superuser = try f.database.connect()
        // A planner, a login in no group and an admin: refused up front, nothing written or taken.
        for person in ["alice", "dave", "admin"] {
            let refused = try f.run(person, "report", "nightly", "--out", folder.path)
            #expect(refused.status == 77, "\(person): \(refused)")
            #expect(refused.stderr.contains("relplan_reporter") && refused.stderr.contains("--reporter"), "\(refused)")
            #expect(!FileManager.default.fileExists(atPath: folder.path), "\(person) wrote a report")
            #expect(try superuser.query("SELECT count(*) FROM report_run").first?.decode(Int.self) == 0)
            #expect(try superuser.query("SELECT count(*) FROM conflict_history").first?.decode(Int.self) == 0)
        }
        let run = try f.run("reporter", "report", "nightly", "--out", folder.path)
        #expect(run.status == 0, "\(run)")
        let recorded = try superuser.query("SELECT run_by FROM report_run").rows.map { try $0.decode(String.self) }
        #expect(recorded == [f.login("reporter")])
        // The red team's forgeries through psql, as dave (no membership) and bob (HR's planner): refused.
        for person in ["dave", "bob"] {
            let db = try f.database.connect(user: f.login(person))
            for statement in [
                "UPDATE conflict_history SET resolved_at = now(), first_seen = now() - interval '30 days'",
                "UPDATE conflict_history SET first_seen = now() - interval '400 days'",
                """
                INSERT INTO conflict_history (identity, type, severity, releases, groups, message, first_seen, last_seen)
                SELECT 'forged-' || i, 'window-capacity', 'high', '{CRM/A}', '{CRM}', 'forged', now() - interval '400 days', now()
                FROM generate_series(1, 200000) AS i
                """,
                "INSERT INTO report_run (started_at, conflicts, new, resolved) VALUES (now(), 0, 0, 0)",
                "SELECT * FROM relplan_record_calendar_events('{\"\"}', '{x@relplan}', '{f}', now())",
                "SELECT relplan_grant_reporter(current_user)",
                "GRANT relplan_reporter TO CURRENT_USER",
                "SET ROLE relplan_reporter",
            ] {
                expectPermissionDenied("\(person): \(statement)") { try db.execute(SQL(unsafeSQL: statement)) }
            }
            // People read it.
            #expect(try db.query("SELECT count(*) FROM conflict_history").first?.decode(Int.self) == 1)
        }
        let history = try superuser.query("SELECT count(*), min(first_seen) > now() - interval '1 day' FROM conflict_history WHERE resolved_at IS NULL").first
        let unresolved = try history?.decode((Int, Bool).self)
        #expect(unresolved?.0 == 1 && unresolved?.1 == true)
        // Granting it is an admin's act, for relplan users only.
        #expect(try f.run("alice", "user", "create", f.login("dave"), "--reporter").status == 77)
        let made = try f.run("admin", "user", "create", f.login("dave"), "--reporter")
        #expect(made.status == 0 && made.stdout.contains("(reporter)"), "\(made)")
        #expect(try f.run("dave", "report", "nightly", "--out", folder.path).status == 0)
        let itself = try admin.attempt { try $0.execute("SELECT relplan_grant_reporter(current_user)") }
        #expect(itself?.contains("may not make itself") == true, "\(String(describing: itself))")
        #expect(try f.run("admin", "user", "create", f.login("admin"), "--reporter").status == 77)
        let notAUser = try admin.attempt { try $0.execute("SELECT relplan_grant_reporter('postgres_no_such_login')") }
        #expect(notAUser != nil && notAUser?.contains("create it first") == true, "\(String(describing: notAUser))")
    }
}

private extension Connection {
    /// The error message of `body`, or nil when it succeeded.
    func attempt(_ body: (Connection) throws -> Void) throws -> String? {
        do { try body(self); return nil } catch let error as PostgresError { return error.message }
    }
}

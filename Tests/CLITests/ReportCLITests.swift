import Foundation
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
        let first = try f.run("alice", "report", "nightly", "--out", folder.path, "--exit-code")
        #expect(first.status == 1, "new conflicts with --exit-code: \(first)")
        #expect(first.stderr.contains("1 new"), "\(first)")
        #expect(try statuses(folder) == ["window-capacity:CRM/A,HR/B": "new"])

        // Unchanged: the same conflict is open now, and nothing new.
        let second = try f.run("alice", "report", "nightly", "--out", folder.path, "--exit-code")
        #expect(second.status == 0, "\(second)")
        #expect(try statuses(folder) == ["window-capacity:CRM/A,HR/B": "open"])

        // bob moves his release out (resolving W1) and into W3 (a new conflict).
        try f.run("bob", "release", "move", "HR/B", "--window", "W3")
        let third = try f.run("alice", "report", "nightly", "--out", folder.path)
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
}

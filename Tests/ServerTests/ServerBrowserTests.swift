import Foundation
import Testing
import TestSupport

/// Two real browsers against the built server: Debian's chromium and chromium-driver through
/// Selenium (scripts/lib.sh ensure_browser installs them). The script is
/// Tests/ServerTests/browser/calendar_in_browsers.py; its screenshots go to
/// RELPLAN_SCREENSHOTS (default: a temporary folder).
@Suite("The calendar in real browsers", .serialized)
struct ServerBrowserTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("browser/calendar_in_browsers.py").standardized.path

    @Test("alice accepts her group's proposal, bob sees it go without reloading; no accept button on HR's, a forged POST is 403; <script> is text; release, window and import pages by their links and forms")
    func browsers() throws {
        let f = try PlanningFixture.make(people: ["alice", "bob"])
        defer { f.drop() }
        func ok(_ who: String, _ arguments: String...) throws {
            let result = try f.run(who, arguments)
            #expect(result.status == 0, "\(arguments): \(result)")
        }
        try ok("admin", "group", "create", "CRM", "--name", "CRM förvaltning")
        try ok("admin", "group", "create", "HR", "--name", "HR")
        try ok("admin", "member", "add", "CRM", f.login("alice"), "--role", "release-manager")
        try ok("admin", "member", "add", "HR", f.login("bob"), "--role", "release-manager")
        try ok("admin", "window", "generate", "--prefix", "SW", "--rrule", "FREQ=WEEKLY;BYDAY=SA", "--start-time", "22:00",
               "--duration", "4h", "--from", "2030-03-01", "--until", "2030-03-31", "--capacity", "1", "--tz", "Europe/Stockholm")
        try ok("alice", "plan", "create", "CRM", "CRM-2030", "--title", "CRM roadmap")
        try ok("bob", "plan", "create", "HR", "PAY", "--title", "Lön")
        // HR's proposal first: alice's resolve moves HR/PAY-8 out of her pinned release's window.
        try ok("alice", "release", "create", "CRM", "R2", "--plan", "CRM-2030", "--window", "SW-2030-03-23", "--title", "Sommar")
        try ok("alice", "release", "pin", "CRM/R2")
        try ok("bob", "release", "create", "HR", "PAY-8", "--plan", "PAY", "--window", "SW-2030-03-23", "--title", "Årsskifte")
        try ok("alice", "schedule", "resolve", "--apply")
        try ok("bob", "release", "pin", "HR/PAY-8")
        // Then CRM's: bob's resolve moves CRM/R1 out of his pinned release's window.
        try ok("alice", "release", "create", "CRM", "R1", "--plan", "CRM-2030", "--window", "SW-2030-03-09",
               "--title", "Våren <script>alert(1)</script>")
        try ok("bob", "release", "create", "HR", "PAY-7", "--plan", "PAY", "--window", "SW-2030-03-09", "--title", "Lön")
        try ok("bob", "release", "pin", "HR/PAY-7")
        try ok("bob", "schedule", "resolve", "--apply")
        let listed = try f.run("alice", "schedule", "proposals", "--format", "json")
        let proposals = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["proposals"] as? [[String: Any]] ?? []
        let crm = proposals.first { $0["release"] as? String == "CRM/R1" }?["id"] as? Int
        let hr = proposals.first { $0["release"] as? String == "HR/PAY-8" }?["id"] as? Int
        try #require(crm != nil && hr != nil, "\(listed.stdout)")

        // Something on CRM/R1's page to see: a unit, a booking, a deviation (none changes its schedule).
        try ok("admin", "env", "create", "TEST-INT", "--name", "Integrationstest", "--kind", "test", "--capacity", "1")
        try ok("alice", "package", "add", "CRM/R1", "kärna")
        try ok("alice", "unit", "add", "CRM/R1", "kärna", "crm-api", "--kind", "application", "--target", "srv-crm-01", "--version", "4.2")
        try ok("alice", "book", "CRM/R1", "TEST-INT", "--start", "2030-02-25T08:00+01:00", "--end", "2030-02-27T17:00+01:00")
        try ok("alice", "deviation", "add", "CRM/R1", "--severity", "medium", "--text", "Testdata saknas för Örebro")
        let admin = try f.database.connect()
        for name in ["alice", "bob"] {
            try admin.execute("ALTER ROLE \"\(f.login(name))\" PASSWORD 'pw-\(name)'; GRANT relplan_password_login TO \"\(f.login(name))\"", simple: true)
        }
        let server = try ServerProcess(database: f.database)
        defer { server.stop() }
        let out = ProcessInfo.processInfo.environment["RELPLAN_SCREENSHOTS"]
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("relplan-screenshots-\(UUID().uuidString)").path
        let run = try ServerSchemaTests.run(["python3", Self.script, "http://127.0.0.1:\(server.port)", f.login("alice"), "pw-alice",
                                             f.login("bob"), "pw-bob", String(crm ?? 0), String(hr ?? 0), out])
        #expect(run.status == 0, "\(run.output) (scripts/lib.sh ensure_browser installs chromium, chromium-driver and selenium)")
        #expect(run.output.contains("\"bob sees the move without reloading\": true"), "\(run.output)")
        for file in ["login.png", "calendar-alice.png", "calendar-bob-after.png", "release-alice.png", "window-alice.png", "release-bob.png",
                     "import-preview-alice.png", "import-done-alice.png"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) in \(out)")
        }
    }
}

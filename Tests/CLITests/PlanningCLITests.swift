import Foundation
import Testing
import TestSupport

/// The release management process through the built binary, as people would run it.
@Suite("Planning through the CLI")
struct PlanningCLITests {
    static let modelFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../examples/models/standard.yaml").standardized.path

    /// Two groups with a release-manager each, a shared test environment, windows and a model.
    private func setUp() throws -> PlanningFixture {
        let f = try PlanningFixture.make()
        try expectOK(f.run("admin", "group", "create", "CRM", "--name", "CRM förvaltning"))
        try expectOK(f.run("admin", "group", "create", "HR", "--name", "HR"))
        try expectOK(f.run("admin", "member", "add", "CRM", f.login("alice"), "--role", "release-manager"))
        try expectOK(f.run("admin", "member", "add", "HR", f.login("bob"), "--role", "release-manager"))
        try expectOK(f.run("admin", "member", "add", "CRM", f.login("carol"), "--role", "member"))
        try expectOK(f.run("admin", "env", "create", "TEST-INT", "--name", "Integration test", "--capacity", "1"))
        try expectOK(f.run("admin", "env", "create", "PREPROD", "--name", "Pre-production", "--kind", "preprod", "--capacity", "2"))
        try expectOK(f.run("admin", "window", "generate", "--prefix", "SW", "--rrule", "FREQ=WEEKLY;BYDAY=SA", "--start-time", "22:00",
                           "--duration", "4h", "--from", "2030-03-01", "--until", "2030-03-31", "--capacity", "2", "--tz", "Europe/Stockholm"))
        try expectOK(f.run("admin", "model", "create", "--file", Self.modelFile))
        try expectOK(f.run("alice", "plan", "create", "CRM", "CRM-2030", "--title", "CRM roadmap 2030", "--model", "STANDARD"))
        try expectOK(f.run("bob", "plan", "create", "HR", "PAY", "--title", "Payroll"))
        return f
    }

    private func expectOK(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
    }

    @Test("windows are generated once, listed with their load, and shown as the night's plan")
    func windows() throws {
        let f = try setUp()
        defer { f.drop() }
        let again = try f.run("admin", "window", "generate", "--prefix", "SW", "--rrule", "FREQ=WEEKLY;BYDAY=SA", "--start-time", "22:00",
                              "--duration", "4h", "--from", "2030-03-01", "--until", "2030-03-31", "--capacity", "2", "--tz", "Europe/Stockholm")
        #expect(again.stdout.contains("created 0 service windows, 5 already existed"), "\(again)")
        let list = try f.run("alice", "window", "list", "--format", "json")
        let json = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any]
        let windows = json?["windows"] as? [[String: Any]]
        #expect(windows?.count == 5)
        #expect(windows?.first?["code"] as? String == "SW-2030-03-02")
        #expect(windows?.first?["start"] as? String == "2030-03-02T21:00:00Z")
        // The last Saturday of March 2030 is the 30th; the clocks go from 02:00 to 03:00 on the 31st,
        // so the window that ends at 02:00 wall-clock ends at that very instant, 01:00 UTC.
        #expect(windows?.last?["end"] as? String == "2030-03-31T01:00:00Z")
        #expect(Set(windows?.first?.keys.map { $0 } ?? []) == ["code", "start", "end", "capacity", "kind", "used"])

        try expectOK(f.run("alice", "release", "create", "CRM", "R1", "--plan", "CRM-2030", "--window", "SW-2030-03-09", "--title", "March"))
        try expectOK(f.run("bob", "release", "create", "HR", "PAY-7", "--plan", "PAY", "--window", "SW-2030-03-09"))
        let third = try f.run("alice", "release", "create", "CRM", "R2", "--plan", "CRM-2030", "--window", "SW-2030-03-09")
        #expect(third.status == 0)
        #expect(third.stderr.contains("holds 3 releases, capacity 2"), "\(third)")
        let night = try f.run("alice", "window", "show", "SW-2030-03-09", "--tz", "Europe/Stockholm")
        #expect(night.stdout.contains("load: 3/2 used"), "\(night)")
        #expect(night.stdout.contains("1. CRM/R1"), "\(night)")
        #expect(night.stdout.contains("NO-GO"), "\(night)")
    }

    @Test("a release from plan to closed, with criteria, deviations and an evaluation")
    func lifecycle() throws {
        let f = try setUp()
        defer { f.drop() }
        try expectOK(f.run("alice", "release", "create", "CRM", "R1", "--plan", "CRM-2030", "--window", "SW-2030-03-16",
                           "--priority", "2", "--deadline", "2030-03-31", "--title", "March release"))
        try expectOK(f.run("carol", "package", "add", "CRM/R1", "core"))
        try expectOK(f.run("carol", "unit", "add", "CRM/R1", "core", "crm-api", "--kind", "application", "--target", "srv-crm-01",
                           "--version", "4.2.0"))
        // Testing already happened (the automatic criterion "test-booking-finished" looks at the clock).
        try expectOK(f.run("alice", "book", "CRM/R1", "TEST-INT", "--start", "2026-01-05 08:00", "--end", "2026-01-09 17:00", "--confirm"))

        let refused = try f.run("alice", "release", "advance", "CRM/R1")
        #expect(refused.status == 65, "\(refused)")
        #expect(refused.stderr.contains("scope-agreed"), "\(refused)")
        try expectOK(f.run("alice", "release", "check", "CRM/R1", "scope-agreed"))
        try expectOK(f.run("alice", "release", "advance", "CRM/R1"))
        let skip = try f.run("alice", "release", "advance", "CRM/R1", "--to", "deploying")
        #expect(skip.status == 65 && skip.stderr.contains("testing"), "\(skip)")
        try expectOK(f.run("alice", "release", "advance", "CRM/R1"))
        try expectOK(f.run("alice", "release", "advance", "CRM/R1"))
        let blocked = try f.run("alice", "release", "advance", "CRM/R1")  // ready → deploying needs cab-approved
        #expect(blocked.status == 65 && blocked.stderr.contains("cab-approved"), "\(blocked)")
        try expectOK(f.run("alice", "release", "check", "CRM/R1", "cab-approved"))
        try expectOK(f.run("alice", "release", "advance", "CRM/R1"))  // deploying
        let tooLate = try f.run("carol", "package", "add", "CRM/R1", "late")
        #expect(tooLate.status == 77, "\(tooLate)")
        try expectOK(f.run("alice", "release", "check", "CRM/R1", "smoke-tested"))
        try expectOK(f.run("alice", "release", "advance", "CRM/R1"))  // deployed
        try expectOK(f.run("alice", "release", "advance", "CRM/R1"))  // evaluating
        try expectOK(f.run("alice", "deviation", "add", "CRM/R1", "--severity", "high", "--text", "Rollback of crm-api"))
        let open = try f.run("alice", "release", "advance", "CRM/R1")
        #expect(open.status == 65 && open.stderr.contains("deviation"), "\(open)")
        let list = try f.run("alice", "deviation", "list", "--open", "--format", "csv")
        let id = list.stdout.split(separator: "\r\n").dropFirst().first?.split(separator: ",").first.map(String.init) ?? "?"
        try expectOK(f.run("alice", "deviation", "handle", id, "--resolution", "Fixed in 4.2.1"))
        let noEvaluation = try f.run("alice", "release", "advance", "CRM/R1")
        #expect(noEvaluation.status == 65 && noEvaluation.stderr.contains("evaluation"), "\(noEvaluation)")
        try expectOK(f.run("alice", "release", "evaluate", "CRM/R1", "--text", "Book TEST-INT earlier"))
        try expectOK(f.run("alice", "release", "advance", "CRM/R1"))

        let shown = try f.run("bob", "release", "show", "CRM/R1", "--format", "json")
        let json = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any]
        #expect(json?["status"] as? String == "closed")
        #expect(json?["priority"] as? Int == 2)
        #expect(json?["deadline"] as? String == "2030-03-31")
        let packages = json?["packages"] as? [[String: Any]]
        let units = packages?.first?["units"] as? [[String: Any]]
        #expect(units?.first?["target"] as? String == "srv-crm-01")
        let bookings = json?["bookings"] as? [[String: Any]]
        #expect(bookings?.first?["environment"] as? String == "TEST-INT")
        #expect(bookings?.first?["status"] as? String == "confirmed")

        let audit = try f.run("bob", "audit", "--release", "CRM/R1", "--format", "csv")
        #expect(audit.stdout.contains("status: planned → building"), "\(audit)")
        #expect(audit.stdout.contains("status: evaluating → closed"), "\(audit)")
    }

    @Test("refusals say who, what and why, with the documented exit codes")
    func refusals() throws {
        let f = try setUp()
        defer { f.drop() }
        try expectOK(f.run("bob", "release", "create", "HR", "PAY-7", "--plan", "PAY", "--window", "SW-2030-03-09"))
        let move = try f.run("alice", "release", "move", "HR/PAY-7", "--window", "SW-2030-03-16")
        #expect(move.status == 77)
        #expect(move.stderr.contains("is not a manager or release-manager of group HR; ask a manager of HR"), "\(move)")
        let notAdmin = try f.run("alice", "group", "create", "OPS", "--name", "Ops")
        #expect(notAdmin.status == 77, "\(notAdmin)")
        let unknownWindow = try f.run("alice", "release", "create", "CRM", "R9", "--plan", "CRM-2030", "--window", "SW-2030-03-61")
        #expect(unknownWindow.status == 65)
        #expect(unknownWindow.stderr.contains("did you mean SW-2030-03-16?"), "\(unknownWindow)")
        let badTime = try f.run("alice", "release", "create", "CRM", "R9", "--plan", "CRM-2030", "--deploy-start", "tomorrow", "--deploy-end", "2030-03-02 10:00")
        #expect(badTime.status == 64 && badTime.stderr.contains("--deploy-start"), "\(badTime)")
        let backwards = try f.run("alice", "release", "create", "CRM", "R9", "--plan", "CRM-2030", "--deploy-start", "2030-03-02 10:00", "--deploy-end", "2030-03-02 09:00")
        #expect(backwards.status == 64, "\(backwards)")
        let priority = try f.run("alice", "release", "create", "CRM", "R9", "--plan", "CRM-2030", "--priority", "7")
        #expect(priority.status == 64 && priority.stderr.contains("1"), "\(priority)")
        try expectOK(f.run("admin", "window", "create", "OLD", "--start", "2020-01-01 22:00", "--end", "2020-01-02 02:00"))
        let past = try f.run("alice", "release", "create", "CRM", "R9", "--plan", "CRM-2030", "--window", "OLD")
        #expect(past.status == 65 && past.stderr.contains("ended"), "\(past)")
        let list = try f.run("alice", "release", "list", "--group", "CRM", "--format", "json")
        #expect(!list.stdout.contains("R9"), "nothing half-written: \(list)")
        let unknownGroup = try f.run("alice", "plan", "list", "--group", "CMR")
        #expect(unknownGroup.status == 65 && unknownGroup.stderr.contains("did you mean CRM?"), "\(unknownGroup)")

        try expectOK(f.run("bob", "book", "HR/PAY-7", "TEST-INT", "--start", "2030-03-01 08:00", "--end", "2030-03-03 17:00", "--confirm"))
        try expectOK(f.run("alice", "release", "create", "CRM", "R1", "--plan", "CRM-2030", "--window", "SW-2030-03-16"))
        try expectOK(f.run("alice", "book", "CRM/R1", "TEST-INT", "--start", "2030-03-02 08:00", "--end", "2030-03-04 17:00"))
        let taken = try f.run("alice", "book", "CRM/R1", "TEST-INT", "--start", "2030-03-02 08:00", "--end", "2030-03-04 17:00", "--confirm")
        #expect(taken.status == 75)
        #expect(taken.stderr.contains("taken by HR/PAY-7"), "\(taken)")
    }

    @Test("a stale write is refused with who changed the release and when")
    func staleWrite() throws {
        let f = try setUp()
        defer { f.drop() }
        try expectOK(f.run("admin", "member", "add", "CRM", f.login("dave"), "--role", "manager"))
        try expectOK(f.run("alice", "release", "create", "CRM", "R1", "--plan", "CRM-2030", "--window", "SW-2030-03-09"))
        let seen = try f.run("alice", "release", "show", "CRM/R1", "--format", "json")
        let version = (try JSONSerialization.jsonObject(with: Data(seen.stdout.utf8)) as? [String: Any])?["version"] as? Int ?? 0
        try expectOK(f.run("dave", "release", "move", "CRM/R1", "--window", "SW-2030-03-16", "--if-version", String(version)))
        let stale = try f.run("alice", "release", "move", "CRM/R1", "--window", "SW-2030-03-23", "--if-version", String(version))
        #expect(stale.status == 75, "\(stale)")
        #expect(stale.stderr.contains("changed by \(f.login("dave"))"), "\(stale)")
        #expect(stale.stderr.contains("show it again and retry"), "\(stale)")
    }

    @Test("help explains every command with an example")
    func help() throws {
        let f = try PlanningFixture.make(people: [])
        defer { f.drop() }
        for command in [["release", "create"], ["window", "generate"], ["book"], ["model", "create"], ["member", "add"]] {
            let result = try f.run("admin", command + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("Example"), "\(command): \(result)")
        }
    }
}

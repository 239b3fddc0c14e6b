import Foundation
import Testing
import TestSupport

/// The happy paths of the commands the other suites do not walk, and their listings' shapes.
@Suite("Every command's happy path")
struct MoreCommandsCLITests {
    private func ok(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) -> CLIResult {
        #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        return result
    }

    private func json(_ result: CLIResult) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    @Test("people, groups, environments, freezes, targets, plans, models, deviations and audit")
    func walk() throws {
        let f = try PlanningFixture.make(people: ["alice", "bob"])
        defer { f.drop() }
        let password = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID().uuidString)")
        try "s3cret 'quoted'\n".write(to: password, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: password) }
        let newcomer = TestDatabase.uniqueRoleName("erik")
        _ = ok(try f.run("admin", "user", "create", newcomer, "--password-file", password.path))
        let notAdmin = try f.run("alice", "user", "create", TestDatabase.uniqueRoleName("x"))
        #expect(notAdmin.status == 77, "\(notAdmin)")

        _ = ok(try f.run("admin", "group", "create", "CRM", "--name", "CRM förvaltning"))
        let groups = json(ok(try f.run("bob", "group", "list", "--format", "json")))["groups"] as? [[String: Any]]
        #expect(groups?.first?["code"] as? String == "CRM")
        #expect(groups?.first?["name"] as? String == "CRM förvaltning")
        _ = ok(try f.run("admin", "member", "add", "CRM", f.login("alice"), "--role", "manager"))
        _ = ok(try f.run("alice", "member", "add", "CRM", newcomer, "--role", "viewer"))
        let members = ok(try f.run("bob", "member", "list", "CRM", "--format", "csv"))
        #expect(members.stdout.hasPrefix("login,role,added_at,added_by\r\n"))  // RFC 4180: CRLF
        #expect(members.stdout.contains("\(newcomer),viewer"))
        _ = ok(try f.run("alice", "member", "remove", "CRM", newcomer))
        #expect(!(try f.run("bob", "member", "list", "CRM")).stdout.contains(newcomer))

        _ = ok(try f.run("admin", "env", "create", "PREPROD", "--name", "Pre-production", "--kind", "preprod", "--capacity", "2"))
        let envs = json(ok(try f.run("bob", "env", "list", "--format", "json")))["environments"] as? [[String: Any]]
        #expect(envs?.first?["capacity"] as? Int == 2)
        #expect(envs?.first?["kind"] as? String == "preprod")
        _ = ok(try f.run("admin", "freeze", "create", "YE", "--start", "2030-12-20", "--end", "2031-01-07", "--reason", "Year end"))
        _ = ok(try f.run("admin", "freeze", "create", "PP", "--start", "2030-11-01 08:00", "--end", "2030-11-02 08:00",
                         "--reason", "Patch", "--env", "PREPROD"))
        let freezes = ok(try f.run("bob", "freeze", "list", "--format", "csv"))
        #expect(freezes.stdout.contains("PP,2030-11-01T08:00:00Z,2030-11-02T08:00:00Z,PREPROD,Patch"), "\(freezes)")
        _ = ok(try f.run("alice", "target", "link", "crm-api", "--part-of", "srv-crm-01"))
        let cycle = try f.run("alice", "target", "link", "srv-crm-01", "--part-of", "crm-api")
        #expect(cycle.status == 65 && cycle.stderr.contains("cycle"), "\(cycle)")
        #expect(ok(try f.run("bob", "target", "list", "--format", "csv")).stdout.contains("crm-api,srv-crm-01"))

        _ = ok(try f.run("admin", "model", "create", "--file", PlanningCLITests.modelFile))
        let again = ok(try f.run("admin", "model", "create", "--file", PlanningCLITests.modelFile))
        #expect(again.stdout.contains("unchanged (version 1)"))
        let models = json(ok(try f.run("bob", "model", "list", "--format", "json")))["models"] as? [[String: Any]]
        #expect(models?.first?["code"] as? String == "STANDARD")
        #expect(ok(try f.run("bob", "model", "show", "STANDARD")).stdout.contains("cab-approved"))
        let badModel = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString).yaml")
        try "code: X\nname: x\nphases:\n  plan:\n    exit:\n      - name: a\n        chek: manual\n".write(to: badModel, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: badModel) }
        let invalid = try f.run("admin", "model", "create", "--file", badModel.path)
        #expect(invalid.status == 65 && invalid.stderr.contains(":7:"), "line numbers in model errors: \(invalid)")

        _ = ok(try f.run("alice", "plan", "create", "CRM", "CRM-2030", "--title", "Roadmap", "--change-ref", "CHG-1", "--model", "STANDARD"))
        _ = ok(try f.run("alice", "plan", "stakeholder", "add", "CRM/CRM-2030", "Sales", "--role", "business-owner"))
        let plan = json(ok(try f.run("bob", "plan", "show", "CRM/CRM-2030", "--format", "json")))
        #expect(plan["model"] as? String == "STANDARD")
        #expect((plan["stakeholders"] as? [[String: Any]])?.first?["role"] as? String == "business-owner")
        let plans = ok(try f.run("bob", "plan", "list", "--group", "CRM", "--format", "csv"))
        #expect(plans.stdout.contains("CRM,CRM-2030,Roadmap,CHG-1,STANDARD,1,0"), "\(plans)")

        _ = ok(try f.run("alice", "release", "create", "CRM", "R1", "--plan", "CRM-2030",
                         "--deploy-start", "2030-06-01 22:00", "--deploy-end", "2030-06-02 02:00", "--tz", "Europe/Stockholm"))
        _ = ok(try f.run("alice", "release", "assign", "CRM/R1", "--implementer", "carol"))
        _ = ok(try f.run("alice", "release", "pin", "CRM/R1"))
        let shown = json(ok(try f.run("bob", "release", "show", "CRM/R1", "--format", "json")))
        #expect(shown["deploy_start"] as? String == "2030-06-01T20:00:00Z")
        #expect(shown["implementer"] as? String == "carol")
        #expect(shown["pinned"] as? Bool == true)
        _ = ok(try f.run("alice", "deviation", "add", "CRM/R1", "--severity", "medium", "--text", "Late 'quoted' delivery; --"))
        let deviations = json(ok(try f.run("bob", "deviation", "list", "--format", "json")))["deviations"] as? [[String: Any]]
        #expect(deviations?.first?["text"] as? String == "Late 'quoted' delivery; --")
        let cancel = ok(try f.run("alice", "release", "advance", "CRM/R1", "--to", "cancelled"))
        #expect(cancel.stdout.contains("planned → cancelled"))
        let audit = json(ok(try f.run("bob", "audit", "--group", "CRM", "--since", "2020-01-01", "--format", "json")))
        let entries = audit["entries"] as? [[String: Any]] ?? []
        #expect(entries.contains { ($0["change"] as? String ?? "").contains("status: planned → cancelled") })
        #expect(entries.allSatisfy { ($0["group"] as? String) == "CRM" })
        // One timestamp style: the change text says Z as everything else does, never +00:00.
        let changes = entries.map { $0["change"] as? String ?? "" }
        #expect(changes.contains { $0.contains("deploy_start=2030-06-01T20:00:00Z") }, "\(changes)")
        #expect(!changes.contains { $0.contains("+00:00") }, "\(changes)")
        let status = ok(try f.run("admin", "db", "status", "--format", "csv"))
        #expect(status.stdout.contains("applied"))
        #expect(!status.stdout.contains("pending"))
    }
}

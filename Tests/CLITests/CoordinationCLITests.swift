import Foundation
import Postgres
import Testing
import TestSupport

/// Three groups, each with its own release manager (Åsa, Björn, Märta; logins are ASCII), resolving
/// a shared quarter through the CLI:
/// LÖN/Årsbokslut (priority 1) must leave the frozen W0 for W1, which KÖP/Inköp (2) and
/// KÖP/Inköp-2 (5) over-fill; KÖP/Inköp moves on to W2, which SÄLJ/Kampanj (3) and SÄLJ/Kampanj-2
/// (5) over-fill; SÄLJ/Kampanj moves on to W3, the priority-5 ones further out.
private struct Quarter {
    let f: PlanningFixture

    static func make() throws -> Quarter {
        let f = try PlanningFixture.make(people: ["asa", "bjorn", "marta"])
        let admin = try f.database.connect(user: f.login("admin"))
        let base = Date().addingTimeInterval(14 * 86_400)
        let hour = Date(timeIntervalSince1970: (base.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
        for week in 0...6 {
            let start = hour.addingTimeInterval(Double(week) * 7 * 86_400)
            try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ($1, $2, $3, 1)",
                              ["W\(week)", start, start.addingTimeInterval(4 * 3600)])
        }
        try admin.execute("INSERT INTO change_freeze (code, starts_at, ends_at, reason) VALUES ('BOKSLUT', $1, $2, 'Bokslut')",
                          [hour.addingTimeInterval(-3600), hour.addingTimeInterval(5 * 3600)])
        for (group, person) in [("LÖN", "asa"), ("KÖP", "bjorn"), ("SÄLJ", "marta")] {
            try admin.execute("INSERT INTO management_group (code, name) VALUES ($1, $1)", [group])
            try admin.execute("INSERT INTO membership (group_id, role_name, role) SELECT id, $2, 'release-manager' FROM management_group WHERE code = $1",
                              [group, f.login(person)])
        }
        let quarter = Quarter(f: f)
        for (person, group, code, window, priority) in [("asa", "LÖN", "Årsbokslut", "W0", 1), ("bjorn", "KÖP", "Inköp", "W1", 2),
                                                         ("bjorn", "KÖP", "Inköp-2", "W1", 5), ("marta", "SÄLJ", "Kampanj", "W2", 3),
                                                         ("marta", "SÄLJ", "Kampanj-2", "W2", 5)] {
            if !code.hasSuffix("-2") { try quarter.ok(person, "plan", "create", group, "P", "--title", "Kvartal") }
            try quarter.ok(person, "release", "create", group, code, "--plan", "P", "--window", window, "--priority", String(priority))
        }
        return quarter
    }

    /// Runs relplan as `person` and expects exit 0.
    @discardableResult
    func ok(_ person: String, _ arguments: String...) throws -> CLIResult {
        let result = try f.run(person, arguments)
        #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result)")
        return result
    }

    func run(_ person: String, _ arguments: String...) throws -> CLIResult { try f.run(person, arguments) }

    /// The id of the open (or latest) move of `release`.
    func proposal(_ release: String) throws -> Int64 {
        let parts = release.split(separator: "/").map(String.init)
        return try f.database.connect().query("""
            SELECT p.id FROM schedule_proposal p JOIN release r ON r.id = p.release_id JOIN management_group g ON g.id = r.group_id
            WHERE g.code = $1 AND r.code = $2 ORDER BY p.id DESC LIMIT 1
            """, [parts[0], parts[1]]).rows[0].decode(Int64.self)
    }

    func windows() throws -> [String: String] {
        var result: [String: String] = [:]
        for row in try f.database.connect().query(
            "SELECT g.code || '/' || r.code, w.code FROM release r JOIN management_group g ON g.id = r.group_id JOIN service_window w ON w.id = r.window_id").rows {
            let (release, window) = try row.decode((String, String).self)
            result[release] = window
        }
        return result
    }

    static let before = ["LÖN/Årsbokslut": "W0", "KÖP/Inköp": "W1", "KÖP/Inköp-2": "W1", "SÄLJ/Kampanj": "W2", "SÄLJ/Kampanj-2": "W2"]
    static let promised = ["LÖN/Årsbokslut": "W1", "KÖP/Inköp": "W2", "KÖP/Inköp-2": "W4", "SÄLJ/Kampanj": "W3", "SÄLJ/Kampanj-2": "W5"]
}

@Suite("CLI: a quarter resolved by three groups, each as its own release manager")
struct CoordinationCLITests {
    @Test("resolve --apply by the first group stores the chain and exits 0; proposals shows it; the others accept in any order; the last acceptance carries out the rest")
    func anyOrder() throws {
        let q = try Quarter.make()
        defer { q.f.drop() }
        let applied = try q.ok("asa", "schedule", "resolve", "--apply")
        let (a, b, b2, c, c2) = (try q.proposal("LÖN/Årsbokslut"), try q.proposal("KÖP/Inköp"), try q.proposal("KÖP/Inköp-2"),
                                 try q.proposal("SÄLJ/Kampanj"), try q.proposal("SÄLJ/Kampanj-2"))
        #expect(applied.stdout.contains("applied 0 moves; stored 4 proposals for other groups; 1 move of yours waits on them\n"), "\(applied)")
        #expect(applied.stdout.contains("  proposal \(b) for KÖP/Inköp: its group accepts with `relplan schedule accept \(b)`\n"))
        #expect(applied.stdout.contains("  your move \(a): LÖN/Årsbokslut waits on KÖP/Inköp leaving W1: proposal \(b) for KÖP; KÖP/Inköp-2 leaving W1: proposal \(b2) for KÖP\n"))
        #expect(applied.stdout.contains("  proposal \(b): KÖP/Inköp waits on SÄLJ/Kampanj leaving W2: proposal \(c) for SÄLJ; SÄLJ/Kampanj-2 leaving W2: proposal \(c2) for SÄLJ\n"))
        #expect(applied.stdout.contains("your waiting moves are carried out by the database as soon as what they wait on is accepted"))
        #expect(try q.windows() == Quarter.before)

        let listed = try q.ok("bjorn", "schedule", "proposals", "--group", "KÖP")
        let line = try #require(listed.stdout.split(separator: "\n").first { $0.hasPrefix("\(b) ") })
        #expect(line.contains("KÖP/Inköp") && line.contains("pending") && line.contains("\(c) SÄLJ/Kampanj (SÄLJ, pending); \(c2) SÄLJ/Kampanj-2 (SÄLJ, pending)")
                && line.contains("\(a) LÖN/Årsbokslut (LÖN, approved)"), "\(listed.stdout)")
        let json = try q.ok("bjorn", "schedule", "proposals", "--group", "KÖP", "--format", "json")
        let rows = try #require((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["proposals"] as? [[String: Any]])
        #expect(rows.first { $0["id"] as? Int == Int(b) }?["needed_by"] as? String == String(a), "\(json.stdout)")

        let first = try q.ok("marta", "schedule", "accept", String(c2))
        #expect(first.stdout == "accepted proposal \(c2): SÄLJ/Kampanj-2 moved from W2 to W5\n")
        let waits = try q.ok("bjorn", "schedule", "accept", String(b))
        #expect(waits.stdout == "approved proposal \(b) for KÖP/Inköp: it waits on SÄLJ/Kampanj leaving W2 (proposal \(c) for SÄLJ); the database carries it out when those are accepted\n")
        #expect(try q.ok("bjorn", "schedule", "accept", String(b2)).stdout == "accepted proposal \(b2): KÖP/Inköp-2 moved from W1 to W4\n")
        #expect(try q.windows()["LÖN/Årsbokslut"] == "W0" && q.windows()["KÖP/Inköp"] == "W1")
        let last = try q.ok("marta", "schedule", "accept", String(c))
        // What waited is carried out in the order it was stored.
        let carried = [(a, "  carried out move \(a) (LÖN): LÖN/Årsbokslut moved from W0 to W1\n"),
                       (b, "  carried out move \(b) (KÖP): KÖP/Inköp moved from W1 to W2\n")].sorted { $0.0 < $1.0 }.map(\.1)
        #expect(last.stdout == "accepted proposal \(c): SÄLJ/Kampanj moved from W2 to W3\n" + carried.joined(), "\(last)")
        #expect(try q.windows() == Quarter.promised)
        let clean = try q.run("asa", "conflicts", "--exit-code")
        #expect(clean.status == 0 && clean.stdout == "no conflicts\n", "\(clean)")
        // Accepting again changes nothing, and says so.
        let again = try q.ok("marta", "schedule", "accept", String(c))
        #expect(again.stdout == "proposal \(c) for SÄLJ/Kampanj is accepted already (moved from W2 to W3); nothing changed\n", "\(again)")
    }

    @Test("a rejection withdraws what waited on it, with the reason its owner sees; a withdrawn proposal is refused (65)")
    func rejected() throws {
        let q = try Quarter.make()
        defer { q.f.drop() }
        try q.ok("asa", "schedule", "resolve", "--apply")
        let (a, b, c) = (try q.proposal("LÖN/Årsbokslut"), try q.proposal("KÖP/Inköp"), try q.proposal("SÄLJ/Kampanj"))
        let rejected = try q.ok("bjorn", "schedule", "reject", String(b), "--reason", "Leverantören kan bara i W1")
        #expect(rejected.stdout.hasPrefix("rejected proposal \(b)\n"), "\(rejected)")
        #expect(rejected.stdout.contains("  withdrew move \(a) (LÖN) for LÖN/Årsbokslut: withdrawn: proposal \(b) for KÖP/Inköp was rejected: Leverantören kan bara i W1\n"),
                "\(rejected)")
        #expect(rejected.stdout.contains("  withdrew move \(c) (SÄLJ) for SÄLJ/Kampanj: withdrawn: no longer needed"), "\(rejected)")
        // Åsa sees why her move was withdrawn.
        let mine = try q.ok("asa", "schedule", "proposals", "--group", "LÖN", "--all", "--format", "json")
        let rows = try #require((try JSONSerialization.jsonObject(with: Data(mine.stdout.utf8)) as? [String: Any])?["proposals"] as? [[String: Any]])
        #expect(rows.first?["status"] as? String == "withdrawn")
        #expect((rows.first?["decision_reason"] as? String)?.contains("was rejected: Leverantören kan bara i W1") == true)
        let refused = try q.run("marta", "schedule", "accept", String(c))
        #expect(refused.status == 65 && refused.stderr.contains("proposal \(c) is withdrawn already (withdrawn: no longer needed"), "\(refused)")
        #expect(try q.windows() == Quarter.before)
    }

    @Test("a release changed after the plan was stored: accepting is refused as stale (65), says what changed and what to run, and moves nothing")
    func stale() throws {
        let q = try Quarter.make()
        defer { q.f.drop() }
        try q.ok("asa", "schedule", "resolve", "--apply")
        let (a, b, c) = (try q.proposal("LÖN/Årsbokslut"), try q.proposal("KÖP/Inköp"), try q.proposal("SÄLJ/Kampanj"))
        try q.ok("marta", "release", "pin", "SÄLJ/Kampanj")
        let refused = try q.run("marta", "schedule", "accept", String(c))
        #expect(refused.status == 65, "\(refused)")
        #expect(refused.stderr.contains("proposal \(c) for SÄLJ/Kampanj can no longer be carried out: SÄLJ/Kampanj changed since the move was computed"), "\(refused)")
        #expect(refused.stderr.contains("it is marked stale (nothing moved); run `relplan schedule resolve --apply` to compute a new plan"), "\(refused)")
        #expect(try q.windows() == Quarter.before)
        // What waited on it is withdrawn; Björn's proposal is refused too.
        let listed = try q.ok("asa", "schedule", "proposals", "--all", "--format", "csv")
        #expect(listed.stdout.contains("\(b),KÖP/Inköp") && listed.stdout.contains("withdrawn"), "\(listed.stdout)")
        let refusedToo = try q.run("bjorn", "schedule", "accept", String(b))
        #expect(refusedToo.status == 65 && refusedToo.stderr.contains("is withdrawn already"), "\(refusedToo)")
        _ = a
        // Computing again from the changed portfolio works: a new plan, exit 0.
        let again = try q.ok("asa", "schedule", "resolve", "--apply")
        #expect(again.stdout.contains("stored"), "\(again)")
    }

    @Test("a plan the database refuses every time it is computed again is not retryable: exit 65 saying so, nothing changed")
    func refusedEveryTime() throws {
        let f = try PlanningFixture.make(people: ["asa"])
        defer { f.drop() }
        let admin = try f.database.connect(user: f.login("admin"))
        let base = Date().addingTimeInterval(30 * 86_400)
        for (week, code) in ["W0", "W1"].enumerated() {
            let start = base.addingTimeInterval(Double(week) * 7 * 86_400)
            try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ($1, $2, $3, 1)", [code, start, start.addingTimeInterval(4 * 3600)])
        }
        try admin.execute("INSERT INTO management_group (code, name) VALUES ('LÖN', 'Lön')")
        try admin.execute("INSERT INTO membership (group_id, role_name, role) SELECT id, $1, 'release-manager' FROM management_group", [f.login("asa")])
        try f.run("asa", "plan", "create", "LÖN", "P", "--title", "P")
        for code in ["Lön-1", "Lön-2"] { try f.run("asa", "release", "create", "LÖN", code, "--plan", "P", "--window", "W0") }
        // A rule the resolver knows nothing of: nothing may leave W0.
        try f.database.connect().execute("ALTER TABLE release ADD CONSTRAINT stays_in_w0 CHECK (window_id = \(try f.database.connect().query("SELECT id FROM service_window WHERE code = 'W0'").rows[0].decode(Int.self)))", simple: true)
        let refused = try f.run("asa", "schedule", "resolve", "--apply")
        #expect(refused.status == 65, "\(refused)")
        #expect(refused.stderr.contains("the plan was computed again and refused each time") && refused.stderr.contains("retrying will not help"), "\(refused)")
        let moved = try f.database.connect().query("SELECT count(*)::int FROM release r JOIN service_window w ON w.id = r.window_id WHERE w.code = 'W0'")
        #expect(try moved.rows[0].decode(Int.self) == 2)
        #expect(try f.database.connect().query("SELECT count(*)::int FROM schedule_proposal").rows[0].decode(Int.self) == 0)
    }
}

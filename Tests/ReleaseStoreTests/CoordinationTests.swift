import Foundation
import Postgres
import ReleaseCore
import ReleaseStore
import Scheduling
import Testing
import TestSupport

/// Three groups, each with its own release manager, and a chain the resolver builds: CRM/A
/// (priority 1) must leave the frozen W0 for W1, which HR/B (priority 2) and HR/B2 over-fill; HR/B
/// moves on to W2, which WEB/C (priority 3) and WEB/C2 over-fill; WEB/C moves on to W3, and the
/// two priority-5 releases further out.
struct ChainFixture {
    let fixture: PlanningFixture
    let base: Date
    var database: TestDatabase { fixture.database }

    static func make() throws -> ChainFixture {
        let fixture = try PlanningFixture.make(people: ["crm", "hr", "web", "viewer"])
        let admin = try fixture.database.connect(user: fixture.login("admin"))
        let base = Date().addingTimeInterval(14 * 86_400).rounded(to: 3600)
        for week in 0...6 {
            let start = base.addingTimeInterval(Double(week) * 7 * 86_400)
            try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ($1, $2, $3, 1)",
                              ["W\(week)", start, start.addingTimeInterval(4 * 3600)])
        }
        try admin.execute("INSERT INTO change_freeze (code, starts_at, ends_at, reason) VALUES ('FREEZE', $1, $2, 'Audit')",
                          [base.addingTimeInterval(-3600), base.addingTimeInterval(5 * 3600)])
        for (group, person) in [("CRM", "crm"), ("HR", "hr"), ("WEB", "web")] {
            try admin.execute("INSERT INTO management_group (code, name) VALUES ($1, $1)", [group])
            try admin.execute("INSERT INTO membership (group_id, role_name, role) SELECT id, $2, 'release-manager' FROM management_group WHERE code = $1",
                              [group, fixture.login(person)])
        }
        try admin.execute("INSERT INTO membership (group_id, role_name, role) SELECT id, $1, 'viewer' FROM management_group WHERE code = 'CRM'",
                          [fixture.login("viewer")])
        for (group, person, code, window, priority) in [("CRM", "crm", "A", "W0", 1), ("HR", "hr", "B", "W1", 2), ("HR", "hr", "B2", "W1", 5),
                                                         ("WEB", "web", "C", "W2", 3), ("WEB", "web", "C2", "W2", 5)] {
            let db = try fixture.database.connect(user: fixture.login(person))
            let me = try Identity.current(db)
            if !code.hasSuffix("2") { try Plans(db).create(group: group, code: "P", title: "Plan", changeRef: nil, model: nil, by: me) }
            _ = try Releases(db).create(NewRelease(ref: try ReleaseRef(group: group, code: code), plan: "P", window: window,
                                                   priority: try Priority(priority)), by: me)
        }
        return ChainFixture(fixture: fixture, base: base)
    }

    func connect(_ person: String) throws -> (Connection, Identity) {
        let db = try database.connect(user: fixture.login(person))
        return (db, try Identity.current(db))
    }

    func windows() throws -> [String: String] {
        let db = try database.connect()
        var result: [String: String] = [:]
        for row in try db.query("SELECT g.code || '/' || r.code, w.code FROM release r JOIN management_group g ON g.id = r.group_id JOIN service_window w ON w.id = r.window_id").rows {
            let (release, window) = try row.decode((String, String).self)
            result[release] = window
        }
        return result
    }

    func status(_ id: Int64) throws -> (String, String?) {
        let row = try #require(try database.connect().query("SELECT status, decision_reason FROM schedule_proposal WHERE id = $1", [id]).first)
        return try row.decode((String, String?).self)
    }

    func drop() { fixture.drop() }
}

extension Date {
    func rounded(to seconds: TimeInterval) -> Date {
        Date(timeIntervalSince1970: (timeIntervalSince1970 / seconds).rounded(.down) * seconds)
    }
}

@Suite("Coordination: a plan carried out across groups")
struct CoordinationTests {
    struct Plan {
        let ids: [String: Int64]
        subscript(_ release: String) -> Int64 { ids[release] ?? -1 }
    }

    func storePlan(_ chain: ChainFixture) throws -> (ApplyOutcome, Plan) {
        let (crmDB, crm) = try chain.connect("crm")
        let (_, outcome) = try ScheduleStore(crmDB, deadlineZone: .gmt).resolveAndApply(by: crm)
        return (outcome, Plan(ids: Dictionary(uniqueKeysWithValues: outcome.waiting.map { ($0.release, $0.id) })))
    }

    func decide(_ chain: ChainFixture, _ person: String, _ id: Int64, reject: String? = nil) throws -> DecisionOutcome {
        let (db, me) = try chain.connect(person)
        let store = ScheduleStore(db, deadlineZone: .gmt)
        return try reject.map { try store.reject(id, reason: $0, by: me) } ?? store.accept(id, by: me)
    }

    static let before = ["CRM/A": "W0", "HR/B": "W1", "HR/B2": "W1", "WEB/C": "W2", "WEB/C2": "W2"]
    static let promised = ["CRM/A": "W1", "HR/B": "W2", "HR/B2": "W4", "WEB/C": "W3", "WEB/C2": "W5"]

    @Test("a chain of three waiting moves across three groups is carried out by the last acceptance, in one transaction")
    func chainOfThree() throws {
        let chain = try ChainFixture.make()
        defer { chain.drop() }
        let (outcome, plan) = try storePlan(chain)
        #expect(outcome.applied.isEmpty && outcome.waiting.count == 5)
        let a = try #require(outcome.waiting.first { $0.release == "CRM/A" })
        let b = try #require(outcome.waiting.first { $0.release == "HR/B" })
        #expect(a.status == "approved" && b.status == "pending")
        #expect(a.waitsOn.map(\.id) == [plan["HR/B"], plan["HR/B2"]])
        #expect(b.waitsOn.map(\.id) == [plan["WEB/C"], plan["WEB/C2"]])
        #expect(a.waitText == "CRM/A waits on HR/B leaving W1: proposal \(plan["HR/B"]) for HR; HR/B2 leaving W1: proposal \(plan["HR/B2"]) for HR")
        for release in ["HR/B2", "WEB/C", "WEB/C2"] { #expect(outcome.waiting.first { $0.release == release }?.waitsOn.isEmpty == true) }

        #expect(try decide(chain, "hr", plan["HR/B2"]).status == "accepted")
        let approved = try decide(chain, "hr", plan["HR/B"])
        #expect(approved.status == "approved" && approved.waitsOn.map(\.id) == [plan["WEB/C"], plan["WEB/C2"]])
        #expect(try decide(chain, "web", plan["WEB/C2"]).status == "accepted")
        #expect(try chain.windows()["HR/B"] == "W1" && chain.windows()["CRM/A"] == "W0")
        let last = try decide(chain, "web", plan["WEB/C"])
        #expect(last.status == "accepted")
        #expect(Set(last.carriedOut.map(\.id)) == [plan["CRM/A"], plan["HR/B"], plan["WEB/C"]])
        #expect(try chain.windows() == Self.promised)
        // One transaction: the three moves share its timestamp.
        let stamps = try chain.database.connect().query("SELECT DISTINCT decided_at FROM schedule_proposal WHERE id = ANY ($1::bigint[])",
                                                        [[plan["CRM/A"], plan["HR/B"], plan["WEB/C"]]]).rows
        #expect(stamps.count == 1)
        let (db, _) = try chain.connect("viewer")
        #expect(try ScheduleStore(db, deadlineZone: .gmt).conflicts().isEmpty)
    }

    @Test("the middle proposal rejected: everything withdrawn with a reason, nothing moved")
    func middleRejected() throws {
        let chain = try ChainFixture.make()
        defer { chain.drop() }
        let (_, plan) = try storePlan(chain)
        let rejected = try decide(chain, "hr", plan["HR/B"], reject: "supplier only free in W1")
        #expect(rejected.status == "rejected")
        #expect(Set(rejected.withdrawn.map(\.id)) == [plan["CRM/A"], plan["HR/B2"], plan["WEB/C"], plan["WEB/C2"]])
        let (aStatus, aReason) = try chain.status(plan["CRM/A"])
        #expect(aStatus == "withdrawn")
        #expect(aReason?.contains("proposal \(plan["HR/B"]) for HR/B was rejected: supplier only free in W1") == true)
        #expect(try chain.status(plan["WEB/C"]).1?.contains("no longer needed") == true)
        #expect(try chain.windows() == Self.before)
        // A withdrawn proposal can no longer be accepted.
        #expect(try decide(chain, "web", plan["WEB/C"]).status == "withdrawn")
        #expect(try chain.windows() == Self.before)
    }

    @Test("accepting in the other order: each acceptance carries out what holds, the last one the rest")
    func otherOrder() throws {
        let chain = try ChainFixture.make()
        defer { chain.drop() }
        let (_, plan) = try storePlan(chain)
        #expect(try decide(chain, "web", plan["WEB/C"]).status == "accepted")
        #expect(try decide(chain, "web", plan["WEB/C2"]).status == "accepted")
        #expect(try decide(chain, "hr", plan["HR/B"]).status == "accepted")
        let last = try decide(chain, "hr", plan["HR/B2"])
        #expect(last.status == "accepted" && Set(last.carriedOut.map(\.id)) == [plan["HR/B2"], plan["CRM/A"]])
        #expect(try chain.windows() == Self.promised)
    }

    @Test("a stale proposal: refused with what changed, its dependents withdrawn")
    func stale() throws {
        let chain = try ChainFixture.make()
        defer { chain.drop() }
        let (_, plan) = try storePlan(chain)
        let ids = plan.ids
        let (webDB, web) = try chain.connect("web")
        // WEB pins its release by hand after the plan was stored.
        try webDB.execute("UPDATE release SET pinned = true WHERE code = 'C'")
        let refused = try ScheduleStore(webDB, deadlineZone: .gmt).accept(try #require(ids["WEB/C"]), by: web)
        #expect(refused.status == "stale")
        #expect(refused.detail?.contains("WEB/C changed since the move was computed") == true)
        #expect(try chain.status(try #require(ids["HR/B"])).0 == "withdrawn")
        #expect(try chain.status(try #require(ids["CRM/A"])).0 == "withdrawn")
        #expect(try chain.windows() == Self.before)
    }

    @Test("a login holding the scheduler's lock: apply and accept give up within the timeout, exit 75 naming the holder")
    func lockHolder() throws {
        let chain = try ChainFixture.make()
        defer { chain.drop() }
        // The old advisory lock no longer stops anything.
        let stranger = try chain.database.connect(user: chain.fixture.login("viewer"))
        try stranger.execute("SELECT pg_advisory_lock(7217)")
        let (crmDB, crm) = try chain.connect("crm")
        try crmDB.execute("SET relplan.scheduler_lock_timeout = '300ms'")
        expectPermissionDenied("the scheduler's lock row") { try stranger.execute("SELECT 1 FROM scheduler_lock FOR UPDATE") }
        expectPermissionDenied("relplan_lock_scheduler()") { try stranger.execute("SELECT relplan_lock_scheduler()") }
        let (_, outcome) = try ScheduleStore(crmDB, deadlineZone: .gmt).resolveAndApply(by: crm)
        #expect(outcome.waiting.count == 5)
        // A release manager who leaves a decision open holds the lock: others wait at most the timeout.
        let (hrDB, _) = try chain.connect("hr")
        try hrDB.execute("BEGIN")
        try hrDB.execute("SELECT relplan_lock_scheduler()")
        let started = Date()
        var message = ""
        do {
            _ = try ScheduleStore(crmDB, deadlineZone: .gmt).resolveAndApply(by: crm)
        } catch let error as StoreError {
            message = error.description
            if case .busy = error {} else { Issue.record("expected busy, got \(error)") }
        }
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(message.contains(chain.fixture.login("hr")) && message.contains("retry"))
        try hrDB.execute("ROLLBACK")
        #expect(try ScheduleStore(crmDB, deadlineZone: .gmt).resolveAndApply(by: crm).1.waiting.count == 5)
    }

    @Test("forged proposals of every action, stored through plain SQL by another group: shown as they act, refused on accept when they break a rule")
    func forged() throws {
        let chain = try ChainFixture.make()
        defer { chain.drop() }
        let (crmDB, _) = try chain.connect("crm")
        let ids = try chain.database.connect().query("""
            SELECT (SELECT id FROM release WHERE code = 'B'), (SELECT row_version FROM release WHERE code = 'B'),
                   (SELECT id FROM service_window WHERE code = 'W0'), (SELECT starts_at FROM service_window WHERE code = 'W0'),
                   (SELECT ends_at FROM service_window WHERE code = 'W0'), (SELECT id FROM release WHERE code = 'A')
            """).rows[0]
        let (release, version, frozen, start, end, _) = try ids.decode((Int64, Int, Int, Date, Date, Int64).self)
        func move(_ fields: String) -> String {
            "[{\"release\":\(release),\"version\":\(version),\"reason\":\"to W3, a quiet night\",\(fields)}]"
        }
        let stamp = { (d: Date) in PostgresTimestamp.format(d) }
        // move-window into the freeze: stored, its text says W0 (not what the reason claims), refused on accept.
        let stored = try crmDB.query("SELECT id, status FROM relplan_store_plan($1::jsonb, 'UTC')", [move("""
            "action":"move-window","window":\(frozen),"deploy_start":"\(stamp(start))","deploy_end":"\(stamp(end))"
            """)]).rows[0]
        let id = try stored.decode(Int64.self, "id")
        #expect(try stored.decode(String.self, "status") == "pending")
        let shown = try #require(try ScheduleStore(crmDB, deadlineZone: .gmt).proposals(group: "HR").first { $0.id == id })
        #expect(shown.from == "W1" && shown.to == "W0" && shown.action == "move-window")
        let decided = try decide(chain, "hr", id)
        #expect(decided.status == "stale" && (decided.detail?.contains("W0") == true || decided.detail?.contains("FREEZE") == true), "\(decided.detail ?? "")")
        #expect(try chain.windows()["HR/B"] == "W1")
        // Malformed moves of every action are refused outright (22023), nothing stored.
        let before = try chain.database.connect().query("SELECT count(*) FROM schedule_proposal").rows[0].decode(Int.self)
        let malformed = [
            #""action":"move-window","window":null,"deploy_start":null,"deploy_end":null"#,
            "\"action\":\"move-window\",\"window\":\(frozen),\"deploy_start\":\"\(stamp(start))\",\"deploy_end\":\"\(stamp(end.addingTimeInterval(3600)))\"",
            "\"action\":\"retime\",\"deploy_start\":\"\(stamp(start))\",\"deploy_end\":\"\(stamp(end))\"",
            #""action":"shift-booking","bookings":[{"booking":999999,"start":"2030-01-01 00:00Z","end":"2030-01-02 00:00Z"}]"#,
            #""action":"shift-booking","bookings":[]"#,
            #""action":"delete-release""#,
        ]
        for fields in malformed {
            #expect(throws: PostgresError.self, "\(fields)") { try crmDB.query("SELECT * FROM relplan_store_plan($1::jsonb, 'UTC')", [move(fields)]) }
        }
        #expect(try chain.database.connect().query("SELECT count(*) FROM schedule_proposal").rows[0].decode(Int.self) == before)
        // A viewer stores nothing; nobody writes the table directly.
        let (viewerDB, _) = try chain.connect("viewer")
        expectPermissionDenied("a viewer stores a plan") { _ = try viewerDB.query("SELECT * FROM relplan_store_plan('[]'::jsonb, 'UTC')") }
        expectPermissionDenied("a planner writes a proposal directly") {
            try crmDB.execute("UPDATE schedule_proposal SET status = 'pending', new_window_id = $1 WHERE id = $2", [frozen, id])
        }
    }
}

import Foundation
import Postgres
import ReleaseCore
import ReleaseStore
import Synchronization
import Testing
import TestSupport

/// Issue 16 finding 6: a group's release model no longer shadows the shared one, versions are
/// the database's, per owner and code (sql/0019).
@Suite("Release models: namespaced per owner, numbered by the database")
struct ModelNamespaceTests {
    static func model(_ code: String, name: String, criteria: [String] = []) -> ReleaseModel {
        ReleaseModel(code: code, name: name, version: "1",
                     phases: ReleaseModel.Phases(deploy: ReleaseModel.Phase(exit: criteria.map { ReleaseModel.Criterion(name: $0) })))
    }

    /// CRM and HR with alice and bob as their release managers, and the shared STANDARD (with a gate) by the admin.
    static func twoGroups() throws -> (PlanningFixture, crm: Int, hr: Int) {
        let f = try PlanningFixture.make(people: ["alice", "bob"])
        let admin = try f.database.connect(user: f.login("admin"))
        let me = try Identity.current(admin)
        for (group, person) in [("CRM", "alice"), ("HR", "bob")] {
            try Directory(admin).createGroup(code: group, name: group, by: me)
            try Directory(admin).addMember(group: group, login: f.login(person), role: .releaseManager, by: me)
        }
        let shared = try Plans(admin).createModel(model("STANDARD", name: "Standard", criteria: ["cab-approved"]), source: "", group: nil, by: me)
        #expect(shared == (1, true))
        let ids = try admin.query("SELECT (SELECT id FROM management_group WHERE code = 'CRM'), (SELECT id FROM management_group WHERE code = 'HR')").first
        let pair = try ids?.decode((Int, Int).self)
        return (f, pair?.0 ?? -1, pair?.1 ?? -1)
    }

    /// The model a plan was made from: its owner's group code (nil: shared), version and name.
    static func planModel(_ group: String, _ plan: String, _ db: Connection) throws -> (owner: String?, version: Int, name: String)? {
        try db.query("""
            SELECT o.code, m.version, m.name FROM release_plan p JOIN management_group g ON g.id = p.group_id
            JOIN release_model m ON m.id = p.model_id LEFT JOIN management_group o ON o.id = m.group_id
            WHERE g.code = $1 AND p.code = $2
            """, [group, plan]).first.map { try $0.decode((String?, Int, String).self) }
    }

    @Test("the red team's attack: CRM's own gate-less STANDARD and a huge version change nothing for HR or the admins")
    func attack() throws {
        let (f, crm, hr) = try Self.twoGroups()
        defer { f.drop() }
        let alice = try f.database.connect(user: f.login("alice"))
        let bob = try f.database.connect(user: f.login("bob"))
        let admin = try f.database.connect(user: f.login("admin"))
        let insert = "INSERT INTO release_model (code, group_id, name, definition, source) VALUES ('STANDARD', $1, 'gate-less', $2::jsonb, '')"
        let gateless = String(decoding: try JSONEncoder().encode(Self.model("STANDARD", name: "gate-less")), as: UTF8.self)

        // CRM takes version 2147483647, of its own code or of the shared one: a version is never named.
        for (owner, what) in [(Int?.some(crm), "CRM's"), (nil, "the shared")] {
            expectPermissionDenied("alice names a version of \(what) STANDARD") {
                try alice.execute("INSERT INTO release_model (code, version, group_id, name, definition, source) VALUES ('STANDARD', 2147483647, $1, 'x', '{}', '')", [owner])
            }
        }
        expectPermissionDenied("alice stores a shared STANDARD") { try alice.execute(insert, [Int?.none, gateless]) }
        // CRM stores its own gate-less STANDARD through psql: version 1 of CRM's, whatever the shared one is at.
        try alice.execute(insert, [crm, gateless])
        try alice.execute(insert, [crm, gateless])
        #expect(try alice.query("SELECT version FROM release_model WHERE group_id = $1 AND code = 'STANDARD' ORDER BY version", [crm]).rows
            .map { try $0.decode(Int.self) } == [1, 2])

        // HR's next plan with --model STANDARD gets the shared model, CRM's gets its own.
        try Plans(bob).create(group: "HR", code: "HR-P", title: "", changeRef: nil, model: "STANDARD", by: try Identity.current(bob))
        try Plans(alice).create(group: "CRM", code: "CRM-P", title: "", changeRef: nil, model: "STANDARD", by: try Identity.current(alice))
        #expect(try Self.planModel("HR", "HR-P", admin).map { "\($0.owner ?? "shared") v\($0.version) \($0.name)" } == "shared v1 Standard")
        #expect(try Self.planModel("CRM", "CRM-P", admin).map { "\($0.owner ?? "shared") v\($0.version) \($0.name)" } == "CRM v2 gate-less")

        // Nor can HR's plan be pointed at CRM's model through psql: a plan's model is shared or its own group's.
        let crmModel = try #require(try admin.query("SELECT max(id) FROM release_model WHERE group_id = $1", [crm]).first?.decode(Int.self))
        for (what, statement) in [
            ("creates a plan", "INSERT INTO release_plan (group_id, code, title, model_id) VALUES ($1, 'HR-X', '', $2)"),
            ("repoints a plan", "UPDATE release_plan SET model_id = $2 WHERE group_id = $1 AND code = 'HR-P'"),
        ] {
            expectPermissionDenied("bob \(what) with CRM's model") { try bob.execute(statement, [hr, crmModel]) }
        }
        // The admins publish the shared model again, as version 2 of the shared STANDARD.
        let republished = try Plans(admin).createModel(Self.model("STANDARD", name: "Standard", criteria: ["cab-approved", "smoke-tested"]),
                                                       source: "", group: nil, by: try Identity.current(admin))
        #expect(republished == (2, true))
        #expect(try Plans(admin).model("STANDARD").name == "Standard")
        #expect(try Plans(admin).model("STANDARD", group: "HR").version == 2)
        #expect(try Plans(admin).model("STANDARD", group: "CRM").name == "gate-less")
        #expect(try Plans(admin).models().map { "\($0.group ?? "-") \($0.code) v\($0.version)" } == ["- STANDARD v2", "CRM STANDARD v2"])
        // Another group's own model is not found by code, with the group's view of codes suggested.
        try Plans(alice).createModel(Self.model("CRM-ONLY", name: "mine"), source: "", group: "CRM", by: try Identity.current(alice))
        #expect(throws: StoreError.notFound(kind: "release model", code: "CRM-ONLY", suggestion: nil)) {
            try Plans(bob).create(group: "HR", code: "HR-Q", title: "", changeRef: nil, model: "CRM-ONLY", by: try Identity.current(bob))
        }
    }

    @Test("an existing database upgrades in place: a group's version 2147483647 no longer blocks the shared model")
    func upgradeInPlace() throws {
        let database = try TestDatabase.empty()
        defer { database.drop() }
        let owner = try database.connect()
        let migrations = try Migration.bundled()
        try Migrator(migrations: migrations.filter { $0.version < 19 }).migrate(owner)
        // The attack as the old schema allowed it: CRM's STANDARD v2 and v2147483647, and an HR plan on CRM's model.
        try owner.execute("""
            INSERT INTO management_group (code, name) VALUES ('CRM', 'CRM'), ('HR', 'HR');
            INSERT INTO release_model (code, version, group_id, name, definition, source) VALUES
                ('STANDARD', 1, NULL, 'Standard', '{}', ''),
                ('STANDARD', 2, (SELECT id FROM management_group WHERE code = 'CRM'), 'gate-less', '{}', ''),
                ('STANDARD', 2147483647, (SELECT id FROM management_group WHERE code = 'CRM'), 'gate-less', '{}', '');
            INSERT INTO release_plan (group_id, code, model_id)
                SELECT (SELECT id FROM management_group WHERE code = 'HR'), 'HR-P', max(id) FROM release_model;
            """, simple: true)
        try Migrator(migrations: migrations).migrate(owner)
        // Shared versions continue from the shared ones; the stray plan is kept.
        try owner.execute("INSERT INTO release_model (code, name, definition, source) VALUES ('STANDARD', 'Standard', '{}', '')")
        #expect(try owner.query("SELECT version FROM release_model WHERE group_id IS NULL ORDER BY version").rows.map { try $0.decode(Int.self) } == [1, 2])
        #expect(try owner.query("SELECT count(*) FROM release_plan WHERE model_id IS NOT NULL").first?.decode(Int.self) == 1)
        // CRM's own code has run out: a clear refusal for CRM only.
        let exhausted = #expect(throws: PostgresError.self) {
            try owner.execute("INSERT INTO release_model (code, group_id, name, definition, source) SELECT 'STANDARD', id, 'x', '{}', '' FROM management_group WHERE code = 'CRM'")
        }
        #expect(exhausted?.message.contains("no version left") == true, "\(String(describing: exhausted))")
    }

    @Test("seeded: every owner's versions of a code are 1, 2, 3 … in order, and a group sees its own, else the shared one")
    func versionsPerOwner() throws {
        let (f, crm, hr) = try Self.twoGroups()
        defer { f.drop() }
        let superuser = try f.database.connect()
        // A seeded linear congruential generator (Knuth's MMIX constants): the same run every time.
        var state: UInt64 = 0x6d6f_6465_6c73
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let owners: [Int?] = [nil, crm, hr]
        let codes = ["A", "B", "C"]
        var expected: [String: Int] = ["-:STANDARD": 1]
        for _ in 0..<300 {
            let owner = owners[Int(next() % 3)]
            let code = codes[Int(next() % 3)]
            // Even the owner's INSERT naming a version gets the database's number.
            let named = Int(next() % 2_000_000_000) + 1
            let version = try superuser.query("""
                INSERT INTO release_model (code, version, group_id, name, definition, source) VALUES ($1, $2, $3, 'm', '{}', '') RETURNING version
                """, [code, named, owner]).first?.decode(Int.self)
            let key = "\(owner.map(String.init) ?? "-"):\(code)"
            expected[key, default: 0] += 1
            #expect(version == expected[key], "\(key): got \(String(describing: version))")
        }
        #expect(expected.count == 10, "every owner × code was exercised: \(expected.keys.sorted())")
        // The lookup: for each group and code, the group's latest own, else the shared latest, else unknown.
        for (group, groupID, person) in [("CRM", crm, "alice"), ("HR", hr, "bob")] {
            let db = try f.database.connect(user: f.login(person))
            for code in codes {
                let plan = "P-\(code)"
                let own = expected["\(groupID):\(code)"], shared = expected["-:\(code)"]
                do {
                    try Plans(db).create(group: group, code: plan, title: "", changeRef: nil, model: code, by: try Identity.current(db))
                    let got = try Self.planModel(group, plan, superuser)
                    #expect(got?.owner == (own == nil ? nil : group) && got?.version == (own ?? shared), "\(group) \(code): \(String(describing: got))")
                } catch let error as StoreError {
                    #expect(own == nil && shared == nil, "\(group) \(code): \(error)")
                }
            }
        }
    }

    @Test("eight admins and eight CRM planners storing versions at once: every version once, in each owner's own sequence")
    func concurrentVersions() throws {
        let (f, _, _) = try Self.twoGroups()
        defer { f.drop() }
        let clients = 8, perClient = 5
        let failures = Mutex<[String]>([])
        let versions = Mutex<[String: [Int]]>([:])
        let threads = (0..<(2 * clients)).map { index in
            Thread {
                do {
                    let person = index < clients ? "admin" : "alice"
                    let group: String? = index < clients ? nil : "CRM"
                    let db = try f.database.connect(user: f.login(person))
                    let me = try Identity.current(db)
                    for round in 0..<perClient {
                        let stored = try Plans(db).createModel(Self.model("CONC", name: "client \(index) round \(round)"), source: "", group: group, by: me)
                        versions.withLock { $0[group ?? "-", default: []].append(stored.version) }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        threads.forEach { $0.start() }
        // Bounded: a client stuck on a lock fails the test instead of hanging it.
        let limit = Date().addingTimeInterval(300)
        while threads.contains(where: { !$0.isFinished }) && Date() < limit { Thread.sleep(forTimeInterval: 0.02) }
        let finished = threads.allSatisfy { $0.isFinished }
        try #require(finished, "clients still running after 300 s")
        #expect(failures.withLock { $0 } == [])
        for owner in ["-", "CRM"] {
            #expect(versions.withLock { $0[owner]?.sorted() } == Array(1...(clients * perClient)), "\(owner)")
        }
    }
}

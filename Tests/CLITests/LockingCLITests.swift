import Foundation
import Postgres
import Testing
import TestSupport

/// Issue 16, findings 11 and 12: nobody who may not write can stop the nightly report, a
/// confirmation or the scheduler — not with the advisory keys relplan used to take, not with
/// relplan's own locks, not with LOCK TABLE; a writer who holds a lock makes the others fail fast
/// (exit 75, naming the holder, "retry") instead of hang.
@Suite("Locks nobody else can take")
struct LockingCLITests {
    /// CRM with alice (release-manager), vera (viewer), lone (no membership), bob (manager of HR),
    /// a crowded window the scheduler empties, an environment of capacity 2, and a stranger: a login
    /// with no relplan role.
    private struct Fixture {
        let f: PlanningFixture
        let stranger: String
        let environment: Int
        func drop() {
            f.drop()
            _ = try? TestDatabase.adminConnection().execute("DROP ROLE IF EXISTS \"\(stranger)\"", simple: true)
        }
    }

    private func fixture() throws -> Fixture {
        let f = try PlanningFixture.make(people: ["alice", "vera", "lone", "bob"])
        let stranger = TestDatabase.uniqueRoleName("stranger")
        try TestDatabase.adminConnection().execute("CREATE ROLE \"\(stranger)\" LOGIN", simple: true)
        let admin = try f.database.connect(user: f.login("admin"))
        try admin.execute("INSERT INTO management_group (code, name) VALUES ('CRM', 'CRM'), ('HR', 'HR')")
        let member = "INSERT INTO membership (group_id, role_name, role) SELECT id, $1, $2 FROM management_group WHERE code = $3"
        try admin.execute(member, [f.login("alice"), "release-manager", "CRM"])
        try admin.execute(member, [f.login("vera"), "viewer", "CRM"])
        try admin.execute(member, [f.login("bob"), "manager", "HR"])
        let environment = try #require(try admin.query(
            "INSERT INTO environment (code, name, capacity) VALUES ('TEST', 'Test', 2) RETURNING id").first?.decode(Int.self))
        let base = Date().addingTimeInterval(30 * 86_400)
        try f.addCrowdedWindows(at: base, admin)
        try expectOK(f.run("alice", "plan", "create", "CRM", "P", "--title", "P"))
        for index in 1...4 {
            try expectOK(f.run("alice", "release", "create", "CRM", "R\(index)", "--plan", "P", "--window", "CROWDED"))
        }
        return Fixture(f: f, stranger: stranger, environment: environment)
    }

    private func expectOK(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
    }

    /// Runs `sql` in a transaction that is rolled back; the SQLSTATE it failed with, or nil.
    private func refusal(_ db: Connection, _ sql: String) -> String? {
        do {
            try db.execute("BEGIN", simple: true)
            defer { try? db.execute("ROLLBACK", simple: true) }
            try db.execute(SQL(unsafeSQL: sql))
            return nil
        } catch let error as PostgresError {
            return error.sqlState?.rawValue ?? "none"
        } catch {
            return "none"
        }
    }

    /// Runs relplan as `who`, timed.
    private func timed(_ f: PlanningFixture, _ who: String, _ arguments: [String],
                       environment: [String: String] = [:]) throws -> (CLIResult, TimeInterval) {
        let started = Date()
        let result = try CLI.run(arguments, database: f.database, user: f.login(who), environment: environment)
        return (result, Date().timeIntervalSince(started))
    }

    @Test("a stranger cannot connect; a viewer and a login without membership hold every old advisory key, try relplan's locks and LOCK TABLE, and the nightly report, a confirmation and a schedule apply still finish")
    func nobodyElseBlocks() throws {
        let x = try fixture()
        defer { x.drop() }
        let f = x.f
        // A login with no relplan role cannot even open a session here.
        var strangerRefused = ""
        do {
            _ = try f.database.connect(user: x.stranger).query("SELECT 1")
        } catch let error as PostgresError {
            strangerRefused = error.message
        }
        #expect(strangerRefused.contains("permission denied for database"), "stranger: \(strangerRefused)")
        let strangerCLI = try CLI.run(["conflicts"], database: f.database, user: x.stranger)
        #expect(strangerCLI.status == 69 && strangerCLI.stderr.contains("permission denied for database"), "\(strangerCLI)")

        let superuser = try f.database.connect()
        // Confirmations on 2031-03-03..06 and 04..07 (UTC): the weeks 0008 keyed them by.
        let weeks = Int(try #require(ISO8601DateFormatter().date(from: "2031-03-03T08:00:00Z")).timeIntervalSince1970 / 604_800)
        let limits = ["PGOPTIONS": "-c lock_timeout=3s"]
        for (round, attacker) in ["vera", "lone"].enumerated() {
            let db = try f.database.connect(user: f.login(attacker))
            // relplan's own locks and the tables: refused outright.
            let refused = [
                "SELECT relplan_nightly_lock()", "SELECT relplan_lock_scheduler()", "SELECT relplan_lock_model('M')",
                "SELECT 1 FROM relplan_lock FOR UPDATE", "SELECT 1 FROM scheduler_lock FOR UPDATE",
                "LOCK TABLE relplan_lock IN ACCESS SHARE MODE",
            ] + ["release", "environment_booking", "environment", "service_window", "membership", "release_model",
                 "report_run", "conflict_history", "schema_migrations"].flatMap { table in
                ["ACCESS EXCLUSIVE", "SHARE", "ROW EXCLUSIVE", "ROW SHARE"].map { "LOCK TABLE \(table) IN \($0) MODE NOWAIT" }
            }
            for sql in refused {
                #expect(refusal(db, sql) == "42501", "\(attacker): \(sql) was not refused")
            }
            // The advisory keys relplan used to take (7218 nightly, 7217 apply, 7216 and the weeks
            // of confirmations, the model key): held, for the whole run below.
            var keys = "SELECT pg_advisory_lock(7218), pg_advisory_lock(7217), pg_advisory_lock(7216, \(x.environment)), "
                + "pg_advisory_lock(hashtext('release_model:M'))"
            for week in weeks - 1...weeks + 2 { keys += ", pg_advisory_lock(\(x.environment), \(-1 - week))" }
            try db.execute(SQL(unsafeSQL: keys))
            // And a transaction that reads and "locks" rows, open throughout: RLS lets it lock none.
            try db.execute("BEGIN", simple: true)
            let locked = try db.query("SELECT count(*) FROM (SELECT 1 FROM release FOR UPDATE) AS l").first?.decode(Int.self)
            #expect(locked == 0, "\(attacker) locked \(locked ?? -1) release rows")
            try db.execute("LOCK TABLE release, environment_booking IN ACCESS SHARE MODE", simple: true)
            let held = try superuser.query("SELECT count(*) FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND granted",
                                           [try #require(try db.query("SELECT pg_backend_pid()").first?.decode(Int.self))]).first?.decode(Int.self)
            #expect(held == 8, "\(attacker) holds \(held ?? -1) advisory locks")

            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-locks-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let (nightly, nightlyTime) = try timed(f, "reporter", ["report", "nightly", "--out", folder.path], environment: limits)
            #expect(nightly.status == 0 && nightlyTime < 10, "\(attacker) holding: nightly \(nightly) in \(nightlyTime) s")
            let (book, bookTime) = try timed(f, "alice", ["book", "CRM/R\(round + 1)", "TEST", "--start", "2031-03-0\(3 + round) 08:00",
                                                         "--end", "2031-03-0\(6 + round) 17:00", "--confirm", "--tz", "UTC"], environment: limits)
            #expect(book.status == 0 && bookTime < 10, "\(attacker) holding: confirmation \(book) in \(bookTime) s")
            let (apply, applyTime) = try timed(f, "alice", ["schedule", "resolve", "--apply"], environment: limits)
            #expect(apply.status == 0 && applyTime < 10, "\(attacker) holding: schedule apply \(apply) in \(applyTime) s")
            // Only the nightly job's login runs the nightly report (and takes its lock): 77, not a hang.
            let (own, ownTime) = try timed(f, attacker, ["report", "nightly", "--out", folder.path], environment: limits)
            #expect(own.status == 77 && ownTime < 10, "\(attacker) runs the nightly report: \(own)")
            db.close()
        }
        // Both confirmations were made and the scheduler moved releases out of the crowded window.
        #expect(try superuser.query("SELECT count(*) FROM environment_booking WHERE status = 'confirmed'").first?.decode(Int.self) == 2)
        #expect(try superuser.query("""
            SELECT count(*) FROM release r JOIN service_window w ON w.id = r.window_id WHERE w.code = 'CROWDED'
            """).first?.decode(Int.self) == 1)
    }

    @Test("a writer holding LOCK TABLE: every command fails fast with 75, names the holder and says retry; the default lock_timeout is 10 s")
    func writerHoldingFailsFast() throws {
        let x = try fixture()
        defer { x.drop() }
        let f = x.f
        let bob = try f.database.connect(user: f.login("bob"))
        try bob.execute("BEGIN", simple: true)
        try bob.execute("LOCK TABLE release IN ACCESS EXCLUSIVE MODE", simple: true)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-locks-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let limits = ["PGOPTIONS": "-c lock_timeout=500ms"]
        // (The nightly report runs as the nightly job's login, the rest as alice.)
        let commands: [(who: String, arguments: [String])] = [
            ("alice", ["release", "move", "CRM/R1", "--window", "W3"]),
            ("reporter", ["report", "nightly", "--out", folder.path]),
            ("alice", ["schedule", "resolve", "--apply"]),
            ("alice", ["book", "CRM/R1", "TEST", "--start", "2031-01-06 08:00", "--end", "2031-01-08 17:00", "--confirm"]),
        ]
        for (who, command) in commands {
            let (result, elapsed) = try timed(f, who, command, environment: limits)
            #expect(result.status == 75, "\(command): \(result)")
            #expect(result.stderr.contains(f.login("bob")) && result.stderr.contains("AccessExclusive on release"), "\(command) names no holder: \(result)")
            #expect(result.stderr.contains("retry"), "\(command): \(result)")
            #expect(elapsed < 5, "\(command) waited \(elapsed) s")
        }
        // Without PGOPTIONS: relplan's own lock_timeout (10 s), not forever.
        let (plain, elapsed) = try timed(f, "alice", ["release", "move", "CRM/R1", "--window", "W3"])
        #expect(plain.status == 75 && plain.stderr.contains("10s") && plain.stderr.contains(f.login("bob")), "\(plain)")
        #expect(elapsed >= 9.5 && elapsed < 20, "waited \(elapsed) s")
        try bob.execute("ROLLBACK", simple: true)
        let (after, _) = try timed(f, "alice", ["release", "move", "CRM/R1", "--window", "W3"], environment: limits)
        #expect(after.status == 0, "\(after)")
    }

    @Test("a planner's confirmation left uncommitted in psql: an overlapping one exits 75 within lock_timeout naming that planner")
    func openConfirmationFailsFast() throws {
        let x = try fixture()
        defer { x.drop() }
        let f = x.f
        try expectOK(f.run("bob", "plan", "create", "HR", "P", "--title", "P"))
        try expectOK(f.run("bob", "release", "create", "HR", "H1", "--plan", "P", "--window", "W2"))
        let bob = try f.database.connect(user: f.login("bob"))
        try bob.execute("BEGIN", simple: true)
        try bob.execute("""
            INSERT INTO environment_booking (group_id, release_id, environment_id, during, status)
            SELECT r.group_id, r.id, $1, tstzrange('2031-02-03 08:00Z', '2031-02-05 17:00Z'), 'confirmed' FROM release r WHERE r.code = 'H1'
            """, [x.environment])
        let (book, elapsed) = try timed(f, "alice", ["book", "CRM/R1", "TEST", "--start", "2031-02-04 08:00", "--end", "2031-02-06 17:00",
                                                     "--confirm", "--tz", "UTC"], environment: ["PGOPTIONS": "-c lock_timeout=500ms"])
        #expect(book.status == 75 && book.stderr.contains(f.login("bob")) && book.stderr.contains("retry"), "\(book)")
        #expect(elapsed < 5, "waited \(elapsed) s")
        // A booking that shares no week with it does not wait at all.
        let (apart, _) = try timed(f, "alice", ["book", "CRM/R1", "TEST", "--start", "2031-06-02 08:00", "--end", "2031-06-04 17:00",
                                                "--confirm", "--tz", "UTC"], environment: ["PGOPTIONS": "-c lock_timeout=500ms"])
        #expect(apart.status == 0, "\(apart)")
        try bob.execute("COMMIT", simple: true)
        let (after, _) = try timed(f, "alice", ["book", "CRM/R1", "TEST", "--start", "2031-02-04 08:00", "--end", "2031-02-06 17:00",
                                                "--confirm", "--tz", "UTC"], environment: ["PGOPTIONS": "-c lock_timeout=500ms"])
        #expect(after.status == 0, "\(after)")
    }

    @Test("db migrate while a session holds its key: 75 within lock_timeout, naming the holder")
    func migrateWaitsBounded() throws {
        let x = try fixture()
        defer { x.drop() }
        let f = x.f
        let holder = try f.database.connect(user: f.login("vera"))
        try holder.execute("SELECT pg_advisory_lock(32199663762039150)")  // Migrator.lockKey, "relplan"
        let started = Date()
        let blocked = try CLI.run(["db", "migrate"], database: f.database, environment: ["PGOPTIONS": "-c lock_timeout=300ms"])
        #expect(blocked.status == 75 && blocked.stderr.contains("held by \(f.login("vera"))") && blocked.stderr.contains("retry"), "\(blocked)")
        #expect(Date().timeIntervalSince(started) < 5)
        holder.close()
        let free = try CLI.run(["db", "migrate"], database: f.database)
        #expect(free.status == 0, "\(free)")
    }

    @Test("relplan_writer follows memberships: a viewer who becomes a member may lock, and may not once the membership goes")
    func writerFollowsMembership() throws {
        let x = try fixture()
        defer { x.drop() }
        let f = x.f
        let vera = try f.database.connect(user: f.login("vera"))
        let admin = try f.database.connect(user: f.login("admin"))
        let lock = "LOCK TABLE release IN SHARE MODE NOWAIT"
        func isWriter() throws -> Bool {
            try admin.query("SELECT pg_has_role($1, 'relplan_writer', 'MEMBER')", [f.login("vera")]).first?.decode(Bool.self) ?? false
        }
        #expect(refusal(vera, lock) == "42501")
        #expect(try !isWriter())
        try admin.execute("INSERT INTO membership (group_id, role_name, role) SELECT id, $1, 'member' FROM management_group WHERE code = 'HR'",
                          [f.login("vera")])
        #expect(try isWriter())
        #expect(refusal(vera, lock) == nil)
        // A role change to viewer, then the last write membership going: revoked each time.
        try admin.execute("UPDATE membership SET role = 'viewer' WHERE role_name = $1 AND role = 'member'", [f.login("vera")])
        #expect(try !isWriter())
        #expect(refusal(vera, lock) == "42501")
        try admin.execute("UPDATE membership SET role = 'manager' WHERE role_name = $1", [f.login("vera")])
        #expect(try isWriter())
        try admin.execute("DELETE FROM membership WHERE role_name = $1", [f.login("vera")])
        #expect(try !isWriter())
        #expect(refusal(vera, lock) == "42501")
        // Nobody grants it by hand but the database's own trigger.
        #expect(refusal(try f.database.connect(user: f.login("alice")), "GRANT relplan_writer TO \"\(f.login("vera"))\"") == "42501")
    }
}

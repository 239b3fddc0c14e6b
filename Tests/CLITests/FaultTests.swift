import Foundation
import Postgres
import Testing
import TestSupport

/// Faults on the way: killed connections, timeouts, a busy report lock, a dead first host.
@Suite("Faults: clean exits, nothing partial")
struct FaultTests {
    /// A small portfolio with a crowded window the scheduler will empty.
    private func crowded() throws -> PlanningFixture {
        let f = try PlanningFixture.make(people: ["alice"])
        let base = Date().addingTimeInterval(30 * 86_400)
        let admin = try f.database.connect(user: f.login("admin"))
        try admin.execute("INSERT INTO management_group (code, name) VALUES ('CRM', 'CRM')")
        try admin.execute("INSERT INTO membership (group_id, role_name, role) SELECT id, $1, 'release-manager' FROM management_group",
                          [f.login("alice")])
        try f.addCrowdedWindows(at: base, admin)
        try f.run("alice", "plan", "create", "CRM", "P", "--title", "P")
        for index in 1...5 {
            try f.run("alice", "release", "create", "CRM", "R\(index)", "--plan", "P", "--window", "CROWDED", "--priority", String(1 + index % 5))
        }
        return f
    }

    private func windows(_ f: PlanningFixture) throws -> [String] {
        try f.database.connect().query("""
            SELECT r.code || '@' || w.code FROM release r JOIN service_window w ON w.id = r.window_id ORDER BY r.code
            """).rows.map { try $0.decode(String.self) }
    }

    /// Starts relplan in the background and returns the process and its output pipe.
    private func start(_ f: PlanningFixture, _ arguments: [String], environment: [String: String] = [:]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["RELPLAN_DATABASE_URL"] = f.database.conninfo + " user=\(f.login("alice"))"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, errors)
    }

    /// Waits until a session of `user` waits on a lock, and returns its pid.
    private func waitingBackend(_ db: Connection, user: String) throws -> Int32? {
        for _ in 0..<200 {
            if let pid = try db.query("""
                SELECT pid FROM pg_stat_activity WHERE usename = $1 AND wait_event_type IN ('Lock', 'LWLock') LIMIT 1
                """, [user]).first?.decode(Int32.self) {
                return pid
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return nil
    }

    @Test("a scheduler whose connection is terminated mid-apply exits 75, moves nothing, and a re-run succeeds")
    func terminatedApply() throws {
        let f = try crowded()
        defer { f.drop() }
        let before = try windows(f)
        // Another session holds the lock on a release the apply will move (R5, priority 1, stays).
        let holder = try f.database.connect()
        try holder.execute("BEGIN", simple: true)
        try holder.execute("SELECT 1 FROM release WHERE code = 'R1' FOR UPDATE")
        let (process, errors) = try start(f, ["schedule", "resolve", "--apply"])
        let admin = try f.database.connect()
        let pid = try #require(try waitingBackend(admin, user: f.login("alice")), "the apply never blocked")
        try admin.execute("SELECT pg_terminate_backend($1)", [pid])
        process.waitUntilExit()
        try holder.execute("ROLLBACK", simple: true)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 75, "\(message)")
        #expect(message.contains("safe to retry") || message.contains("lost the connection"), "\(message)")
        #expect(try windows(f) == before, "all or nothing: nothing moved")
        let again = try f.run("alice", "schedule", "resolve", "--apply")
        #expect(again.status == 0, "\(again)")
        #expect(try windows(f) != before)
        #expect(try f.run("alice", "conflicts", "--exit-code").status == 0)
    }

    @Test("a connection lost during COMMIT exits 75 and says the change may or may not have been committed")
    func lostDuringCommit() throws {
        let f = try crowded()
        defer { f.drop() }
        // A deferred trigger ends the session at COMMIT, as a server going away then would.
        try f.database.connect().execute("""
            CREATE FUNCTION fault_die_at_commit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
            BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER fault_die_at_commit AFTER INSERT ON release DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION fault_die_at_commit();
            """, simple: true)
        let created = try CLI.run(["release", "create", "CRM", "R9", "--plan", "P"], database: f.database, user: f.login("alice"))
        #expect(created.status == 75, "\(created)")
        #expect(created.stderr.contains("while committing") && created.stderr.contains("may or may not have been committed"), "\(created)")
        #expect(!created.stderr.contains("nothing was committed"), "\(created)")
    }

    @Test("lock_timeout and statement_timeout exit 75 and say it is safe to retry")
    func timeouts() throws {
        let f = try crowded()
        defer { f.drop() }
        let holder = try f.database.connect()
        try holder.execute("BEGIN", simple: true)
        try holder.execute("SELECT 1 FROM release WHERE code = 'R1' FOR UPDATE")
        defer { try? holder.execute("ROLLBACK", simple: true) }
        let lock = try CLI.run(["release", "move", "CRM/R1", "--window", "W3"], database: f.database, user: f.login("alice"),
                               environment: ["PGOPTIONS": "-c lock_timeout=200"])
        #expect(lock.status == 75, "\(lock)")
        #expect(lock.stderr.contains("safe to retry"), "\(lock)")
        let statement = try CLI.run(["release", "pin", "CRM/R1"], database: f.database, user: f.login("alice"),
                                    environment: ["PGOPTIONS": "-c statement_timeout=300"])
        #expect(statement.status == 75, "\(statement)")
        #expect(statement.stderr.contains("statement_timeout") && statement.stderr.contains("safe to retry"), "\(statement)")
    }

    @Test("a second nightly report exits 75 at once, naming who holds the lock")
    func concurrentReport() throws {
        let f = try crowded()
        defer { f.drop() }
        // The old advisory key stops nothing any more; the run's lock is a row lock (sql/0018).
        let stranger = try f.database.connect()
        try stranger.execute("SELECT pg_advisory_lock(7218)")
        let holder = try f.database.connect()
        try holder.execute("BEGIN", simple: true)
        #expect(try holder.query("SELECT got FROM relplan_nightly_lock()").first?.decode(Bool.self) == true)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let started = Date()
        let second = try f.run("reporter", "report", "nightly", "--out", folder.path)
        let elapsed = Date().timeIntervalSince(started)
        #expect(second.status == 75, "\(second)")
        #expect(second.stderr.contains("held by postgres"), "\(second)")
        #expect(elapsed < 1.0, "waited \(elapsed) s")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("conflicts.json").path))
        #expect(second.stderr.contains("retry"), "\(second)")
        try holder.execute("ROLLBACK", simple: true)
        let first = try f.run("reporter", "report", "nightly", "--out", folder.path)
        #expect(first.status == 0, "\(first)")
    }

    @Test("a connection string with a dead first host connects to the live second one")
    func deadFirstHost() throws {
        let f = try crowded()
        defer { f.drop() }
        let env = ProcessInfo.processInfo.environment
        let host = try #require(env["PGHOST"])
        let port = env["PGPORT"] ?? "5432"
        let conninfo = "host=/nonexistent-relplan,\(host) port=1,\(port) dbname=\(f.database.name) user=\(f.login("alice")) "
            + "target_session_attrs=read-write connect_timeout=2"
        let result = try CLI.run(["release", "list", "--format", "csv", "--database-url", conninfo], database: f.database)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("CRM,R1"), "\(result)")
        let dead = try CLI.run(["release", "list", "--database-url", "host=/nonexistent-relplan port=1 dbname=x connect_timeout=2"],
                               database: f.database)
        #expect(dead.status == 69, "\(dead)")
        #expect(dead.stderr.contains("/nonexistent-relplan"), "\(dead)")
    }

    @Test("every server of a multi-host string down or a standby: exit 75, the database is failing over; a bad database is not")
    func failingOver() throws {
        let f = try crowded()
        defer { f.drop() }
        let down = try CLI.run(["release", "list", "--database-url",
                                "host=/nonexistent-relplan-a,/nonexistent-relplan-b port=1,2 dbname=x target_session_attrs=read-write"],
                               database: f.database)
        #expect(down.status == 75, "\(down)")
        #expect(down.stderr.contains("the database is failing over") && down.stderr.contains("/nonexistent-relplan-b"), "\(down)")
        #expect(!down.stderr.contains("Is the server running"), "no raw libpq text: \(down)")
        let host = try #require(ProcessInfo.processInfo.environment["PGHOST"])
        let port = ProcessInfo.processInfo.environment["PGPORT"] ?? "5432"
        let missing = try CLI.run(["release", "list", "--database-url",
                                   "host=\(host),\(host) port=\(port),\(port) dbname=relplan_no_such_database"], database: f.database)
        #expect(missing.status == 69, "\(missing)")
    }

    @Test("a write refused by a read-only session (25006, as on a standby) exits 75 and says so")
    func readOnlySession() throws {
        let f = try crowded()
        defer { f.drop() }
        let before = try windows(f)
        let write = try CLI.run(["release", "move", "CRM/R1", "--window", "W3"], database: f.database, user: f.login("alice"),
                                environment: ["PGOPTIONS": "-c default_transaction_read_only=on"])
        #expect(write.status == 75, "\(write)")
        #expect(write.stderr.contains("refused a write") && write.stderr.contains("read-only"), "\(write)")
        #expect(try windows(f) == before)
    }
}

import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Errors and transactions")
struct ErrorAndTransactionTests {
    private func sqlState(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as PostgresError {
            return error.sqlState?.rawValue
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test("unique, check and syntax errors carry their SQLSTATE and the server's fields")
    func serverErrors() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            try db.execute("INSERT INTO management_group (code, name) VALUES ($1, $2)", ["CRM", "CRM"])
            #expect(sqlState { try db.execute("INSERT INTO management_group (code, name) VALUES ($1, $2)", ["CRM", "again"]) } == "23505")
            #expect(sqlState { try db.execute("INSERT INTO management_group (code, name) VALUES ($1, $2)", ["bad code!", "x"]) } == "23514")
            #expect(sqlState { try db.execute("SELEC 1") } == "42601")
            do {
                try db.execute("INSERT INTO management_group (code, name) VALUES ($1, $2)", ["CRM", "again"])
            } catch let error as PostgresError {
                #expect(error.kind == .server)
                #expect(error.constraint == "management_group_code_key")
                #expect(error.table == "management_group")
                #expect(error.detail?.contains("CRM") == true)
                #expect(error.statement?.contains("INSERT INTO management_group") == true)
            }
            // The connection is still usable after errors.
            #expect(try db.query("SELECT count(*) FROM management_group").first?.decode(Int.self) == 1)
        }
    }

    @Test("a transaction whose closure throws leaves nothing behind")
    func rollback() throws {
        struct Boom: Error {}
        try withMigratedDatabase { database in
            let db = try database.connect()
            #expect(throws: Boom.self) {
                try db.transaction { tx in
                    try tx.execute("INSERT INTO management_group (code, name) VALUES ($1, $2)", ["HR", "HR"])
                    throw Boom()
                }
            }
            #expect(!db.isInTransaction)
            #expect(try db.query("SELECT count(*) FROM management_group").first?.decode(Int.self) == 0)
            try db.transaction { tx in
                try tx.execute("INSERT INTO management_group (code, name) VALUES ($1, $2)", ["HR", "HR"])
                // A failing savepoint undoes only its own work (and must fail: the duplicate's 23505).
                let failed = sqlState {
                    try tx.savepoint { sp in
                        try sp.execute("INSERT INTO management_group (code, name) VALUES ($1, $2)", ["OPS", "Ops"])
                        try sp.execute("INSERT INTO management_group (code, name) VALUES ($1, $2)", ["HR", "dup"])
                    }
                }
                #expect(failed == "23505", "the savepoint's second insert should have failed as a duplicate")
            }
            let codes = try db.query("SELECT code FROM management_group ORDER BY code").rows.map { try $0.decode(String.self) }
            #expect(codes == ["HR"])
        }
    }

    @Test("an unreachable server gives a connection error naming where it tried")
    func unreachable() throws {
        do {
            _ = try Connection(conninfo: "host=/nonexistent-relplan port=1 dbname=x connect_timeout=2")
            Issue.record("connecting should fail")
        } catch let error as PostgresError {
            #expect(error.kind == .connectionFailed)
            #expect(error.message.contains("/nonexistent-relplan"))
        }
    }

    @Test("a terminated backend is a lost connection, not a server error")
    func terminated() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            let killer = try database.connect()
            try killer.execute("SELECT pg_terminate_backend($1)", [db.backendPID])
            do {
                try db.execute("SELECT 1")
                Issue.record("the statement should fail")
            } catch let error as PostgresError {
                #expect(error.kind == .connectionLost)
            }
        }
    }

    @Test("serialization failures are retried, then succeed")
    func retries() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            var attempts = 0
            let value = try db.retryingTransaction { tx -> Int in
                attempts += 1
                if attempts < 3 {
                    try tx.execute("DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001'; END $$")
                }
                return attempts
            }
            #expect(value == 3)
        }
    }

    @Test("the exclusion constraint refuses overlapping confirmed bookings and accepts tentative ones")
    func exclusion() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            try db.execute("INSERT INTO management_group (code, name) VALUES ('CRM', 'CRM')")
            try db.execute("INSERT INTO environment (code, name, capacity) VALUES ('TEST-INT', 'Integration test', 1)")
            try db.execute("INSERT INTO release_plan (group_id, code) SELECT id, 'P' FROM management_group")
            try db.execute("INSERT INTO release (group_id, plan_id, code) SELECT group_id, id, 'R1' FROM release_plan")
            try db.execute("INSERT INTO release (group_id, plan_id, code) SELECT group_id, id, 'R2' FROM release_plan")
            let insert = """
                INSERT INTO environment_booking (group_id, release_id, environment_id, during, status)
                SELECT r.group_id, r.id, e.id, tstzrange($2, $3), $4 FROM release r, environment e WHERE r.code = $1
                """
            let start = Date(timeIntervalSince1970: 1_805_000_000)
            try db.execute(insert, ["R1", start, start.addingTimeInterval(7200), "tentative"])
            try db.execute(insert, ["R2", start.addingTimeInterval(3600), start.addingTimeInterval(9000), "tentative"])
            try db.execute("UPDATE environment_booking SET status = 'confirmed' WHERE release_id = (SELECT id FROM release WHERE code = 'R1')")
            #expect(sqlState {
                try db.execute("UPDATE environment_booking SET status = 'confirmed' WHERE release_id = (SELECT id FROM release WHERE code = 'R2')")
            } == "23P01")
        }
    }

    @Test("a failed connection names each server libpq tried and why; only down or not-ready servers look like a failover")
    func connectionAttempts() throws {
        func failure(_ conninfo: String) -> PostgresError? {
            do { _ = try Connection(conninfo: conninfo); return nil } catch let error as PostgresError { return error } catch { return nil }
        }
        let both = try #require(failure("host=/nonexistent-relplan-a,/nonexistent-relplan-b port=1,2 dbname=x"))
        #expect(both.kind == .connectionFailed)
        #expect(both.attempts.map(\.server) == ["/nonexistent-relplan-a/.s.PGSQL.1", "/nonexistent-relplan-b/.s.PGSQL.2"], "\(both)")
        #expect(both.attempts.allSatisfy { $0.outcome == .refused }, "\(both.attempts)")
        #expect(both.isFailingOver)
        let one = try #require(failure("host=/nonexistent-relplan-a port=1 dbname=x"))
        #expect(one.attempts.count == 1 && !one.isFailingOver, "one server down is down, not failing over")
        let host = try #require(ProcessInfo.processInfo.environment["PGHOST"])
        let port = ProcessInfo.processInfo.environment["PGPORT"] ?? "5432"
        let missing = try #require(failure("host=\(host),\(host) port=\(port),\(port) dbname=relplan_no_such_database"))
        #expect(!missing.attempts.isEmpty && missing.attempts.allSatisfy { $0.outcome == .other }, "\(missing.attempts)")
        #expect(!missing.isFailingOver, "libpq stops at the first server that refuses the login")
    }
}

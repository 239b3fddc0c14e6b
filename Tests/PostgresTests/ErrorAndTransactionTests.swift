import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
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

    @Test("a server that answers the SSL request with an error (no backend for it yet) is not ready: mid-failover, retryable")
    func errorDuringSSLExchange() throws {
        let server = try RefusingPostmaster()
        defer { server.close() }
        let error: PostgresError
        do {
            _ = try Connection(conninfo: "host=127.0.0.1,/nonexistent-relplan-b port=\(server.port),1 dbname=x sslmode=prefer connect_timeout=5")
            Issue.record("the connection should have failed")
            return
        } catch let failed as PostgresError {
            error = failed
        }
        #expect(server.answered >= 1, "libpq sent its SSL request to the stand-in postmaster")
        let first = try #require(error.attempts.first, "\(error)")
        #expect(first.reason.lowercased().contains("error response during ssl exchange"), "\(error.attempts)")
        #expect(first.outcome == .notReady, "\(error.attempts)")
        #expect(error.isFailingOver, "one server not ready, the other down: a multi-host string mid-failover")
    }
}

/// A stand-in postmaster on loopback that answers every SSL request with an ErrorResponse, as a
/// postmaster does when it cannot start a backend (the moment libpq reports as an "error response
/// during SSL exchange").
private final class RefusingPostmaster: Sendable {
    let port: Int
    private let socket: Int32
    private let replies = Replies()

    /// How many SSL requests it has refused.
    var answered: Int { replies.count.withLock { $0 } }

    private final class Replies: Sendable {
        let count = Mutex(0)
    }

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard socket >= 0, bound == 0, listen(socket, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        self.socket = socket
        port = Int(UInt16(bigEndian: address.sin_port))
        let replies = self.replies
        Thread.detachNewThread {
            // ErrorResponse: 'E', its length, then severity, SQLSTATE 53300 and a message, each NUL-ended.
            let fields = Array("SFATAL\u{0}C53300\u{0}Mno backend could be started\u{0}\u{0}".utf8)
            let reply = [UInt8(ascii: "E")] + withUnsafeBytes(of: UInt32(fields.count + 4).bigEndian) { Array($0) } + fields
            while true {
                let client = accept(socket, nil, nil)
                if client < 0 { return }
                var request = [UInt8](repeating: 0, count: 8)
                _ = recv(client, &request, 8, Int32(MSG_WAITALL))
                replies.count.withLock { $0 += 1 }  // before the answer, which libpq may act on at once
                _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                Glibc.close(client)
            }
        }
    }

    func close() {
        shutdown(socket, Int32(SHUT_RDWR))
        Glibc.close(socket)
    }
}

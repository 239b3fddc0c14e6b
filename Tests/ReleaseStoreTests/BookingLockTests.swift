import Foundation
import Postgres
import Synchronization
import Testing
import TestSupport

/// The capacity trigger (sql/0008) locks the weeks a booking touches, not the whole environment:
/// confirmations that could overlap must still meet on a common lock. Eight sessions at once
/// (threads, not `concurrentPerform`, which runs only as many at a time as there are cores)
/// confirm short bookings on both sides of week boundaries, bookings longer than a week across
/// them, and a few longer than 8 weeks (which lock the environment).
@Suite("Booking locks: overlapping confirmations always meet")
struct BookingLockTests {
    static let clients = 8
    static let attemptsPerClient = 500

    @Test("never over capacity, across week boundaries, with short and long bookings")
    func weekBoundary() throws {
        let database = try TestDatabase.migrated()
        defer { database.drop() }
        let setup = try database.connect()
        try Self.releases(Self.clients * 4, setup)
        try setup.execute("INSERT INTO environment (code, name, capacity) VALUES ('ONE', 'one', 1), ('TWO', 'two', 2), ('THREE', 'three', 3)")
        let releases = try setup.query("SELECT id, group_id FROM release ORDER BY id").rows.map { try $0.decode((Int64, Int).self) }
        let environments = try setup.query("SELECT id FROM environment ORDER BY capacity").rows.map { try $0.decode(Int.self) }
        // Weeks are counted from 1970-01-01 UTC: each of these instants starts one. Many boundaries,
        // so that many places fill up while the sessions race for them.
        let weeks = 300
        let confirmed = Atomic<Int>(0)
        let refused = Atomic<Int>(0)
        let unexpected = Mutex<[String]>([])
        let done = DispatchGroup()
        for client in 0..<Self.clients {
            done.enter()
            Thread {
                defer { done.leave() }
                do {
                    let db = try database.connect()
                    try db.prepare("confirm", """
                        INSERT INTO environment_booking (group_id, release_id, environment_id, during, status)
                        VALUES ($1, $2, $3, tstzrange($4, $5), 'confirmed')
                        """)
                    var state = UInt64(client + 1) &* 0x9E37_79B9_7F4A_7C15
                    func random(_ bound: Int) -> Int {
                        state ^= state << 13; state ^= state >> 7; state ^= state << 17
                        return Int(state % UInt64(bound))
                    }
                    for _ in 0..<Self.attemptsPerClient {
                        let (release, group) = releases[random(releases.count)]
                        let boundary = Date(timeIntervalSince1970: 604_800 * Double(3_000 + 2 * random(weeks)))
                        let start: Date, end: Date
                        if random(40) == 0 {
                            // Over 8 weeks: the whole environment's lock, not its weeks.
                            start = boundary.addingTimeInterval(-Double(1 + random(30 * 24)) * 3600)
                            end = start.addingTimeInterval(Double(60 * 24 + random(20 * 24)) * 3600)
                        } else if random(6) == 0 {
                            // Longer than a week, across the boundary: three weeks locked.
                            start = boundary.addingTimeInterval(-Double(1 + random(9 * 24)) * 3600)
                            end = start.addingTimeInterval(Double(7 * 24 + 1 + random(72)) * 3600)
                        } else {
                            // Up to a week, starting within half a day either side of the boundary.
                            start = boundary.addingTimeInterval(Double(random(24) - 12) * 3600)
                            end = start.addingTimeInterval(Double(1 + random(random(8) == 0 ? 7 * 24 : 30)) * 3600)
                        }
                        // Colliding in the exclusion constraint at the same moment can deadlock;
                        // PostgreSQL aborts one, which retries, as the CLI does.
                        let environment = environments[random(environments.count)]
                        for try_ in 1...5 {
                            do {
                                try db.query(prepared: "confirm", [group, release, environment, start, end])
                                confirmed.add(1, ordering: .relaxed)
                            } catch let error as PostgresError where error.sqlState == "23P01" || error.sqlState == "23505" {
                                refused.add(1, ordering: .relaxed)
                            } catch let error as PostgresError where error.isRetryableTransactionFailure && try_ < 5 {
                                continue
                            }
                            break
                        }
                    }
                } catch {
                    unexpected.withLock { $0.append("client \(client): \(error)") }
                }
            }.start()
        }
        done.wait()
        #expect(unexpected.withLock { $0 }.isEmpty, "\(unexpected.withLock { $0 })")
        let overbooked = try setup.query("""
            SELECT e.code, lower(b.during) FROM environment e JOIN environment_booking b ON b.environment_id = e.id AND b.status = 'confirmed'
            WHERE (SELECT count(*) FROM environment_booking o WHERE o.environment_id = e.id AND o.status = 'confirmed'
                   AND o.during @> lower(b.during)) > e.capacity
            """).rowCount
        #expect(overbooked == 0, "confirmed bookings over an environment's capacity")
        // Every environment filled up to its capacity somewhere, and what did not fit was refused.
        let full = try setup.query("""
            SELECT count(*) FROM environment e
            WHERE EXISTS (SELECT 1 FROM environment_booking b WHERE b.environment_id = e.id AND b.status = 'confirmed'
                          AND (SELECT count(*) FROM environment_booking o WHERE o.environment_id = e.id AND o.status = 'confirmed'
                               AND o.during @> lower(b.during)) = e.capacity)
            """).first?.decode(Int.self) ?? 0
        #expect(full == environments.count)
        #expect(confirmed.load(ordering: .relaxed) > 0 && refused.load(ordering: .relaxed) > 0)
    }

    @Test("a booking over 8 weeks locks the whole environment: a short one waits for it, then counts it")
    func longBookingLocksTheEnvironment() throws {
        let database = try TestDatabase.migrated()
        defer { database.drop() }
        let setup = try database.connect()
        try Self.releases(3, setup)
        try setup.execute("INSERT INTO environment (code, name, capacity) VALUES ('TWO', 'two', 2)")
        let insert = """
            INSERT INTO environment_booking (group_id, release_id, environment_id, during, status)
            SELECT r.group_id, r.id, e.id, tstzrange($2, $3), 'confirmed' FROM release r, environment e
            WHERE r.code = $1 AND e.code = 'TWO'
            """
        let start = Date(timeIntervalSince1970: 604_800 * 3_000 + 3 * 86_400)
        // One place of two is taken; a long booking takes the other, uncommitted for now.
        try setup.execute(insert, ["R1", start, start.addingTimeInterval(3600)])
        let long = try database.connect()
        try long.execute("BEGIN", simple: true)
        try long.execute(insert, ["R2", start.addingTimeInterval(-30 * 86_400), start.addingTimeInterval(40 * 86_400)])

        // A short booking of the same hour, from another session, must wait for the long one.
        let outcome = Mutex<String?>(nil)
        let finished = DispatchSemaphore(value: 0)
        Thread {
            defer { finished.signal() }
            do {
                let short = try database.connect()
                try short.execute(insert, ["R3", start, start.addingTimeInterval(3600)])
                outcome.withLock { $0 = "confirmed" }
            } catch let error as PostgresError where error.sqlState == "23P01" {
                outcome.withLock { $0 = "refused" }
            } catch {
                outcome.withLock { $0 = "\(error)" }
            }
        }.start()
        let waited = finished.wait(timeout: .now() + 0.5) == .timedOut
        #expect(waited, "the short booking did not wait for the long one")
        try long.execute("COMMIT", simple: true)
        if waited { finished.wait() }
        #expect(outcome.withLock { $0 } == "refused")
        let overlapping = try setup.query("""
            SELECT count(*) FROM environment_booking b JOIN environment e ON e.id = b.environment_id
            WHERE e.code = 'TWO' AND b.status = 'confirmed' AND b.during @> $1::timestamptz
            """, [start.addingTimeInterval(60)]).first?.decode(Int.self)
        #expect(overlapping == 2)
    }

    /// Group G, plan P and releases R1…R`count`.
    static func releases(_ count: Int, _ setup: Connection) throws {
        try setup.execute("INSERT INTO management_group (code, name) VALUES ('G', 'G')")
        try setup.execute("INSERT INTO release_plan (group_id, code) SELECT id, 'P' FROM management_group WHERE code = 'G'")
        try setup.execute("""
            INSERT INTO release (group_id, plan_id, code)
            SELECT p.group_id, p.id, 'R' || i FROM release_plan p, generate_series(1, $1::integer) i
            """, [count])
    }
}

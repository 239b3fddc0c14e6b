import Foundation
import Postgres
import ReleaseCore
import ReleaseStore
import Synchronization

/// Booking confirmations per second: `clients` sessions confirm bookings of the same few shared
/// environments at once. `.product` books as the CLI does — `Releases.book`, each client its own
/// release-manager login, under row-level security — and is the figure; `.statement` sends the
/// bare INSERT as the database owner, the baseline that shows what the product adds. Both hit
/// the same database guards (the exclusion constraint for capacity 1, the capacity trigger for
/// larger ones). Refusals count as attempts; afterwards no environment may be over capacity at
/// any instant.
enum ConfirmBench {
    enum Path: String { case product, statement }

    /// The logins the product path books as: release-manager of every group it books in.
    static let login = "relplan_bench_booker"

    static func run(conninfo: String, clients: Int, seconds: Double, path: Path) throws -> [String: Double] {
        let setup = try Connection(conninfo: conninfo)
        try setup.execute("""
            INSERT INTO environment (code, name, kind, capacity)
            SELECT 'BENCH-ENV-' || i, 'bench', 'test', CASE WHEN i % 2 = 0 THEN 1 ELSE 3 END FROM generate_series(1, 4) i
            ON CONFLICT (code) DO NOTHING
            """)
        let releases = try setup.query("""
            SELECT r.id, r.group_id, g.code, r.code FROM release r JOIN management_group g ON g.id = r.group_id ORDER BY r.id LIMIT 2000
            """).decode((Int64, Int, String, String).self).map { id, group, groupCode, code in
            BenchRelease(id: id, group: group, ref: try ReleaseRef(group: groupCode, code: code))
        }
        let environments = try setup.query("SELECT id, code FROM environment WHERE code LIKE 'BENCH-ENV-%' ORDER BY id").decode((Int, String).self).map {
            (id: $0.0, code: $0.1)
        }
        guard !releases.isEmpty else { throw PostgresError(kind: .client, message: "seed the database first (relplan-bench seed)") }
        if path == .product {
            try setup.execute("SELECT relplan_create_user($1, NULL)", [login])
            try setup.execute("""
                INSERT INTO membership (group_id, role_name, role)
                SELECT DISTINCT unnest($1::integer[]), $2, 'release-manager' ON CONFLICT DO NOTHING
                """, [releases.map(\.group), login])
        }
        let shared = Shared()
        let deadline = Date().addingTimeInterval(seconds)
        let base = Date(timeIntervalSince1970: 2_000_000_000)
        let started = Date()
        // One thread per client, all at once. (`DispatchQueue.concurrentPerform` runs only as many
        // iterations at a time as there are cores: on a 2-core machine that was 2 sessions, not 8.)
        let done = DispatchGroup()
        for client in 0..<clients {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                do {
                    let db = try Connection(conninfo: path == .product ? "\(conninfo) user=\(login)" : conninfo)
                    let me = try Identity.current(db)
                    try db.prepare("confirm", """
                        INSERT INTO environment_booking (group_id, release_id, environment_id, during, status)
                        VALUES ($1, $2, $3, tstzrange($4, $5), 'confirmed')
                        """)
                    var state = UInt64(client + 1) &* 0x9E37_79B9_7F4A_7C15
                    func random(_ bound: Int) -> Int {
                        state ^= state << 13; state ^= state >> 7; state ^= state << 17
                        return Int(state % UInt64(bound))
                    }
                    while Date() < deadline {
                        let release = releases[random(releases.count)]
                        let environment = environments[random(environments.count)]
                        let start = base.addingTimeInterval(Double(random(24 * 365 * 4)) * 900)
                        let end = start.addingTimeInterval(3600)
                        switch path {
                        case .product:
                            // What `relplan booking add --confirm` runs, retries of deadlocks included.
                            do {
                                _ = try Releases(db).book(release.ref, environment: environment.code, start: start, end: end,
                                                          confirm: true, by: me)
                                shared.confirmed.add(1, ordering: .relaxed)
                            } catch StoreError.capacityTaken {
                                // Taken: a refusal is an answer too.
                            }
                        case .statement:
                            // Two confirmations that collide in the exclusion constraint at the same
                            // moment can deadlock (each waits for the other's row): PostgreSQL aborts
                            // one, which retries, as the CLI does. One attempt however many tries.
                            for try_ in 1...5 {
                                do {
                                    try db.query(prepared: "confirm", [release.group, release.id, environment.id, start, end])
                                    shared.confirmed.add(1, ordering: .relaxed)
                                } catch let error as PostgresError where error.sqlState == .exclusionViolation || error.sqlState == .uniqueViolation {
                                    // Taken: a refusal is an answer too.
                                } catch let error as PostgresError where error.isRetryableTransactionFailure && try_ < 5 {
                                    shared.retries.add(1, ordering: .relaxed)
                                    continue
                                }
                                break
                            }
                        }
                        shared.attempts.add(1, ordering: .relaxed)
                    }
                } catch {
                    shared.failures.withLock { $0.append("\(error)") }
                }
            }
            thread.start()
        }
        done.wait()
        let elapsed = Date().timeIntervalSince(started)
        if let failure = shared.failures.withLock({ $0.first }) { throw PostgresError(kind: .client, message: failure) }
        // Never more confirmed bookings than capacity at any instant.
        let overbooked = try setup.query("""
            SELECT count(*) FROM environment e JOIN environment_booking b ON b.environment_id = e.id AND b.status = 'confirmed'
            WHERE e.code LIKE 'BENCH-ENV-%'
              AND (SELECT count(*) FROM environment_booking o WHERE o.environment_id = e.id AND o.status = 'confirmed'
                   AND o.during @> lower(b.during)) > e.capacity
            """).first?.decode(Int.self) ?? -1
        let prefix = path == .product ? "booking_confirm" : "booking_statement"
        return [
            "\(prefix)_tps": Double(shared.attempts.load(ordering: .relaxed)) / elapsed,
            "\(prefix)_confirmed_per_s": Double(shared.confirmed.load(ordering: .relaxed)) / elapsed,
            "\(prefix)_overbooked_instants": Double(overbooked),
            "\(prefix)_deadlock_retries": Double(shared.retries.load(ordering: .relaxed)),
        ]
    }
}

/// A release the clients book for: its keys for the bare statement, its reference for the product.
private struct BenchRelease: Sendable {
    let id: Int64
    let group: Int
    let ref: ReleaseRef
}

/// What the client threads count and report, shared between them.
private final class Shared: Sendable {
    let attempts = Atomic<Int>(0)
    let confirmed = Atomic<Int>(0)
    let retries = Atomic<Int>(0)
    let failures = Mutex<[String]>([])
}

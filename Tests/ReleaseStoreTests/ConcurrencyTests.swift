import Foundation
import Postgres
import ReleaseCore
import ReleaseStore
import Scheduling
import Synchronization
import Testing
import TestSupport

/// Eight release managers at once: confirming bookings of the same environments, applying
/// resolutions and accepting proposals that move releases into the same windows.
@Suite("Concurrency: capacities hold under eight clients")
struct ConcurrencyTests {
    static let clients = 8
    static let attemptsPerClient = 150

    @Test("never an environment or a scheduler-filled window over capacity; every refusal is a retryable one")
    func eightClients() throws {
        let fixture = try PlanningFixture.make(people: (1...Self.clients).map { "rm\($0)" })
        defer { fixture.drop() }
        let admin = try fixture.database.connect(user: fixture.login("admin"))
        let base = Date().addingTimeInterval(30 * 86_400)
        try admin.execute("INSERT INTO environment (code, name, capacity) VALUES ('ENV-A', 'A', 1), ('ENV-B', 'B', 2)")
        // One crowded window people over-filled, and four the scheduler may move releases into.
        try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ('CROWDED', $1, $2, 1)",
                          [base, base.addingTimeInterval(4 * 3600)])
        for week in 1...4 {
            let start = base.addingTimeInterval(Double(week) * 7 * 86_400)
            try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ($1, $2, $3, 3)",
                              ["W\(week)", start, start.addingTimeInterval(4 * 3600)])
        }
        for client in 1...Self.clients {
            try admin.execute("INSERT INTO management_group (code, name) VALUES ($1, $1)", ["G\(client)"])
            try admin.execute("INSERT INTO membership (group_id, role_name, role) SELECT id, $2, 'release-manager' FROM management_group WHERE code = $1",
                              ["G\(client)", fixture.login("rm\(client)")])
        }
        for client in 1...Self.clients {
            let db = try fixture.database.connect(user: fixture.login("rm\(client)"))
            let me = try Identity.current(db)
            try Plans(db).create(group: "G\(client)", code: "P", title: "Plan", changeRef: nil, model: nil, by: me)
            for index in 1...3 {
                _ = try Releases(db).create(
                    NewRelease(ref: try ReleaseRef(group: "G\(client)", code: "R\(index)"), plan: "P", window: "CROWDED",
                               priority: try Priority(1 + (client + index) % 5)), by: me)
            }
        }

        // A watcher polls the committed state while the clients run: an over-full window between
        // two moves counts as much as one left at the end.
        let running = Atomic<Bool>(true)
        let overfullSeen = Mutex<Set<String>>([])
        // A watcher that cannot look proves nothing: its failures fail the test, and it must have looked.
        let watcherFailures = Mutex<[String]>([])
        let polls = Atomic<Int>(0)
        let watching = DispatchGroup()
        watching.enter()
        let watcher = Thread {
            defer { watching.leave() }
            let watch: Connection
            do { watch = try fixture.database.connect() } catch {
                watcherFailures.withLock { $0.append("connect: \(error)") }
                return
            }
            while running.load(ordering: .relaxed) {
                do {
                    let rows = try watch.query("""
                        SELECT w.code FROM service_window w
                        WHERE w.code <> 'CROWDED' AND (SELECT count(*) FROM release r WHERE r.window_id = w.id) > w.capacity
                        """).rows.map { try $0.decode(String.self) }
                    polls.add(1, ordering: .relaxed)
                    if !rows.isEmpty { overfullSeen.withLock { $0.formUnion(rows) } }
                } catch {
                    watcherFailures.withLock { $0.append("query: \(error)") }
                    return
                }
            }
        }
        watcher.start()
        let unexpected = Mutex<[String]>([])
        let refused = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        // One thread per client, all at once (`concurrentPerform` runs only as many as there are cores).
        let finished = DispatchGroup()
        for index in 0..<Self.clients {
            finished.enter()
            Thread {
                defer { finished.leave() }
                let client = index + 1
                do {
                    let db = try fixture.database.connect(user: fixture.login("rm\(client)"))
                    let me = try Identity.current(db)
                    var state = UInt64(client) &* 0x9E37_79B9_7F4A_7C15
                    func random(_ bound: Int) -> Int {
                        state ^= state << 13; state ^= state >> 7; state ^= state << 17
                        return Int(state % UInt64(bound))
                    }
                    for attempt in 0..<Self.attemptsPerClient {
                        do {
                            switch attempt % 5 {
                            case 0, 1:
                                let ref = try ReleaseRef(group: "G\(client)", code: "R\(1 + random(3))")
                                let start = base.addingTimeInterval(Double(random(40)) * 3600 - 20 * 86_400)
                                _ = try Releases(db).book(ref, environment: random(2) == 0 ? "ENV-A" : "ENV-B", start: start,
                                                          end: start.addingTimeInterval(Double(2 + random(6)) * 3600), confirm: true, by: me)
                            case 2:
                                // A person moves a release back into the crowded window (allowed: a warning and a conflict).
                                let ref = try ReleaseRef(group: "G\(client)", code: "R\(1 + random(3))")
                                _ = try Releases(db).move(ref, to: "CROWDED", by: me)
                            case 3:
                                let store = ScheduleStore(db, deadlineZone: .gmt)
                                let portfolio = try store.portfolio()
                                _ = try store.apply(Resolver().resolve(portfolio.snapshot), computedFrom: portfolio, by: me)
                            default:
                                let store = ScheduleStore(db, deadlineZone: .gmt)
                                if let proposal = try store.proposals(group: "G\(client)", status: "pending").first {
                                    _ = try store.accept(proposal.id, by: me)
                                }
                            }
                        } catch let error as StoreError {
                            switch error {
                            case .capacityTaken, .changedSinceComputed, .staleWrite: refused.add(1, ordering: .relaxed)
                            case .invalid(let message) where message.contains("already"): refused.add(1, ordering: .relaxed)
                            default: unexpected.withLock { $0.append("G\(client): \(error)") }
                            }
                        } catch let error as PostgresError where error.isTemporary {
                            refused.add(1, ordering: .relaxed)
                        }
                        done.add(1, ordering: .relaxed)
                    }
                } catch {
                    unexpected.withLock { $0.append("G\(client): \(error)") }
                }
            }.start()
        }
        // Bounded: a client stuck on a lock fails the test instead of hanging it.
        let clientsDone = finished.wait(timeout: .now() + 600) == .success
        running.store(false, ordering: .relaxed)
        try #require(clientsDone, "the clients did not finish within 600 s (\(done.load(ordering: .relaxed)) attempts done)")

        watching.wait()
        #expect(watcherFailures.withLock { $0 }.isEmpty, "the watcher could not look: \(watcherFailures.withLock { $0 })")
        #expect(polls.load(ordering: .relaxed) > 10, "the watcher looked only \(polls.load(ordering: .relaxed)) times")
        #expect(overfullSeen.withLock { $0 }.isEmpty, "windows over capacity while the clients ran: \(overfullSeen.withLock { $0 })")
        #expect(unexpected.withLock { $0 }.isEmpty, "\(unexpected.withLock { $0 })")
        #expect(done.load(ordering: .relaxed) >= 1_000)
        let check = try fixture.database.connect()
        let overbooked = try check.query("""
            SELECT e.code, lower(b.during) FROM environment e JOIN environment_booking b ON b.environment_id = e.id AND b.status = 'confirmed'
            WHERE (SELECT count(*) FROM environment_booking o WHERE o.environment_id = e.id AND o.status = 'confirmed'
                   AND o.during @> lower(b.during)) > e.capacity
            """).rowCount
        #expect(overbooked == 0, "confirmed bookings over an environment's capacity")
        let overfull = try check.query("""
            SELECT w.code FROM service_window w
            WHERE w.code <> 'CROWDED' AND (SELECT count(*) FROM release r WHERE r.window_id = w.id) > w.capacity
            """).rows.map { try $0.decode(String.self) }
        #expect(overfull.isEmpty, "windows the scheduler filled over capacity: \(overfull)")
        let moved = try check.query("SELECT count(*) FROM release r JOIN service_window w ON w.id = r.window_id WHERE w.code <> 'CROWDED'")
            .first?.decode(Int.self) ?? 0
        #expect(moved > 0, "the resolutions should have moved releases out of the crowded window")
        let confirmed = try check.query("SELECT count(*) FROM environment_booking WHERE status = 'confirmed'").first?.decode(Int.self) ?? 0
        #expect(confirmed > 0)
    }

    @Test("a resolution computed before someone else's apply refuses, and nothing of it moves")
    func staleResolution() throws {
        let fixture = try PlanningFixture.make(people: ["alice", "bob"])
        defer { fixture.drop() }
        _ = try Self.crowdedWindowAndTwoGroups(fixture)
        func connect(_ person: String) throws -> (Connection, Identity) {
            let db = try fixture.database.connect(user: fixture.login(person))
            return (db, try Identity.current(db))
        }
        let (alice, aliceID) = try connect("alice")
        let (bob, bobID) = try connect("bob")
        for (db, me, group) in [(alice, aliceID, "CRM"), (bob, bobID, "HR")] {
            try Plans(db).create(group: group, code: "P", title: "", changeRef: nil, model: nil, by: me)
            for code in ["R1", "R2"] {
                _ = try Releases(db).create(NewRelease(ref: try ReleaseRef(group: group, code: code), plan: "P", window: "CROWDED",
                                                       priority: try Priority(group == "CRM" ? 2 : 3)), by: me)
            }
        }
        // Both compute from the same picture; alice applies first.
        let aliceStore = ScheduleStore(alice, deadlineZone: .gmt)
        let bobStore = ScheduleStore(bob, deadlineZone: .gmt)
        let alicePortfolio = try aliceStore.portfolio()
        let bobPortfolio = try bobStore.portfolio()
        let resolution = Resolver().resolve(alicePortfolio.snapshot)
        #expect(!resolution.proposals.isEmpty)
        let outcome = try aliceStore.apply(resolution, computedFrom: alicePortfolio, by: aliceID)
        #expect(!outcome.applied.isEmpty)
        let before = try bob.query("SELECT string_agg(code || ':' || coalesce(window_id::text, '-'), ',' ORDER BY id) FROM release")
            .first?.decode(String.self)
        do {
            _ = try bobStore.apply(Resolver().resolve(bobPortfolio.snapshot), computedFrom: bobPortfolio, by: bobID)
            Issue.record("bob's stale resolution should be refused")
        } catch let error as StoreError {
            guard case .changedSinceComputed = error else { Issue.record("unexpected \(error)"); return }
        }
        let after = try bob.query("SELECT string_agg(code || ':' || coalesce(window_id::text, '-'), ',' ORDER BY id) FROM release")
            .first?.decode(String.self)
        #expect(before == after, "nothing of the refused resolution moved")
    }

    @Test("a booking confirmed since the resolution was computed refuses the move onto it: taken by, nothing moved")
    func resolutionMovesABookingOntoOneConfirmedSince() throws {
        let fixture = try PlanningFixture.make(people: ["alice", "bob"])
        defer { fixture.drop() }
        let (admin, base) = try Self.crowdedWindowAndTwoGroups(fixture)
        try admin.execute("INSERT INTO environment (code, name, capacity) VALUES ('ENV', 'shared', 1)")
        let alice = try fixture.database.connect(user: fixture.login("alice"))
        let aliceID = try Identity.current(alice)
        let bob = try fixture.database.connect(user: fixture.login("bob"))
        let bobID = try Identity.current(bob)
        try Plans(alice).create(group: "CRM", code: "P", title: "", changeRef: nil, model: nil, by: aliceID)
        try Plans(bob).create(group: "HR", code: "P", title: "", changeRef: nil, model: nil, by: bobID)
        for (code, priority) in [("KEEP", 1), ("MOVE", 5)] {
            _ = try Releases(alice).create(NewRelease(ref: try ReleaseRef(group: "CRM", code: code), plan: "P", window: "CROWDED",
                                                      priority: try Priority(priority)), by: aliceID)
        }
        let moving = try ReleaseRef(group: "CRM", code: "MOVE")
        _ = try Releases(alice).book(moving, environment: "ENV", start: base.addingTimeInterval(-2 * 86_400),
                                     end: base.addingTimeInterval(-86_400), confirm: true, by: aliceID)
        _ = try Releases(bob).create(NewRelease(ref: try ReleaseRef(group: "HR", code: "H1"), plan: "P", window: "NEXT",
                                                priority: try Priority(3)), by: bobID)

        let store = ScheduleStore(alice, deadlineZone: .gmt)
        let portfolio = try store.portfolio()
        let resolution = Resolver().resolve(portfolio.snapshot)
        let proposal = try #require(resolution.proposals.first { $0.release == "CRM/MOVE" && !$0.bookingMoves.isEmpty })
        let shifted = try #require(proposal.bookingMoves.first)
        // Bob confirms the very time alice's resolution would shift her booking to.
        _ = try Releases(bob).book(try ReleaseRef(group: "HR", code: "H1"), environment: "ENV", start: shifted.to.start,
                                   end: shifted.to.end, confirm: true, by: bobID)
        let before = try alice.query("SELECT string_agg(code || ':' || coalesce(window_id::text, '-'), ',' ORDER BY id) FROM release")
            .first?.decode(String.self)
        do {
            _ = try store.apply(resolution, computedFrom: portfolio, by: aliceID)
            Issue.record("the move onto bob's confirmed booking should be refused")
        } catch let error as StoreError {
            // Retryable: computing the plan again sees bob's booking.
            guard case .changedSinceComputed(let message) = error else { Issue.record("unexpected \(error)"); return }
            #expect(message.contains("CRM/MOVE") && message.contains("taken"), "\(message)")
        }
        let after = try alice.query("SELECT string_agg(code || ':' || coalesce(window_id::text, '-'), ',' ORDER BY id) FROM release")
            .first?.decode(String.self)
        #expect(before == after, "nothing of the refused resolution moved")
        #expect(try alice.query("SELECT count(*) FROM environment_booking WHERE lower(during) = $1", [base.addingTimeInterval(-2 * 86_400)])
            .first?.decode(Int.self) == 1, "alice's booking stays where it was")
    }

    /// Windows CROWDED (capacity 1, in 30 days) and NEXT (capacity 2, a week later); groups CRM
    /// and HR with alice and bob as their release managers. Returns the admin's connection and
    /// CROWDED's start.
    static func crowdedWindowAndTwoGroups(_ fixture: PlanningFixture) throws -> (Connection, Date) {
        let admin = try fixture.database.connect(user: fixture.login("admin"))
        let base = Date().addingTimeInterval(30 * 86_400)
        try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ('CROWDED', $1, $2, 1)",
                          [base, base.addingTimeInterval(4 * 3600)])
        try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ('NEXT', $1, $2, 2)",
                          [base.addingTimeInterval(7 * 86_400), base.addingTimeInterval(7 * 86_400 + 4 * 3600)])
        for (group, person) in [("CRM", "alice"), ("HR", "bob")] {
            try admin.execute("INSERT INTO management_group (code, name) VALUES ($1, $1)", [group])
            try admin.execute("INSERT INTO membership (group_id, role_name, role) SELECT id, $2, 'release-manager' FROM management_group WHERE code = $1",
                              [group, fixture.login(person)])
        }
        return (admin, base)
    }
}

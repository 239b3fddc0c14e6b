import Foundation
import Postgres
import ReleaseCore
import ReleaseStore
import Scheduling
import SeededRandom
import Testing
import TestSupport

/// Three groups, each with its own release manager, in one database that each seed refills.
private struct ProtocolWorld {
    static let groups = ["CRM", "HR", "WEB"]
    let fixture: PlanningFixture
    let owner: Connection
    let managers: [String: (Connection, Identity)]

    static func make() throws -> ProtocolWorld {
        let fixture = try PlanningFixture.make(people: ["crm", "hr", "web"])
        let admin = try fixture.database.connect(user: fixture.login("admin"))
        var managers: [String: (Connection, Identity)] = [:]
        for group in groups {
            let person = group.lowercased()
            try admin.execute("INSERT INTO management_group (code, name) VALUES ($1, $1)", [group])
            try admin.execute("INSERT INTO membership (group_id, role_name, role) SELECT id, $2, 'release-manager' FROM management_group WHERE code = $1",
                              [group, fixture.login(person)])
            let db = try fixture.database.connect(user: fixture.login(person))
            let me = try Identity.current(db)
            try Plans(db).create(group: group, code: "P", title: "Plan", changeRef: nil, model: nil, by: me)
            managers[group] = (db, me)
        }
        let owner = try fixture.database.connect()
        try owner.execute("SET client_min_messages = warning", simple: true)  // TRUNCATE … CASCADE says what it cascades to
        return ProtocolWorld(fixture: fixture, owner: owner, managers: managers)
    }

    func login(_ group: String) -> String { fixture.login(group.lowercased()) }

    /// A fresh portfolio: weekly windows from two weeks ahead, a freeze over the first one
    /// sometimes (so its releases must leave and others make room), crowded early windows.
    func fill(_ rng: inout SeededGenerator) throws {
        try owner.execute("TRUNCATE schedule_proposal, release, service_window, change_freeze CASCADE", simple: true)
        let admin = try fixture.database.connect(user: fixture.login("admin"))
        let base = Date().addingTimeInterval(14 * 86_400).rounded(to: 3600)
        for week in 0...9 {
            let start = base.addingTimeInterval(Double(week) * 7 * 86_400)
            try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ($1, $2, $3, $4)",
                              ["W\(week)", start, start.addingTimeInterval(4 * 3600), rng.chance(0.8) ? 1 : 2])
        }
        if rng.chance(0.7) {
            try admin.execute("INSERT INTO change_freeze (code, starts_at, ends_at, reason) VALUES ('FREEZE', $1, $2, 'Audit')",
                              [base.addingTimeInterval(-3600), base.addingTimeInterval(5 * 3600)])
        }
        // Crowded early weeks, more urgent the earlier: what must leave W0 pushes on through
        // the later weeks, across groups (chains of waiting moves).
        var i = 0
        for week in 0...3 {
          for _ in 0..<rng.int(1...3) {
            defer { i += 1 }
            let group = rng.pick(Self.groups)
            let start = base.addingTimeInterval(Double(week) * 7 * 86_400)
            // Mostly inside the window; sometimes an hour before it opens (to be re-timed).
            let offset = rng.chance(0.15) ? -3600.0 : Double(rng.int(0...2)) * 3600
            let (db, me) = managers[group]!
            _ = try Releases(db).create(NewRelease(ref: try ReleaseRef(group: group, code: "R\(i)"), plan: "P", window: "W\(week)",
                                                   deploy: (start.addingTimeInterval(offset), start.addingTimeInterval(offset + 2 * 3600)),
                                                   priority: try Priority(min(5, week + 1 + rng.int(0...1)))), by: me)
          }
        }
    }

    struct Placed: Equatable {
        var window: String?
        var start: Date?
    }

    func state() throws -> [String: Placed] {
        var result: [String: Placed] = [:]
        for row in try owner.query("""
            SELECT g.code || '/' || r.code, w.code, r.deploy_start FROM release r JOIN management_group g ON g.id = r.group_id
            LEFT JOIN service_window w ON w.id = r.window_id
            """).rows {
            let (release, window, start) = try row.decode((String, String?, Date?).self)
            result[release] = Placed(window: window, start: start)
        }
        return result
    }

    func windowLoads() throws -> [String: (count: Int, capacity: Int)] {
        var result: [String: (Int, Int)] = [:]
        for row in try owner.query("""
            SELECT w.code, count(r.id)::int, w.capacity FROM service_window w
            LEFT JOIN release r ON r.window_id = w.id AND r.status NOT IN ('cancelled', 'closed') GROUP BY w.code, w.capacity
            """).rows {
            let (window, count, capacity) = try row.decode((String, Int, Int).self)
            result[window] = (count, capacity)
        }
        return result
    }

    /// Accepted moves per release, with who decided each.
    func accepted() throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for row in try owner.query("""
            SELECT g.code || '/' || r.code, p.decided_by FROM schedule_proposal p JOIN release r ON r.id = p.release_id
            JOIN management_group g ON g.id = r.group_id WHERE p.status = 'accepted'
            """).rows {
            let (release, decidedBy) = try row.decode((String, String?).self)
            result[release, default: []].append(decidedBy ?? "")
        }
        return result
    }

    func pending() throws -> [(id: Int64, group: String)] {
        try owner.query("SELECT p.id, g.code FROM schedule_proposal p JOIN management_group g ON g.id = p.group_id WHERE p.status = 'pending' ORDER BY p.id")
            .rows.map { try $0.decode((Int64, String).self) }
    }

    /// Releases whose deployment now overlaps a freeze or starts before now, among `moved`.
    func brokenRules(_ moved: Set<String>) throws -> [String] {
        try owner.query("""
            SELECT g.code || '/' || r.code FROM release r JOIN management_group g ON g.id = r.group_id
            WHERE g.code || '/' || r.code = ANY ($1::text[])
              AND (r.deploy_start < now() OR EXISTS (SELECT 1 FROM change_freeze f WHERE f.environment_id IS NULL
                   AND tstzrange(f.starts_at, f.ends_at) && tstzrange(r.deploy_start, r.deploy_end)))
            """, [Array(moved)]).rows.map { try $0.decode(String.self) }
    }
}

@Suite("Coordination: the protocol through the database, seeded", .serialized)
struct CoordinationProtocolTests {
    @Test("random portfolios, three release managers applying, accepting and rejecting in seeded orders: windows never over-filled, nothing moved without its owner, all-accept ends in the promised plan")
    func seededProtocol() throws {
        let world = try ProtocolWorld.make()
        defer { world.fixture.drop() }
        var portfolios = 0, steps = 0, allAcceptRuns = 0, promisedKept = 0, waitingMoves = 0, cascades = 0
        var rejections = 0, withdrawn = 0, retimes = 0, retryable = 0, approvals = 0

        for seed in UInt64(1)...48 {
            var rng = SeededGenerator(seed: 0xC0_0D1A_7104 &+ seed)
            try world.fill(&rng)
            let allAccept = seed % 3 != 0
            portfolios += 1
            var rounds = 0
            var promised: [String: ProtocolWorld.Placed]? = nil

            /// Runs one command and checks every invariant on what it committed.
            func step(_ what: String, _ body: () throws -> Void) throws {
                let before = try world.state()
                let loadsBefore = try world.windowLoads()
                let acceptedBefore = try world.accepted()
                do {
                    try body()
                } catch let error as StoreError {
                    switch error {
                    case .busy(let message), .changedSinceComputed(let message):
                        #expect(message.contains("retry") || message.contains("again"), "seed \(seed) \(what): \(message)")
                        retryable += 1
                    default:
                        Issue.record("seed \(seed) \(what): \(error)")
                    }
                }
                steps += 1
                let after = try world.state()
                for (code, load) in try world.windowLoads() where load.count > load.capacity {
                    #expect(load.count <= loadsBefore[code]?.count ?? 0, "seed \(seed) \(what): window \(code) filled to \(load.count) of \(load.capacity)")
                }
                let acceptedAfter = try world.accepted()
                let moved = Set(after.keys.filter { after[$0] != before[$0] })
                for release in moved {
                    let group = String(release.split(separator: "/")[0])
                    let decisions = acceptedAfter[release] ?? []
                    #expect(decisions.count > (acceptedBefore[release] ?? []).count && decisions.last == world.login(group),
                            "seed \(seed) \(what): \(release) moved without its owner accepting (\(decisions))")
                }
                #expect(try world.brokenRules(moved).isEmpty, "seed \(seed) \(what): a move broke a hard rule")
            }

            let snapshot = try ScheduleStore(world.owner, deadlineZone: .gmt).snapshot()
            while rounds < 3 {
                rounds += 1
                let group = rng.pick(ProtocolWorld.groups)
                let (db, me) = world.managers[group]!
                try step("\(group) applies") {
                    let (resolution, outcome) = try ScheduleStore(db, deadlineZone: .gmt).resolveAndApply(by: me)
                    if rounds == 1 { promised = try snapshot.applying(resolution).releases.reduce(into: [:]) {
                        $0[$1.key] = ProtocolWorld.Placed(window: $1.window, start: $1.deploy?.start)
                    } }
                    waitingMoves += outcome.waiting.filter { !$0.waitsOn.isEmpty }.count
                    retimes += resolution.proposals.filter { $0.action == .retime }.count
                }
                var pending = try world.pending()
                while !pending.isEmpty {
                    let next = rng.pick(pending)
                    let (db, me) = world.managers[next.group]!
                    let store = ScheduleStore(db, deadlineZone: .gmt)
                    if !allAccept && rng.chance(0.3) {
                        try step("\(next.group) rejects \(next.id)") {
                            let outcome = try store.reject(next.id, reason: "not that night", by: me)
                            rejections += 1
                            withdrawn += outcome.withdrawn.count
                        }
                    } else {
                        try step("\(next.group) accepts \(next.id)") {
                            let outcome = try store.accept(next.id, by: me)
                            if outcome.status == "approved" { approvals += 1 }
                            if outcome.carriedOut.count > 1 { cascades += 1 }
                        }
                    }
                    pending = try world.pending()
                }
                if allAccept { break }
            }
            if allAccept, let promised {
                allAcceptRuns += 1
                let open = try world.owner.query("SELECT count(*)::int FROM schedule_proposal WHERE status IN ('pending', 'approved')").rows[0].decode(Int.self)
                #expect(open == 0, "seed \(seed): \(open) moves left open")
                let end = try world.state()
                #expect(end == promised, "seed \(seed): end state differs from the promised plan")
                if end == promised { promisedKept += 1 }
            }
        }
        print("coordination protocol (database): \(portfolios) portfolios, \(steps) steps, \(waitingMoves) waiting moves stored, "
              + "\(approvals) approvals that waited, \(cascades) cascades, \(rejections) rejections withdrawing \(withdrawn) moves, "
              + "\(retimes) retimes, \(retryable) retryable refusals, \(promisedKept)/\(allAcceptRuns) all-accept runs ended in the promised plan")
        // It exercised what it tests.
        #expect(portfolios == 48 && steps > 200)
        #expect(waitingMoves > 15 && approvals > 3 && cascades > 5)
        #expect(rejections > 15 && withdrawn > 3)
        #expect(retimes > 5)
        #expect(allAcceptRuns == 32 && promisedKept == allAcceptRuns)
    }

    /// Results gathered from several threads.
    private final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [String] = []
        private var ready = 0
        func add(_ item: String) { lock.withLock { items.append(item) } }
        var all: [String] { lock.withLock { items } }
        /// Waits until `count` threads have arrived, so they start at the same moment.
        func arrive(_ count: Int) {
            lock.withLock { ready += 1 }
            let limit = Date().addingTimeInterval(30)
            while lock.withLock({ ready }) < count && Date() < limit { Thread.sleep(forTimeInterval: 0.001) }
        }
    }

    @Test("two groups accept interdependent proposals at the same moment, from four connections, while four more watch: the promised plan, no window ever over capacity, no error leaks")
    func concurrentAccepts() throws {
        for round in 0..<3 {
            let chain = try ChainFixture.make()
            defer { chain.drop() }
            let (crmDB, crm) = try chain.connect("crm")
            let (_, outcome) = try ScheduleStore(crmDB, deadlineZone: .gmt).resolveAndApply(by: crm)
            let ids = Dictionary(uniqueKeysWithValues: outcome.waiting.map { ($0.release, $0.id) })
            // HR/B waits on WEB/C and WEB/C2; CRM/A on HR/B and HR/B2: all four decided at once.
            let deciders: [(String, String)] = [("hr", "HR/B"), ("web", "WEB/C"), ("hr", "HR/B2"), ("web", "WEB/C2")]
            let results = Outcomes()
            let overfilled = Outcomes()
            let done = Outcomes()
            let clients = 8  // four deciders, four watchers
            let threads = Outcomes()
            let finished = DispatchGroup()
            for client in 0..<clients {
                finished.enter()
                let thread = Thread {
                    defer { finished.leave() }
                    do {
                        if client < deciders.count {
                            let (person, release) = deciders[(client + round) % deciders.count]
                            let (db, me) = try chain.connect(person)
                            threads.arrive(clients)
                            defer { done.add(release) }
                            let decided = try ScheduleStore(db, deadlineZone: .gmt).accept(ids[release] ?? -1, by: me)
                            results.add("\(release) \(decided.status)")
                        } else {
                            let db = try chain.database.connect()
                            threads.arrive(clients)
                            repeat {
                                // W1 and W2 start with two releases each (capacity 1): none may ever hold more, no other window more than 1.
                                for row in try db.query("""
                                    SELECT w.code FROM service_window w JOIN release r ON r.window_id = w.id AND r.status NOT IN ('cancelled', 'closed')
                                    GROUP BY w.code, w.capacity HAVING count(*) > CASE WHEN w.code IN ('W1', 'W2') THEN 2 ELSE w.capacity END
                                    """).rows {
                                    overfilled.add(try row.decode(String.self))
                                }
                            } while done.all.count < deciders.count
                        }
                    } catch {
                        results.add("error: \(error)")
                        done.add("error")
                    }
                }
                thread.start()
            }
            #expect(finished.wait(timeout: .now() + 120) == .success, "round \(round): the clients did not finish")
            let errors = results.all.filter { $0.hasPrefix("error") }
            #expect(errors.isEmpty, "round \(round): \(errors)")
            #expect(results.all.count == deciders.count, "round \(round): \(results.all)")
            #expect(results.all.allSatisfy { $0.hasSuffix(" accepted") || $0.hasSuffix(" approved") }, "round \(round): \(results.all)")
            #expect(overfilled.all.isEmpty, "round \(round): over capacity: \(Set(overfilled.all))")
            #expect(try chain.windows() == CoordinationTests.promised, "round \(round)")
            let open = try chain.database.connect().query("SELECT count(*)::int FROM schedule_proposal WHERE status IN ('pending', 'approved')")
            #expect(try open.rows[0].decode(Int.self) == 0)
        }
    }
}

import Foundation
import ReleaseCore
import Scheduling
import SeededRandom
import Testing

/// A pure model of the cross-group protocol (the database's relplan_store_plan / relplan_decide,
/// without swaps and without rejections of approved moves): one group stores the plan, then every
/// group accepts or rejects its proposals in a seeded random order.
@Suite("Coordination: a plan carried out by groups in any order (pure model)")
struct CoordinationPropertyTests {
    struct Move {
        var proposal: Proposal
        var status: String
        var waits: [Int]
    }

    static func portfolio(_ rng: inout SeededGenerator) -> Snapshot {
        let groups = (0..<rng.int(2...4)).map { "G\($0)" }
        let windows = (0..<6).map { window("W\($0)", Double($0) * 168 + 24, Double($0) * 168 + 28, capacity: rng.int(1...2)) }
        var releases: [Release] = []
        for (g, group) in groups.enumerated() {
            for i in 0..<rng.int(1...3) {
                let w = rng.int(0...2)
                releases.append(release("\(group)/R\(i)", priority: rng.int(1...5), window: "W\(w)",
                                        deploy: (Double(w) * 168 + 24, Double(w) * 168 + 26 + Double(g % 2))))
            }
        }
        return Snapshot(releases: releases, windows: windows, now: at(0))
    }

    @Test("no step breaks a hard rule or over-fills a window; all-accept ends in the promised plan")
    func protocolHolds() throws {
        var portfolios = 0, steps = 0, waited = 0, cascaded = 0, rejections = 0, allAccepted = 0
        for seed in 0..<6000 as Range<UInt64> {
            var rng = SeededGenerator(seed: seed &* 7919 &+ 13)
            var state = Self.portfolio(&rng)
            let resolution = Resolver().resolve(state)
            guard !resolution.proposals.isEmpty else { continue }
            portfolios += 1
            let promised = try state.applying(resolution)
            let groups = Array(Set(state.releases.map(\.group))).sorted()
            let caller = rng.pick(groups)
            let plan = Coordination.plan(resolution, in: state, by: [caller])
            var moves = plan.map { Move(proposal: $0.proposal, status: $0.isOwn ? "approved" : "pending", waits: $0.needs.map(\.move)) }
            let limit = Dictionary(uniqueKeysWithValues: state.windows.map { w in
                (w.code, max(w.capacity, state.releases.filter { $0.window == w.code }.count))
            })
            func check() {
                for w in state.windows {
                    #expect(state.releases.filter { $0.window == w.code }.count <= limit[w.code] ?? 0, "seed \(seed): \(w.code) over-filled")
                }
            }
            // A move that breaks a rule now is withdrawn (false); one that cannot be applied at all
            // (an unknown release or booking) is a defect, which throws and fails the test.
            func carry(_ i: Int) throws -> Bool {
                guard MoveRules.violations(of: moves[i].proposal, in: state).isEmpty else { return false }
                state = try state.applying(Resolution(proposals: [moves[i].proposal]))
                moves[i].status = "accepted"
                return true
            }
            func withdrawDependents() {
                var changed = true
                while changed {
                    changed = false
                    for i in moves.indices where ["pending", "approved"].contains(moves[i].status)
                        && moves[i].waits.contains(where: { ["rejected", "withdrawn"].contains(moves[$0].status) }) {
                        moves[i].status = "withdrawn"; changed = true
                    }
                }
            }
            func cascade() throws {
                var progress = true
                while progress {
                    progress = false
                    for i in moves.indices where moves[i].status == "approved" && moves[i].waits.allSatisfy({ moves[$0].status == "accepted" }) {
                        if try carry(i) { cascaded += 1 } else { moves[i].status = "withdrawn"; withdrawDependents() }
                        progress = true
                    }
                }
            }
            // Store: the caller's moves that need nothing, at once, in order.
            for i in moves.indices where moves[i].status == "approved" && moves[i].waits.isEmpty {
                #expect(try carry(i), "seed \(seed): an own move planned as holding did not hold")
            }
            waited += moves.filter { $0.status == "approved" }.count
            check()
            let rejecting = rng.chance(0.2)
            var order = moves.indices.filter { moves[$0].status == "pending" }
            order.shuffle(using: &rng)
            for i in order where moves[i].status == "pending" {
                steps += 1
                if rejecting && rng.chance(0.3) {
                    moves[i].status = "rejected"; rejections += 1; withdrawDependents()
                } else {
                    let open = moves.indices.filter { $0 != i && ["pending", "approved"].contains(moves[$0].status) }
                    let needs = Coordination.prerequisites(of: moves[i].proposal, among: open.map { ($0, moves[$0].proposal) }, in: state) ?? []
                    moves[i].waits = needs.map(\.move)
                    moves[i].status = "approved"
                    if needs.isEmpty { #expect(try carry(i), "seed \(seed): an accepted move that needs nothing did not hold") }
                }
                try cascade()
                check()
                for m in moves where m.status == "accepted" {
                    #expect(state.releases.first { $0.key == m.proposal.release }.map { $0.status.isActive && !$0.pinned } == true)
                }
            }
            try cascade()
            if !rejecting {
                allAccepted += 1
                #expect(moves.allSatisfy { $0.status == "accepted" }, "seed \(seed): not every move was carried out: \(moves.map(\.status))")
                #expect(state.releases.map(\.window) == promised.releases.map(\.window), "seed \(seed): end state differs from the plan")
            }
        }
        print("coordination property: \(portfolios) portfolios, \(steps) decisions, \(waited) waiting moves, \(cascaded) carried out by a cascade, \(rejections) rejections, \(allAccepted) all-accept runs")
        #expect(portfolios > 4000 && steps > 8000 && waited > 80 && cascaded > 150 && rejections > 400)
    }
}

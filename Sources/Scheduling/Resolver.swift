import Foundation
import ReleaseCore

/// Proposes moves that remove conflicts from the whole portfolio at once.
///
/// **What may change.** Only releases in a conflict move, and only those that are active, not
/// yet deploying, not pinned and have a deployment. Such a release may move to another service
/// window (its deployment keeps its offset from the window start and its duration, its
/// bookings move by the same amount), and/or have its test bookings pulled in, as one block, so
/// that the last ends exactly when its deployment starts (a `shift-booking`: the fix for
/// deploying before the tests end). It considers the 4 nearest earlier and 8 nearest later
/// windows that pass the rules below (``ResolverOptions/windowsBefore``,
/// ``ResolverOptions/windowsAfter``). A release without a known window can only have its
/// tests pulled in. The resolver does not hunt for free slots for single bookings: an
/// environment overlap is resolved by moving a release, bookings and all, to another window.
///
/// **Hard rules**, never broken by a proposal: a release that is deploying or later, or pinned,
/// never moves; nothing changed starts before `now` (it must still be built and tested); a
/// moved deployment avoids global freezes and ends by its deadline, and a changed booking
/// avoids its environment's freezes (unless overridden for that release); a release never
/// enters a window that is then over capacity, and a changed booking never holds an
/// environment while it is over capacity; a moved release never starts before a scheduled,
/// active dependency has finished, nor finishes after a dependent starts. (Unscheduled,
/// cancelled or unknown dependencies are conflicts of their own, which no move changes.)
///
/// **Objective**, compared lexicographically so that a priority-1 release outweighs any number
/// of lower ones: for priority 1, then 2 … 5, first the number of releases of that priority
/// left in a conflict, then their total cost: delay, plus displacement weighted half. A
/// release's delay is how much later its deployment starts than it does now, in the current
/// plan; its displacement is how much earlier. Moving earlier is a change too, weighted below
/// delay: a release is not pulled four weeks forward to save a lower-priority one a week, only
/// when nothing cheaper at its own priority works (the explanation says which).
/// Ties go to fewer changed releases, then less total movement, then a fixed order of
/// candidates (its own window first, then nearest windows), so the same snapshot always gives
/// the same proposals.
///
/// **Re-timing.** A deployment outside its window but short enough to fit in it is re-timed
/// inside its own window (a `retime`: the least shift that puts it inside, bookings moving
/// along) before any other window is tried; moves to other windows keep that re-timed offset.
///
/// **Search.** Conflicts that share a release form a component; components whose releases
/// could meet after a move (same window, overlapping bookings or deployments on shared
/// resources, a dependency, a bystander both could collide with) are merged while the search
/// space stays small (``ResolverOptions/mergeSearchSpace``). Components are solved one after
/// another, highest priority first, each against the world as the earlier ones left it: by
/// branch and bound when it finishes within ``ResolverOptions/exactBudget`` (the optimum for
/// that component), else greedily: releases still in a conflict take their best placement one
/// at a time, lowest priority first, then again highest priority first. What stays in a
/// conflict is listed as unresolved, with the reason.
public struct Resolver: Sendable {
    public var options: ResolverOptions

    public init(options: ResolverOptions = ResolverOptions()) {
        self.options = options
    }

    public func resolve(_ snapshot: Snapshot) -> Resolution {
        var run = ResolverRun(snapshot: snapshot, options: options)
        return run.resolve()
    }
}

/// One resolution, start to end.
struct ResolverRun {
    let options: ResolverOptions
    let index: PortfolioIndex
    let geometry: Geometry
    let raw: [RawConflict]
    let ledger: Ledger
    private(set) var conflicted: [Bool]
    private(set) var mayMove: [Bool]
    private(set) var candidates: [[Placement]]
    private var methodOf: [Int: SolveMethod] = [:]

    init(snapshot: Snapshot, options: ResolverOptions) {
        self.options = options
        index = PortfolioIndex(snapshot)
        geometry = Geometry(index: index)
        raw = Detector(index: index).run()
        ledger = Ledger(geometry: geometry)
        let n = index.releaseCount
        var conflicted = [Bool](repeating: false, count: n)
        for conflict in raw { for r in conflict.releases { conflicted[Int(r)] = true } }
        self.conflicted = conflicted
        var mayMove = [Bool](repeating: false, count: n)
        for r in 0..<n where conflicted[r] && CandidateBuilder.isMovable(index, r) {
            mayMove[r] = index.window[r] >= 0 || geometry.pullDelta[r] < 0
        }
        self.mayMove = mayMove
        let builder = CandidateBuilder(geometry: geometry, options: options, mayMove: mayMove)
        var candidates = [[Placement]](repeating: [], count: n)
        for r in 0..<n where conflicted[r] { candidates[r] = builder.candidates(for: r) }
        self.candidates = candidates
    }

    mutating func resolve() -> Resolution {
        let components = ComponentBuilder(run: self).build()
        var reports: [ComponentReport] = []
        for members in components {
            let report = solve(members)
            reports.append(report)
        }
        return Explainer(run: self).resolution(components: reports)
    }

    var placements: [Placement] { ledger.placement }

    func method(of release: Int) -> SolveMethod? { methodOf[release] }

    // MARK: Solving one component

    private mutating func solve(_ members: [Int]) -> ComponentReport {
        let keys = members.map { index.key(Int32($0)) }.sorted()
        let movers = members.filter { mayMove[$0] && candidates[$0].count > 1 }
        func report(_ method: SolveMethod, _ nodes: Int) -> ComponentReport {
            for r in members { methodOf[r] = method }
            return ComponentReport(releases: keys, method: method, searchNodes: nodes)
        }
        if movers.isEmpty { return report(.fixed, 0) }

        var nodes = 0
        if movers.count <= options.maxExactReleases {
            // Fixed members first (they have one placement), then by priority and key.
            let order = members.sorted { a, b in
                let fa = candidates[a].count == 1, fb = candidates[b].count == 1
                if fa != fb { return fa }
                if index.priority[a] != index.priority[b] { return index.priority[a] < index.priority[b] }
                return index.key(Int32(a)) < index.key(Int32(b))
            }
            for r in order { ledger.lift(r) }
            let problem = Subproblem(ledger: ledger, members: order, placements: order.map { candidates[$0] })
            var search = ExactSearch(problem: problem, nodeBudget: options.nodeBudget)
            let finished = search.run()
            nodes = search.nodes
            if finished, let best = search.best {
                for (i, r) in order.enumerated() { ledger.place(r, at: problem.options[i][best[i]].placement) }
                return report(.exact, nodes)
            }
            for r in order { ledger.place(r, at: ledger.placement[r]) }
        }
        greedy(members)
        return report(.greedy, nodes)
    }

    /// Lowest priority first, each release still in a conflict takes its best placement given
    /// everything else; then once more, highest priority first.
    private func greedy(_ members: [Int]) {
        let movers = members.filter { mayMove[$0] && candidates[$0].count > 1 }
        let lowestFirst = movers.sorted { a, b in
            if index.priority[a] != index.priority[b] { return index.priority[a] > index.priority[b] }
            return index.key(Int32(a)) < index.key(Int32(b))
        }
        let highestFirst = movers.sorted { a, b in
            if index.priority[a] != index.priority[b] { return index.priority[a] < index.priority[b] }
            return index.key(Int32(a)) < index.key(Int32(b))
        }
        for pass in [lowestFirst, highestFirst] {
            for r in pass where ledger.isInConflict(r) {
                ledger.lift(r)
                let problem = Subproblem(ledger: ledger, members: [r], placements: [candidates[r]])
                var search = ExactSearch(problem: problem, nodeBudget: .max)
                _ = search.run()
                let choice = search.best?[0] ?? 0
                ledger.place(r, at: problem.options[0][choice].placement)
            }
        }
    }
}

import Foundation
import Algorithms
import ReleaseCore

/// The resolver's objective, compared lexicographically: for priority 1, then 2 … 5, first the
/// number of releases of that priority left in a conflict, then their total cost (delay, plus
/// displacement earlier weighted half: ``Geometry/cost(_:)``); after that, as tie-breaks, the
/// number of releases changed and the total distance moved.
struct Score: Comparable, Sendable {
    var conflicted = SIMD8<Int64>()
    var cost = SIMD8<Int64>()
    var changes: Int64 = 0
    var distance: Int64 = 0

    static let worst: Score = {
        var s = Score()
        s.conflicted = SIMD8(repeating: .max)
        return s
    }()

    static func < (a: Score, b: Score) -> Bool {
        for p in 0..<5 {
            if a.conflicted[p] != b.conflicted[p] { return a.conflicted[p] < b.conflicted[p] }
            if a.cost[p] != b.cost[p] { return a.cost[p] < b.cost[p] }
        }
        if a.changes != b.changes { return a.changes < b.changes }
        return a.distance < b.distance
    }
}

/// One release's candidate placement with everything the search needs precomputed.
struct OptionFacts {
    var placement: Placement
    var windowSlot: Int
    /// The release enters a window it was not assigned to: that window must stay within capacity.
    var entersWindow: Bool
    var start: Double
    var end: Double
    var bookings: [(slot: Int, start: Double, end: Double, changed: Bool)]
    /// A conflict that needs no other release of the subproblem (freeze, deadline, test timing…).
    var ownConflict: Bool
    /// Releases outside the subproblem that this placement is in a pairwise conflict with.
    var partners: [Int32]
    /// ``Geometry/cost(_:)``: delay, and displacement earlier weighted half.
    var cost: Int64
    var change: Bool
    var distance: Int64
}

/// A set of releases decided together against a fixed rest of the world (the ledger, with the
/// subproblem's releases lifted out). Scores any prefix of an assignment exactly; since
/// placing more releases can only add conflicts, a prefix's score bounds every completion.
final class Subproblem {
    let ledger: Ledger
    let members: [Int]
    let options: [[OptionFacts]]
    private let priority: [Int]
    private var index: PortfolioIndex { ledger.index }

    private var pairOffset: [Int] = []
    private var pairFlags: [UInt8] = []
    private static let pairConflict: UInt8 = 1
    private static let pairForbidden: UInt8 = 2

    private var windowIds: [Int32] = []
    private var windowBackground: [Int] = []
    private var windowMembers: [[Int32]] = []
    private var environmentIds: [Int32] = []
    /// Bookings of the rest of the world near the members' candidate bookings, sorted by start.
    private var environmentBackground: [[SweepItem]] = []
    private var environmentLongest: [Double] = []
    private var environmentSeen: [[Int]] = []

    private var backgroundConflicted: [Int32: Bool] = [:]

    // Scratch.
    private var status: [Bool]
    private var witnessed: [Int32] = []
    private var witnessMark: [Int32: Int] = [:]
    private var evaluation = 0
    private var slotCount: [Int] = []
    private var slotEntered: [Bool] = []
    private var envItems: [(start: Double, end: Double, owner: Int32, member: Int32, changed: Bool)] = []
    private var envEnds: [(end: Double, local: Int32)] = []
    private var envRunning: [Int32] = []
    private var envSlot: [Int32] = []
    private var holding: [Int32: Int32] = [:]

    /// `members` must already be lifted out of `ledger`.
    init(ledger: Ledger, members: [Int], placements: [[Placement]]) {
        self.ledger = ledger
        self.members = members
        let index = ledger.index
        priority = members.map { Int(index.priority[$0]) - 1 }
        status = [Bool](repeating: false, count: members.count)

        var windowSlot: [Int32: Int] = [:]
        var envSlot: [Int32: Int] = [:]
        var facts: [[OptionFacts]] = []
        let memberSet = Set(members)
        for (m, r) in members.enumerated() {
            var list: [OptionFacts] = []
            for (k, p) in placements[m].enumerated() {
                guard var option = Self.facts(ledger: ledger, r, p, memberSet: memberSet, isOriginal: k == 0) else { continue }
                if p.window >= 0 {
                    if let slot = windowSlot[p.window] {
                        option.windowSlot = slot
                    } else {
                        option.windowSlot = windowIds.count
                        windowSlot[p.window] = windowIds.count
                        windowIds.append(p.window)
                    }
                }
                for (i, b) in index.bookings(of: r).filter({ index.bookingEnd[$0] > index.bookingStart[$0] }).enumerated() {
                    let env = index.bookingEnvironment[b]
                    let slot: Int
                    if let known = envSlot[env] { slot = known } else {
                        slot = environmentIds.count
                        envSlot[env] = slot
                        environmentIds.append(env)
                    }
                    option.bookings[i].slot = slot
                }
                list.append(option)
            }
            facts.append(list)
        }
        options = facts

        for w in windowIds {
            windowBackground.append(ledger.windowCount[Int(w)])
            windowMembers.append(ledger.windowMembers[Int(w)])
        }
        var backgroundItems = [[SweepItem]](repeating: [], count: environmentIds.count)
        var seen = Set<Int32>()
        for list in facts {
            for option in list {
                for booking in option.bookings {
                    ledger.forEachBooking(environment: environmentIds[booking.slot], overlapping: booking.start, booking.end) { item in
                        if seen.insert(item.tag).inserted { backgroundItems[booking.slot].append(item) }
                    }
                }
            }
        }
        for slot in backgroundItems.indices { backgroundItems[slot].sort(by: SweepItem.precedes) }
        environmentBackground = backgroundItems
        environmentLongest = backgroundItems.map { items in items.map { $0.end - $0.start }.max() ?? 0 }
        environmentSeen = backgroundItems.map { [Int](repeating: 0, count: $0.count) }
        slotCount = [Int](repeating: 0, count: windowIds.count)
        slotEntered = [Bool](repeating: false, count: windowIds.count)
        buildPairs()
    }

    /// Facts of one placement; nil when it breaks a hard rule against the fixed world.
    private static func facts(ledger: Ledger, _ r: Int, _ p: Placement, memberSet: Set<Int>, isOriginal: Bool) -> OptionFacts? {
        let index = ledger.index
        let geometry = ledger.geometry
        let scheduled = index.hasDeploy[r]
        let start = geometry.deployStart(r, p), end = geometry.deployEnd(r, p)
        let moved = p.shift != 0
        var own = false
        if p.window >= 0 && scheduled
            && (start < index.windowStart[Int(p.window)] || end > index.windowEnd[Int(p.window)]) { own = true }
        if scheduled && end > index.deadline[r] { own = true }
        if ledger.ownFreezeOrTestProblem(r, p) { own = true }

        var partners: [Int32] = []
        for d in index.dependencies[r] {
            if d < 0 { own = true; continue }
            let dep = Int(d)
            if dep == r || memberSet.contains(dep) { continue }
            switch index.status[dep] {
            case .cancelled: own = true
            case .closed: break
            default:
                guard scheduled else { break }
                if !index.hasDeploy[dep] {
                    partners.append(d)
                } else if ledger.deployEnd(dep) > start {
                    if !isOriginal && (moved || ledger.deployMoved(dep)) { return nil }
                    partners.append(d)
                }
            }
        }
        for s in index.dependents[r] {
            let dependent = Int(s)
            if dependent == r || memberSet.contains(dependent) || !index.active[dependent] || !index.hasDeploy[dependent] { continue }
            if !scheduled || end > ledger.deployStart(dependent) {
                if scheduled && !isOriginal && (moved || ledger.deployMoved(dependent)) { return nil }
                partners.append(s)
            }
        }
        if scheduled && end > start {
            ledger.forEachTargetCollision(r, start: start, end: end) { partners.append($0) }
            if index.implementer[r] >= 0 {
                ledger.forEachImplementerDeployment(index.implementer[r], overlapping: start, end) { item in
                    if item.owner != Int32(r) { partners.append(item.owner) }
                }
            }
        }
        partners.sort()
        var unique: [Int32] = []
        for x in partners where unique.last != x { unique.append(x) }

        var bookings: [(slot: Int, start: Double, end: Double, changed: Bool)] = []
        for b in index.bookings(of: r) where index.bookingEnd[b] > index.bookingStart[b] {
            bookings.append((0, geometry.bookingStart(r, b, p), geometry.bookingEnd(r, b, p), geometry.bookingShift(r, b, p) != 0))
        }
        return OptionFacts(
            placement: p, windowSlot: -1, entersWindow: p.window != index.window[r],
            start: start, end: end, bookings: bookings, ownConflict: own, partners: unique,
            cost: geometry.cost(p), change: geometry.isChange(r, p), distance: geometry.distance(r, p))
    }

    private func buildPairs() {
        let n = members.count
        pairOffset = [Int](repeating: 0, count: n * n)
        for j in 0..<n {
            for i in 0..<j {
                pairOffset[i * n + j] = pairFlags.count
                let a = members[i], b = members[j]
                let related = targetsRelated(a, b)
                let sameImplementer = index.implementer[a] >= 0 && index.implementer[a] == index.implementer[b]
                let aOnB = index.dependencies[a].contains(Int32(b)) && a != b
                let bOnA = index.dependencies[b].contains(Int32(a)) && a != b
                for oa in options[i] {
                    for ob in options[j] {
                        pairFlags.append(pairFlags(a, oa, b, ob, related: related, sameImplementer: sameImplementer, aOnB: aOnB, bOnA: bOnA))
                    }
                }
            }
        }
    }

    private func pairFlags(_ a: Int, _ oa: OptionFacts, _ b: Int, _ ob: OptionFacts,
                           related: Bool, sameImplementer: Bool, aOnB: Bool, bOnA: Bool) -> UInt8 {
        var flags: UInt8 = 0
        let scheduledA = index.hasDeploy[a], scheduledB = index.hasDeploy[b]
        if scheduledA && scheduledB && (related || sameImplementer)
            && oa.end > oa.start && ob.end > ob.start && oa.start < ob.end && ob.start < oa.end {
            flags |= Self.pairConflict
        }
        func order(_ dependent: Int, _ od: OptionFacts, _ dependency: Int, _ op: OptionFacts) {
            guard index.hasDeploy[dependent], index.active[dependency] else { return }
            if !index.hasDeploy[dependency] {
                flags |= Self.pairConflict
            } else if op.end > od.start {
                flags |= Self.pairConflict
                if od.placement.shift != 0 || op.placement.shift != 0 { flags |= Self.pairForbidden }
            }
        }
        if aOnB { order(a, oa, b, ob) }
        if bOnA { order(b, ob, a, oa) }
        return flags
    }

    private func targetsRelated(_ a: Int, _ b: Int) -> Bool {
        let ta = index.targets[a], tb = index.targets[b]
        if ta.isEmpty || tb.isEmpty { return false }
        for x in ta {
            let chain = index.itemChain[Int(x)]
            for y in tb where chain.contains(y) { return true }
        }
        for y in tb {
            let chain = index.itemChain[Int(y)]
            for x in ta where chain.contains(x) { return true }
        }
        return false
    }

    // MARK: Scoring

    /// The score of members `0..<placed` at `choice`; nil when a hard rule breaks.
    func score(_ choice: [Int], placed: Int) -> Score? {
        let n = members.count
        evaluation += 1
        witnessed.removeAll(keepingCapacity: true)
        for i in 0..<placed { status[i] = false }

        for i in 0..<placed {
            let option = options[i][choice[i]]
            if option.ownConflict { status[i] = true }
            if !option.partners.isEmpty {
                status[i] = true
                for x in option.partners { witness(x) }
            }
        }
        if placed > 1 {
            for j in 1..<placed {
                let width = options[j].count
                for i in 0..<j {
                    let flags = pairFlags[pairOffset[i * n + j] + choice[i] * width + choice[j]]
                    if flags == 0 { continue }
                    if flags & Self.pairForbidden != 0 { return nil }
                    status[i] = true
                    status[j] = true
                }
            }
        }
        if !windowsHold(choice, placed) { return nil }
        if !environmentsHold(choice, placed) { return nil }

        var result = Score()
        for i in 0..<placed {
            let option = options[i][choice[i]]
            let p = priority[i]
            if status[i] { result.conflicted[p] += 1 }
            result.cost[p] += option.cost
            if option.change { result.changes += 1 }
            result.distance += option.distance
        }
        for x in witnessed where !conflictedWithoutMembers(x) {
            result.conflicted[Int(index.priority[Int(x)]) - 1] += 1
        }
        return result
    }

    private func witness(_ x: Int32) {
        if witnessMark[x] == evaluation { return }
        witnessMark[x] = evaluation
        witnessed.append(x)
    }

    private func conflictedWithoutMembers(_ x: Int32) -> Bool {
        if let known = backgroundConflicted[x] { return known }
        let value = ledger.isInConflict(Int(x))
        backgroundConflicted[x] = value
        return value
    }

    private func windowsHold(_ choice: [Int], _ placed: Int) -> Bool {
        if windowIds.isEmpty { return true }
        for s in 0..<windowIds.count { slotCount[s] = 0; slotEntered[s] = false }
        for i in 0..<placed {
            let option = options[i][choice[i]]
            guard option.windowSlot >= 0 else { continue }
            slotCount[option.windowSlot] += 1
            if option.entersWindow { slotEntered[option.windowSlot] = true }
        }
        for s in 0..<windowIds.count where slotCount[s] > 0 {
            guard windowBackground[s] + slotCount[s] > index.windowCapacity[Int(windowIds[s])] else { continue }
            if slotEntered[s] { return false }
            for i in 0..<placed where options[i][choice[i]].windowSlot == s { status[i] = true }
            for x in windowMembers[s] { witness(x) }
        }
        return true
    }

    private func environmentsHold(_ choice: [Int], _ placed: Int) -> Bool {
        for slot in 0..<environmentIds.count {
            envItems.removeAll(keepingCapacity: true)
            for i in 0..<placed {
                for booking in options[i][choice[i]].bookings where booking.slot == slot {
                    envItems.append((booking.start, booking.end, Int32(members[i]), Int32(i), booking.changed))
                }
            }
            if envItems.isEmpty { continue }
            // Only background bookings overlapping a member's booking can matter.
            let background = environmentBackground[slot]
            let longest = environmentLongest[slot]
            for m in 0..<envItems.count {
                let start = envItems[m].start, end = envItems[m].end
                var k = lowerBound(background, start - longest)
                while k < background.count && background[k].start < end {
                    if background[k].end > start && environmentSeen[slot][k] != evaluation {
                        environmentSeen[slot][k] = evaluation
                        envItems.append((background[k].start, background[k].end, background[k].owner, -1, false))
                    }
                    k += 1
                }
            }
            let capacity = index.environmentCapacity[Int(environmentIds[slot])]
            if envItems.count <= capacity { continue }
            if !sweepEnvironment(capacity: capacity) { return false }
        }
        return true
    }

    /// The first position in `items` (sorted by start) whose item starts at or after `value`.
    private func lowerBound(_ items: [SweepItem], _ value: Double) -> Int {
        items.partitioningIndex { $0.start >= value }
    }

    /// Marks every release holding the environment while it is over capacity and a member is
    /// there; false when a changed booking is among them.
    private func sweepEnvironment(capacity: Int) -> Bool {
        envItems.sort { ($0.start, $0.owner, $0.end) < ($1.start, $1.owner, $1.end) }
        let n = envItems.count
        envEnds.removeAll(keepingCapacity: true)
        for (i, item) in envItems.enumerated() { envEnds.append((item.end, Int32(i))) }
        envEnds.sort { ($0.end, $0.local) < ($1.end, $1.local) }
        envRunning.removeAll(keepingCapacity: true)
        if envSlot.count < n { envSlot = [Int32](repeating: -1, count: n) }
        holding.removeAll(keepingCapacity: true)
        var load = 0, membersRunning = 0
        var s = 0, e = 0
        while s < n || e < n {
            let t = min(s < n ? envItems[s].start : .infinity, e < n ? envEnds[e].end : .infinity)
            while e < n && envEnds[e].end == t {
                let local = Int(envEnds[e].local)
                let owner = envItems[local].owner
                let held = (holding[owner] ?? 0) - 1
                holding[owner] = held
                if held == 0 { load -= 1 }
                if envItems[local].member >= 0 { membersRunning -= 1 }
                let at = Int(envSlot[local])
                let last = envRunning.removeLast()
                if at < envRunning.count {
                    envRunning[at] = last
                    envSlot[Int(last)] = Int32(at)
                }
                e += 1
            }
            while s < n && envItems[s].start == t {
                let owner = envItems[s].owner
                let held = (holding[owner] ?? 0) + 1
                holding[owner] = held
                if held == 1 { load += 1 }
                if envItems[s].member >= 0 { membersRunning += 1 }
                envSlot[s] = Int32(envRunning.count)
                envRunning.append(Int32(s))
                s += 1
            }
            if load > capacity && membersRunning > 0 {
                for local in envRunning {
                    let item = envItems[Int(local)]
                    if item.member >= 0 {
                        if item.changed { return false }
                        status[Int(item.member)] = true
                    } else {
                        witness(item.owner)
                    }
                }
            }
        }
        return true
    }
}

/// Branch and bound over a subproblem: members in order, each member's placements cheapest
/// first; a branch is cut as soon as its bound is no better than the best complete assignment.
/// Gives up after `nodeBudget` scored nodes, so the outcome never depends on machine speed.
struct ExactSearch {
    let problem: Subproblem
    let nodeBudget: Int
    private(set) var nodes = 0
    private(set) var best: [Int]? = nil
    private(set) var bestScore = Score.worst
    private var choice: [Int]
    private var exhausted = false

    init(problem: Subproblem, nodeBudget: Int) {
        self.problem = problem
        self.nodeBudget = nodeBudget
        choice = [Int](repeating: 0, count: problem.members.count)
    }

    /// True when the search finished within its budget (the result is then optimal).
    mutating func run() -> Bool {
        guard let root = problem.score(choice, placed: 0) else { return true }
        descend(0, root)
        return !exhausted
    }

    private mutating func descend(_ depth: Int, _ bound: Score) {
        let n = problem.members.count
        if depth == n {
            if bound < bestScore {
                bestScore = bound
                best = choice
            }
            return
        }
        let member = problem.members[depth]
        let level = Int(problem.ledger.index.priority[member]) - 1
        for k in 0..<problem.options[depth].count {
            if exhausted { return }
            let option = problem.options[depth][k]
            var quick = bound
            quick.cost[level] += option.cost
            if option.change { quick.changes += 1 }
            quick.distance += option.distance
            // Options are ordered by cost and distance, so later ones cannot do better.
            if !(quick < bestScore) { break }
            nodes += 1
            if nodes > nodeBudget {
                exhausted = true
                return
            }
            choice[depth] = k
            guard let score = problem.score(choice, placed: depth + 1), score < bestScore else { continue }
            descend(depth + 1, score)
        }
        choice[depth] = 0
    }
}

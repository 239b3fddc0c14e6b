import Foundation
import Algorithms
import ReleaseCore

/// A timeline index that can take moves: the snapshot's intervals sorted once, plus the
/// intervals of moved releases kept aside. An entry counts while its release is neither lifted
/// out of the world nor moved since the entry was made.
struct TimelineIndex {
    private let base: GroupedItems
    private var baseLongest: [Double]
    private var moved: [Int32: [(item: SweepItem, version: UInt32)]] = [:]
    private var movedLongest: [Int32: Double] = [:]

    init(groups: Int, keys: [Int32], items: [SweepItem]) {
        base = GroupedItems(groups: groups, keys: keys, items: items)
        var longest = [Double](repeating: 0, count: groups)
        for g in 0..<groups {
            for i in base.range(of: g) { longest[g] = max(longest[g], base.items[i].end - base.items[i].start) }
        }
        baseLongest = longest
    }

    mutating func add(group: Int32, item: SweepItem, version: UInt32) {
        moved[group, default: []].append((item, version))
        movedLongest[group] = max(movedLongest[group] ?? 0, item.end - item.start)
    }

    /// Calls `body` for every live entry of `group` overlapping `[start, end)`.
    func forEach(
        group: Int32, overlapping start: Double, _ end: Double, live: (SweepItem, UInt32) -> Bool,
        _ body: (SweepItem) -> Void
    ) {
        guard end > start, group >= 0 else { return }
        if Int(group) < base.groupCount {
            let range = base.range(of: Int(group))
            if !range.isEmpty {
                let items = base.items
                let from = lowerBound(items, range, start - baseLongest[Int(group)])
                let to = lowerBound(items, range, end)
                var i = from
                while i < to {
                    let item = items[i]
                    if item.end > start && live(item, 0) { body(item) }
                    i += 1
                }
            }
        }
        if let extra = moved[group] {
            for entry in extra where entry.item.start < end && entry.item.end > start && live(entry.item, entry.version) {
                body(entry.item)
            }
        }
    }

    /// The first position in `range` (sorted by start) whose item starts at or after `value`.
    private func lowerBound(_ items: [SweepItem], _ range: Range<Int>, _ value: Double) -> Int {
        items[range].partitioningIndex { $0.start >= value }
    }
}

/// The resolver's world: where every release currently sits, with indexes to ask what a
/// release at some position would run into. Releases being decided are *lifted* out, so that
/// questions about the rest of the world do not see them.
final class Ledger {
    let geometry: Geometry
    var index: PortfolioIndex { geometry.index }

    private(set) var placement: [Placement]
    /// Bumped on every move; index entries made for an older version no longer count.
    private(set) var version: [UInt32]
    private(set) var lifted: [Bool]
    private(set) var windowCount: [Int]
    private(set) var windowMembers: [[Int32]]

    private var bookings: TimelineIndex
    private var targets: TimelineIndex
    private var implementers: TimelineIndex

    /// Scratch for counting distinct releases on a timeline.
    private var holding: [Int32]

    init(geometry: Geometry) {
        self.geometry = geometry
        let index = geometry.index
        let n = index.releaseCount
        placement = (0..<n).map { Placement.original(window: index.window[$0]) }
        version = [UInt32](repeating: 0, count: n)
        lifted = [Bool](repeating: false, count: n)
        holding = [Int32](repeating: 0, count: n)

        var counts = [Int](repeating: 0, count: index.windowCapacity.count)
        var members = [[Int32]](repeating: [], count: index.windowCapacity.count)
        for r in 0..<n where index.active[r] && index.window[r] >= 0 {
            counts[Int(index.window[r])] += 1
            members[Int(index.window[r])].append(Int32(r))
        }
        windowCount = counts
        windowMembers = members

        var keys: [Int32] = [], items: [SweepItem] = []
        for r in 0..<n where index.active[r] {
            for b in index.bookings(of: r) where index.bookingEnd[b] > index.bookingStart[b] {
                keys.append(index.bookingEnvironment[b])
                items.append(SweepItem(start: index.bookingStart[b], end: index.bookingEnd[b], owner: Int32(r), kind: 0, tag: Int32(b)))
            }
        }
        bookings = TimelineIndex(groups: index.environmentCodes.count, keys: keys, items: items)

        keys = []; items = []
        for r in 0..<n where index.active[r] && index.hasDeploy[r] {
            Self.targetEntries(index, r, start: index.deployStart[r], end: index.deployEnd[r]) { bucket, item in
                keys.append(bucket)
                items.append(item)
            }
        }
        targets = TimelineIndex(groups: index.itemNames.count, keys: keys, items: items)

        keys = []; items = []
        for r in 0..<n where index.active[r] && index.hasDeploy[r] && index.implementer[r] >= 0
            && index.deployEnd[r] > index.deployStart[r] {
            keys.append(index.implementer[r])
            items.append(SweepItem(start: index.deployStart[r], end: index.deployEnd[r], owner: Int32(r), kind: 0, tag: 0))
        }
        implementers = TimelineIndex(groups: index.implementerNames.count, keys: keys, items: items)
    }

    /// The entries a deployment makes on the target timelines: kind 0 on the items it changes,
    /// kind 1 on the items those are part of (an item changed directly is not repeated as a part).
    static func targetEntries(_ index: PortfolioIndex, _ r: Int, start: Double, end: Double, _ body: (Int32, SweepItem) -> Void) {
        guard end > start else { return }
        let targets = index.targets[r]
        if targets.isEmpty { return }
        var entries: [(bucket: Int32, kind: UInt8)] = []
        for target in targets {
            for (depth, bucket) in index.itemChain[Int(target)].enumerated() { entries.append((bucket, depth == 0 ? 0 : 1)) }
        }
        entries.sort { ($0.bucket, $0.kind) < ($1.bucket, $1.kind) }
        var last: Int32 = -1
        for entry in entries where entry.bucket != last {
            last = entry.bucket
            body(entry.bucket, SweepItem(start: start, end: end, owner: Int32(r), kind: entry.kind, tag: entry.bucket))
        }
    }

    private func isLive(_ item: SweepItem, _ entryVersion: UInt32) -> Bool {
        let owner = Int(item.owner)
        return !lifted[owner] && version[owner] == entryVersion
    }

    // MARK: Moving releases

    func lift(_ r: Int) {
        guard !lifted[r] else { return }
        lifted[r] = true
        let w = placement[r].window
        if index.active[r] && w >= 0 {
            windowCount[Int(w)] -= 1
            if let at = windowMembers[Int(w)].firstIndex(of: Int32(r)) { windowMembers[Int(w)].remove(at: at) }
        }
    }

    /// Puts a lifted release back into the world at `p`.
    func place(_ r: Int, at p: Placement) {
        precondition(lifted[r], "place(_:at:) needs a lifted release")
        lifted[r] = false
        if p != placement[r] {
            version[r] += 1
            placement[r] = p
            if index.active[r] { indexMoved(r) }
        }
        let w = p.window
        if index.active[r] && w >= 0 {
            windowCount[Int(w)] += 1
            windowMembers[Int(w)].append(Int32(r))
        }
    }

    private func indexMoved(_ r: Int) {
        let p = placement[r]
        let v = version[r]
        for b in index.bookings(of: r) where index.bookingEnd[b] > index.bookingStart[b] {
            let item = SweepItem(start: geometry.bookingStart(r, b, p), end: geometry.bookingEnd(r, b, p),
                                 owner: Int32(r), kind: 0, tag: Int32(b))
            bookings.add(group: index.bookingEnvironment[b], item: item, version: v)
        }
        guard index.hasDeploy[r] else { return }
        let start = geometry.deployStart(r, p), end = geometry.deployEnd(r, p)
        var added: [(Int32, SweepItem)] = []
        Self.targetEntries(index, r, start: start, end: end) { added.append(($0, $1)) }
        for (bucket, item) in added { targets.add(group: bucket, item: item, version: v) }
        if index.implementer[r] >= 0 && end > start {
            implementers.add(group: index.implementer[r],
                             item: SweepItem(start: start, end: end, owner: Int32(r), kind: 0, tag: 0), version: v)
        }
    }

    // MARK: Questions

    func forEachBooking(environment: Int32, overlapping start: Double, _ end: Double, _ body: (SweepItem) -> Void) {
        bookings.forEach(group: environment, overlapping: start, end, live: isLive, body)
    }

    func forEachImplementerDeployment(_ person: Int32, overlapping start: Double, _ end: Double, _ body: (SweepItem) -> Void) {
        implementers.forEach(group: person, overlapping: start, end, live: isLive, body)
    }

    /// Live releases whose deployment collides on a configuration item with release `r`
    /// deploying during `[start, end)`.
    func forEachTargetCollision(_ r: Int, start: Double, end: Double, _ body: (Int32) -> Void) {
        guard end > start else { return }
        for target in index.targets[r] {
            for (depth, bucket) in index.itemChain[Int(target)].enumerated() {
                targets.forEach(group: bucket, overlapping: start, end, live: isLive) { item in
                    if item.owner != Int32(r) && (depth == 0 || item.kind == 0) { body(item.owner) }
                }
            }
        }
    }

    func deployStart(_ r: Int) -> Double { geometry.deployStart(r, placement[r]) }
    func deployEnd(_ r: Int) -> Double { geometry.deployEnd(r, placement[r]) }
    func deployMoved(_ r: Int) -> Bool { placement[r].shift != 0 }

    /// The most distinct live releases holding `environment` at once during `[start, end)`.
    func peakLoad(environment: Int32, from start: Double, to end: Double) -> Int {
        var intervals: [SweepItem] = []
        forEachBooking(environment: environment, overlapping: start, end) { intervals.append($0) }
        return LoadProfile.peak(of: intervals, within: start, end, holding: &holding)
    }

    /// Whether release `x` is in any conflict with the world as it stands (lifted releases
    /// are not there). Mirrors ``Detector`` release by release.
    func isInConflict(_ x: Int) -> Bool {
        let index = self.index
        guard index.active[x], !lifted[x] else { return false }
        let p = placement[x]
        let scheduled = index.hasDeploy[x]
        let start = geometry.deployStart(x, p), end = geometry.deployEnd(x, p)

        if p.window >= 0 {
            if windowCount[Int(p.window)] > index.windowCapacity[Int(p.window)] { return true }
            if scheduled && (start < index.windowStart[Int(p.window)] || end > index.windowEnd[Int(p.window)]) { return true }
        }
        if scheduled && end > index.deadline[x] { return true }
        if ownFreezeOrTestProblem(x, p) { return true }
        if dependencyProblem(x, start: start, end: end, scheduled: scheduled) { return true }

        for b in index.bookings(of: x) where index.bookingEnd[b] > index.bookingStart[b] {
            let env = index.bookingEnvironment[b]
            if peakLoad(environment: env, from: geometry.bookingStart(x, b, p), to: geometry.bookingEnd(x, b, p))
                > index.environmentCapacity[Int(env)] {
                return true
            }
        }
        guard scheduled && end > start else { return false }
        var collides = false
        forEachTargetCollision(x, start: start, end: end) { _ in collides = true }
        if collides { return true }
        if index.implementer[x] >= 0 {
            forEachImplementerDeployment(index.implementer[x], overlapping: start, end) { item in
                if item.owner != Int32(x) { collides = true }
            }
        }
        return collides
    }

    /// Freezes and test timing: the conflicts of a release that depend on its position alone.
    func ownFreezeOrTestProblem(_ x: Int, _ p: Placement) -> Bool {
        let index = self.index
        let scheduled = index.hasDeploy[x]
        let start = geometry.deployStart(x, p), end = geometry.deployEnd(x, p)
        for f in 0..<index.freezeStart.count where !index.overrides(x, freeze: Int32(f)) {
            let fs = index.freezeStart[f], fe = index.freezeEnd[f]
            guard fe > fs else { continue }
            let env = index.freezeEnvironment[f]
            if env < 0 {
                if scheduled && end > start && start < fe && end > fs { return true }
            } else {
                for b in index.bookings(of: x) where index.bookingEnvironment[b] == env {
                    let bs = geometry.bookingStart(x, b, p), be = geometry.bookingEnd(x, b, p)
                    if be > bs && bs < fe && be > fs { return true }
                }
            }
        }
        if scheduled {
            for b in index.bookings(of: x) where geometry.isTestBooking(b) && geometry.bookingEnd(x, b, p) > start {
                return true
            }
        }
        let required = index.requiredEnvironments[x]
        if !required.isEmpty {
            let bookings = index.bookings(of: x)
            for env in required where !bookings.contains(where: { index.bookingEnvironment[$0] == env }) { return true }
        }
        return false
    }

    /// Dependency conflicts of `x` at the given deployment with live releases, both as the
    /// dependent and as the dependency.
    func dependencyProblem(_ x: Int, start: Double, end: Double, scheduled: Bool) -> Bool {
        let index = self.index
        for d in index.dependencies[x] {
            if d < 0 { return true }
            let dep = Int(d)
            if dep == x { continue }
            switch index.status[dep] {
            case .cancelled: return true
            case .closed: continue
            default:
                guard scheduled, !lifted[dep] else { continue }
                if !index.hasDeploy[dep] || deployEnd(dep) > start { return true }
            }
        }
        for s in index.dependents[x] {
            let dependent = Int(s)
            guard dependent != x, index.active[dependent], !lifted[dependent], index.hasDeploy[dependent] else { continue }
            if !scheduled || end > deployStart(dependent) { return true }
        }
        return false
    }
}

/// Peak of distinct releases over a set of intervals.
enum LoadProfile {
    /// `holding` must be all zeros on entry; it is all zeros again on return.
    static func peak(of intervals: [SweepItem], within start: Double, _ end: Double, holding: inout [Int32]) -> Int {
        if intervals.count <= 1 { return intervals.count }
        var events: [(time: Double, delta: Int32, owner: Int32)] = []
        events.reserveCapacity(intervals.count * 2)
        for item in intervals {
            events.append((max(item.start, start), 1, item.owner))
            events.append((min(item.end, end), -1, item.owner))
        }
        events.sort { ($0.time, $0.delta, $0.owner) < ($1.time, $1.delta, $1.owner) }
        var load = 0, peak = 0
        for event in events {
            let owner = Int(event.owner)
            if event.delta > 0 {
                if holding[owner] == 0 { load += 1 }
                holding[owner] += 1
                peak = max(peak, load)
            } else {
                holding[owner] -= 1
                if holding[owner] == 0 { load -= 1 }
            }
        }
        return peak
    }
}

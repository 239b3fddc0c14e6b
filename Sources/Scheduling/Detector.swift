import Foundation
import Algorithms
import ReleaseCore

/// A conflict in ids, before it is given names and a message.
struct RawConflict: Sendable {
    enum Detail: Sendable {
        case none
        case overload(peak: Int, from: Double, to: Double)
        /// Whether each of the two releases changes the item itself (else a part of it).
        case collision(firstDirect: Bool, secondDirect: Bool)
        case bookingFreeze
        case dependency(DependencyProblem)
        case untestedTiming(bookingEnd: Double)
        case untestedMissing
    }

    enum DependencyProblem: Sendable {
        case unknown(String)
        case cancelled
        case unscheduled
        case tooEarly
    }

    var type: ConflictType
    /// For pairs: the two releases in the order the detail describes them.
    var releases: [Int32]
    var window: Int32 = -1
    var environment: Int32 = -1
    var item: Int32 = -1
    var implementer: Int32 = -1
    var freeze: Int32 = -1
    /// For `dependency-order`: the release depended on (-1 when unknown).
    var dependency: Int32 = -1
    var detail: Detail = .none
}

/// Batch detection: one sweep per resource over intervals sorted by start.
///
/// Costs O(n log n + k) for n intervals and k reported pairs: intervals are bucketed by
/// resource with a counting sort and sorted within each bucket; no step compares every
/// release with every other.
struct Detector {
    let index: PortfolioIndex

    func run() -> [RawConflict] {
        var out: [RawConflict] = []
        windowCapacity(&out)
        environmentOverlap(&out)
        targetCollisions(&out)
        implementerBusy(&out)
        freezes(&out)
        perRelease(&out)
        return out
    }

    private var releaseCount: Int { index.releaseCount }

    private func isScheduled(_ r: Int) -> Bool { index.hasDeploy[r] }

    // MARK: Windows

    private func windowCapacity(_ out: inout [RawConflict]) {
        let windows = index.windowCapacity.count
        var counts = [Int](repeating: 0, count: windows)
        for r in 0..<releaseCount where index.active[r] && index.window[r] >= 0 {
            counts[Int(index.window[r])] += 1
        }
        var members: [Int32: [Int32]] = [:]
        for w in 0..<windows where counts[w] > index.windowCapacity[w] { members[Int32(w)] = [] }
        guard !members.isEmpty else { return }
        for r in 0..<releaseCount where index.active[r] && index.window[r] >= 0 {
            if members[index.window[r]] != nil { members[index.window[r]]?.append(Int32(r)) }
        }
        for (w, list) in members.sorted(by: { $0.key < $1.key }) {
            out.append(RawConflict(type: .windowCapacity, releases: list, window: w))
        }
    }

    // MARK: Environments

    private func environmentOverlap(_ out: inout [RawConflict]) {
        let index = self.index
        // Bookings are copied straight into per-environment runs: a sequential read and one
        // write stream per environment, instead of gathering scattered bookings later.
        let grouped = Grouped<(start: Double, end: Double, release: Int32)>(
            groups: index.environmentCodes.count, sortedBy: nil
        ) { emit in
            for r in 0..<index.releaseCount where index.active[r] {
                for b in index.bookings(of: r) where index.bookingEnd[b] > index.bookingStart[b] {
                    emit(index.bookingEnvironment[b], (index.bookingStart[b], index.bookingEnd[b], Int32(r)))
                }
            }
        }
        var sweep = LoadSweep()
        var items: [SweepItem] = []
        var owners: [Int32] = []
        for env in 0..<grouped.groupCount {
            let range = grouped.range(of: env)
            let capacity = index.environmentCapacity[env]
            guard range.count > max(capacity, 0) else { continue }
            // The sweep counts releases in arrays local to the environment (owners numbered in
            // booking order, which is release order), small enough to stay in cache.
            items.removeAll(keepingCapacity: true)
            owners.removeAll(keepingCapacity: true)
            for booking in grouped.items[range] {
                if owners.last != booking.release { owners.append(booking.release) }
                items.append(SweepItem(start: booking.start, end: booking.end, owner: Int32(owners.count - 1), kind: 0, tag: 0))
            }
            items.sort(by: SweepItem.precedes)
            // Most environments are never double-booked: one pass over the sorted bookings
            // proves it, and the full occupancy sweep is only needed when two overlap.
            if capacity >= 1 {
                var latestEnd = -Double.infinity
                var overlap = false
                for item in items {
                    if item.start < latestEnd { overlap = true; break }
                    latestEnd = max(latestEnd, item.end)
                }
                if !overlap { continue }
            }
            sweep.run(items[...], owners: owners.count, capacity: capacity) { locals, peak, from, to in
                out.append(RawConflict(type: .environmentOverlap, releases: locals.map { owners[Int($0)] },
                                       environment: Int32(env), detail: .overload(peak: peak, from: from, to: to)))
            }
        }
    }

    // MARK: Targets and implementers

    private func targetCollisions(_ out: inout [RawConflict]) {
        let index = self.index
        var scratch: [(bucket: Int32, kind: UInt8)] = []
        // Members are `release << 1 | kind`: kind 0 changes the item itself, 1 a part of it.
        let targets = index.targets.values, chains = index.itemChain.values
        let buckets = Buckets(count: index.itemNames.count) { emit in
            for r in 0..<index.releaseCount where index.active[r] && index.hasDeploy[r] {
                let own = index.targets.bounds(r)
                if own.isEmpty || index.deployEnd[r] <= index.deployStart[r] { continue }
                let owner = Int32(r) << 1
                if own.count == 1 {
                    // The common case needs no sorting: one chain, the item itself first.
                    let chain = index.itemChain.bounds(Int(targets[own.lowerBound]))
                    for position in chain {
                        emit(chains[position], position == chain.lowerBound ? owner : owner | 1)
                    }
                    continue
                }
                scratch.removeAll(keepingCapacity: true)
                for t in own {
                    let chain = index.itemChain.bounds(Int(targets[t]))
                    for position in chain {
                        scratch.append((chains[position], position == chain.lowerBound ? 0 : 1))
                    }
                }
                scratch.sort { ($0.bucket, $0.kind) < ($1.bucket, $1.kind) }
                var last: Int32 = -1
                for entry in scratch where entry.bucket != last {
                    last = entry.bucket
                    emit(entry.bucket, owner | Int32(entry.kind))
                }
            }
        }
        var pairs: [(low: Int32, high: Int32, item: Int32, lowDirect: Bool, highDirect: Bool)] = []
        var sweep = PairSweep()
        var items: [SweepItem] = []
        for bucket in 0..<buckets.count {
            let range = buckets.range(of: bucket)
            guard range.count > 1 else { continue }
            items.removeAll(keepingCapacity: true)
            for member in buckets.members[range] {
                let r = Int(member >> 1)
                items.append(SweepItem(start: index.deployStart[r], end: index.deployEnd[r], owner: member >> 1,
                                       kind: UInt8(member & 1), tag: Int32(bucket)))
            }
            items.sort(by: SweepItem.precedes)
            sweep.run(items[...], rule: .targets) { a, b in
                let (low, high) = a.owner < b.owner ? (a, b) : (b, a)
                pairs.append((low.owner, high.owner, Int32(bucket), low.kind == 0, high.kind == 0))
            }
        }
        pairs.sort { ($0.low, $0.high, $0.item) < ($1.low, $1.high, $1.item) }
        var i = 0
        while i < pairs.count {
            var best = i
            var j = i + 1
            while j < pairs.count && pairs[j].low == pairs[i].low && pairs[j].high == pairs[i].high {
                if index.itemNames[Int(pairs[j].item)] < index.itemNames[Int(pairs[best].item)] { best = j }
                j += 1
            }
            let pair = pairs[best]
            out.append(RawConflict(type: .targetCollision, releases: [pair.low, pair.high], item: pair.item,
                                   detail: .collision(firstDirect: pair.lowDirect, secondDirect: pair.highDirect)))
            i = j
        }
    }

    private func implementerBusy(_ out: inout [RawConflict]) {
        let index = self.index
        let buckets = Buckets(count: index.implementerNames.count) { emit in
            for r in 0..<index.releaseCount where index.active[r] && index.hasDeploy[r] && index.implementer[r] >= 0 {
                emit(index.implementer[r], Int32(r))
            }
        }
        var sweep = PairSweep()
        var items: [SweepItem] = []
        for person in 0..<buckets.count {
            let range = buckets.range(of: person)
            guard range.count > 1 else { continue }
            items.removeAll(keepingCapacity: true)
            for r in buckets.members[range] {
                items.append(SweepItem(start: index.deployStart[Int(r)], end: index.deployEnd[Int(r)], owner: r, kind: 0, tag: 0))
            }
            items.sort(by: SweepItem.precedes)
            sweep.run(items[...], rule: .all) { a, b in
                out.append(RawConflict(type: .implementerBusy, releases: [min(a.owner, b.owner), max(a.owner, b.owner)],
                                       implementer: Int32(person)))
            }
        }
    }

    // MARK: Freezes

    private func freezes(_ out: inout [RawConflict]) {
        let freezeCount = index.freezeStart.count
        guard freezeCount > 0 else { return }
        var sweep = PairSweep()

        // Deployments against global freezes. Freezes are few: each deployment looks up the
        // freezes it may overlap in the freezes sorted by start, O(n log f + k), instead of
        // sorting every deployment into one timeline.
        let global = (0..<freezeCount)
            .filter { index.freezeEnvironment[$0] < 0 && index.freezeEnd[$0] > index.freezeStart[$0] }
            .sorted { (index.freezeStart[$0], $0) < (index.freezeStart[$1], $1) }
        if !global.isEmpty {
            let starts = global.map { index.freezeStart[$0] }
            let longest = global.map { index.freezeEnd[$0] - index.freezeStart[$0] }.max() ?? 0
            for r in 0..<releaseCount where index.active[r] && isScheduled(r) {
                let start = index.deployStart[r], end = index.deployEnd[r]
                guard end > start else { continue }
                var i = lowerBound(starts, start - longest)
                let stop = lowerBound(starts, end)
                while i < stop {
                    let f = global[i]
                    if index.freezeEnd[f] > start && !index.overrides(r, freeze: Int32(f)) {
                        out.append(RawConflict(type: .freeze, releases: [Int32(r)], window: index.window[r], freeze: Int32(f)))
                    }
                    i += 1
                }
            }
        }

        // Bookings against freezes of their environment: one timeline per frozen environment.
        var frozenGroup = [Int32](repeating: -1, count: index.environmentCodes.count)
        var groups: Int32 = 0
        for f in 0..<freezeCount where index.freezeEnvironment[f] >= 0 {
            let env = Int(index.freezeEnvironment[f])
            if frozenGroup[env] < 0 { frozenGroup[env] = groups; groups += 1 }
        }
        guard groups > 0 else { return }
        var keys: [Int32] = []
        var items: [SweepItem] = []
        for f in 0..<freezeCount where index.freezeEnvironment[f] >= 0 {
            keys.append(frozenGroup[Int(index.freezeEnvironment[f])])
            items.append(SweepItem(start: index.freezeStart[f], end: index.freezeEnd[f], owner: -1 - Int32(f), kind: 1, tag: Int32(f)))
        }
        for r in 0..<releaseCount where index.active[r] {
            for b in index.bookings(of: r) {
                let group = frozenGroup[Int(index.bookingEnvironment[b])]
                if group < 0 { continue }
                keys.append(group)
                items.append(SweepItem(start: index.bookingStart[b], end: index.bookingEnd[b], owner: Int32(r), kind: 0, tag: Int32(b)))
            }
        }
        let grouped = GroupedItems(groups: Int(groups), keys: keys, items: items)
        var hits: [(release: Int32, freeze: Int32)] = []
        for group in 0..<grouped.groupCount {
            sweep.run(grouped.items[grouped.range(of: group)], rule: .across) { a, b in
                let (booking, freeze) = a.kind == 0 ? (a, b) : (b, a)
                if !index.overrides(Int(booking.owner), freeze: freeze.tag) { hits.append((booking.owner, freeze.tag)) }
            }
        }
        hits.sort { ($0.release, $0.freeze) < ($1.release, $1.freeze) }
        var previous: (Int32, Int32)? = nil
        for hit in hits {
            if let previous, previous == (hit.release, hit.freeze) { continue }
            previous = (hit.release, hit.freeze)
            out.append(RawConflict(type: .freeze, releases: [hit.release],
                                   environment: index.freezeEnvironment[Int(hit.freeze)], freeze: hit.freeze,
                                   detail: .bookingFreeze))
        }
    }

    /// The first position in `sorted` whose value is not below `value`.
    private func lowerBound(_ sorted: [Double], _ value: Double) -> Int {
        sorted.partitioningIndex { $0 >= value }
    }

    // MARK: One release at a time

    private func perRelease(_ out: inout [RawConflict]) {
        for r in 0..<releaseCount where index.active[r] {
            let release = Int32(r)
            let scheduled = isScheduled(r)
            let start = index.deployStart[r], end = index.deployEnd[r]

            let w = index.window[r]
            if w >= 0 && scheduled && (start < index.windowStart[Int(w)] || end > index.windowEnd[Int(w)]) {
                out.append(RawConflict(type: .outsideWindow, releases: [release], window: w))
            }

            if !index.dependencies.isEmpty(r) {
                let dependencies = index.dependencies[r]
                for (position, d) in dependencies.enumerated() {
                    if d < 0 {
                        let key = index.snapshot.releases[r].dependsOn[position]
                        out.append(RawConflict(type: .dependencyOrder, releases: [release], detail: .dependency(.unknown(key))))
                        continue
                    }
                    let dep = Int(d)
                    switch index.status[dep] {
                    case .cancelled:
                        out.append(RawConflict(type: .dependencyOrder, releases: [release], dependency: d,
                                               detail: .dependency(.cancelled)))
                    case .closed:
                        break
                    default:
                        guard scheduled, d != release else { break }
                        if !isScheduled(dep) {
                            out.append(RawConflict(type: .dependencyOrder, releases: [release, d], dependency: d,
                                                   detail: .dependency(.unscheduled)))
                        } else if index.deployEnd[dep] > start {
                            out.append(RawConflict(type: .dependencyOrder, releases: [release, d], dependency: d,
                                                   detail: .dependency(.tooEarly)))
                        }
                    }
                }
            }

            if scheduled {
                var lateEnd: [Int32: Double] = [:]
                for b in index.bookings(of: r) {
                    let env = index.bookingEnvironment[b]
                    if index.environmentIsTest[Int(env)] && index.bookingEnd[b] > index.bookingStart[b]
                        && index.bookingEnd[b] > start {
                        lateEnd[env] = max(lateEnd[env] ?? -.infinity, index.bookingEnd[b])
                    }
                }
                for (env, bookingEnd) in lateEnd.sorted(by: { $0.key < $1.key }) {
                    out.append(RawConflict(type: .untested, releases: [release], environment: env,
                                           detail: .untestedTiming(bookingEnd: bookingEnd)))
                }
            }
            if !index.requiredEnvironments.isEmpty(r) {
                let required = index.requiredEnvironments[r]
                let bookings = index.bookings(of: r)
                for (position, env) in required.enumerated()
                where !bookings.contains(where: { index.bookingEnvironment[$0] == env })
                    && !required.prefix(position).contains(env) {
                    out.append(RawConflict(type: .untested, releases: [release], environment: env, detail: .untestedMissing))
                }
            }

            if scheduled && end > index.deadline[r] {
                out.append(RawConflict(type: .deadline, releases: [release], window: w))
            }
        }
    }
}

/// The occupancy sweep behind `environment-overlap`: counts distinct releases holding an
/// environment and reports each maximal period during which the count exceeds the capacity,
/// with every release booked during it.
struct LoadSweep {
    /// Bookings each owner currently holds in the environment being swept.
    private var holding: [Int32]
    /// Marks owners already listed in the current period.
    private var listedIn: [Int32]
    private var period: Int32 = 0
    private var ends: [(end: Double, local: Int32)] = []
    private var running: [Int32] = []
    private var slot: [Int32] = []
    private var startedNow: [Int32] = []
    private var members: [Int32] = []

    init() {
        holding = []
        listedIn = []
    }

    /// `items` must be sorted by start and non-empty; their owners are numbered `0..<owners`.
    mutating func run(
        _ items: ArraySlice<SweepItem>,
        owners: Int,
        capacity: Int,
        emit: (_ owners: [Int32], _ peak: Int, _ from: Double, _ to: Double) -> Void
    ) {
        if holding.count < owners {
            holding = [Int32](repeating: 0, count: max(owners, 2 * holding.count))
            listedIn = [Int32](repeating: -1, count: holding.count)
        }
        let base = items.startIndex
        let n = items.count
        ends.removeAll(keepingCapacity: true)
        for (i, item) in items.enumerated() { ends.append((item.end, Int32(i))) }
        ends.sort { ($0.end, $0.local) < ($1.end, $1.local) }

        running.removeAll(keepingCapacity: true)
        if slot.count < n { slot = [Int32](repeating: -1, count: max(n, 2 * slot.count)) }
        startedNow.removeAll(keepingCapacity: true)
        var load = 0
        var open = false
        members.removeAll(keepingCapacity: true)
        var peak = 0
        var from = 0.0
        var s = 0, e = 0
        while s < n || e < n {
            let nextStart = s < n ? items[base + s].start : .infinity
            let nextEnd = e < n ? ends[e].end : .infinity
            let t = min(nextStart, nextEnd)
            while e < n && ends[e].end == t {
                let local = Int(ends[e].local)
                let owner = Int(items[base + local].owner)
                holding[owner] -= 1
                if holding[owner] == 0 { load -= 1 }
                let at = Int(slot[local])
                let last = running.removeLast()
                if at < running.count {
                    running[at] = last
                    slot[Int(last)] = Int32(at)
                }
                e += 1
            }
            startedNow.removeAll(keepingCapacity: true)
            while s < n && items[base + s].start == t {
                let owner = Int(items[base + s].owner)
                if holding[owner] == 0 { load += 1 }
                holding[owner] += 1
                slot[s] = Int32(running.count)
                running.append(Int32(s))
                startedNow.append(Int32(s))
                s += 1
            }
            if load > capacity {
                if !open {
                    open = true
                    period += 1
                    members.removeAll(keepingCapacity: true)
                    peak = load
                    from = t
                    for local in running { list(items[base + Int(local)].owner) }
                } else {
                    peak = max(peak, load)
                    for local in startedNow { list(items[base + Int(local)].owner) }
                }
            } else if open {
                open = false
                emit(members, peak, from, t)
            }
        }
    }

    private mutating func list(_ owner: Int32) {
        if listedIn[Int(owner)] == period { return }
        listedIn[Int(owner)] = period
        members.append(owner)
    }
}

import Foundation

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
        var keys: [Int32] = []
        var items: [SweepItem] = []
        keys.reserveCapacity(index.bookingStart.count)
        items.reserveCapacity(index.bookingStart.count)
        for r in 0..<releaseCount where index.active[r] {
            for b in index.bookings(of: r) where index.bookingEnd[b] > index.bookingStart[b] {
                keys.append(index.bookingEnvironment[b])
                items.append(SweepItem(start: index.bookingStart[b], end: index.bookingEnd[b],
                                       owner: Int32(r), kind: 0, tag: Int32(b)))
            }
        }
        let grouped = GroupedItems(groups: index.environmentCodes.count, keys: keys, items: items)
        var sweep = LoadSweep(releaseCount: releaseCount)
        for env in 0..<grouped.groupCount {
            let range = grouped.range(of: env)
            let capacity = index.environmentCapacity[env]
            guard range.count > max(capacity, 0) else { continue }
            sweep.run(grouped.items[range], capacity: capacity) { releases, peak, from, to in
                out.append(RawConflict(type: .environmentOverlap, releases: releases, environment: Int32(env),
                                       detail: .overload(peak: peak, from: from, to: to)))
            }
        }
    }

    // MARK: Targets and implementers

    private func targetCollisions(_ out: inout [RawConflict]) {
        var keys: [Int32] = []
        var items: [SweepItem] = []
        var scratch: [(bucket: Int32, kind: UInt8)] = []
        for r in 0..<releaseCount where index.active[r] && isScheduled(r) {
            let targets = index.targets[r]
            if targets.isEmpty { continue }
            let start = index.deployStart[r], end = index.deployEnd[r]
            if end <= start { continue }
            scratch.removeAll(keepingCapacity: true)
            for target in targets {
                for (depth, bucket) in index.itemChain[Int(target)].enumerated() {
                    scratch.append((bucket, depth == 0 ? 0 : 1))
                }
            }
            if scratch.count > 1 {
                scratch.sort { ($0.bucket, $0.kind) < ($1.bucket, $1.kind) }
            }
            var last: Int32 = -1
            for entry in scratch where entry.bucket != last {
                last = entry.bucket
                keys.append(entry.bucket)
                items.append(SweepItem(start: start, end: end, owner: Int32(r), kind: entry.kind, tag: entry.bucket))
            }
        }
        let grouped = GroupedItems(groups: index.itemNames.count, keys: keys, items: items)
        var pairs: [(low: Int32, high: Int32, item: Int32, lowDirect: Bool, highDirect: Bool)] = []
        var sweep = PairSweep()
        for bucket in 0..<grouped.groupCount {
            let range = grouped.range(of: bucket)
            guard range.count > 1 else { continue }
            sweep.run(grouped.items[range], rule: .targets) { a, b in
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
        var keys: [Int32] = []
        var items: [SweepItem] = []
        for r in 0..<releaseCount where index.active[r] && isScheduled(r) && index.implementer[r] >= 0 {
            keys.append(index.implementer[r])
            items.append(SweepItem(start: index.deployStart[r], end: index.deployEnd[r], owner: Int32(r), kind: 0, tag: 0))
        }
        let grouped = GroupedItems(groups: index.implementerNames.count, keys: keys, items: items)
        var sweep = PairSweep()
        for person in 0..<grouped.groupCount {
            let range = grouped.range(of: person)
            guard range.count > 1 else { continue }
            sweep.run(grouped.items[range], rule: .all) { a, b in
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

        // Deployments against global freezes: one timeline.
        var global: [SweepItem] = []
        for f in 0..<freezeCount where index.freezeEnvironment[f] < 0 {
            global.append(SweepItem(start: index.freezeStart[f], end: index.freezeEnd[f], owner: -1 - Int32(f), kind: 1, tag: Int32(f)))
        }
        if !global.isEmpty {
            for r in 0..<releaseCount where index.active[r] && isScheduled(r) {
                global.append(SweepItem(start: index.deployStart[r], end: index.deployEnd[r], owner: Int32(r), kind: 0, tag: -1))
            }
            global.sort(by: SweepItem.precedes)
            var hits: [(release: Int32, freeze: Int32)] = []
            sweep.run(global[...], rule: .across) { a, b in
                let (deploy, freeze) = a.kind == 0 ? (a, b) : (b, a)
                if !index.overrides(Int(deploy.owner), freeze: freeze.tag) { hits.append((deploy.owner, freeze.tag)) }
            }
            for hit in hits {
                out.append(RawConflict(type: .freeze, releases: [hit.release], window: index.window[Int(hit.release)],
                                       freeze: hit.freeze))
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

            let dependencies = index.dependencies[r]
            if !dependencies.isEmpty {
                for (position, d) in dependencies.enumerated() {
                    if d < 0 {
                        let key = index.snapshot.releases[r].dependsOn[position]
                        out.append(RawConflict(type: .dependencyOrder, releases: [release], detail: .dependency(.unknown(key))))
                        continue
                    }
                    let dep = Int(d)
                    switch index.snapshot.releases[dep].status {
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
            let required = index.requiredEnvironments[r]
            if !required.isEmpty {
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
    /// Bookings each release currently holds in the environment being swept.
    private var holding: [Int32]
    /// Marks releases already listed in the current period.
    private var listedIn: [Int32]
    private var period: Int32 = 0

    init(releaseCount: Int) {
        holding = [Int32](repeating: 0, count: releaseCount)
        listedIn = [Int32](repeating: -1, count: releaseCount)
    }

    /// `items` must be sorted by start and non-empty intervals.
    mutating func run(
        _ items: ArraySlice<SweepItem>,
        capacity: Int,
        emit: (_ releases: [Int32], _ peak: Int, _ from: Double, _ to: Double) -> Void
    ) {
        let base = items.startIndex
        let n = items.count
        var ends: [(end: Double, local: Int32)] = []
        ends.reserveCapacity(n)
        for (i, item) in items.enumerated() { ends.append((item.end, Int32(i))) }
        ends.sort { ($0.end, $0.local) < ($1.end, $1.local) }

        var running: [Int32] = []
        var slot = [Int32](repeating: -1, count: n)
        var startedNow: [Int32] = []
        var load = 0
        var open = false
        var members: [Int32] = []
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
                    for local in running { list(items[base + Int(local)].owner, into: &members) }
                } else {
                    peak = max(peak, load)
                    for local in startedNow { list(items[base + Int(local)].owner, into: &members) }
                }
            } else if open {
                open = false
                emit(members, peak, from, t)
            }
        }
    }

    private mutating func list(_ owner: Int32, into members: inout [Int32]) {
        if listedIn[Int(owner)] == period { return }
        listedIn[Int(owner)] = period
        members.append(owner)
    }
}

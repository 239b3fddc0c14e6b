import Foundation
import ReleaseCore

/// Disjoint sets with path halving and union by size.
struct UnionFind {
    private var parent: [Int32]
    private var size: [Int32]

    init(count: Int) {
        parent = (0..<count).map { Int32($0) }
        size = [Int32](repeating: 1, count: count)
    }

    mutating func find(_ x: Int) -> Int {
        var x = x
        while Int(parent[x]) != x {
            parent[x] = parent[Int(parent[x])]
            x = Int(parent[x])
        }
        return x
    }

    /// Joins the sets of `a` and `b`; returns the new root.
    @discardableResult
    mutating func union(_ a: Int, _ b: Int) -> Int {
        var ra = find(a), rb = find(b)
        if ra == rb { return ra }
        if size[ra] < size[rb] || (size[ra] == size[rb] && rb < ra) { swap(&ra, &rb) }
        parent[rb] = Int32(ra)
        size[ra] += size[rb]
        return ra
    }
}

/// Groups conflicted releases into components solved together.
///
/// Releases sharing a conflict are always together. Two components are merged, while the
/// product of their placement counts stays within ``ResolverOptions/mergeSearchSpace`` (and
/// their movable releases within ``ResolverOptions/maxExactReleases``), when some placement of
/// one could meet some placement of the other: a shared window, overlapping bookings of one
/// environment, overlapping deployments on related targets or by one implementer, a
/// dependency, or a bystander both could collide with. Components that stay apart are solved
/// one after another; if they could not meet, that is as good as solving them together.
struct ComponentBuilder {
    let run: ResolverRun

    private var index: PortfolioIndex { run.index }

    func build() -> [[Int]] {
        let n = index.releaseCount
        let geometry = run.geometry
        var sets = UnionFind(count: n)
        for conflict in run.raw {
            let first = Int(conflict.releases[0])
            for r in conflict.releases.dropFirst() { sets.union(first, Int(r)) }
        }
        let conflictedIds = (0..<n).filter { run.conflicted[$0] }

        var logSpace = [Double](repeating: 0, count: n)
        var movers = [Int](repeating: 0, count: n)
        for r in conflictedIds {
            let root = sets.find(r)
            logSpace[root] += log(Double(max(1, run.candidates[r].count)))
            if run.mayMove[r] && run.candidates[r].count > 1 { movers[root] += 1 }
        }
        let limit = log(max(1, run.options.mergeSearchSpace)) + 1e-9
        let maxMovers = run.options.maxExactReleases
        func merge(_ a: Int, _ b: Int) {
            let ra = sets.find(a), rb = sets.find(b)
            if ra == rb { return }
            guard logSpace[ra] + logSpace[rb] <= limit, movers[ra] + movers[rb] <= maxMovers else { return }
            let root = sets.union(ra, rb)
            let other = root == ra ? rb : ra
            logSpace[root] += logSpace[other]
            movers[root] += movers[other]
        }

        let movable = conflictedIds.filter { run.mayMove[$0] && run.candidates[$0].count > 1 }
        if !movable.isEmpty {
            // Shared windows.
            var byWindow: [Int32: [Int]] = [:]
            for r in conflictedIds {
                for p in run.candidates[r] where p.window >= 0 {
                    if byWindow[p.window]?.last != r { byWindow[p.window, default: []].append(r) }
                }
            }
            for (_, list) in byWindow.sorted(by: { $0.key < $1.key }) {
                for i in 1..<max(1, list.count) { merge(list[i - 1], list[i]) }
            }
            // Dependencies.
            for r in conflictedIds {
                for d in index.dependencies[r] where d >= 0 && run.conflicted[Int(d)] { merge(r, Int(d)) }
            }
            // Timelines: bookings, target items, implementers, over every candidate placement.
            var bookingKeys: [Int32] = [], bookingItems: [SweepItem] = []
            var targetKeys: [Int32] = [], targetItems: [SweepItem] = []
            var personKeys: [Int32] = [], personItems: [SweepItem] = []
            for r in conflictedIds {
                for p in run.candidates[r] {
                    for b in index.bookings(of: r) where index.bookingEnd[b] > index.bookingStart[b] {
                        bookingKeys.append(index.bookingEnvironment[b])
                        bookingItems.append(SweepItem(start: geometry.bookingStart(r, b, p), end: geometry.bookingEnd(r, b, p),
                                                      owner: Int32(r), kind: 0, tag: 0))
                    }
                    guard index.hasDeploy[r] else { continue }
                    let start = geometry.deployStart(r, p), end = geometry.deployEnd(r, p)
                    Ledger.targetEntries(index, r, start: start, end: end) { bucket, item in
                        targetKeys.append(bucket)
                        targetItems.append(item)
                    }
                    if index.implementer[r] >= 0 && end > start {
                        personKeys.append(index.implementer[r])
                        personItems.append(SweepItem(start: start, end: end, owner: Int32(r), kind: 0, tag: 0))
                    }
                }
            }
            var sweep = PairSweep()
            for (groups, keys, items, rule) in [
                (index.environmentCodes.count, bookingKeys, bookingItems, PairRule.all),
                (index.itemNames.count, targetKeys, targetItems, PairRule.targets),
                (index.implementerNames.count, personKeys, personItems, PairRule.all),
            ] {
                let grouped = GroupedItems(groups: groups, keys: keys, items: items)
                for g in 0..<grouped.groupCount where grouped.range(of: g).count > 1 {
                    sweep.run(grouped.items[grouped.range(of: g)], rule: rule) { a, b in merge(Int(a.owner), Int(b.owner)) }
                }
            }
            // Bystanders a move could collide with.
            let ledger = run.ledger
            for r in movable where index.hasDeploy[r] {
                for p in run.candidates[r].dropFirst() where p.shift != 0 {
                    let start = geometry.deployStart(r, p), end = geometry.deployEnd(r, p)
                    ledger.forEachTargetCollision(r, start: start, end: end) { merge(r, Int($0)) }
                    if index.implementer[r] >= 0 {
                        ledger.forEachImplementerDeployment(index.implementer[r], overlapping: start, end) { item in
                            if Int(item.owner) != r { merge(r, Int(item.owner)) }
                        }
                    }
                }
            }
        }

        var groups: [Int: [Int]] = [:]
        for r in conflictedIds { groups[sets.find(r), default: []].append(r) }
        var components = Array(groups.values)
        let ranked = components.map { members -> (priority: Int8, key: String) in
            let priority = members.map { index.priority[$0] }.min() ?? 5
            let key = members.map { index.key(Int32($0)) }.min() ?? ""
            return (priority, key)
        }
        let order = components.indices.sorted { a, b in
            if ranked[a].priority != ranked[b].priority { return ranked[a].priority < ranked[b].priority }
            return ranked[a].key < ranked[b].key
        }
        components = order.map { components[$0] }
        return components
    }
}

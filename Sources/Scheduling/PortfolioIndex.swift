import Foundation
import ReleaseCore

/// Lists of integers for many owners, stored flat (compressed rows): one allocation instead of
/// one array per release.
struct FlatLists: Sendable {
    private(set) var offsets: [Int32] = [0]
    private(set) var values: [Int32] = []

    var count: Int { offsets.count - 1 }

    subscript(owner: Int) -> ArraySlice<Int32> {
        values[Int(offsets[owner])..<Int(offsets[owner + 1])]
    }

    /// Where the owner's list lies in `values`; cheaper than a slice in hot loops.
    func bounds(_ owner: Int) -> Range<Int> { Int(offsets[owner])..<Int(offsets[owner + 1]) }

    func isEmpty(_ owner: Int) -> Bool { offsets[owner] == offsets[owner + 1] }

    mutating func append(_ value: Int32) { values.append(value) }

    /// Closes the list of the current owner; the next `append` starts the next owner's list.
    mutating func closeOwner() { offsets.append(Int32(values.count)) }

    mutating func reserve(owners: Int, values count: Int) {
        offsets.reserveCapacity(owners + 1)
        values.reserveCapacity(count)
    }

    /// Reverses a relation: `result[v]` lists every owner whose list holds `v`, ascending.
    func inverted(ownerCount: Int) -> FlatLists {
        var counts = [Int32](repeating: 0, count: ownerCount + 1)
        for value in values where value >= 0 { counts[Int(value) + 1] += 1 }
        for i in 0..<ownerCount { counts[i + 1] += counts[i] }
        var fill = counts
        var inverse = [Int32](repeating: 0, count: Int(counts[ownerCount]))
        for owner in 0..<count {
            for value in self[owner] where value >= 0 {
                inverse[Int(fill[Int(value)])] = Int32(owner)
                fill[Int(value)] += 1
            }
        }
        var result = FlatLists()
        result.offsets = counts
        result.values = inverse
        return result
    }
}

/// The snapshot translated into dense integer ids and flat arrays, so that the sweeps touch
/// numbers, not strings. Times are seconds since the reference date (`Date`'s own storage).
///
/// A class with constant fields: the many readers share one copy, without copying or access
/// checks.
final class PortfolioIndex {
    let snapshot: Snapshot
    var releaseCount: Int { snapshot.releases.count }

    // Releases.
    let status: [ReleaseStatus]
    let active: [Bool]
    let pinned: [Bool]
    /// 1...5.
    let priority: [Int8]
    let group: [Int32]
    let groupNames: [String]
    /// -1: no window, or one the snapshot does not know.
    let window: [Int32]
    let hasDeploy: [Bool]
    let deployStart: [Double]
    let deployEnd: [Double]
    /// `+infinity` without a deadline.
    let deadline: [Double]
    /// -1: none.
    let implementer: [Int32]
    let implementerNames: [String]
    /// Items each release changes, unique, ascending.
    let targets: FlatLists
    /// Release ids each release depends on; -1 for a key the snapshot does not hold.
    let dependencies: FlatLists
    let dependents: FlatLists
    let requiredEnvironments: FlatLists
    /// Freeze ids overridden for each release, ascending.
    let overrides: FlatLists

    // Bookings, grouped by release: bookings of release r are `bookingOffset[r]..<bookingOffset[r+1]`.
    let bookingOffset: [Int32]
    let bookingEnvironment: [Int32]
    let bookingStart: [Double]
    let bookingEnd: [Double]

    // Windows.
    let windowStart: [Double]
    let windowEnd: [Double]
    let windowCapacity: [Int]
    /// Position in `snapshot.windows` of each window id (the first window with that code).
    let windowSource: [Int]

    // Environments (unknown codes met in bookings are appended: test kind, capacity 1).
    let environmentCodes: [String]
    let environmentCapacity: [Int]
    let environmentIsTest: [Bool]

    // Freezes.
    let freezeStart: [Double]
    let freezeEnd: [Double]
    /// -1 for a global freeze.
    let freezeEnvironment: [Int32]
    let freezeSource: [Int]

    // Configuration items.
    let itemNames: [String]
    /// For each item: itself, then the item it is part of, and so on up the chain.
    let itemChain: FlatLists

    init(_ snapshot: Snapshot) {
        var b = Builder(snapshot: snapshot)
        b.indexResources()
        b.indexReleases()
        b.buildItemChains()
        self.snapshot = snapshot
        status = b.status
        active = b.active
        pinned = b.pinned
        priority = b.priority
        group = b.group
        groupNames = b.groupNames
        window = b.window
        hasDeploy = b.hasDeploy
        deployStart = b.deployStart
        deployEnd = b.deployEnd
        deadline = b.deadline
        implementer = b.implementer
        implementerNames = b.implementerNames
        targets = b.targets
        dependencies = b.dependencies
        dependents = b.dependencies.inverted(ownerCount: snapshot.releases.count)
        requiredEnvironments = b.requiredEnvironments
        overrides = b.overrides
        bookingOffset = b.bookingOffset
        bookingEnvironment = b.bookingEnvironment
        bookingStart = b.bookingStart
        bookingEnd = b.bookingEnd
        windowStart = b.windowStart
        windowEnd = b.windowEnd
        windowCapacity = b.windowCapacity
        windowSource = b.windowSource
        environmentCodes = b.environmentCodes
        environmentCapacity = b.environmentCapacity
        environmentIsTest = b.environmentIsTest
        freezeStart = b.freezeStart
        freezeEnd = b.freezeEnd
        freezeEnvironment = b.freezeEnvironment
        freezeSource = b.freezeSource
        itemNames = b.itemNames
        itemChain = b.itemChain
    }

    // MARK: Convenience

    func key(_ release: Int32) -> String { snapshot.releases[Int(release)].key }
    func groupName(_ release: Int32) -> String { groupNames[Int(group[Int(release)])] }
    func windowCode(_ window: Int32) -> String { snapshot.windows[windowSource[Int(window)]].code }
    func freeze(_ id: Int32) -> Freeze { snapshot.freezes[freezeSource[Int(id)]] }

    func bookings(of release: Int) -> Range<Int> {
        Int(bookingOffset[release])..<Int(bookingOffset[release + 1])
    }

    func overrides(_ release: Int, freeze: Int32) -> Bool {
        let list = overrides[release]
        return !list.isEmpty && list.contains(freeze)
    }
}

/// Builds the index's arrays; string lookups happen here and nowhere after.
private struct Builder {
    let snapshot: Snapshot

    var status: [ReleaseStatus] = []
    var active: [Bool] = []
    var pinned: [Bool] = []
    var priority: [Int8] = []
    var group: [Int32] = []
    var groupNames: [String] = []
    var window: [Int32] = []
    var hasDeploy: [Bool] = []
    var deployStart: [Double] = []
    var deployEnd: [Double] = []
    var deadline: [Double] = []
    var implementer: [Int32] = []
    var implementerNames: [String] = []
    var targets = FlatLists()
    var dependencies = FlatLists()
    var requiredEnvironments = FlatLists()
    var overrides = FlatLists()
    var bookingOffset: [Int32] = [0]
    var bookingEnvironment: [Int32] = []
    var bookingStart: [Double] = []
    var bookingEnd: [Double] = []
    var windowStart: [Double] = []
    var windowEnd: [Double] = []
    var windowCapacity: [Int] = []
    var windowIndex = Interner()
    var windowSource: [Int] = []
    var environmentCodes: [String] = []
    var environmentCapacity: [Int] = []
    var environmentIsTest: [Bool] = []
    var environmentIndex = Interner()
    var freezeStart: [Double] = []
    var freezeEnd: [Double] = []
    var freezeEnvironment: [Int32] = []
    var freezeIndex = Interner()
    var freezeSource: [Int] = []
    var items = Interner()
    var itemNames: [String] { items.names }
    var itemChain = FlatLists()

    init(snapshot: Snapshot) { self.snapshot = snapshot }

    mutating func indexResources() {
        for (i, window) in snapshot.windows.enumerated() where windowIndex.id(of: window.code) == nil {
            _ = windowIndex.intern(window.code)
            windowSource.append(i)
            windowStart.append(window.interval.start.timeIntervalSinceReferenceDate)
            windowEnd.append(window.interval.end.timeIntervalSinceReferenceDate)
            windowCapacity.append(window.capacity)
        }
        for environment in snapshot.environments where environmentIndex.id(of: environment.code) == nil {
            _ = environmentIndex.intern(environment.code)
            environmentCodes.append(environment.code)
            environmentCapacity.append(environment.capacity)
            environmentIsTest.append(environment.kind.isTestEnvironment)
        }
        for (i, freeze) in snapshot.freezes.enumerated() where freezeIndex.id(of: freeze.code) == nil {
            _ = freezeIndex.intern(freeze.code)
            freezeSource.append(i)
            freezeStart.append(freeze.interval.start.timeIntervalSinceReferenceDate)
            freezeEnd.append(freeze.interval.end.timeIntervalSinceReferenceDate)
            freezeEnvironment.append(freeze.environment.map { environmentId($0) } ?? -1)
        }
    }

    mutating func environmentId(_ code: String) -> Int32 {
        let id = environmentIndex.intern(code)
        if Int(id) < environmentCodes.count { return id }
        environmentCodes.append(code)
        environmentCapacity.append(1)
        environmentIsTest.append(true)
        return id
    }

    mutating func itemId(_ name: String) -> Int32 { items.intern(name) }

    /// Release ids of the keys that some release depends on, and only those: cheaper than a
    /// table of every key when few releases have dependencies.
    private func dependencyTargets() -> (keys: Interner, releases: [Int32]) {
        let releases = snapshot.releases
        var wanted = Interner()
        for i in releases.indices where !releases[i].dependsOn.isEmpty {
            for key in releases[i].dependsOn { _ = wanted.intern(key) }
        }
        var found = [Int32](repeating: -1, count: wanted.count)
        if wanted.count > 0 {
            for i in releases.indices {
                if let k = wanted.id(of: releases[i].key), found[Int(k)] < 0 { found[Int(k)] = Int32(i) }
            }
        }
        return (wanted, found)
    }

    mutating func indexReleases() {
        let releases = snapshot.releases
        let n = releases.count
        active.reserveCapacity(n)
        status.reserveCapacity(n)
        priority.reserveCapacity(n)
        group.reserveCapacity(n)
        window.reserveCapacity(n)
        hasDeploy.reserveCapacity(n)
        deployStart.reserveCapacity(n)
        deployEnd.reserveCapacity(n)
        deadline.reserveCapacity(n)
        implementer.reserveCapacity(n)
        bookingOffset.reserveCapacity(n + 1)
        targets.reserve(owners: n, values: n * 2)
        dependencies.reserve(owners: n, values: n / 4)
        requiredEnvironments.reserve(owners: n, values: 0)
        overrides.reserve(owners: n, values: 0)
        let bookingGuess = n * 5
        bookingEnvironment.reserveCapacity(bookingGuess)
        bookingStart.reserveCapacity(bookingGuess)
        bookingEnd.reserveCapacity(bookingGuess)

        let dependencyIds = dependencyTargets()
        items = Interner(capacity: max(n, snapshot.targetParents.count))
        var groupIndex = Interner()
        var implementerIndex = Interner(capacity: n / 8)
        var lastWindow: (code: String, id: Int32)? = nil
        var lastGroup: (name: String, id: Int32)? = nil
        var lastImplementer: (name: String, id: Int32)? = nil
        var ids: [Int32] = []

        for i in 0..<n {
            let state = releases[i].status
            status.append(state)
            active.append(state.isActive)
            pinned.append(releases[i].pinned)
            priority.append(Int8(releases[i].priority.value))
            // Neighbouring releases often share a group or an implementer: a one-entry memo
            // saves hashing the same name again.
            let groupName = releases[i].group
            if let last = lastGroup, last.name == groupName {
                group.append(last.id)
            } else {
                let id = groupIndex.intern(groupName)
                lastGroup = (groupName, id)
                group.append(id)
            }
            if let code = releases[i].window {
                // Releases usually arrive window by window: the previous answer is often the next.
                if let last = lastWindow, last.code == code {
                    window.append(last.id)
                } else {
                    let id = windowIndex.id(of: code) ?? -1
                    lastWindow = (code, id)
                    window.append(id)
                }
            } else {
                window.append(-1)
            }
            if let deploy = releases[i].deploy {
                hasDeploy.append(true)
                deployStart.append(deploy.start.timeIntervalSinceReferenceDate)
                deployEnd.append(deploy.end.timeIntervalSinceReferenceDate)
            } else {
                hasDeploy.append(false)
                deployStart.append(0)
                deployEnd.append(0)
            }
            deadline.append(releases[i].deadline?.timeIntervalSinceReferenceDate ?? .infinity)
            if let person = releases[i].implementer {
                if let last = lastImplementer, last.name == person {
                    implementer.append(last.id)
                } else {
                    let id = implementerIndex.intern(person)
                    lastImplementer = (person, id)
                    implementer.append(id)
                }
            } else {
                implementer.append(-1)
            }

            let names = releases[i].targets
            if names.count == 1 {
                targets.append(itemId(names[0]))
            } else if !names.isEmpty {
                ids.removeAll(keepingCapacity: true)
                for name in names { ids.append(itemId(name)) }
                ids.sort()
                var last: Int32 = -1
                for id in ids where id != last {
                    targets.append(id)
                    last = id
                }
            }
            targets.closeOwner()

            for key in releases[i].dependsOn {
                dependencies.append(dependencyIds.keys.id(of: key).map { dependencyIds.releases[Int($0)] } ?? -1)
            }
            dependencies.closeOwner()
            for code in releases[i].requiredEnvironments { requiredEnvironments.append(environmentId(code)) }
            requiredEnvironments.closeOwner()
            let overridden = releases[i].freezeOverrides
            if !overridden.isEmpty {
                for id in overridden.compactMap({ freezeIndex.id(of: $0) }).sorted() { overrides.append(id) }
            }
            overrides.closeOwner()

            for booking in releases[i].bookings {
                bookingEnvironment.append(environmentId(booking.environment))
                bookingStart.append(booking.interval.start.timeIntervalSinceReferenceDate)
                bookingEnd.append(booking.interval.end.timeIntervalSinceReferenceDate)
            }
            bookingOffset.append(Int32(bookingStart.count))
        }
        groupNames = groupIndex.names
        implementerNames = implementerIndex.names
    }

    /// Follows `targetParents` up from every item the releases change, each link looked up
    /// once, numbering parents as they are met (so ids follow the releases' order, whatever the
    /// dictionary's). A cycle ends the chain where it closes.
    mutating func buildItemChains() {
        // Items the releases change: one pass over the dictionary in storage order finds their
        // parents, which is far cheaper than looking each of them up in it.
        let changed = items.count
        var parentName = [String?](repeating: nil, count: changed)
        for (child, name) in snapshot.targetParents {
            if let id = items.id(of: child), Int(id) < changed { parentName[Int(id)] = name }
        }
        var parent: [Int32] = []
        parent.reserveCapacity(changed)
        for item in 0..<changed { parent.append(parentName[item].map { itemId($0) } ?? -1) }
        // Items met only as parents: few, looked up directly.
        var item = changed
        while item < items.count {
            parent.append(snapshot.targetParents[items.names[item]].map { itemId($0) } ?? -1)
            item += 1
        }
        itemChain = Self.chains(parent: parent, maxLinks: Snapshot.maxTargetLinks)
    }

    /// Every item's chain (itself, its parent, that one's parent, …), memoised: each item's chain
    /// is built once, from its parent's, so a deep hierarchy costs its size times its depth, not
    /// the cube of its depth. A chain stops after `maxLinks` links (the database refuses deeper
    /// ones, sql/0010) and where a cycle closes.
    static func chains(parent: [Int32], maxLinks: Int) -> FlatLists {
        let count = parent.count
        var memo = [[Int32]?](repeating: nil, count: count)
        var onPath = [Int32](repeating: -1, count: count)  // position on the walk under way, else -1
        var path: [Int32] = []
        for start in 0..<count where memo[start] == nil {
            path.removeAll(keepingCapacity: true)
            var node = Int32(start)
            while node >= 0 && memo[Int(node)] == nil && onPath[Int(node)] < 0 {
                onPath[Int(node)] = Int32(path.count)
                path.append(node)
                node = parent[Int(node)]
            }
            var end = path.count
            if node >= 0, memo[Int(node)] == nil {
                // A cycle: each of its items' chains goes once round it.
                let closes = Int(onPath[Int(node)])
                let cycle = Array(path[closes...])
                for (offset, item) in cycle.enumerated() {
                    memo[Int(item)] = Array((cycle[offset...] + cycle[..<offset]).prefix(maxLinks + 1))
                }
                end = closes
            }
            var tail: [Int32] = end < path.count ? (memo[Int(path[end])] ?? []) : (node >= 0 ? memo[Int(node)] ?? [] : [])
            for position in stride(from: end - 1, through: 0, by: -1) {
                let item = path[position]
                tail = [item] + tail.prefix(maxLinks)
                memo[Int(item)] = tail
            }
            for item in path { onPath[Int(item)] = -1 }
        }
        var chains = FlatLists()
        chains.reserve(owners: count, values: count * 3)
        for item in 0..<count {
            for value in memo[item] ?? [Int32(item)] { chains.append(value) }
            chains.closeOwner()
        }
        return chains
    }
}

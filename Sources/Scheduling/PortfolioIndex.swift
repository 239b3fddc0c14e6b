import Foundation

/// Lists of integers for many owners, stored flat (compressed rows): one allocation instead of
/// one array per release.
struct FlatLists: Sendable {
    private(set) var offsets: [Int32] = [0]
    private(set) var values: [Int32] = []

    var count: Int { offsets.count - 1 }

    subscript(owner: Int) -> ArraySlice<Int32> {
        values[Int(offsets[owner])..<Int(offsets[owner + 1])]
    }

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
struct PortfolioIndex: Sendable {
    let snapshot: Snapshot
    var releaseCount: Int { snapshot.releases.count }

    // Releases.
    var active: [Bool] = []
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
    /// Items each release changes, unique, ascending.
    var targets = FlatLists()
    /// Release ids each release depends on; -1 for a key the snapshot does not hold.
    var dependencies = FlatLists()
    var dependents = FlatLists()
    var requiredEnvironments = FlatLists()
    /// Freeze ids overridden for each release, ascending.
    var overrides = FlatLists()
    var keyIndex: [String: Int32] = [:]

    // Bookings, grouped by release: bookings of release r are `bookingOffset[r]..<bookingOffset[r+1]`.
    var bookingOffset: [Int32] = [0]
    var bookingEnvironment: [Int32] = []
    var bookingStart: [Double] = []
    var bookingEnd: [Double] = []

    // Windows.
    var windowStart: [Double] = []
    var windowEnd: [Double] = []
    var windowCapacity: [Int] = []
    var windowIndex: [String: Int32] = [:]
    /// Position in `snapshot.windows` of each window id (the first window with that code).
    var windowSource: [Int] = []

    // Environments (unknown codes met in bookings are appended: test kind, capacity 1).
    var environmentCodes: [String] = []
    var environmentCapacity: [Int] = []
    var environmentIsTest: [Bool] = []
    var environmentIndex: [String: Int32] = [:]

    // Freezes.
    var freezeStart: [Double] = []
    var freezeEnd: [Double] = []
    /// -1 for a global freeze.
    var freezeEnvironment: [Int32] = []
    var freezeIndex: [String: Int32] = [:]
    var freezeSource: [Int] = []

    // Configuration items.
    var itemNames: [String] = []
    /// For each item: itself, then the item it is part of, and so on up the chain.
    var itemChain = FlatLists()

    init(_ snapshot: Snapshot) {
        self.snapshot = snapshot
        indexResources()
        indexReleases()
    }

    private mutating func indexResources() {
        for (i, window) in snapshot.windows.enumerated() where windowIndex[window.code] == nil {
            windowIndex[window.code] = Int32(windowStart.count)
            windowSource.append(i)
            windowStart.append(window.interval.start.timeIntervalSinceReferenceDate)
            windowEnd.append(window.interval.end.timeIntervalSinceReferenceDate)
            windowCapacity.append(window.capacity)
        }
        for environment in snapshot.environments where environmentIndex[environment.code] == nil {
            environmentIndex[environment.code] = Int32(environmentCodes.count)
            environmentCodes.append(environment.code)
            environmentCapacity.append(environment.capacity)
            environmentIsTest.append(environment.kind.isTestEnvironment)
        }
        for (i, freeze) in snapshot.freezes.enumerated() where freezeIndex[freeze.code] == nil {
            freezeIndex[freeze.code] = Int32(freezeStart.count)
            freezeSource.append(i)
            freezeStart.append(freeze.interval.start.timeIntervalSinceReferenceDate)
            freezeEnd.append(freeze.interval.end.timeIntervalSinceReferenceDate)
            freezeEnvironment.append(freeze.environment.map { environmentId($0) } ?? -1)
        }
    }

    private mutating func environmentId(_ code: String) -> Int32 {
        if let id = environmentIndex[code] { return id }
        let id = Int32(environmentCodes.count)
        environmentIndex[code] = id
        environmentCodes.append(code)
        environmentCapacity.append(1)
        environmentIsTest.append(true)
        return id
    }

    private mutating func indexReleases() {
        let releases = snapshot.releases
        let n = releases.count
        active.reserveCapacity(n)
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
        keyIndex.reserveCapacity(n)

        var groupIndex: [String: Int32] = [:]
        var implementerIndex: [String: Int32] = [:]
        var itemIndex: [String: Int32] = [:]

        for i in 0..<n where keyIndex[releases[i].key] == nil {
            keyIndex[releases[i].key] = Int32(i)
        }
        for i in 0..<n {
            let release = releases[i]
            active.append(release.status.isActive)
            priority.append(Int8(min(5, max(1, release.priority))))
            if let id = groupIndex[release.group] {
                group.append(id)
            } else {
                let id = Int32(groupNames.count)
                groupIndex[release.group] = id
                groupNames.append(release.group)
                group.append(id)
            }
            window.append(release.window.flatMap { windowIndex[$0] } ?? -1)
            if let deploy = release.deploy {
                hasDeploy.append(true)
                deployStart.append(deploy.start.timeIntervalSinceReferenceDate)
                deployEnd.append(deploy.end.timeIntervalSinceReferenceDate)
            } else {
                hasDeploy.append(false)
                deployStart.append(0)
                deployEnd.append(0)
            }
            deadline.append(release.deadline?.timeIntervalSinceReferenceDate ?? .infinity)
            if let person = release.implementer {
                if let id = implementerIndex[person] {
                    implementer.append(id)
                } else {
                    let id = Int32(implementerNames.count)
                    implementerIndex[person] = id
                    implementerNames.append(person)
                    implementer.append(id)
                }
            } else {
                implementer.append(-1)
            }

            if release.targets.count == 1 {
                targets.append(itemId(release.targets[0], &itemIndex))
            } else if !release.targets.isEmpty {
                var ids = release.targets.map { itemId($0, &itemIndex) }
                ids.sort()
                var last: Int32 = -1
                for id in ids where id != last {
                    targets.append(id)
                    last = id
                }
            }
            targets.closeOwner()

            for key in release.dependsOn { dependencies.append(keyIndex[key] ?? -1) }
            dependencies.closeOwner()
            for code in release.requiredEnvironments { requiredEnvironments.append(environmentId(code)) }
            requiredEnvironments.closeOwner()
            if !release.freezeOverrides.isEmpty {
                for id in release.freezeOverrides.compactMap({ freezeIndex[$0] }).sorted() { overrides.append(id) }
            }
            overrides.closeOwner()

            for booking in release.bookings {
                bookingEnvironment.append(environmentId(booking.environment))
                bookingStart.append(booking.interval.start.timeIntervalSinceReferenceDate)
                bookingEnd.append(booking.interval.end.timeIntervalSinceReferenceDate)
            }
            bookingOffset.append(Int32(bookingStart.count))
        }
        dependents = dependencies.inverted(ownerCount: n)
        buildItemChains(itemIndex)
    }

    private mutating func itemId(_ name: String, _ index: inout [String: Int32]) -> Int32 {
        if let id = index[name] { return id }
        let id = Int32(itemNames.count)
        index[name] = id
        itemNames.append(name)
        return id
    }

    /// Follows `targetParents` from every item; a cycle ends the chain where it closes.
    private mutating func buildItemChains(_ index: [String: Int32]) {
        var index = index
        var chains = FlatLists()
        var item = 0
        while item < itemNames.count {
            let chainStart = chains.values.count
            chains.append(Int32(item))
            var name = itemNames[item]
            while let parent = snapshot.targetParents[name] {
                let id = itemId(parent, &index)
                if chains.values[chainStart...].contains(id) { break }
                chains.append(id)
                name = parent
            }
            chains.closeOwner()
            item += 1
        }
        itemChain = chains
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

import Foundation
import ReleaseCore

/// One interval on a resource's timeline, as the sweeps see it.
struct SweepItem: Sendable {
    var start: Double
    var end: Double
    /// The release the interval belongs to.
    var owner: Int32
    /// Which side of a join the interval is on (for example deployment or freeze).
    var kind: UInt8
    /// Extra id carried along: a freeze, a booking, a target item.
    var tag: Int32

    var isEmpty: Bool { end <= start }

    /// Start order with full tie-breaks, so that every sweep visits items in one fixed order.
    static func precedes(_ a: SweepItem, _ b: SweepItem) -> Bool {
        if a.start != b.start { return a.start < b.start }
        if a.owner != b.owner { return a.owner < b.owner }
        if a.kind != b.kind { return a.kind < b.kind }
        if a.tag != b.tag { return a.tag < b.tag }
        return a.end < b.end
    }
}

/// Items bucketed by resource, each bucket sorted by start: a counting sort on the resource id
/// followed by one small sort per bucket, so the cost grows with the bucket sizes, not with
/// the whole list.
typealias GroupedItems = Grouped<SweepItem>

extension Grouped where Item == SweepItem {
    init(groups: Int, keys: [Int32], items unsorted: [SweepItem]) {
        self.init(groups: groups, sortedBy: SweepItem.precedes) { emit in
            for (i, key) in keys.enumerated() { emit(key, unsorted[i]) }
        }
    }

    init(groups: Int, _ produce: (_ emit: (_ group: Int32, _ item: SweepItem) -> Void) -> Void) {
        self.init(groups: groups, sortedBy: SweepItem.precedes, produce)
    }
}

/// Values bucketed by a small integer key with a counting sort, written straight into place.
struct Grouped<Item> {
    private(set) var items: [Item] = []
    private(set) var offsets: [Int] = [0]

    var groupCount: Int { offsets.count - 1 }

    /// `produce` is called twice, once to count the items of each group and once to place
    /// them; each group is then sorted with `sortedBy`, if given.
    init(groups: Int, sortedBy order: ((Item, Item) -> Bool)?,
         _ produce: (_ emit: (_ group: Int32, _ item: Item) -> Void) -> Void) {
        var counts = [Int](repeating: 0, count: groups + 1)
        produce { key, _ in counts[Int(key) + 1] += 1 }
        for g in 0..<groups { counts[g + 1] += counts[g] }
        offsets = counts
        let total = counts[groups]
        var fill = counts
        items = [Item](unsafeUninitializedCapacity: total) { buffer, initialized in
            produce { key, item in
                buffer.initializeElement(at: fill[Int(key)], to: item)
                fill[Int(key)] += 1
            }
            initialized = total
            guard let order else { return }
            for g in 0..<groups where counts[g + 1] - counts[g] > 1 {
                var slice = UnsafeMutableBufferPointer(rebasing: buffer[counts[g]..<counts[g + 1]])
                slice.sort(by: order)
            }
        }
    }

    func range(of group: Int) -> Range<Int> { offsets[group]..<offsets[group + 1] }
}

/// Small integers bucketed by key with a counting sort: 4 bytes per entry, so that large
/// portfolios stay cache-friendly. Stable: a bucket lists its members in the order produced.
struct Buckets {
    private(set) var offsets: [Int32] = [0]
    private(set) var members: [Int32] = []

    var count: Int { offsets.count - 1 }

    /// `produce` is called twice, once to count and once to place.
    init(count keys: Int, _ produce: (_ emit: (_ key: Int32, _ member: Int32) -> Void) -> Void) {
        var counts = [Int32](repeating: 0, count: keys + 1)
        produce { key, _ in counts[Int(key) + 1] += 1 }
        for k in 0..<keys { counts[k + 1] += counts[k] }
        offsets = counts
        let total = Int(counts[keys])
        var fill = counts
        members = [Int32](unsafeUninitializedCapacity: total) { buffer, initialized in
            produce { key, member in
                buffer.initializeElement(at: Int(fill[Int(key)]), to: member)
                fill[Int(key)] += 1
            }
            initialized = total
        }
    }

    func range(of key: Int) -> Range<Int> { Int(offsets[key])..<Int(offsets[key + 1]) }
}

/// Which pairs of overlapping items a sweep reports.
struct PairRule: Sendable {
    var kind0WithKind0: Bool
    var kind1WithKind1: Bool
    var acrossKinds: Bool

    /// Everything with everything: one person, one timeline.
    static let all = PairRule(kind0WithKind0: true, kind1WithKind1: true, acrossKinds: true)
    /// Only items of different kinds: deployments against freezes.
    static let across = PairRule(kind0WithKind0: false, kind1WithKind1: false, acrossKinds: true)
    /// Kind 0 changes the item itself, kind 1 changes a part of it: parts may change together.
    static let targets = PairRule(kind0WithKind0: true, kind1WithKind1: false, acrossKinds: true)
}

/// Reports every pair of overlapping items of different owners, in O(n + k) after sorting.
///
/// Items must be sorted by start. Each kind keeps a list of items that may still be running;
/// an arriving item scans the lists it pairs with, dropping what has ended. Every scanned entry
/// either ends up in a reported pair or is dropped for good, so the work is the number of
/// items plus the number of pairs.
struct PairSweep {
    private var running: [[SweepItem]] = [[], []]

    mutating func run(
        _ items: ArraySlice<SweepItem>,
        rule: PairRule,
        emit: (_ earlier: SweepItem, _ later: SweepItem) -> Void
    ) {
        running[0].removeAll(keepingCapacity: true)
        running[1].removeAll(keepingCapacity: true)
        for item in items where !item.isEmpty {
            let kind = Int(item.kind)
            let same = kind == 0 ? rule.kind0WithKind0 : rule.kind1WithKind1
            if same { scan(kind, against: item, emit: emit) }
            if rule.acrossKinds { scan(1 - kind, against: item, emit: emit) }
            running[kind].append(item)
        }
    }

    private mutating func scan(_ kind: Int, against item: SweepItem, emit: (SweepItem, SweepItem) -> Void) {
        var kept = 0
        let count = running[kind].count
        for i in 0..<count {
            let other = running[kind][i]
            if other.end <= item.start { continue }
            running[kind][kept] = other
            kept += 1
            if other.owner != item.owner { emit(other, item) }
        }
        running[kind].removeLast(count - kept)
    }
}

import Foundation

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
struct GroupedItems {
    private(set) var items: [SweepItem] = []
    private(set) var offsets: [Int] = [0]

    var groupCount: Int { offsets.count - 1 }

    init(groups: Int, keys: [Int32], items unsorted: [SweepItem]) {
        var counts = [Int](repeating: 0, count: groups + 1)
        for key in keys { counts[Int(key) + 1] += 1 }
        for g in 0..<groups { counts[g + 1] += counts[g] }
        offsets = counts
        var fill = counts
        var sorted = [SweepItem](repeating: SweepItem(start: 0, end: 0, owner: 0, kind: 0, tag: 0), count: unsorted.count)
        for (i, key) in keys.enumerated() {
            sorted[fill[Int(key)]] = unsorted[i]
            fill[Int(key)] += 1
        }
        sorted.withUnsafeMutableBufferPointer { buffer in
            for g in 0..<groups where counts[g + 1] - counts[g] > 1 {
                var slice = UnsafeMutableBufferPointer(rebasing: buffer[counts[g]..<counts[g + 1]])
                slice.sort(by: SweepItem.precedes)
            }
        }
        items = sorted
    }

    func range(of group: Int) -> Range<Int> { offsets[group]..<offsets[group + 1] }
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

import Foundation
import ReleaseCore

/// The placements the resolver may give a release, with the hard rules that concern the
/// release alone already applied.
///
/// A movable release (active, not deploying or later, not pinned, with a deployment) may:
/// stay; stay but pull its test bookings in (when its tests end after its deployment starts);
/// when its deployment lies outside its window but fits in it, be re-timed inside its own
/// window (the least shift; bookings move along), rigidly or with its tests pulled in; or move
/// to one of the nearest other windows (from the re-timed offset, if any), rigidly or with its
/// tests pulled in. Windows
/// are scanned outwards from the current one; the `windowsBefore` nearest earlier and
/// `windowsAfter` nearest later windows that pass the rules are kept.
///
/// Rules applied here, to anything that changes: no booking and no deployment starts before
/// `now`; a moved deployment ends by the deadline and avoids global freezes; a changed booking
/// avoids its environment's freezes (overrides count); a window is only a candidate if the
/// releases that certainly stay there leave room; a moved deployment keeps the order with
/// dependencies and dependents that certainly stay.
struct CandidateBuilder {
    let geometry: Geometry
    let options: ResolverOptions
    /// Releases that may move: in a conflict and movable.
    let mayMove: [Bool]
    /// Capacity left in each window by releases that certainly stay.
    let staticSpare: [Int]
    private let windowsByStart: [Int32]
    private let windowRank: [Int]

    var index: PortfolioIndex { geometry.index }

    init(geometry: Geometry, options: ResolverOptions, mayMove: [Bool]) {
        self.geometry = geometry
        self.options = options
        self.mayMove = mayMove
        let index = geometry.index
        var spare = index.windowCapacity
        for r in 0..<index.releaseCount where index.active[r] && index.window[r] >= 0 && !mayMove[r] {
            spare[Int(index.window[r])] -= 1
        }
        staticSpare = spare
        let order = (0..<index.windowStart.count).map { Int32($0) }.sorted { a, b in
            let sa = index.windowStart[Int(a)], sb = index.windowStart[Int(b)]
            if sa != sb { return sa < sb }
            return index.windowCode(a) < index.windowCode(b)
        }
        windowsByStart = order
        var rank = [Int](repeating: 0, count: order.count)
        for (i, w) in order.enumerated() { rank[Int(w)] = i }
        windowRank = rank
    }

    static func isMovable(_ index: PortfolioIndex, _ r: Int) -> Bool {
        let status = index.status[r]
        return status.isActive && !status.hasStartedDeploying && !index.pinned[r] && index.hasDeploy[r]
    }

    /// Placements for release `r`, cheapest first; the first is always where it is now.
    func candidates(for r: Int) -> [Placement] {
        let original = geometry.original(r)
        guard mayMove[r] else { return [original] }
        let canPull = geometry.pullDelta[r] < 0
        var result = [original]
        if canPull {
            let pulled = Placement(window: original.window, shift: 0, pulled: true)
            if allowed(r, pulled) { result.append(pulled) }
        }
        let current = original.window
        let retime = geometry.retimeShift[r]
        if current >= 0 && retime != 0 {
            // Inside its own window first: the deployment fits there.
            for pulled in canPull ? [false, true] : [false] {
                let p = Placement(window: current, shift: retime, pulled: pulled)
                if allowed(r, p) { result.append(p) }
            }
        }
        if current >= 0 {
            let here = windowRank[Int(current)]
            let scanLimit = max(64, 8 * (options.windowsBefore + options.windowsAfter))
            for direction in [-1, 1] {
                let wanted = direction < 0 ? options.windowsBefore : options.windowsAfter
                var found = 0, scanned = 0
                var rank = here + direction
                while found < wanted && scanned < scanLimit && rank >= 0 && rank < windowsByStart.count {
                    let w = windowsByStart[rank]
                    let shift = index.windowStart[Int(w)] - index.windowStart[Int(current)] + retime
                    let rigid = Placement(window: w, shift: shift, pulled: false)
                    if direction < 0 && startsBeforeNow(r, rigid) { break }
                    if direction > 0 && geometry.deployEnd(r, rigid) > index.deadline[r] { break }
                    var any = false
                    if allowed(r, rigid) { result.append(rigid); any = true }
                    if canPull {
                        let pulled = Placement(window: w, shift: shift, pulled: true)
                        if allowed(r, pulled) { result.append(pulled); any = true }
                    }
                    if any { found += 1 }
                    scanned += 1
                    rank += direction
                }
            }
        }
        let head = result[0]
        var rest = Array(result.dropFirst())
        rest.sort { a, b in
            let ka = (geometry.cost(a), geometry.distance(r, a)), kb = (geometry.cost(b), geometry.distance(r, b))
            if ka != kb { return ka < kb }
            let ta = a.window == current, tb = b.window == current
            if ta != tb { return ta }
            let ra = a.window >= 0 ? windowRank[Int(a.window)] : -1, rb = b.window >= 0 ? windowRank[Int(b.window)] : -1
            if ra != rb { return ra < rb }
            return !a.pulled && b.pulled
        }
        return [head] + rest
    }

    /// True when the rigid move would put a booking or the deployment before `now`; every
    /// earlier window would too.
    private func startsBeforeNow(_ r: Int, _ p: Placement) -> Bool {
        if geometry.deployStart(r, p) < geometry.now { return true }
        for b in index.bookings(of: r) where geometry.bookingStart(r, b, p) < geometry.now { return true }
        return false
    }

    /// The hard rules that concern `r` alone (and partners that certainly stay).
    func allowed(_ r: Int, _ p: Placement) -> Bool {
        let index = self.index
        let now = geometry.now
        let moved = p.shift != 0
        let start = geometry.deployStart(r, p), end = geometry.deployEnd(r, p)
        if p.window != index.window[r] {
            guard p.window >= 0, staticSpare[Int(p.window)] >= 1 else { return false }
        }
        if moved {
            if start < now || end > index.deadline[r] { return false }
        }
        for f in 0..<index.freezeStart.count where !index.overrides(r, freeze: Int32(f)) {
            let fs = index.freezeStart[f], fe = index.freezeEnd[f]
            guard fe > fs else { continue }
            let env = index.freezeEnvironment[f]
            if env < 0 {
                if moved && end > start && start < fe && end > fs { return false }
            } else {
                for b in index.bookings(of: r) where index.bookingEnvironment[b] == env && geometry.bookingShift(r, b, p) != 0 {
                    let bs = geometry.bookingStart(r, b, p), be = geometry.bookingEnd(r, b, p)
                    if be > bs && bs < fe && be > fs { return false }
                }
            }
        }
        for b in index.bookings(of: r) where geometry.bookingShift(r, b, p) != 0 && geometry.bookingStart(r, b, p) < now {
            return false
        }
        if moved {
            for d in index.dependencies[r] where d >= 0 && Int(d) != r && !mayMove[Int(d)] {
                let dep = Int(d)
                if index.active[dep] && index.hasDeploy[dep] && index.deployEnd[dep] > start { return false }
            }
            for s in index.dependents[r] where Int(s) != r && !mayMove[Int(s)] {
                let dependent = Int(s)
                if index.active[dependent] && index.hasDeploy[dependent] && end > index.deployStart[dependent] { return false }
            }
        }
        return true
    }
}

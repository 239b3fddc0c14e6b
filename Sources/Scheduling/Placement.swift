import Foundation
import ReleaseCore

/// Where the resolver puts a release, relative to the snapshot.
///
/// A move to another window shifts the deployment and every booking by the same amount (the
/// deployment keeps its offset from the window start). `pulled` additionally moves the
/// release's test bookings, as one block, so that the last of them ends exactly when the
/// deployment starts.
struct Placement: Hashable, Sendable {
    var window: Int32
    /// Seconds the deployment and all bookings move (positive is later).
    var shift: Double
    var pulled: Bool

    static func original(window: Int32) -> Placement { Placement(window: window, shift: 0, pulled: false) }
}

/// The release-level facts the resolver derives once from the index.
struct Geometry {
    let index: PortfolioIndex
    /// How far the test bookings move when pulled (negative: earlier); 0 when the release's
    /// tests already end before its deployment starts.
    let pullDelta: [Double]
    /// How far the deployment moves to lie inside its own window (a `retime`): non-zero only for
    /// a deployment outside its window that is short enough to fit in it. Moves to other windows
    /// start from the re-timed offset too.
    let retimeShift: [Double]
    let now: Double

    init(index: PortfolioIndex) {
        self.index = index
        now = index.snapshot.now.timeIntervalSinceReferenceDate
        var deltas = [Double](repeating: 0, count: index.releaseCount)
        for r in 0..<index.releaseCount where index.hasDeploy[r] {
            var lastEnd = -Double.infinity
            for b in index.bookings(of: r) where Self.isTestBooking(b, index) {
                lastEnd = max(lastEnd, index.bookingEnd[b])
            }
            if lastEnd > index.deployStart[r] { deltas[r] = index.deployStart[r] - lastEnd }
        }
        pullDelta = deltas
        var retime = [Double](repeating: 0, count: index.releaseCount)
        for r in 0..<index.releaseCount where index.hasDeploy[r] && index.window[r] >= 0 {
            let w = Int(index.window[r])
            let ws = index.windowStart[w], we = index.windowEnd[w]
            let start = index.deployStart[r], end = index.deployEnd[r]
            guard end - start <= we - ws else { continue }
            if start < ws { retime[r] = ws - start } else if end > we { retime[r] = we - end }
        }
        retimeShift = retime
    }

    /// A non-empty booking of a non-production environment: the ones `untested` looks at.
    func isTestBooking(_ b: Int) -> Bool { Self.isTestBooking(b, index) }

    private static func isTestBooking(_ b: Int, _ index: PortfolioIndex) -> Bool {
        index.bookingEnd[b] > index.bookingStart[b] && index.environmentIsTest[Int(index.bookingEnvironment[b])]
    }

    func deployStart(_ r: Int, _ p: Placement) -> Double { index.deployStart[r] + p.shift }
    func deployEnd(_ r: Int, _ p: Placement) -> Double { index.deployEnd[r] + p.shift }

    func bookingShift(_ r: Int, _ b: Int, _ p: Placement) -> Double {
        p.pulled && index.environmentIsTest[Int(index.bookingEnvironment[b])] ? p.shift + pullDelta[r] : p.shift
    }

    func bookingStart(_ r: Int, _ b: Int, _ p: Placement) -> Double { index.bookingStart[b] + bookingShift(r, b, p) }
    func bookingEnd(_ r: Int, _ b: Int, _ p: Placement) -> Double { index.bookingEnd[b] + bookingShift(r, b, p) }

    func original(_ r: Int) -> Placement { .original(window: index.window[r]) }

    /// How much later the deployment starts than planned (earlier counts 0), in whole seconds.
    func delay(_ p: Placement) -> Int64 { Int64(max(0, p.shift).rounded()) }

    /// How much earlier the deployment starts than planned (later counts 0), in whole seconds.
    func displacement(_ p: Placement) -> Int64 { Int64(max(0, -p.shift).rounded()) }

    /// Objective cost of a placement, in half-seconds of delay: a second later costs 2, a second
    /// earlier (displacement) costs 1. Moving a release earlier is a change too, weighted below
    /// delay.
    func cost(_ p: Placement) -> Int64 { 2 * delay(p) + displacement(p) }

    /// True for a placement that keeps the release's window and only moves its deployment
    /// inside it (`retime`).
    func isRetime(_ r: Int, _ p: Placement) -> Bool { p.window == index.window[r] && p.window >= 0 && p.shift != 0 }

    /// Tie-break cost: total distance moved, in whole seconds.
    func distance(_ r: Int, _ p: Placement) -> Int64 {
        Int64((abs(p.shift) + (p.pulled ? abs(pullDelta[r]) : 0)).rounded())
    }

    func isChange(_ r: Int, _ p: Placement) -> Bool { p != original(r) }
}

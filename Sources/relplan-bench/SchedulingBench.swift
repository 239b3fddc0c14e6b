import Foundation
import ReleaseCore
import Scheduling

/// Benchmarks of conflict detection and resolution on generated portfolios.
///
/// The generated portfolio is conflict-free by construction: daily service windows with about
/// 30% of their positions free; every release tested on the four days before its deployment
/// in environments whose users take turns, so bookings never overlap; each application changed
/// by five releases months apart; a pool of implementers who never deploy twice at once. Then
/// about `conflictShare` of the releases are drawn into conflicts of every type: windows
/// planned over capacity, overlapping bookings, colliding targets, busy implementers, global
/// freezes, missed deadlines, dependencies deploying out of order and tests ending after the
/// deployment.
enum SchedulingBench {
    static func generateSnapshot(
        releases: Int, bookingsPerRelease: Int, windows: Int, environments: Int, conflictShare: Double, seed: UInt64
    ) -> Snapshot {
        var generator = PortfolioGenerator(
            releaseCount: releases, bookingsPerRelease: max(1, bookingsPerRelease), windowCount: max(1, windows),
            environmentCount: max(5, environments), seed: seed)
        return generator.make(conflictShare: conflictShare)
    }

    /// Seconds per measurement, keyed as `scripts/bench` prints them. `quick` scales every
    /// size down by ten (and then skips the largest portfolio, reusing the middle one).
    ///
    /// The figures are CPU seconds of the measuring thread (the work is single-threaded), the
    /// fastest of a few runs: on a machine shared with other jobs, wall time measures the
    /// neighbours as much as the code. The same measurements in wall-clock seconds are under
    /// the same keys with `_wall` inserted before `_s`.
    static func run(quick: Bool) -> [String: Double] {
        let scale = quick ? 10 : 1
        func snapshot(_ releases: Int) -> Snapshot {
            let count = releases / scale
            return generateSnapshot(releases: count, bookingsPerRelease: 5, windows: max(1, count / 50),
                                    environments: max(5, count / 500), conflictShare: 0.05, seed: 42)
        }
        var results: [String: Double] = [:]
        func record(_ key: String, _ timing: Timing) {
            results[key] = timing.cpu
            results[String(key.dropLast(2)) + "_wall_s"] = timing.wall
        }

        let small = snapshot(10_000)
        let smallTime = best(of: 5) { _ = ConflictDetector.detect(in: small) }
        record("detect_50k_s", smallTime)

        let base = snapshot(100_000)
        let baseTime = best(of: 5) { _ = ConflictDetector.detect(in: base) }
        record("detect_500k_bookings_s", baseTime)
        record("resolve_100k_s", best(of: 2) { _ = Resolver().resolve(base) })

        // Ten times the data: releases, bookings, windows and environments alike.
        let largeTime: Timing
        if quick {
            largeTime = baseTime
        } else {
            let large = snapshot(1_000_000)
            largeTime = best(of: 3) { _ = ConflictDetector.detect(in: large) }
        }
        record("detect_5m_s", largeTime)
        let (tenfold, onefold) = quick ? (baseTime, smallTime) : (largeTime, baseTime)
        results["detect_scaling_10x"] = tenfold.cpu / max(onefold.cpu, 1e-9)
        results["detect_scaling_10x_wall"] = tenfold.wall / max(onefold.wall, 1e-9)
        // The step below: its small end fits in the processor's cache, so it reads higher.
        results["detect_scaling_10x_from_50k"] = baseTime.cpu / max(smallTime.cpu, 1e-9)
        return results
    }

    private struct Timing {
        var cpu = Double.infinity
        var wall = Double.infinity
    }

    /// The fastest of `runs`, in CPU and in wall-clock seconds.
    private static func best(of runs: Int, _ body: () -> Void) -> Timing {
        let clock = ContinuousClock()
        var fastest = Timing()
        for _ in 0..<runs {
            let cpuStart = threadCPUTime()
            let elapsed = clock.measure(body)
            let cpu = threadCPUTime() - cpuStart
            let (seconds, attoseconds) = elapsed.components
            fastest.cpu = min(fastest.cpu, cpu)
            fastest.wall = min(fastest.wall, Double(seconds) + Double(attoseconds) / 1e18)
        }
        return fastest
    }

    private static func threadCPUTime() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// SplitMix64, so a seed names one portfolio on every platform.
private struct BenchRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(1, bound))) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
}

private struct PortfolioGenerator {
    let releaseCount: Int
    let bookingsPerRelease: Int
    let windowCount: Int
    let environmentCount: Int
    var random: BenchRandom

    private let hour = 3600.0
    private let day = 86_400.0
    private let now = Date(timeIntervalSince1970: 1_798_761_600)  // 2027-01-01T00:00:00Z

    /// Positions per window; about 30% stay free, room for the resolver's moves.
    let positions: Int
    /// Environments of each of the five kinds.
    let perKind: Int
    /// Releases at the same position of a window share environments, taking turns within a day.
    let turns: Int
    /// Distinct applications (configuration items) the releases change.
    let applications: Int

    init(releaseCount: Int, bookingsPerRelease: Int, windowCount: Int, environmentCount: Int, seed: UInt64) {
        self.releaseCount = releaseCount
        self.bookingsPerRelease = bookingsPerRelease
        self.windowCount = windowCount
        self.environmentCount = environmentCount
        random = BenchRandom(seed: seed)
        positions = max(1, Int((Double(releaseCount) / Double(windowCount) / 0.7).rounded(.up)))
        perKind = max(1, environmentCount / 5)
        turns = (positions + perKind - 1) / perKind
        applications = max(1, releaseCount / 5)
    }

    private func windowStart(_ w: Int) -> Date { now.addingTimeInterval(Double(10 + w) * day + 18 * hour) }

    private func deploy(window w: Int, position s: Int) -> Interval {
        let length = 6 * hour / Double(turns)
        let start = windowStart(w).addingTimeInterval(Double(s / perKind) * length)
        return Interval(start: start, end: start.addingTimeInterval(length * 0.8))
    }

    mutating func make(conflictShare: Double) -> Snapshot {
        let kinds: [EnvironmentKind] = [.dev, .test, .staging, .preprod, .prod]
        var environments: [Scheduling.Environment] = []
        for (k, kind) in kinds.enumerated() {
            for e in 0..<perKind {
                environments.append(Scheduling.Environment(code: "\(kind.rawValue.uppercased())-\(k * perKind + e)",
                                                           kind: kind, capacity: 1))
            }
        }
        var windows = (0..<windowCount).map { w in
            Window(code: "SW-\(w)", interval: Interval(start: windowStart(w), end: windowStart(w).addingTimeInterval(6 * hour)),
                   capacity: positions, kind: w % 7 == 6 ? .extra : .regular)
        }
        // Which positions hold a release: a random choice of releaseCount of them, in order.
        var slots = Array(0..<(windowCount * positions))
        for i in 0..<min(releaseCount, slots.count) {
            slots.swapAt(i, i + random.below(slots.count - i))
        }
        let taken = slots.prefix(releaseCount).sorted()

        var parents: [String: String] = [:]
        parents.reserveCapacity(releaseCount / 4)
        var releases: [Release] = []
        releases.reserveCapacity(releaseCount)
        var bookingID: Int64 = 0
        let testDays = bookingsPerRelease - 1
        let turnLength = 12 * hour / Double(turns)
        for (i, slot) in taken.enumerated() {
            let w = slot / positions, s = slot % positions
            let deploy = deploy(window: w, position: s)
            var bookings: [Booking] = []
            let envSlot = s % perKind
            for k in 0..<testDays {
                let dayStart = windowStart(w).addingTimeInterval(-Double(testDays - k) * day - 12 * hour)
                let start = dayStart.addingTimeInterval(Double(s / perKind) * turnLength)
                bookingID += 1
                bookings.append(Booking(id: bookingID, environment: environments[(k % 4) * perKind + envSlot].code,
                                        interval: Interval(start: start, end: start.addingTimeInterval(turnLength * 0.9)),
                                        status: random.chance(0.5) ? .confirmed : .tentative))
            }
            bookingID += 1
            bookings.append(Booking(id: bookingID, environment: environments[4 * perKind + envSlot].code, interval: deploy,
                                    status: .confirmed))
            // Each application gets five releases over the period, months apart; four
            // applications run on a server, sixteen servers share a rack.
            let app = i % applications
            let target = "app-\(app)"
            if i < applications {
                parents[target] = "srv-\(app / 4)"
                if app % 4 == 0 { parents["srv-\(app / 4)"] = "rack-\(app / 64)" }
            }
            let previous = i - 60
            // A pool of implementers: whoever has position s in a window of week w (modulo a
            // hundred weeks), so nobody deploys twice at once.
            releases.append(Release(
                key: "G\(i % 40)/R-\(i)", group: "G\(i % 40)", priority: Priority(clamping: 1 + random.below(5)),
                status: random.chance(0.1) ? .ready : .planned, window: windows[w].code, deploy: deploy,
                deadline: random.chance(0.2) ? deploy.end.addingTimeInterval(30 * day) : nil,
                dependsOn: previous >= 0 && random.chance(0.1) && taken[previous] / positions < w
                    ? ["G\(previous % 40)/R-\(previous)"] : [],
                targets: [target], implementer: "person-\(w / 7 % 100)-\(s)", bookings: bookings))
        }
        var freezes: [Freeze] = []
        injectConflicts(into: &releases, windows: &windows, freezes: &freezes, share: conflictShare)
        return Snapshot(releases: releases, windows: windows, environments: environments, freezes: freezes,
                        targetParents: parents, now: now)
    }

    /// Draws about `share` of the releases into conflicts; most kinds involve two releases.
    private mutating func injectConflicts(
        into releases: inout [Release], windows: inout [Window], freezes: inout [Freeze], share: Double
    ) {
        let budget = Int(Double(releaseCount) * share)
        guard budget > 0, releaseCount > 2, windowCount > 2 else { return }
        var members = [Int](repeating: 0, count: windowCount)
        for release in releases {
            if let code = release.window, let w = Int(code.dropFirst(3)) { members[w] += 1 }
        }
        let perWindow = max(1, releaseCount / windowCount)
        var used = 0
        // A few global freezes over one window's first deployments, a few windows planned over capacity.
        for f in 0..<max(1, budget / (20 * perWindow)) {
            let w = 1 + random.below(windowCount - 2)
            let start = windows[w].interval.start
            freezes.append(Freeze(code: "FREEZE-\(f)", interval: Interval(start: start, end: start.addingTimeInterval(hour)),
                                  reason: "generated"))
            used += perWindow / 2
            let full = 1 + random.below(windowCount - 2)
            windows[full].capacity = max(0, members[full] - 1)
            used += members[full]
        }
        while used < budget {
            let i = random.below(releaseCount - 1)
            let j = i + 1
            guard releases[i].window == releases[j].window else { continue }
            switch random.below(6) {
            case 0:  // Two releases book one environment at once.
                guard let first = releases[i].bookings.first, releases[j].bookings.count > 1 else { continue }
                releases[j].bookings[0].environment = first.environment
                releases[j].bookings[0].interval = first.interval.shifted(by: hour)
                // Planners overlap tentative bookings; confirmed ones beyond capacity cannot exist.
                releases[i].bookings[0].status = .tentative
                releases[j].bookings[0].status = .tentative
                used += 2
            case 1:  // Changing a server while another release changes an application on it.
                releases[i].targets.append("srv-\(j % applications / 4)")
                used += 2
            case 2:  // One person, two deployments at once.
                releases[i].implementer = releases[j].implementer
                releases[i].deploy = releases[j].deploy
                used += 2
            case 3:  // A deadline the deployment misses.
                if let deploy = releases[i].deploy { releases[i].deadline = deploy.end.addingTimeInterval(-hour) }
                used += 1
            case 4:  // Depending on a release deploying at the same time.
                releases[i].dependsOn.append(releases[j].key)
                releases[i].deploy = releases[j].deploy
                used += 2
            default:  // Tests that end after the deployment starts.
                if let deploy = releases[i].deploy, releases[i].bookings.count > 1 {
                    let last = releases[i].bookings.count - 2
                    let length = releases[i].bookings[last].interval.duration
                    releases[i].bookings[last].interval = Interval(start: deploy.start.addingTimeInterval(-length + hour),
                                                                   end: deploy.start.addingTimeInterval(hour))
                }
                used += 1
            }
        }
    }
}

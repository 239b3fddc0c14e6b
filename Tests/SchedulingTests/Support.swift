import Foundation
import ReleaseCore
import Scheduling
import SeededRandom

/// Hours after 2026-12-01T00:00:00Z: scenarios read as a timeline.
func at(_ hours: Double) -> Date {
    Date(timeIntervalSince1970: 1_796_083_200 + hours * 3600)
}

func span(_ from: Double, _ to: Double) -> Interval { Interval(start: at(from), end: at(to)) }

func window(_ code: String, _ from: Double, _ to: Double, capacity: Int = 1, kind: WindowKind = .regular) -> Window {
    Window(code: code, interval: span(from, to), capacity: capacity, kind: kind)
}

/// A release in group `key`'s prefix.
func release(
    _ key: String, priority: Int = 3, status: ReleaseStatus = .planned, pinned: Bool = false,
    window: String? = nil, deploy: (Double, Double)? = nil, deadline: Double? = nil,
    dependsOn: [String] = [], targets: [String] = [], implementer: String? = nil,
    bookings: [Booking] = [], required: [String] = [], overrides: [String] = []
) -> Release {
    Release(
        key: key, group: ReleaseRef.group(ofText: key), priority: Priority(clamping: priority), status: status,
        pinned: pinned, window: window, deploy: deploy.map { span($0.0, $0.1) }, deadline: deadline.map(at),
        dependsOn: dependsOn, targets: targets, implementer: implementer, bookings: bookings,
        requiredEnvironments: required, freezeOverrides: overrides)
}

func booking(_ id: Int64, _ environment: String, _ from: Double, _ to: Double, confirmed: Bool = false) -> Booking {
    Booking(id: id, environment: environment, interval: span(from, to), status: confirmed ? .confirmed : .tentative)
}

extension Snapshot {
    func release(_ key: String) -> Release? { releases.first { $0.key == key } }
}

/// The objective as the resolver documents it, computed from scratch with the public detector:
/// for priority 1…5, releases of that priority in a conflict, then their cost in half-seconds:
/// 2 per second of delay, 1 per second earlier (displacement, weighted below delay).
struct Objective: Comparable, CustomStringConvertible {
    var values: [Int64]

    init(original: Snapshot, final: Snapshot) {
        let conflicted = Set(ConflictDetector.detect(in: final).flatMap(\.releases))
        var values = [Int64](repeating: 0, count: 10)
        for (before, after) in zip(original.releases, final.releases) {
            let level = after.priority.value - 1
            if conflicted.contains(after.key) { values[2 * level] += 1 }
            if let old = before.deploy, let new = after.deploy {
                let shift = new.start.timeIntervalSince(old.start)
                values[2 * level + 1] += 2 * Int64(max(0, shift).rounded()) + Int64(max(0, -shift).rounded())
            }
        }
        self.values = values
    }

    /// Only priorities 1...level.
    func truncated(to level: Int) -> [Int64] { Array(values.prefix(2 * level)) }

    static func < (a: Objective, b: Objective) -> Bool { a.values.lexicographicallyPrecedes(b.values) }

    var description: String { values.map(String.init).joined(separator: " ") }
}

/// The resolver's hard rules, checked independently on a before/after pair. Returns what breaks.
func hardRuleViolations(original: Snapshot, final: Snapshot) -> [String] {
    var problems: [String] = []
    let windows = Dictionary(original.windows.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
    let environments = Dictionary(original.environments.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
    let finalByKey = Dictionary(final.releases.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    let now = original.now
    var deployMoved: Set<String> = []

    for (before, after) in zip(original.releases, final.releases) {
        let key = before.key
        let movedBookings = zip(before.bookings, after.bookings).filter { $0.interval != $1.interval }.map(\.1)
        let changed = before.window != after.window || before.deploy != after.deploy || !movedBookings.isEmpty
        if !changed { continue }
        if before.status.hasStartedDeploying || before.pinned || !before.status.isActive {
            problems.append("\(key) moved although \(before.status) pinned=\(before.pinned)")
        }
        if before.deploy != after.deploy, let deploy = after.deploy {
            deployMoved.insert(key)
            if deploy.start < now { problems.append("\(key) deploys before now") }
            if let deadline = after.deadline, deploy.end > deadline { problems.append("\(key) moved past its deadline") }
            for freeze in original.freezes where freeze.environment == nil && !after.freezeOverrides.contains(freeze.code)
                && freeze.interval.overlaps(deploy) {
                problems.append("\(key) moved into freeze \(freeze.code)")
            }
            // The deployment keeps its offset from the window start, re-timed inside first if it
            // lay outside its window and fits in it.
            if let oldWindow = before.window.flatMap({ windows[$0] }), let newWindow = after.window.flatMap({ windows[$0] }),
               let old = before.deploy {
                let expected = old.shifted(by: newWindow.interval.start.timeIntervalSince(oldWindow.interval.start) + retimeShift(old, in: oldWindow))
                if expected != deploy { problems.append("\(key) did not keep its offset in the window") }
            }
        }
        if before.window != after.window, let code = after.window {
            let count = final.releases.filter { $0.status.isActive && $0.window == code }.count
            if let w = windows[code], count > w.capacity { problems.append("\(key) moved into full window \(code)") }
        }
        for b in movedBookings {
            if b.interval.start < now { problems.append("\(key) booking \(b.id) starts before now") }
            for freeze in original.freezes where freeze.environment == b.environment
                && !after.freezeOverrides.contains(freeze.code) && freeze.interval.overlaps(b.interval) {
                problems.append("\(key) booking \(b.id) moved into freeze \(freeze.code)")
            }
            let capacity = environments[b.environment]?.capacity ?? 1
            if peakLoad(final, environment: b.environment, during: b.interval) > capacity {
                problems.append("\(key) booking \(b.id) moved into a full \(b.environment)")
            }
        }
    }
    for after in final.releases where after.status.isActive {
        guard let start = after.deploy?.start else { continue }
        for dep in after.dependsOn {
            guard let d = finalByKey[dep], d.status.isActive, let end = d.deploy?.end else { continue }
            if (deployMoved.contains(after.key) || deployMoved.contains(dep)) && end > start {
                problems.append("\(after.key) moved before its dependency \(dep) finished")
            }
        }
    }
    return problems
}

/// The least shift that puts `deploy` inside `window`: 0 when it lies inside or does not fit.
func retimeShift(_ deploy: Interval, in window: Window) -> TimeInterval {
    guard deploy.end.timeIntervalSince(deploy.start) <= window.interval.end.timeIntervalSince(window.interval.start) else { return 0 }
    if deploy.start < window.interval.start { return window.interval.start.timeIntervalSince(deploy.start) }
    if deploy.end > window.interval.end { return window.interval.end.timeIntervalSince(deploy.end) }
    return 0
}

/// Most distinct active releases holding `environment` at one instant within `range`.
func peakLoad(_ snapshot: Snapshot, environment: String, during range: Interval) -> Int {
    var intervals: [(Date, Date, String)] = []
    for r in snapshot.releases where r.status.isActive {
        for b in r.bookings where b.environment == environment && b.interval.overlaps(range) {
            intervals.append((max(b.interval.start, range.start), min(b.interval.end, range.end), r.key))
        }
    }
    var peak = 0
    for (instant, _, _) in intervals {
        let holders = Set(intervals.filter { $0.0 <= instant && $0.1 > instant }.map(\.2))
        peak = max(peak, holders.count)
    }
    return peak
}

/// Random small portfolios that hit every conflict type and every hard rule.
struct InstanceGenerator {
    var maxReleases = 8
    var maxWindows = 5
    var maxEnvironments = 2

    func make(seed: UInt64) -> Snapshot {
        var rng = SeededGenerator(seed: seed)
        let windowCount = rng.int(1...maxWindows)
        var windows: [Window] = []
        var day = 2.0
        for k in 0..<windowCount {
            day += Double(rng.int(0...2)) + (rng.chance(0.15) ? 0 : 1)
            let start = day * 24 + 18
            windows.append(window("W\(k)", start, start + Double(rng.int(4...8)), capacity: rng.int(1...2),
                                  kind: rng.chance(0.2) ? .extra : .regular))
        }
        let envCount = rng.int(1...maxEnvironments)
        var environments: [Scheduling.Environment] = [Scheduling.Environment(code: "TEST", kind: .test, capacity: 1)]
        if envCount > 1 {
            environments.append(Scheduling.Environment(code: "PROD", kind: rng.chance(0.5) ? .prod : .staging, capacity: rng.int(1...2)))
        }
        var freezes: [Freeze] = []
        if rng.chance(0.25) {
            let w = rng.pick(windows)
            let start = w.interval.start.timeIntervalSince(at(0)) / 3600 + Double(rng.int(-6...2))
            freezes.append(Freeze(code: "FZ", interval: span(start, start + Double(rng.int(2...30))), reason: "year end"))
        }
        if rng.chance(0.2) {
            let start = Double(rng.int(24...200))
            freezes.append(Freeze(code: "EFZ", interval: span(start, start + 24), environment: "TEST", reason: "upgrade"))
        }
        let groups = ["CRM", "HR", "FIN"]
        let items = ["srv-1", "app-1", "app-2", "db-1"]
        let n = rng.int(2...maxReleases)
        var releases: [Release] = []
        var bookingId: Int64 = 1
        for i in 0..<n {
            let key = "\(groups[i % 3])/R\(i)"
            var status: ReleaseStatus = .planned
            if rng.chance(0.06) { status = .deploying }
            if rng.chance(0.04) { status = .cancelled }
            if rng.chance(0.1) { status = rng.pick([.building, .testing, .ready]) }
            let w: Window? = rng.chance(0.9) ? rng.pick(windows) : nil
            var deploy: (Double, Double)? = nil
            if let w, rng.chance(0.95) {
                let ws = w.interval.start.timeIntervalSince(at(0)) / 3600
                let offset = Double(rng.int(0...2))
                let length = Double(rng.int(1...3))
                deploy = (ws + offset, ws + offset + length + (rng.chance(0.1) ? 8 : 0))
            } else if w == nil && rng.chance(0.5) {
                let s = Double(rng.int(48...150))
                deploy = (s, s + 2)
            }
            var bookings: [Booking] = []
            if let deploy, rng.chance(0.8) {
                let end = deploy.0 - Double(rng.int(-2...30))
                let length = Double(rng.int(4...30))
                bookings.append(booking(bookingId, "TEST", end - length, end, confirmed: rng.chance(0.3)))
                bookingId += 1
            }
            if let deploy, envCount > 1, rng.chance(0.5) {
                bookings.append(booking(bookingId, "PROD", deploy.0, deploy.1))
                bookingId += 1
            }
            var dependsOn: [String] = []
            if i > 0 && rng.chance(0.2) { dependsOn.append(releases[rng.int(0...(i - 1))].key) }
            if rng.chance(0.02) { dependsOn.append("GHOST/R99") }
            var targets: [String] = []
            for _ in 0..<rng.int(0...2) { targets.append(rng.pick(items)) }
            var deadline: Date? = nil
            if let deploy, rng.chance(0.15) { deadline = at(deploy.1 + Double(rng.int(-4...60))) }
            releases.append(Release(
                key: key, group: groups[i % 3], priority: Priority(clamping: rng.int(1...5)), status: status, pinned: rng.chance(0.1),
                window: w?.code, deploy: deploy.map { span($0.0, $0.1) }, deadline: deadline,
                dependsOn: dependsOn, targets: targets, implementer: rng.chance(0.5) ? rng.pick(["ann", "bob"]) : nil,
                bookings: bookings, requiredEnvironments: rng.chance(0.1) ? [rng.pick(["TEST", "PROD"])] : [],
                freezeOverrides: rng.chance(0.05) ? ["FZ"] : []))
        }
        return Snapshot(releases: releases, windows: windows, environments: environments, freezes: freezes,
                        targetParents: ["app-1": "srv-1", "app-2": "srv-1"], now: at(Double(rng.int(0...40))))
    }
}

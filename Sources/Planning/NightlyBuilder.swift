import Foundation
import ReleaseStore
import Reporting
import Scheduling

/// Turns what the store read and recorded into the report's data, for all groups or one.
public struct NightlyBuilder: Sendable {
    let context: ReportContext
    let history: [HistoryEntry]
    let zone: TimeZone
    let now: Date
    let horizon: Interval

    public init(context: ReportContext, history: [HistoryEntry], zone: TimeZone, now: Date, horizon: Interval) {
        self.context = context
        self.history = history
        self.zone = zone
        self.now = now
        self.horizon = horizon
    }

    public func report(group: String?) -> NightlyReport {
        let snapshot = context.snapshot
        func concerns(_ groups: [String]) -> Bool { group.map(groups.contains) ?? true }
        func inHorizon(_ interval: Interval?) -> Bool { interval.map(horizon.overlaps) ?? false }

        let order: [HistoryEntry.Status: Int] = [.new: 0, .open: 1, .resolved: 2]
        let conflicts = history.filter { concerns($0.conflict.groups) }
            .sorted { a, b in
                if a.status != b.status { return order[a.status, default: 3] < order[b.status, default: 3] }
                if a.firstSeen != b.firstSeen { return a.firstSeen < b.firstSeen }
                return a.conflict.identity < b.conflict.identity
            }
            .map {
                NightlyReport.TrackedConflict(conflict: $0.conflict, status: NightlyReport.Status(rawValue: $0.status.rawValue) ?? .open,
                                              firstSeen: $0.firstSeen, lastSeen: $0.lastSeen, resolvedAt: $0.resolvedAt)
            }
        // A window's load is every active release in it, whatever the group, in every report and
        // format. A group's report shows the windows its own releases use (with all their
        // releases), its own deployments, and the bookings of its releases and of those that
        // collide with them; the all-groups report shows everything (the renderer caps lanes and bars).
        var involved: Set<String>?
        var ownWindows: Set<String>?
        if let group {
            let own = snapshot.releases.lazy.filter { $0.group == group && $0.status.isActive }
            var keys = Set(own.map(\.key))
            ownWindows = Set(own.compactMap(\.window))
            for entry in conflicts { keys.formUnion(entry.conflict.releases) }
            involved = keys
        }
        let active = snapshot.releases.filter { $0.status.isActive }
        var byWindow: [String: [Scheduling.Release]] = [:]
        for release in active { if let window = release.window { byWindow[window, default: []].append(release) } }
        let windows = snapshot.windows.filter { horizon.overlaps($0.interval) && (ownWindows?.contains($0.code) ?? true) }.map { window in
            NightlyReport.WindowLoad(
                code: window.code, interval: window.interval, capacity: window.capacity, kind: window.kind.rawValue,
                releases: (byWindow[window.code] ?? []).sorted { ($0.deploy?.start ?? .distantFuture, $0.key) < ($1.deploy?.start ?? .distantFuture, $1.key) }.map(\.key))
        }
        let shownWindows = Set(windows.map(\.code))
        var bars: [NightlyReport.Bar] = []
        var deployments: [NightlyReport.Deployment] = []
        for release in active {
            let title = context.titles[release.key] ?? ""
            if let deploy = release.deploy, inHorizon(deploy) {
                if let window = release.window, shownWindows.contains(window) {
                    bars.append(.init(lane: .window(window), release: release.key, group: release.group, title: title, interval: deploy, kind: "deployment"))
                }
                if concerns([release.group]) {
                    deployments.append(.init(release: release.key, group: release.group, title: title, window: release.window,
                                             interval: deploy, status: release.status.rawValue))
                }
            }
            guard involved?.contains(release.key) ?? true else { continue }
            for booking in release.bookings where inHorizon(booking.interval) {
                bars.append(.init(lane: .environment(booking.environment), release: release.key, group: release.group, title: title,
                                  interval: booking.interval, kind: booking.status.rawValue))
            }
        }
        bars.sort { ($0.interval.start, $0.release) < ($1.interval.start, $1.release) }
        deployments.sort { ($0.interval.start, $0.release) < ($1.interval.start, $1.release) }
        var report = NightlyReport(
            generatedAt: now, timeZone: zone, horizon: horizon, group: group, groups: context.groups, conflicts: conflicts,
            proposals: context.proposals.filter { $0.status == "pending" && (group == nil || $0.group == group) }.map {
                NightlyReport.PendingProposal(id: $0.id, release: $0.release, group: $0.group, action: $0.action, from: $0.from, to: $0.to,
                                              reason: $0.reason, proposedBy: $0.proposedBy, proposedAt: $0.proposedAt)
            },
            windows: windows,
            environments: snapshot.environments.map {
                NightlyReport.EnvironmentLane(code: $0.code, name: context.environmentNames[$0.code] ?? $0.code, kind: $0.kind.rawValue,
                                              capacity: $0.capacity)
            },
            bars: bars,
            freezes: snapshot.freezes.filter { horizon.overlaps($0.interval) }.map {
                NightlyReport.FreezePeriod(code: $0.code, interval: $0.interval, environment: $0.environment, reason: $0.reason)
            },
            deployments: deployments)
        report.waits = Self.waits(context.proposals, group: group)
        return report
    }

    /// Open moves waiting on another group's open moves, those touching `group` if given.
    static func waits(_ proposals: [StoredProposal], group: String?) -> [NightlyReport.WaitLink] {
        let open: Set<String> = ["pending", "approved"]
        return proposals.filter { open.contains($0.status) }.flatMap { p in
            p.waitsOn.filter { open.contains($0.status) && $0.group != p.group && (group == nil || group == p.group || group == $0.group) }.map {
                NightlyReport.WaitLink(move: .init(id: p.id, release: p.release, group: p.group, status: p.status),
                                       waitsOn: .init(id: $0.id, release: $0.release, group: $0.group, status: $0.status))
            }
        }
    }
}

import Foundation
import ReleaseCore

/// Finds every conflict in a snapshot. Pure: the same snapshot gives the same list.
public enum ConflictDetector {
    /// All conflicts, sorted by type (in ``ConflictType`` declaration order) and then identity.
    public static func detect(in snapshot: Snapshot) -> [Conflict] {
        let index = PortfolioIndex(snapshot)
        return describe(Detector(index: index).run(), index: index)
    }

    static func describe(_ raw: [RawConflict], index: PortfolioIndex) -> [Conflict] {
        let text = ConflictText(index: index)
        let unsorted = raw.map { text.conflict(for: $0) }
        let order = unsorted.indices.sorted { Conflict.precedes(unsorted[$0], unsorted[$1]) }
        let conflicts = order.map { unsorted[$0] }
        // The same conflict found twice (one release booking an environment twice during one
        // overload, say) is reported once.
        var unique: [Conflict] = []
        unique.reserveCapacity(conflicts.count)
        for conflict in conflicts where unique.last?.identity != conflict.identity {
            unique.append(conflict)
        }
        return unique
    }
}

/// Names, identities and one-line messages for raw conflicts.
struct ConflictText {
    let index: PortfolioIndex

    func conflict(for raw: RawConflict) -> Conflict {
        let keys = raw.releases.map { index.key($0) }
        let sortedKeys = keys.sorted()
        var groups = raw.releases.map { index.groupName($0) }
        if groups.count > 1 {
            groups.sort()
            var unique: [String] = []
            for group in groups where unique.last != group { unique.append(group) }
            groups = unique
        }
        let window = raw.window >= 0 ? index.windowCode(raw.window) : nil
        let environment = raw.environment >= 0 ? index.environmentCodes[Int(raw.environment)] : nil
        let target = raw.item >= 0 ? index.itemNames[Int(raw.item)] : nil

        var resources: [String] = []
        if raw.type == .windowCapacity || raw.type == .outsideWindow, let window { resources.append("window=\(window)") }
        if let environment { resources.append("environment=\(environment)") }
        if let target { resources.append("target=\(target)") }
        if raw.implementer >= 0 { resources.append("implementer=\(index.implementerNames[Int(raw.implementer)])") }
        if raw.freeze >= 0 { resources.append("freeze=\(index.freeze(raw.freeze).code)") }
        if case .dependency(let problem) = raw.detail {
            switch problem {
            case .unknown(let key): resources.append("dependency=\(key)")
            default: resources.append("dependency=\(index.key(raw.dependency))")
            }
        }
        let identity = ([raw.type.rawValue] + resources + ["releases=" + sortedKeys.joined(separator: ",")])
            .joined(separator: "|")

        return Conflict(
            type: raw.type,
            window: window,
            environment: environment,
            target: target,
            releases: sortedKeys,
            groups: groups,
            text: message(raw, keys: keys, window: window, environment: environment, target: target),
            identity: identity
        )
    }

    /// An instant of the index (seconds since 2001), rendered when the message is printed.
    private func time(_ seconds: Double) -> TimedText.Piece {
        .instant(seconds + Date.timeIntervalBetween1970AndReferenceDate)
    }

    private func deployment(_ release: Int32) -> TimedText.Piece {
        let r = Int(release)
        return .interval(index.deployStart[r] + Date.timeIntervalBetween1970AndReferenceDate,
                         index.deployEnd[r] + Date.timeIntervalBetween1970AndReferenceDate)
    }

    private func message(_ raw: RawConflict, keys: [String], window: String?, environment: String?, target: String?) -> TimedText {
        // Symmetric messages name the releases in key order, so the text does not depend on the
        // order of the snapshot; `keys` keeps the raw order where roles differ.
        let sorted = keys.sorted()
        let first = sorted.first ?? "?"
        let second = sorted.count > 1 ? sorted[1] : "?"
        let subject = keys.first ?? "?"
        switch raw.type {
        case .windowCapacity:
            let capacity = index.windowCapacity[Int(raw.window)]
            return "service window \(window ?? "?") holds \(keys.count) releases, capacity \(capacity)"
        case .environmentOverlap:
            let capacity = index.environmentCapacity[Int(raw.environment)]
            if case .overload(let peak, let from, let to) = raw.detail {
                return "environment \(environment ?? "?") is booked by \(peak) releases at once between \(time(from)) and \(time(to)), capacity \(capacity)"
            }
            return "environment \(environment ?? "?") is booked beyond its capacity \(capacity)"
        case .targetCollision:
            let item = target ?? "?"
            if case .collision(let firstDirect, let secondDirect) = raw.detail, firstDirect != secondDirect {
                let (whole, part) = firstDirect ? (keys[0], keys[1]) : (keys[1], keys[0])
                return "\(part) changes a part of \(item) while \(whole) changes \(item), in overlapping deployments"
            }
            return "\(first) and \(second) both change \(item) in overlapping deployments"
        case .implementerBusy:
            let person = index.implementerNames[Int(raw.implementer)]
            return "\(person) deploys \(first) and \(second) at overlapping times"
        case .freeze:
            let freeze = index.freeze(raw.freeze)
            let why = freeze.reason.isEmpty ? "" : " (\(freeze.reason))"
            if case .bookingFreeze = raw.detail {
                return "\(subject) books \(environment ?? "?") during freeze \(freeze.code)\(why)"
            }
            return "deployment of \(subject) (\(deployment(raw.releases[0]))) overlaps freeze \(freeze.code)\(why)"
        case .outsideWindow:
            let w = Int(raw.window)
            let span = TimedText.Piece.interval(index.windowStart[w] + Date.timeIntervalBetween1970AndReferenceDate,
                                                index.windowEnd[w] + Date.timeIntervalBetween1970AndReferenceDate)
            return "deployment of \(subject) (\(deployment(raw.releases[0]))) is not inside service window \(window ?? "?") (\(span))"
        case .dependencyOrder:
            guard case .dependency(let problem) = raw.detail else { return "\(subject) breaks a dependency" }
            switch problem {
            case .unknown(let key):
                return "\(subject) depends on \(key), which is not in the plan"
            case .cancelled:
                return "\(subject) depends on \(index.key(raw.dependency)), which is cancelled"
            case .unscheduled:
                return "\(subject) depends on \(index.key(raw.dependency)), which has no deployment scheduled"
            case .tooEarly:
                let dep = Int(raw.dependency)
                return "\(subject) starts deploying at \(time(index.deployStart[Int(raw.releases[0])])), before \(index.key(raw.dependency)), which it depends on, has finished (\(time(index.deployEnd[dep])))"
            }
        case .untested:
            if case .untestedTiming(let bookingEnd) = raw.detail {
                return "\(subject) starts deploying at \(time(index.deployStart[Int(raw.releases[0])])), before its booking of \(environment ?? "?") ends (\(time(bookingEnd)))"
            }
            return "\(subject) has no booking of \(environment ?? "?"), which its release model requires"
        case .deadline:
            let r = Int(raw.releases[0])
            return "deployment of \(subject) ends at \(time(index.deployEnd[r])), after its deadline \(time(index.deadline[r]))"
        }
    }
}

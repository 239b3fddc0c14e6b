import Foundation
import ReleaseCore

/// Turns the resolver's placements into proposals with reasons, and lists what is left.
struct Explainer {
    let run: ResolverRun

    private var index: PortfolioIndex { run.index }
    private var geometry: Geometry { run.geometry }

    func resolution(components: [ComponentReport]) -> Resolution {
        let placements = run.placements
        let changed = (0..<index.releaseCount).filter { geometry.isChange($0, placements[$0]) }

        var proposals = changed.flatMap { skeletons(for: $0, placements[$0]) }
        var resolution = Resolution(proposals: proposals, unresolved: [], components: components)
        let final: Snapshot
        do {
            final = try index.snapshot.applying(resolution)
        } catch {
            preconditionFailure("the resolver's own proposals must apply: \(error)")
        }
        let finalIndex = PortfolioIndex(final)
        let finalRaw = Detector(index: finalIndex).run()

        var stillIn: [Int: Set<String>] = [:]
        var remaining: [Int: [RawConflict]] = [:]
        for conflict in finalRaw {
            for r in conflict.releases {
                stillIn[Int(r), default: []].insert(Self.resourceKey(conflict, finalIndex, for: r))
                remaining[Int(r), default: []].append(conflict)
            }
        }
        var before: [Int: [RawConflict]] = [:]
        for conflict in run.raw {
            for r in conflict.releases { before[Int(r), default: []].append(conflict) }
        }

        var reasons: [Int: String] = [:]
        var changedByKey: [String: Int] = [:]
        for r in changed { changedByKey[index.key(Int32(r))] = r }
        for r in changed {
            let resolved = (before[r] ?? []).filter {
                !(stillIn[r] ?? []).contains(Self.resourceKey($0, index, for: Int32(r)))
            }
            reasons[r] = reason(for: r, placements[r], resolved: resolved)
        }
        proposals = proposals.map { proposal in
            var proposal = proposal
            if let r = changedByKey[proposal.release], let body = reasons[r] {
                proposal.reason = headline(proposal, r) + ": " + body
            }
            return proposal
        }
        proposals.sort { a, b in
            if a.release != b.release { return a.release < b.release }
            if a.action != b.action { return a.action != .shiftBooking }
            return a.from < b.from
        }
        resolution.proposals = proposals

        let text = ConflictText(index: finalIndex)
        var unresolved: [Unresolved] = []
        for (r, conflicts) in remaining {
            let sorted = conflicts.map { text.conflict(for: $0) }.sorted(by: Conflict.precedes)
            unresolved.append(Unresolved(release: index.key(Int32(r)), reason: unresolvedReason(r, sorted, conflicts)))
        }
        unresolved.sort { $0.release < $1.release }
        resolution.unresolved = unresolved
        return resolution
    }

    // MARK: Proposals

    /// Proposals without reasons: one `move-window` for a release that changes window, else one
    /// `shift-booking` per pulled booking.
    private func skeletons(for r: Int, _ p: Placement) -> [Proposal] {
        let release = index.snapshot.releases[r]
        var moves: [BookingMove] = []
        for (offset, b) in index.bookings(of: r).enumerated() where geometry.bookingShift(r, b, p) != 0 {
            let booking = release.bookings[offset]
            moves.append(BookingMove(bookingID: booking.id, environment: booking.environment, from: booking.interval,
                                     to: booking.interval.shifted(by: geometry.bookingShift(r, b, p))))
        }
        if geometry.isRetime(r, p), let deploy = release.deploy {
            let to = deploy.shifted(by: p.shift)
            return [Proposal(release: release.key, action: .retime, from: Timestamp.format(deploy), to: Timestamp.format(to), reason: "",
                             newWindow: index.windowCode(p.window), newDeploy: to, bookingMoves: moves)]
        }
        if p.window != index.window[r] || p.shift != 0 {
            let from = index.window[r] >= 0 ? index.windowCode(index.window[r]) : (release.window ?? "")
            let to = p.window >= 0 ? index.windowCode(p.window) : ""
            return [Proposal(release: release.key, action: .moveWindow, from: from, to: to, reason: "",
                             newWindow: to, newDeploy: release.deploy?.shifted(by: p.shift), bookingMoves: moves)]
        }
        return moves.map { move in
            Proposal(release: release.key, action: .shiftBooking, from: Timestamp.format(move.from),
                     to: Timestamp.format(move.to), reason: "", bookingMoves: [move])
        }
    }

    private func title(_ r: Int) -> String {
        "\(index.key(Int32(r))) (priority \(index.priority[r]))"
    }

    private func reason(for r: Int, _ p: Placement, resolved: [RawConflict]) -> String {
        var parts: [String] = []
        let gains = resolved.map { gain($0, for: r) }
        var seen = Set<String>()
        let unique = gains.filter { seen.insert($0).inserted }
        if !unique.isEmpty { parts.append(unique.joined(separator: ", ")) }

        let moved = p.window != index.window[r] || p.shift != 0
        if geometry.isRetime(r, p) {
            parts.append("it fits in its own window \(index.windowCode(p.window)), so it is re-timed there before any other window is tried")
            if p.pulled { parts.append("its test bookings are pulled in to end when the deployment starts") }
        } else if moved {
            let options = run.candidates[r]
            let firstChange = options.firstIndex { geometry.isChange(r, $0) }
            let chosen = options.firstIndex(of: p)
            let target = p.window >= 0 ? index.windowCode(p.window) : "?"
            if chosen == firstChange {
                parts.append("\(target) is the nearest window that keeps every rule")
            } else {
                parts.append("nearer windows are full, break a rule or would leave more conflicts")
            }
            if p.pulled { parts.append("its test bookings are pulled in to end when the deployment starts") }
        }
        parts.append(cost(r, p, resolved: resolved))
        return parts.joined(separator: "; ")
    }

    private func headline(_ proposal: Proposal, _ r: Int) -> String {
        switch proposal.action {
        case .moveWindow:
            let from = proposal.from.isEmpty ? "no window" : proposal.from
            return "moved \(title(r)) from \(from) to \(proposal.to)"
        case .retime:
            let shift = run.placements[r].shift
            let hours = Timestamp.hours(abs(shift))
            let direction = shift < 0 ? "earlier" : "later"
            return "re-timed \(title(r)) inside its window \(index.windowCode(index.window[r])), \(hours) h \(direction), to \(proposal.to)"
        case .shiftBooking:
            guard let move = proposal.bookingMoves.first else { return "shifted a booking of \(title(r))" }
            let hours = Timestamp.hours(abs(move.to.start.timeIntervalSince(move.from.start)))
            let direction = move.to.start < move.from.start ? "earlier" : "later"
            return "shifted booking \(move.bookingID) of \(move.environment) for \(title(r)) \(hours) h \(direction), to \(Timestamp.format(move.to))"
        }
    }

    /// What the placement costs, and, for moves earlier or delays, which way the weighing went:
    /// a release pulled forward only because nothing cheaper at its priority works, or a delay
    /// taken rather than pulling a higher-priority release forward.
    private func cost(_ r: Int, _ p: Placement, resolved: [RawConflict]) -> String {
        if p.shift < 0 {
            return "no delay, but pulled \(Timestamp.hours(-p.shift)) h earlier, which counts as a change (half a delay): "
                + "nothing that keeps its time or moves it later does as well at its priority"
        }
        guard p.shift > 0 else { return "the deployment keeps its time, no delay" }
        var text = "delay \(Timestamp.hours(p.shift)) h"
        if let (other, earlier) = sparedPull(r, resolved: resolved) {
            text += ", rather than pulling \(title(other)) \(Timestamp.hours(earlier)) h earlier"
        }
        return text
    }

    /// A higher-priority release that shared a resolved conflict with `r`, kept its time and could
    /// have been pulled earlier instead: the nearest such move earlier.
    private func sparedPull(_ r: Int, resolved: [RawConflict]) -> (Int, Double)? {
        var best: (Int, Double)? = nil
        for conflict in resolved {
            for o in conflict.releases.map(Int.init) where o != r && index.priority[o] < index.priority[r]
                && run.placements[o].shift == 0 && run.placements[o].window == index.window[o] {
                let earlier = run.candidates[o].filter { $0.shift < 0 && $0.window != index.window[o] }.map { -$0.shift }.min()
                guard let earlier else { continue }
                if let (known, distance) = best, distance < earlier || (distance == earlier && index.key(Int32(known)) < index.key(Int32(o))) {
                    continue
                }
                best = (o, earlier)
            }
        }
        return best
    }

    /// What moving `r` gained in one conflict it was in.
    private func gain(_ conflict: RawConflict, for r: Int) -> String {
        let others = conflict.releases.map(Int.init).filter { $0 != r }
        let top = others.min { a, b in
            if index.priority[a] != index.priority[b] { return index.priority[a] < index.priority[b] }
            return index.key(Int32(a)) < index.key(Int32(b))
        }
        switch conflict.type {
        case .windowCapacity:
            let w = index.windowCode(conflict.window)
            let capacity = index.windowCapacity[Int(conflict.window)]
            if let top { return "frees window \(w) (capacity \(capacity)) for \(title(top))" }
            return "brings window \(w) within its capacity \(capacity)"
        case .environmentOverlap:
            let env = index.environmentCodes[Int(conflict.environment)]
            if let top { return "frees \(env) for \(title(top))" }
            return "brings \(env) within its capacity"
        case .targetCollision:
            return "no longer changes \(index.itemNames[Int(conflict.item)]) at the same time as \(top.map(title) ?? "another release")"
        case .implementerBusy:
            return "\(index.implementerNames[Int(conflict.implementer)]) no longer deploys it at the same time as \(top.map(title) ?? "another release")"
        case .freeze:
            return "leaves freeze \(index.freeze(conflict.freeze).code)"
        case .outsideWindow:
            return "the deployment now lies inside its window"
        case .dependencyOrder:
            if conflict.releases.first == Int32(r), conflict.dependency >= 0 {
                return "now starts after \(index.key(conflict.dependency)) has finished"
            }
            return "now finishes before \(index.key(conflict.releases[0])) starts"
        case .untested:
            return "its tests now end before the deployment starts"
        case .deadline:
            return "now ends by its deadline"
        }
    }

    /// A key for "the same conflict, from this release's point of view": the type and the
    /// resources, plus the other release for conflicts between two.
    static func resourceKey(_ conflict: RawConflict, _ index: PortfolioIndex, for r: Int32) -> String {
        let others = conflict.releases.filter { $0 != r }.map { index.key($0) }.sorted().joined(separator: ",")
        switch conflict.type {
        case .windowCapacity: return "wc|\(index.windowCode(conflict.window))"
        case .environmentOverlap: return "eo|\(index.environmentCodes[Int(conflict.environment)])"
        case .targetCollision: return "tc|\(index.itemNames[Int(conflict.item)])|\(others)"
        case .implementerBusy: return "ib|\(index.implementerNames[Int(conflict.implementer)])|\(others)"
        case .freeze:
            let env = conflict.environment >= 0 ? index.environmentCodes[Int(conflict.environment)] : ""
            return "fz|\(index.freeze(conflict.freeze).code)|\(env)"
        case .outsideWindow: return "ow"
        case .dependencyOrder:
            let dep: String
            if case .dependency(.unknown(let key)) = conflict.detail { dep = key } else { dep = index.key(conflict.dependency) }
            return "do|\(index.key(conflict.releases[0]))|\(dep)"
        case .untested:
            let env = index.environmentCodes[Int(conflict.environment)]
            if case .untestedMissing = conflict.detail { return "um|\(env)" }
            return "ut|\(env)"
        case .deadline: return "dl"
        }
    }

    // MARK: Unresolved

    private func unresolvedReason(_ r: Int, _ conflicts: [Conflict], _ raw: [RawConflict]) -> String {
        let first = conflicts.first?.message ?? "a conflict"
        let more = conflicts.count > 1 ? " (and \(conflicts.count - 1) more)" : ""
        return "still in conflict: \(first)\(more); \(why(r, raw))"
    }

    private func why(_ r: Int, _ raw: [RawConflict]) -> String {
        let release = index.snapshot.releases[r]
        if release.status.hasStartedDeploying {
            return "its deployment has started (status \(release.status.rawValue)), so it does not move"
        }
        if release.pinned { return "it is pinned" }
        if release.deploy == nil { return "it has no deployment scheduled to move" }
        for conflict in raw where conflict.releases.first == Int32(r) {
            switch conflict.detail {
            case .untestedMissing:
                return "book \(index.environmentCodes[Int(conflict.environment)]), which its release model requires"
            case .dependency(.unknown(let key)):
                return "it depends on \(key), which is not in the plan"
            case .dependency(.cancelled):
                return "it depends on \(index.key(conflict.dependency)), which is cancelled"
            case .dependency(.unscheduled):
                return "schedule \(index.key(conflict.dependency)), which it depends on"
            default:
                continue
            }
        }
        if raw.allSatisfy({ $0.type == .outsideWindow && $0.releases.first == Int32(r) }) {
            return "its deployment does not fit inside its window; adjust the deployment times"
        }
        if !run.mayMove[r] {
            if !run.conflicted[r] {
                return "it was in no conflict before: a proposed move of another release meets it, because that move resolves more than this costs"
            }
            return "it has no service window to move between"
        }
        if run.candidates[r].count <= 1 {
            return "no other window among the nearest keeps every rule (capacity, deadline, freezes, dependencies, nothing before now)"
        }
        switch run.method(of: r) {
        case .greedy?:
            return "the greedy placement (component too large for the exact search) found no placement that removes it"
        default:
            return "no placement of the releases in its component leaves fewer conflicts for its priority or higher"
        }
    }
}

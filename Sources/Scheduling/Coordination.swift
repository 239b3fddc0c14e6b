import Foundation
import ReleaseCore

/// A hard rule one move breaks in a portfolio state, and which releases' moves could lift it.
public struct MoveViolation: Sendable, Hashable {
    /// What is broken, for people ("service window W4 (capacity 3) is full: taken by …").
    public var reason: String
    /// Releases whose own moves could lift it, each with what that move must do
    /// ("leaving W4", "freeing TEST-INT", "finishing earlier"); empty when no other move can
    /// (a freeze, a deadline, the past, a pinned or deploying release).
    public var blockers: [(release: String, doing: String)]

    public var isFixable: Bool { !blockers.isEmpty }

    public static func == (lhs: MoveViolation, rhs: MoveViolation) -> Bool {
        lhs.reason == rhs.reason && lhs.blockers.map(\.release) == rhs.blockers.map(\.release)
            && lhs.blockers.map(\.doing) == rhs.blockers.map(\.doing)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(reason)
        for b in blockers { hasher.combine(b.release); hasher.combine(b.doing) }
    }
}

/// The hard rules a single move must keep, checked on the state with the move made: the same
/// rules the database's `relplan_move_violation` checks when a move is carried out.
public enum MoveRules {
    /// Every hard rule `proposal` breaks when made in `state`; empty when it holds on its own.
    public static func violations(of proposal: Proposal, in state: Snapshot) -> [MoveViolation] {
        guard let i = state.releases.firstIndex(where: { $0.key == proposal.release }) else {
            return [MoveViolation(reason: "\(proposal.release) is not in the portfolio", blockers: [])]
        }
        let before = state.releases[i]
        guard before.status.isActive, !before.status.hasStartedDeploying else {
            return [MoveViolation(reason: "\(before.key) is \(before.status.rawValue): it no longer moves", blockers: [])]
        }
        if before.pinned { return [MoveViolation(reason: "\(before.key) is pinned", blockers: [])] }
        guard let after = try? state.applying(Resolution(proposals: [proposal])) else {
            return [MoveViolation(reason: "the move of \(proposal.release) names a booking it does not have", blockers: [])]
        }
        let r = after.releases[i]
        var found: [MoveViolation] = []
        if r.window != before.window, let code = r.window, let window = after.windows.first(where: { $0.code == code }) {
            let holders = after.releases.filter { $0.window == code && $0.status.isActive }
            if holders.count > window.capacity {
                let others = holders.map(\.key).filter { $0 != r.key }.sorted()
                found.append(MoveViolation(
                    reason: "service window \(code) (capacity \(window.capacity)) is full: taken by \(others.joined(separator: ", "))",
                    blockers: others.map { ($0, "leaving \(code)") }))
            }
        }
        if let deploy = r.deploy, deploy != before.deploy {
            if deploy.start < state.now { found.append(MoveViolation(reason: "\(r.key) would deploy in the past", blockers: [])) }
            if let deadline = r.deadline, deploy.end > deadline {
                found.append(MoveViolation(reason: "\(r.key) would finish after its deadline", blockers: []))
            }
            for freeze in after.freezes where freeze.environment == nil && freeze.interval.overlaps(deploy)
                && !r.freezeOverrides.contains(freeze.code) {
                found.append(MoveViolation(reason: "the deployment of \(r.key) would overlap freeze \(freeze.code)", blockers: []))
            }
            for dep in r.dependsOn {
                guard let d = after.releases.first(where: { $0.key == dep }), d.status.isActive, let dd = d.deploy, dd.end > deploy.start else { continue }
                found.append(MoveViolation(reason: "\(r.key) would start before \(dep), which it depends on, has finished",
                                           blockers: [(dep, "finishing earlier")]))
            }
            for s in after.releases where s.dependsOn.contains(r.key) && s.status.isActive {
                guard let sd = s.deploy, sd.start < deploy.end else { continue }
                found.append(MoveViolation(reason: "\(r.key) would finish after \(s.key), which depends on it, starts",
                                           blockers: [(s.key, "starting later")]))
            }
        }
        let moved = Set(proposal.bookingMoves.map(\.bookingID))
        for booking in r.bookings where moved.contains(booking.id) {
            if booking.interval.start < state.now {
                found.append(MoveViolation(reason: "a booking of \(r.key) on \(booking.environment) would start in the past", blockers: []))
            }
            for freeze in after.freezes where freeze.environment == booking.environment && freeze.interval.overlaps(booking.interval)
                && !r.freezeOverrides.contains(freeze.code) {
                found.append(MoveViolation(reason: "a booking of \(r.key) on \(booking.environment) would overlap freeze \(freeze.code)", blockers: []))
            }
            guard booking.status == .confirmed else { continue }
            let capacity = after.environments.first { $0.code == booking.environment }?.capacity ?? 1
            var others: [String] = []
            for o in after.releases where o.key != r.key {
                for b in o.bookings where b.status == .confirmed && b.environment == booking.environment && b.interval.overlaps(booking.interval) {
                    others.append(o.key)
                }
            }
            if others.count >= capacity {
                let holders = Array(Set(others)).sorted()
                found.append(MoveViolation(
                    reason: "environment \(booking.environment) (capacity \(capacity)) is taken then by \(holders.joined(separator: ", "))",
                    blockers: holders.map { ($0, "freeing \(booking.environment)") }))
            }
        }
        return found
    }
}

/// One move of a plan in the order it is carried out, and the moves it waits on.
public struct PlannedMove: Sendable, Hashable {
    public var proposal: Proposal
    /// Indices (into the plan) of the moves that must be carried out first, with what each must do.
    public var needs: [Need]
    /// True when the caller may make it (its release is of one of the caller's groups).
    public var isOwn: Bool

    public struct Need: Sendable, Hashable {
        public var move: Int
        public var doing: String
    }
}

/// How a computed plan is carried out by groups that each move only their own releases.
public enum Coordination {
    /// Orders `resolution` for a caller who plans for `groups`: first the caller's moves that hold
    /// on their own (each on the state the ones before it leave), then every other move with the
    /// moves it must wait on. A move whose rule nobody's move can lift keeps no needs: it is
    /// refused when carried out, with its reason.
    public static func plan(_ resolution: Resolution, in snapshot: Snapshot, by groups: Set<String>) -> [PlannedMove] {
        let moves = resolution.proposals
        let own = moves.map { groups.contains(group(of: $0.release)) }
        var state = snapshot
        var done = [Bool](repeating: false, count: moves.count)
        var order: [Int] = []
        var progress = true
        while progress {
            progress = false
            for i in moves.indices where own[i] && !done[i] && MoveRules.violations(of: moves[i], in: state).isEmpty {
                guard let next = try? state.applying(Resolution(proposals: [moves[i]])) else { continue }
                state = next
                done[i] = true
                order.append(i)
                progress = true
            }
        }
        let rest = moves.indices.filter { !done[$0] }
        order += rest
        var position = [Int](repeating: 0, count: moves.count)
        for (p, i) in order.enumerated() { position[i] = p }
        return order.map { i in
            guard !done[i] else { return PlannedMove(proposal: moves[i], needs: [], isOwn: true) }
            let others = rest.filter { $0 != i }.map { (position[$0], moves[$0]) }
            let needs = prerequisites(of: moves[i], among: others, in: state) ?? []
            return PlannedMove(proposal: moves[i], needs: needs, isOwn: own[i])
        }
    }

    /// The moves among `others` (each with its index) that `proposal` must wait on in `state`:
    /// empty when it holds now, nil when some rule it breaks is one no other move lifts.
    public static func prerequisites(of proposal: Proposal, among others: [(Int, Proposal)], in state: Snapshot) -> [PlannedMove.Need]? {
        let broken = MoveRules.violations(of: proposal, in: state)
        guard !broken.isEmpty else { return [] }
        var needs: [PlannedMove.Need] = []
        for violation in broken {
            guard violation.isFixable else { return nil }
            var lifted = false
            for (release, doing) in violation.blockers {
                for (index, other) in others where other.release == release && lifts(other, doing, in: state) {
                    if !needs.contains(where: { $0.move == index }) { needs.append(.init(move: index, doing: doing)) }
                    lifted = true
                }
            }
            if !lifted { return nil }
        }
        return needs.sorted { $0.move < $1.move }
    }

    /// Whether `other` does what a blocker must do (leave a window, free an environment, move its deployment).
    static func lifts(_ other: Proposal, _ doing: String, in state: Snapshot) -> Bool {
        if doing.hasPrefix("leaving ") {
            let window = String(doing.dropFirst("leaving ".count))
            return other.newWindow != nil && other.newWindow != window
        }
        if doing.hasPrefix("freeing ") { return !other.bookingMoves.isEmpty }
        return other.newDeploy != nil
    }

    static func group(of key: String) -> String {
        ReleaseRef.group(ofText: key)
    }
}

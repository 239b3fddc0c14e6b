import Foundation

/// Where a release is asked to go: the next status on its path, or a named one.
public enum TransitionRequest: Sendable, Hashable {
    case next
    case to(ReleaseStatus)
}

/// What the lifecycle needs to know about a release to let it move.
public struct ReleaseFacts: Sendable, Hashable {
    /// Names of the model's criteria that hold: manual ones ticked by a person and automatic ones
    /// whose check passes (see ``ReleaseModel/satisfiedCriteria(ticked:automatic:)``).
    public var satisfiedCriteria: Set<String>
    public var openDeviations: Int
    public var hasEvaluation: Bool

    public init(satisfiedCriteria: Set<String> = [], openDeviations: Int = 0, hasEvaluation: Bool = false) {
        self.satisfiedCriteria = satisfiedCriteria
        self.openDeviations = openDeviations
        self.hasEvaluation = hasEvaluation
    }
}

/// The release lifecycle: planned → building → testing → ready → deploying → deployed →
/// evaluating → closed, one step at a time, or `cancelled` from any open status.
///
/// A step that leaves an activity (plan; build & test; deploy; evaluate & close) needs the exit
/// criteria of the activity left and the entry criteria of the one entered, as the release's
/// model sets them. Closing also needs every deviation handled and an evaluation written,
/// with or without a model. Cancelling needs nothing.
public enum ReleaseLifecycle {
    /// The status the release moves to, or the refusal that says why it may not.
    public static func advance(
        from current: ReleaseStatus,
        _ request: TransitionRequest,
        model: ReleaseModel?,
        facts: ReleaseFacts
    ) throws(TransitionRefusal) -> ReleaseStatus {
        guard let next = current.next else {
            throw TransitionRefusal(from: current, to: request.target, reason: .final)
        }
        let target = request.target ?? next
        if target == .cancelled { return .cancelled }
        if target == current {
            throw TransitionRefusal(from: current, to: target, reason: .alreadyThere)
        }
        if target < current {
            throw TransitionRefusal(from: current, to: target, reason: .backwards)
        }
        if target != next {
            throw TransitionRefusal(from: current, to: target, reason: .skipsSteps(next: next))
        }
        let missing = missingRequirements(from: current, to: target, model: model, facts: facts)
        guard missing.isEmpty else {
            throw TransitionRefusal(from: current, to: target, reason: .missing(missing))
        }
        return target
    }

    /// What a single forward step from `current` to `target` still lacks, in the order a person
    /// would deal with it: the exit criteria left behind, the entry criteria ahead, then closing's own.
    public static func missingRequirements(
        from current: ReleaseStatus,
        to target: ReleaseStatus,
        model: ReleaseModel?,
        facts: ReleaseFacts
    ) -> [MissingRequirement] {
        var missing: [MissingRequirement] = []
        // Closing ends the last activity, so it leaves it as a step into another one would.
        if let model, let left = current.activity, let entered = target.activity,
            entered != left || target == .closed
        {
            for criterion in model.phases[left].exit where !facts.satisfiedCriteria.contains(criterion.name) {
                missing.append(.criterion(criterion, activity: left, boundary: .exit))
            }
            if entered != left {
                for criterion in model.phases[entered].entry where !facts.satisfiedCriteria.contains(criterion.name) {
                    missing.append(.criterion(criterion, activity: entered, boundary: .entry))
                }
            }
        }
        if target == .closed {
            if facts.openDeviations > 0 { missing.append(.openDeviations(facts.openDeviations)) }
            if !facts.hasEvaluation { missing.append(.evaluation) }
        }
        return missing
    }
}

extension TransitionRequest {
    var target: ReleaseStatus? {
        switch self {
        case .next: nil
        case .to(let status): status
        }
    }
}

/// One thing a release lacks before it may move.
public enum MissingRequirement: Sendable, Hashable, CustomStringConvertible {
    case criterion(ReleaseModel.Criterion, activity: ReleaseActivity, boundary: ReleaseModel.PhaseBoundary)
    case openDeviations(Int)
    case evaluation

    public var description: String {
        switch self {
        case .criterion(let criterion, let activity, let boundary):
            let how: String
            switch criterion.check {
            case .manual: how = "manual, not ticked"
            case .automatic(let check): how = "automatic \(check.rawValue), not met"
            }
            let about = criterion.description.isEmpty ? "" : ": \(criterion.description)"
            return "\(boundary.rawValue) criterion '\(criterion.name)' of \(activity.title) (\(how))\(about)"
        case .openDeviations(let count):
            return count == 1 ? "1 deviation is still open" : "\(count) deviations are still open"
        case .evaluation:
            return "no evaluation has been written"
        }
    }
}

/// Why a release may not move as asked.
public struct TransitionRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// Closed and cancelled releases never change.
        case final
        case alreadyThere
        case backwards
        /// Only single steps are allowed; `next` is the one that is.
        case skipsSteps(next: ReleaseStatus)
        case missing([MissingRequirement])
    }

    public let from: ReleaseStatus
    /// Nil when `next` was asked of a release that has none.
    public let to: ReleaseStatus?
    public let reason: Reason

    public init(from: ReleaseStatus, to: ReleaseStatus?, reason: Reason) {
        self.from = from
        self.to = to
        self.reason = reason
    }

    /// One line, or a line followed by one `  - ` line per missing requirement.
    public var description: String {
        let move = "cannot move from \(from.rawValue) to \(to?.rawValue ?? "the next status")"
        switch reason {
        case .final:
            return "\(move): the release is \(from.rawValue), and a \(from.rawValue) release never changes status"
        case .alreadyThere:
            return "the release is already \(from.rawValue)"
        case .backwards:
            return "\(move): a release only moves forward (or is cancelled)"
        case .skipsSteps(let next):
            return "\(move): that skips steps; a release moves one step at a time, and the next step is \(next.rawValue)"
        case .missing(let missing):
            return "\(move); missing:\n" + missing.map { "  - \($0)" }.joined(separator: "\n")
        }
    }
}

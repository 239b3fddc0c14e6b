import Foundation
import Testing
@testable import ReleaseCore

private let model = ReleaseModel(
    code: "STANDARD",
    name: "Standard release",
    version: "1.0",
    phases: .init(
        plan: .init(exit: [.init(name: "scope-agreed", description: "Scope agreed with the business")]),
        buildAndTest: .init(
            entry: [.init(name: "build-env-booked")],
            exit: [
                .init(name: "tests-finished", check: .automatic(.testBookingFinished)),
                .init(name: "cab-approved", description: "The change advisory board approved"),
            ]
        ),
        deploy: .init(entry: [.init(name: "implementer-assigned")], exit: [.init(name: "smoke-tested")]),
        evaluateAndClose: .init(
            entry: [.init(name: "stakeholders-told")],
            exit: [.init(name: "no-high-deviations", check: .automatic(.noOpenHighDeviations))]
        )
    )
)

private let everything = ReleaseFacts(
    satisfiedCriteria: Set(model.allCriteria.map(\.name)), openDeviations: 0, hasEvaluation: true)

private func outcome(
    _ from: ReleaseStatus, _ request: TransitionRequest, model: ReleaseModel? = model, facts: ReleaseFacts = everything
) -> Result<ReleaseStatus, TransitionRefusal> {
    Result { () throws(TransitionRefusal) -> ReleaseStatus in
        try ReleaseLifecycle.advance(from: from, request, model: model, facts: facts)
    }
}

@Suite("Lifecycle transitions")
struct LifecycleTests {
    @Test("The path and its activities")
    func path() {
        #expect(ReleaseStatus.path.map(\.rawValue) == [
            "planned", "building", "testing", "ready", "deploying", "deployed", "evaluating", "closed",
        ])
        #expect(ReleaseActivity.plan.statuses == [.planned])
        #expect(ReleaseActivity.buildAndTest.statuses == [.building, .testing, .ready])
        #expect(ReleaseActivity.deploy.statuses == [.deploying, .deployed])
        #expect(ReleaseActivity.evaluateAndClose.statuses == [.evaluating, .closed])
        #expect(ReleaseStatus.cancelled.activity == nil)
        #expect(ReleaseStatus.closed.next == nil && ReleaseStatus.cancelled.next == nil)
    }

    @Test("Every pair of statuses: one step forward or cancel is allowed, everything else refused",
          arguments: ReleaseStatus.allCases)
    func everyPair(from: ReleaseStatus) {
        for to in ReleaseStatus.allCases {
            let result = outcome(from, .to(to))
            let expected: Result<ReleaseStatus, TransitionRefusal>
            if from.isFinal {
                expected = .failure(TransitionRefusal(from: from, to: to, reason: .final))
            } else if to == .cancelled {
                expected = .success(.cancelled)
            } else if to == from {
                expected = .failure(TransitionRefusal(from: from, to: to, reason: .alreadyThere))
            } else if to < from {
                expected = .failure(TransitionRefusal(from: from, to: to, reason: .backwards))
            } else if let next = from.next, to != next {
                expected = .failure(TransitionRefusal(from: from, to: to, reason: .skipsSteps(next: next)))
            } else {
                expected = .success(to)
            }
            #expect(result == expected, "\(from) → \(to)")
        }
    }

    @Test("next walks the whole path when everything holds")
    func walkWithNext() throws {
        var status = ReleaseStatus.planned
        var visited = [status]
        while let next = status.next {
            status = try ReleaseLifecycle.advance(from: status, .next, model: model, facts: everything)
            #expect(status == next)
            visited.append(status)
        }
        #expect(visited == ReleaseStatus.path)
        #expect(throws: TransitionRefusal(from: .closed, to: nil, reason: .final)) {
            try ReleaseLifecycle.advance(from: .closed, .next, model: model, facts: everything)
        }
    }

    @Test("Cancelling needs nothing, from every open status", arguments: ReleaseStatus.path.dropLast())
    func cancel(from: ReleaseStatus) {
        #expect(outcome(from, .to(.cancelled), facts: ReleaseFacts(openDeviations: 3)) == .success(.cancelled))
    }

    @Test("Closed and cancelled releases cannot be cancelled again")
    func cancelFinal() {
        #expect(outcome(.closed, .to(.cancelled)) == .failure(.init(from: .closed, to: .cancelled, reason: .final)))
        #expect(outcome(.cancelled, .to(.cancelled)) == .failure(.init(from: .cancelled, to: .cancelled, reason: .final)))
    }

    @Test("Steps inside an activity need no criteria",
          arguments: [(ReleaseStatus.building, ReleaseStatus.testing), (.testing, .ready), (.deploying, .deployed)])
    func insideActivity(from: ReleaseStatus, to: ReleaseStatus) {
        #expect(outcome(from, .next, facts: ReleaseFacts()) == .success(to))
    }

    @Test("Leaving plan needs plan's exit criteria and build & test's entry criteria")
    func leavePlan() {
        let result = outcome(.planned, .next, facts: ReleaseFacts(satisfiedCriteria: ["tests-finished"]))
        guard case .failure(let refusal) = result else {
            Issue.record("expected a refusal, got \(result)")
            return
        }
        #expect(refusal.description == """
            cannot move from planned to building; missing:
              - exit criterion 'scope-agreed' of plan (manual, not ticked): Scope agreed with the business
              - entry criterion 'build-env-booked' of build & test (manual, not ticked)
            """)
    }

    @Test("Leaving build & test lists the missing exit criteria, automatic and manual")
    func leaveBuildAndTest() {
        let facts = ReleaseFacts(satisfiedCriteria: ["implementer-assigned"])
        let result = outcome(.ready, .to(.deploying), facts: facts)
        #expect(result == .failure(TransitionRefusal(from: .ready, to: .deploying, reason: .missing([
            .criterion(model.phases.buildAndTest.exit[0], activity: .buildAndTest, boundary: .exit),
            .criterion(model.phases.buildAndTest.exit[1], activity: .buildAndTest, boundary: .exit),
        ]))))
        if case .failure(let refusal) = result {
            #expect(refusal.description.contains(
                "exit criterion 'tests-finished' of build & test (automatic test-booking-finished, not met)"))
        }
        let all = facts.satisfiedCriteria.union(["tests-finished", "cab-approved"])
        #expect(outcome(.ready, .next, facts: ReleaseFacts(satisfiedCriteria: all)) == .success(.deploying))
    }

    @Test("Leaving deploy needs smoke-tested and the entry criterion of evaluate & close")
    func leaveDeploy() {
        #expect(outcome(.deployed, .next, facts: ReleaseFacts(satisfiedCriteria: ["smoke-tested"])) == .failure(
            TransitionRefusal(from: .deployed, to: .evaluating, reason: .missing([
                .criterion(model.phases.evaluateAndClose.entry[0], activity: .evaluateAndClose, boundary: .entry),
            ]))))
    }

    @Test("Closing needs evaluate & close's exit criteria, no open deviations and an evaluation")
    func close() {
        let result = outcome(.evaluating, .next, facts: ReleaseFacts(satisfiedCriteria: [], openDeviations: 2, hasEvaluation: false))
        guard case .failure(let refusal) = result else {
            Issue.record("expected a refusal, got \(result)")
            return
        }
        #expect(refusal.description == """
            cannot move from evaluating to closed; missing:
              - exit criterion 'no-high-deviations' of evaluate & close (automatic no-open-high-deviations, not met)
              - 2 deviations are still open
              - no evaluation has been written
            """)
        let one = outcome(.evaluating, .next, facts: ReleaseFacts(satisfiedCriteria: ["no-high-deviations"], openDeviations: 1, hasEvaluation: true))
        #expect(one == .failure(.init(from: .evaluating, to: .closed, reason: .missing([.openDeviations(1)]))))
    }

    @Test("Without a model only closing has requirements")
    func noModel() {
        for status in ReleaseStatus.path.dropLast(2) {
            #expect(outcome(status, .next, model: nil, facts: ReleaseFacts()) == .success(status.next ?? status))
        }
        #expect(outcome(.evaluating, .next, model: nil, facts: ReleaseFacts()) == .failure(
            .init(from: .evaluating, to: .closed, reason: .missing([.evaluation]))))
        #expect(outcome(.evaluating, .next, model: nil, facts: ReleaseFacts(hasEvaluation: true)) == .success(.closed))
    }

    @Test("Refusals say what is wrong in words")
    func refusalTexts() {
        #expect(TransitionRefusal(from: .planned, to: .testing, reason: .skipsSteps(next: .building)).description ==
            "cannot move from planned to testing: that skips steps; a release moves one step at a time, and the next step is building")
        #expect(TransitionRefusal(from: .testing, to: .building, reason: .backwards).description ==
            "cannot move from testing to building: a release only moves forward (or is cancelled)")
        #expect(TransitionRefusal(from: .ready, to: .ready, reason: .alreadyThere).description == "the release is already ready")
        #expect(TransitionRefusal(from: .closed, to: nil, reason: .final).description ==
            "cannot move from closed to the next status: the release is closed, and a closed release never changes status")
    }

    @Test("Skipping is refused even when every criterion holds, naming the next step")
    func skipWithEverything() {
        #expect(outcome(.building, .to(.ready)) == .failure(.init(from: .building, to: .ready, reason: .skipsSteps(next: .testing))))
        #expect(outcome(.planned, .to(.closed)) == .failure(.init(from: .planned, to: .closed, reason: .skipsSteps(next: .building))))
    }
}

import Foundation
import ReleaseCore
import Scheduling
import Testing

private let test = Scheduling.Environment(code: "TEST", kind: .test, capacity: 1)
private let prod = Scheduling.Environment(code: "PROD", kind: .prod, capacity: 1)

/// Weekly windows on day 0, 7 and 14 at 18:00–24:00.
private let weekly = [window("SW-0", 18, 24), window("SW-1", 186, 192), window("SW-2", 354, 360)]

private func portfolio(_ releases: [Release], windows: [Window] = weekly, environments: [Scheduling.Environment] = [test, prod],
                       freezes: [Freeze] = [], now: Double = 0) -> Snapshot {
    Snapshot(releases: releases, windows: windows, environments: environments, freezes: freezes, now: at(now))
}

/// Resolves, applies and checks the rules every resolution must keep.
private func resolve(_ snapshot: Snapshot, options: ResolverOptions = ResolverOptions()) throws -> (Resolution, Snapshot) {
    let resolution = Resolver(options: options).resolve(snapshot)
    let final = try snapshot.applying(resolution)
    #expect(hardRuleViolations(original: snapshot, final: final) == [])
    let left = Set(ConflictDetector.detect(in: final).flatMap(\.releases))
    #expect(left == Set(resolution.unresolved.map(\.release)))
    return (resolution, final)
}

@Suite("Resolution scenarios")
struct ResolutionTests {
    @Test func lowerPriorityReleaseMakesRoomInAFullWindow() throws {
        let snapshot = portfolio([
            release("CRM/A", priority: 2, window: "SW-1", deploy: (187, 189)),
            release("HR/B", priority: 4, window: "SW-1", deploy: (188, 190), bookings: [booking(7, "TEST", 150, 170)]),
        ], now: 100)
        let (resolution, final) = try resolve(snapshot)
        #expect(resolution.proposals == [Proposal(
            release: "HR/B", action: .moveWindow, from: "SW-1", to: "SW-2",
            reason: "moved HR/B (priority 4) from SW-1 to SW-2: frees window SW-1 (capacity 1) for CRM/A (priority 2); SW-2 is the nearest window that keeps every rule; delay 168 h",
            newWindow: "SW-2", newDeploy: span(356, 358),
            bookingMoves: [BookingMove(bookingID: 7, environment: "TEST", from: span(150, 170), to: span(318, 338))])])
        #expect(resolution.unresolved.isEmpty)
        #expect(resolution.components == [ComponentReport(releases: ["CRM/A", "HR/B"], method: .exact, searchNodes: resolution.components[0].searchNodes)])
        #expect(final.release("HR/B")?.bookings[0].interval == span(318, 338))
    }

    @Test func theHigherPriorityStaysWhicheverIsListedFirst() throws {
        let snapshot = portfolio([
            release("HR/B", priority: 1, window: "SW-1", deploy: (188, 190)),
            release("CRM/A", priority: 5, window: "SW-1", deploy: (187, 189)),
        ], now: 100)
        let (resolution, _) = try resolve(snapshot)
        #expect(resolution.proposals.map(\.release) == ["CRM/A"])
        #expect(resolution.proposals.first?.to == "SW-2")
    }

    @Test func earlierWindowsCostHalfADelayAndNeverReachBeforeNow() throws {
        // From now = 0, SW-0 (hours 18–24) is reachable: the lower-priority release moves there,
        // 168 h earlier, which costs half of the 168 h delay SW-2 would.
        let early = portfolio([
            release("CRM/A", priority: 2, window: "SW-1", deploy: (187, 189)),
            release("HR/B", priority: 4, window: "SW-1", deploy: (188, 190)),
        ], now: 0)
        let (moved, _) = try resolve(early)
        #expect(moved.proposals.map(\.to) == ["SW-0"])
        #expect(moved.proposals.first?.reason.hasSuffix(
            "no delay, but pulled 168 h earlier, which counts as a change (half a delay): nothing that keeps its time or moves it later does as well at its priority") == true)

        // A booking that would start before now rules SW-0 out for HR/B. Pulling CRM/A forward
        // instead would be a change at priority 2: HR/B takes the delay, and says so.
        let late = portfolio([
            release("CRM/A", priority: 2, window: "SW-1", deploy: (187, 189)),
            release("HR/B", priority: 4, window: "SW-1", deploy: (188, 190), bookings: [booking(1, "TEST", 160, 180)]),
        ], now: 0)
        let (later, _) = try resolve(late)
        #expect(later.proposals.map { "\($0.release) to \($0.to)" } == ["HR/B to SW-2"])
        #expect(later.proposals.first?.reason.hasSuffix("delay 168 h, rather than pulling CRM/A (priority 2) 168 h earlier") == true)

        // With CRM/A unable to move earlier either, HR/B takes the delay.
        let blocked = portfolio([
            release("CRM/A", priority: 2, window: "SW-1", deploy: (187, 189), bookings: [booking(2, "PROD", 150, 160)]),
            release("HR/B", priority: 4, window: "SW-1", deploy: (188, 190), bookings: [booking(1, "TEST", 160, 180)]),
        ], now: 0)
        let (delayed, _) = try resolve(blocked)
        #expect(delayed.proposals.map { "\($0.release) to \($0.to)" } == ["HR/B to SW-2"])
    }

    @Test func pinnedAndDeployingReleasesNeverMove() throws {
        for fixed in [release("HR/B", priority: 5, pinned: true, window: "SW-1", deploy: (188, 190)),
                      release("HR/B", priority: 5, status: .deploying, window: "SW-1", deploy: (188, 190))] {
            let snapshot = portfolio([release("CRM/A", priority: 1, window: "SW-1", deploy: (187, 189)), fixed], now: 100)
            let (resolution, _) = try resolve(snapshot)
            #expect(resolution.proposals.map(\.release) == ["CRM/A"])
        }
        let stuck = portfolio([
            release("CRM/A", priority: 1, pinned: true, window: "SW-1", deploy: (187, 189)),
            release("HR/B", priority: 5, status: .deploying, window: "SW-1", deploy: (188, 190)),
        ], now: 100)
        let (resolution, _) = try resolve(stuck)
        #expect(resolution.proposals.isEmpty)
        #expect(resolution.unresolved.map(\.reason) == [
            "still in conflict: service window SW-1 holds 2 releases, capacity 1; it is pinned",
            "still in conflict: service window SW-1 holds 2 releases, capacity 1; its deployment has started (status deploying), so it does not move",
        ])
        #expect(resolution.components.map(\.method) == [.fixed])
    }

    @Test func lateTestBookingIsPulledInBeforeTheDeployment() throws {
        let snapshot = portfolio([
            release("CRM/A", priority: 3, window: "SW-1", deploy: (187, 189), bookings: [booking(5, "TEST", 170, 190)]),
        ], now: 100)
        let (resolution, final) = try resolve(snapshot)
        #expect(resolution.proposals == [Proposal(
            release: "CRM/A", action: .shiftBooking,
            from: "2026-12-08T02:00:00Z/2026-12-08T22:00:00Z", to: "2026-12-07T23:00:00Z/2026-12-08T19:00:00Z",
            reason: "shifted booking 5 of TEST for CRM/A (priority 3) 3 h earlier, to 2026-12-07T23:00:00Z/2026-12-08T19:00:00Z: its tests now end before the deployment starts; the deployment keeps its time, no delay",
            bookingMoves: [BookingMove(bookingID: 5, environment: "TEST", from: span(170, 190), to: span(167, 187))])])
        #expect(final.release("CRM/A")?.deploy == span(187, 189))
    }

    @Test func aMissingRequiredEnvironmentIsReportedNotMoved() throws {
        let snapshot = portfolio([
            release("CRM/A", window: "SW-1", deploy: (187, 189), bookings: [booking(1, "TEST", 150, 170)], required: ["TEST", "STAGING"]),
        ], now: 100)
        let (resolution, _) = try resolve(snapshot)
        #expect(resolution.proposals.isEmpty)
        #expect(resolution.unresolved == [Unresolved(
            release: "CRM/A",
            reason: "still in conflict: CRM/A has no booking of STAGING, which its release model requires; book STAGING, which its release model requires")])
    }

    @Test func aDeploymentLeavesAFreezeUnlessOverridden() throws {
        let freeze = Freeze(code: "YE", interval: span(180, 200), reason: "year end")
        let snapshot = portfolio([release("CRM/A", window: "SW-1", deploy: (187, 189))], freezes: [freeze], now: 100)
        let (resolution, _) = try resolve(snapshot)
        #expect(resolution.proposals.map(\.to) == ["SW-2"])
        #expect(resolution.proposals.first?.reason.contains("leaves freeze YE") == true)

        let overridden = portfolio([release("CRM/A", window: "SW-1", deploy: (187, 189), overrides: ["YE"])],
                                   freezes: [freeze], now: 100)
        #expect(ConflictDetector.detect(in: overridden).isEmpty)

        // Nothing moves into a freeze: with SW-2 frozen too, the release stays and is reported.
        let bothFrozen = portfolio([release("CRM/A", window: "SW-1", deploy: (187, 189))],
                                   freezes: [freeze, Freeze(code: "YE2", interval: span(350, 400), reason: "")], now: 100)
        let (stuck, _) = try resolve(bothFrozen)
        #expect(stuck.proposals.isEmpty)
        #expect(stuck.unresolved.map(\.release) == ["CRM/A"])
    }

    @Test func aMissedDeadlineMovesToAnEarlierWindow() throws {
        let snapshot = portfolio([release("CRM/A", window: "SW-1", deploy: (187, 189), deadline: 100)], now: 0)
        let (resolution, final) = try resolve(snapshot)
        #expect(resolution.proposals.map(\.to) == ["SW-0"])
        #expect(final.release("CRM/A")?.deploy == span(19, 21))
        #expect(resolution.proposals.first?.reason.contains("now ends by its deadline") == true)
    }

    @Test func aDependentWaitsForItsDependency() throws {
        let snapshot = portfolio([
            release("CRM/BASE", priority: 2, window: "SW-1", deploy: (186, 190)),
            release("CRM/APP", priority: 3, window: "SW-1", deploy: (188, 189), dependsOn: ["CRM/BASE"]),
        ], windows: weekly.map { var w = $0; w.capacity = 2; return w }, now: 100)
        let (resolution, final) = try resolve(snapshot)
        #expect(resolution.proposals.map(\.release) == ["CRM/APP"])
        #expect(final.release("CRM/APP")?.window == "SW-2")
        #expect(resolution.proposals.first?.reason.contains("now starts after CRM/BASE has finished") == true)
    }

    @Test func collisionsOnTargetsAndImplementersAreResolvedByMoving() throws {
        let snapshot = Snapshot(releases: [
            release("CRM/A", priority: 1, window: "SW-1", deploy: (187, 189), targets: ["crm-api"], implementer: "ann"),
            release("CRM/B", priority: 2, window: "SW-1", deploy: (188, 190), targets: ["srv-crm-01"]),
            release("HR/C", priority: 3, window: "SW-1", deploy: (188, 190), implementer: "ann"),
        ], windows: weekly.map { var w = $0; w.capacity = 3; return w }, environments: [test],
           targetParents: ["crm-api": "srv-crm-01"], now: at(100))
        let (resolution, final) = try resolve(snapshot)
        #expect(Set(resolution.proposals.map(\.release)) == ["CRM/B", "HR/C"])
        #expect(final.release("CRM/A")?.window == "SW-1")
    }

    @Test func largeComponentsFallBackToTheGreedyPlacement() throws {
        var windows = weekly.map { var w = $0; w.capacity = 10; return w }
        windows[1].capacity = 4
        let releases = (0..<12).map { i in
            release("G/R\(i)", priority: 1 + i % 5, window: "SW-1", deploy: (187, 188))
        }
        let (resolution, final) = try resolve(portfolio(releases, windows: windows, now: 100),
                                              options: ResolverOptions(maxExactReleases: 4))
        #expect(resolution.components.map(\.method) == [.greedy])
        #expect(resolution.unresolved.isEmpty)
        #expect(final.releases.filter { $0.window == "SW-1" }.count == 4)
        // The four that stay are the highest priorities.
        #expect(final.releases.filter { $0.window == "SW-1" }.allSatisfy { $0.priority.value <= 2 })
    }

    @Test func tinyBudgetGivesUpTheExactSearchButStillResolves() throws {
        let releases = (0..<5).map { i in release("G/R\(i)", priority: 3, window: "SW-1", deploy: (187, 188)) }
        let windows = weekly.map { var w = $0; w.capacity = 2; return w }
        let (resolution, _) = try resolve(portfolio(releases, windows: windows, now: 0),
                                          options: ResolverOptions(exactBudget: .microseconds(10)))
        #expect(resolution.components.map(\.method) == [.greedy])
        #expect(resolution.unresolved.isEmpty)
    }

    @Test func applyingRejectsProposalsThatDoNotFit() {
        let snapshot = portfolio([release("CRM/A", window: "SW-1", deploy: (187, 189), bookings: [booking(1, "TEST", 150, 170)])])
        let unknownRelease = Resolution(proposals: [Proposal(release: "CRM/Z", action: .moveWindow, from: "SW-1", to: "SW-2",
                                                             reason: "", newWindow: "SW-2", newDeploy: span(355, 357))])
        #expect(throws: ResolutionError.unknownRelease(proposal: 0, release: "CRM/Z")) { try snapshot.applying(unknownRelease) }
        let unknownBooking = Resolution(proposals: [Proposal(
            release: "CRM/A", action: .shiftBooking, from: "", to: "", reason: "",
            bookingMoves: [BookingMove(bookingID: 9, environment: "TEST", from: span(0, 1), to: span(1, 2))])])
        #expect(throws: ResolutionError.unknownBooking(proposal: 0, release: "CRM/A", bookingID: 9)) {
            try snapshot.applying(unknownBooking)
        }
        #expect(ResolutionError.unknownBooking(proposal: 0, release: "CRM/A", bookingID: 9).description
            == "proposal 1: release CRM/A has no booking 9")
    }

    @Test func encodesTheScheduleResolveContract() throws {
        let snapshot = portfolio([
            release("CRM/A", priority: 2, window: "SW-1", deploy: (187, 189)),
            release("HR/B", priority: 4, window: "SW-1", deploy: (188, 190)),
            release("FIN/C", deploy: (400, 401), required: ["STAGING"]),
        ], now: 100)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(Resolver().resolve(snapshot)), as: UTF8.self)
        #expect(json == #"{"proposals":[{"action":"move-window","from":"SW-1","reason":"moved HR/B (priority 4) from SW-1 to SW-2: frees window SW-1 (capacity 1) for CRM/A (priority 2); SW-2 is the nearest window that keeps every rule; delay 168 h","release":"HR/B","to":"SW-2"}],"unresolved":[{"reason":"still in conflict: FIN/C has no booking of STAGING, which its release model requires; book STAGING, which its release model requires","release":"FIN/C"}]}"#)
    }

    // MARK: Re-timing and displacement

    @Test func aDeploymentOutsideItsWindowIsRetimedInsideItBeforeAnyOtherWindow() throws {
        // 2 h starting 2 h before SW-1 opens (186–192): 2 h later, its test booking along.
        let snapshot = portfolio([
            release("CRM/A", window: "SW-1", deploy: (184, 186), bookings: [booking(3, "TEST", 150, 170)]),
            release("HR/B", window: "SW-2", deploy: (359, 361)),
        ], now: 100)
        let (resolution, final) = try resolve(snapshot)
        #expect(resolution.proposals == [
            Proposal(release: "CRM/A", action: .retime, from: "2026-12-08T16:00:00Z/2026-12-08T18:00:00Z", to: "2026-12-08T18:00:00Z/2026-12-08T20:00:00Z",
                     reason: "re-timed CRM/A (priority 3) inside its window SW-1, 2 h later, to 2026-12-08T18:00:00Z/2026-12-08T20:00:00Z: the deployment now lies inside its window; it fits in its own window SW-1, so it is re-timed there before any other window is tried; delay 2 h",
                     newWindow: "SW-1", newDeploy: span(186, 188),
                     bookingMoves: [BookingMove(bookingID: 3, environment: "TEST", from: span(150, 170), to: span(152, 172))]),
            Proposal(release: "HR/B", action: .retime, from: "2026-12-15T23:00:00Z/2026-12-16T01:00:00Z", to: "2026-12-15T22:00:00Z/2026-12-16T00:00:00Z",
                     reason: "re-timed HR/B (priority 3) inside its window SW-2, 1 h earlier, to 2026-12-15T22:00:00Z/2026-12-16T00:00:00Z: the deployment now lies inside its window; it fits in its own window SW-2, so it is re-timed there before any other window is tried; no delay, but pulled 1 h earlier, which counts as a change (half a delay): nothing that keeps its time or moves it later does as well at its priority",
                     newWindow: "SW-2", newDeploy: span(358, 360)),
        ])
        #expect(resolution.unresolved.isEmpty)
        #expect(final.release("CRM/A")?.window == "SW-1" && final.release("HR/B")?.window == "SW-2")
        let json = String(decoding: try JSONEncoder().encode(resolution), as: UTF8.self)
        #expect(json.contains(#""action":"retime""#))

        // Too long for its window (8 h in 6 h): nothing to re-time, it is reported.
        let long = portfolio([release("CRM/A", window: "SW-1", deploy: (184, 192))], now: 100)
        let (stuck, _) = try resolve(long)
        #expect(stuck.proposals.isEmpty)
        #expect(stuck.unresolved.first?.reason.hasSuffix("its deployment does not fit inside its window; adjust the deployment times") == true)

        // Full in its own window too: re-timed, and moved on from the re-timed offset.
        let full = portfolio([
            release("CRM/A", priority: 1, window: "SW-1", deploy: (187, 189)),
            release("HR/B", priority: 4, window: "SW-1", deploy: (184, 186), bookings: [booking(4, "TEST", 90, 99)]),
        ], now: 100)
        let (moved, after) = try resolve(full)
        #expect(moved.proposals.map { "\($0.release) \($0.action.rawValue) \($0.to)" } == ["HR/B move-window SW-2"])
        #expect(after.release("HR/B")?.deploy == span(354, 356))
    }

    /// Weekly windows W0–W5 (18:00–24:00); W1–W3 are taken by pinned releases.
    private func crowdedWeeks(_ extra: [Release]) -> Snapshot {
        let weeks = (0...5).map { window("W\($0)", 18 + 168 * Double($0), 24 + 168 * Double($0)) }
        let fillers = (1...3).map { k in
            release("OPS/F\(k)", priority: 5, pinned: true, window: "W\(k)", deploy: (19 + 168 * Double(k), 21 + 168 * Double(k)))
        }
        return portfolio(fillers + extra, windows: weeks, now: 0)
    }

    @Test func aReleaseIsNotPulledFourWeeksForwardToSaveALowerPriorityOneAWeek() throws {
        // CRM/A (priority 2) could go to W0, four weeks earlier, for free under a delay-only
        // objective; HR/B (priority 3) can only go a week later. HR/B takes the week.
        let snapshot = crowdedWeeks([
            release("CRM/A", priority: 2, window: "W4", deploy: (691, 693)),
            release("HR/B", priority: 3, window: "W4", deploy: (690, 692), bookings: [booking(1, "TEST", 500, 520)]),
        ])
        let (resolution, final) = try resolve(snapshot)
        #expect(resolution.proposals.map { "\($0.release) to \($0.to)" } == ["HR/B to W5"])
        #expect(resolution.proposals.first?.reason.hasSuffix("delay 168 h, rather than pulling CRM/A (priority 2) 672 h earlier") == true)
        #expect(final.release("CRM/A")?.window == "W4")
        #expect(resolution.unresolved.isEmpty)
    }

    @Test func aReleaseIsPulledForwardWhenNothingElseWorks() throws {
        // HR/B is pinned and CRM/A's deadline rules W5 out: W0, four weeks earlier, is all that works.
        let snapshot = crowdedWeeks([
            release("CRM/A", priority: 2, window: "W4", deploy: (691, 693), deadline: 800),
            release("HR/B", priority: 3, pinned: true, window: "W4", deploy: (690, 692)),
        ])
        let (resolution, final) = try resolve(snapshot)
        #expect(resolution.proposals.map { "\($0.release) to \($0.to)" } == ["CRM/A to W0"])
        #expect(resolution.proposals.first?.reason.hasSuffix(
            "no delay, but pulled 672 h earlier, which counts as a change (half a delay): nothing that keeps its time or moves it later does as well at its priority") == true)
        #expect(final.release("CRM/A")?.deploy == span(19, 21))

        // With a later window allowed, a week's delay is cheaper than four weeks forward.
        let later = crowdedWeeks([
            release("CRM/A", priority: 2, window: "W4", deploy: (691, 693)),
            release("HR/B", priority: 3, pinned: true, window: "W4", deploy: (690, 692)),
        ])
        let (delayed, _) = try resolve(later)
        #expect(delayed.proposals.map { "\($0.release) to \($0.to)" } == ["CRM/A to W5"])
    }
}

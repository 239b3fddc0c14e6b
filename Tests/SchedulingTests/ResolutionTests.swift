import Foundation
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

    @Test func earlierWindowsCostNoDelayButNeverReachBeforeNow() throws {
        // From now = 0, SW-0 (hours 18–24) is reachable: the lower-priority release moves there for free.
        let early = portfolio([
            release("CRM/A", priority: 2, window: "SW-1", deploy: (187, 189)),
            release("HR/B", priority: 4, window: "SW-1", deploy: (188, 190)),
        ], now: 0)
        let (moved, _) = try resolve(early)
        #expect(moved.proposals.map(\.to) == ["SW-0"])
        #expect(moved.proposals.first?.reason.hasSuffix("no delay (168 h earlier)") == true)

        // A booking that would start before now rules SW-0 out for HR/B: the free move earlier
        // goes to CRM/A instead, which costs nobody a delay.
        let late = portfolio([
            release("CRM/A", priority: 2, window: "SW-1", deploy: (187, 189)),
            release("HR/B", priority: 4, window: "SW-1", deploy: (188, 190), bookings: [booking(1, "TEST", 160, 180)]),
        ], now: 0)
        let (later, _) = try resolve(late)
        #expect(later.proposals.map { "\($0.release) to \($0.to)" } == ["CRM/A to SW-0"])

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
        #expect(final.releases.filter { $0.window == "SW-1" }.allSatisfy { $0.priority <= 2 })
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
}

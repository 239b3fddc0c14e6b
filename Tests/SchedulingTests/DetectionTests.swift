import Foundation
import ReleaseCore
import Scheduling
import Testing

/// One line per conflict, enough to pin down exactly what was found.
private func summary(_ conflicts: [Conflict]) -> [String] {
    conflicts.map { c in
        var parts = [c.type.rawValue, c.severity.rawValue]
        if let w = c.window { parts.append("w=\(w)") }
        if let e = c.environment { parts.append("e=\(e)") }
        if let t = c.target { parts.append("t=\(t)") }
        parts.append(c.releases.joined(separator: ","))
        parts.append("g=" + c.groups.joined(separator: ","))
        return parts.joined(separator: " ")
    }
}

private func detect(_ releases: [Release], windows: [Window] = [], environments: [Scheduling.Environment] = [],
                    freezes: [Freeze] = [], parents: [String: String] = [:]) -> [Conflict] {
    ConflictDetector.detect(in: Snapshot(releases: releases, windows: windows, environments: environments,
                                         freezes: freezes, targetParents: parents, now: at(0)))
}

private let test = Scheduling.Environment(code: "TEST", kind: .test, capacity: 1)
private let prod = Scheduling.Environment(code: "PROD", kind: .prod, capacity: 1)

@Suite("Detection")
struct DetectionTests {
    @Test func windowCapacityCountsEveryActiveReleaseAssigned() {
        let conflicts = detect([
            release("CRM/A", window: "SW", deploy: (18, 19)),
            release("HR/B", window: "SW", deploy: (19, 20)),
            release("HR/C", window: "SW"),  // unscheduled, still assigned
            release("FIN/X", status: .cancelled, window: "SW", deploy: (18, 19)),
            release("FIN/Y", status: .closed, window: "SW", deploy: (18, 19)),
            release("FIN/Z", window: "OTHER", deploy: (40, 41)),
        ], windows: [window("SW", 18, 24, capacity: 2), window("OTHER", 40, 44)])
        #expect(summary(conflicts) == ["window-capacity error w=SW CRM/A,HR/B,HR/C g=CRM,HR"])
        #expect(conflicts[0].message == "service window SW holds 3 releases, capacity 2")
        #expect(conflicts[0].identity == "window-capacity|window=SW|releases=CRM/A,HR/B,HR/C")
    }

    @Test func environmentOverlapIsOnePeriodWithEveryReleaseBookedDuringIt() {
        let conflicts = detect([
            release("CRM/A", bookings: [booking(1, "TEST", 10, 20)]),
            release("HR/B", bookings: [booking(2, "TEST", 15, 25, confirmed: true)]),
            // Starts as A ends: the overload carries on through hour 20 as one period.
            release("FIN/C", bookings: [booking(3, "TEST", 20, 30)]),
            // Two overlapping bookings of one release count once.
            release("FIN/D", bookings: [booking(4, "TEST", 40, 50), booking(5, "TEST", 45, 55)]),
            release("FIN/E", status: .cancelled, bookings: [booking(6, "TEST", 10, 60)]),
        ], environments: [test])
        #expect(summary(conflicts) == ["environment-overlap error e=TEST CRM/A,FIN/C,HR/B g=CRM,FIN,HR"])
        #expect(conflicts[0].message
            == "environment TEST is booked by 2 releases at once between 2026-12-01T15:00:00Z and 2026-12-02T01:00:00Z, capacity 1")
    }

    @Test func environmentCapacityAboveOneAllowsThatManyAtOnce() {
        let shared = Scheduling.Environment(code: "SHARED", kind: .staging, capacity: 2)
        let twoAtOnce = detect([
            release("CRM/A", bookings: [booking(1, "SHARED", 0, 10)]),
            release("CRM/B", bookings: [booking(2, "SHARED", 5, 15)]),
        ], environments: [shared])
        #expect(twoAtOnce.isEmpty)
        let threeAtOnce = detect([
            release("CRM/A", bookings: [booking(1, "SHARED", 0, 10)]),
            release("CRM/B", bookings: [booking(2, "SHARED", 5, 15)]),
            release("CRM/C", bookings: [booking(3, "SHARED", 8, 9)]),
            release("CRM/D", bookings: [booking(4, "SHARED", 12, 13)]),
        ], environments: [shared])
        #expect(summary(threeAtOnce) == ["environment-overlap error e=SHARED CRM/A,CRM/B,CRM/C g=CRM"])
    }

    @Test func targetCollisionFollowsPartOfChainsAtAnyDepth() {
        let parents = ["app-1": "srv-1", "app-2": "srv-1", "srv-1": "rack-1"]
        let conflicts = detect([
            release("CRM/A", deploy: (100, 102), targets: ["app-1"]),
            release("HR/B", deploy: (101, 103), targets: ["rack-1"]),
            release("FIN/C", deploy: (100, 102), targets: ["app-2"]),  // a sibling of A's item: no collision with A
            release("FIN/E", deploy: (100, 101), targets: ["app-1"]),  // ends as B starts: no collision with B
        ], parents: parents)
        #expect(summary(conflicts) == [
            "target-collision error t=app-1 CRM/A,FIN/E g=CRM,FIN",
            "target-collision error t=rack-1 CRM/A,HR/B g=CRM,HR",
            "target-collision error t=rack-1 FIN/C,HR/B g=FIN,HR",
        ])
        #expect(conflicts[0].message == "CRM/A and FIN/E both change app-1 in overlapping deployments")
        #expect(conflicts[1].message == "CRM/A changes a part of rack-1 while HR/B changes rack-1, in overlapping deployments")
    }

    @Test func targetCycleInPartOfLinksDoesNotHang() {
        let conflicts = detect([
            release("CRM/A", deploy: (0, 2), targets: ["x"]),
            release("CRM/B", deploy: (1, 3), targets: ["y"]),
        ], parents: ["x": "y", "y": "x"])
        #expect(summary(conflicts) == ["target-collision error t=x CRM/A,CRM/B g=CRM"])
    }

    @Test func aDeepChainIsWalkedOnceAndOnlyAsFarAsTheDatabaseAllows() {
        // 10,000 links: detection used to walk every chain to its root, cubic in the depth.
        var parents: [String: String] = [:]
        for depth in 0..<10_000 { parents["ci-\(depth)"] = "ci-\(depth + 1)" }
        let started = Date()
        let conflicts = detect([
            release("CRM/A", deploy: (0, 2), targets: ["ci-0"]),
            release("HR/B", deploy: (1, 3), targets: ["ci-\(Snapshot.maxTargetLinks)"]),  // the last item A's chain reaches
            release("FIN/C", deploy: (0, 1), targets: ["ci-\(Snapshot.maxTargetLinks + 1)"]),  // one link further: not followed
        ], parents: parents)
        #expect(summary(conflicts) == ["target-collision error t=ci-32 CRM/A,HR/B g=CRM,HR"])
        #expect(Date().timeIntervalSince(started) < 5, "a 10,000-deep chain took \(Date().timeIntervalSince(started)) s")
    }

    @Test func implementerBusyPairsOverlappingDeploymentsOfOnePerson() {
        let conflicts = detect([
            release("CRM/A", deploy: (10, 12), implementer: "ann"),
            release("HR/B", deploy: (11, 13), implementer: "ann"),
            release("HR/C", deploy: (11, 12), implementer: "bob"),
            release("FIN/D", deploy: (12, 14), implementer: "ann"),
        ])
        #expect(summary(conflicts) == [
            "implementer-busy error CRM/A,HR/B g=CRM,HR",
            "implementer-busy error FIN/D,HR/B g=FIN,HR",
        ])
        #expect(conflicts[0].message == "ann deploys CRM/A and HR/B at overlapping times")
    }

    @Test func freezesCoverDeploymentsGloballyAndBookingsPerEnvironment() {
        let freezes = [
            Freeze(code: "YE", interval: span(100, 200), reason: "year end"),
            Freeze(code: "EF", interval: span(50, 60), environment: "TEST", reason: "upgrade"),
        ]
        let conflicts = detect([
            release("CRM/A", deploy: (150, 152)),
            release("CRM/B", deploy: (150, 152), overrides: ["YE"]),
            release("FIN/C", bookings: [booking(1, "TEST", 55, 65)]),
            release("FIN/D", bookings: [booking(2, "PROD", 55, 65)]),
            release("HR/E", deploy: (200, 201)),
            release("HR/F", status: .cancelled, deploy: (150, 152)),
            release("HR/G", bookings: [booking(3, "TEST", 45, 55)], overrides: ["EF"]),
        ], environments: [test, prod], freezes: freezes)
        #expect(summary(conflicts) == [
            "freeze error e=TEST FIN/C g=FIN",
            "freeze error CRM/A g=CRM",
        ])
        #expect(conflicts[0].message == "FIN/C books TEST during freeze EF (upgrade)")
        #expect(conflicts[1].message == "deployment of CRM/A (2026-12-07T06:00:00Z/2026-12-07T08:00:00Z) overlaps freeze YE (year end)")
    }

    @Test func outsideWindowNeedsTheWholeDeploymentInside() {
        let conflicts = detect([
            release("CRM/A", window: "SW", deploy: (20, 23)),
            release("CRM/B", window: "SW", deploy: (22, 26)),
            release("CRM/C", window: "SW", deploy: (18, 24)),
            release("CRM/D", window: "NOPE", deploy: (0, 100)),
        ], windows: [window("SW", 18, 24, capacity: 5)])
        #expect(summary(conflicts) == ["outside-window warning w=SW CRM/B g=CRM"])
    }

    @Test func dependencyOrderCoversTimingUnscheduledCancelledAndUnknown() {
        let conflicts = detect([
            release("CRM/A", deploy: (10, 12)),
            release("CRM/B", deploy: (11, 13), dependsOn: ["CRM/A"]),
            release("CRM/C", deploy: (12, 14), dependsOn: ["CRM/A"]),
            release("HR/X", status: .cancelled, deploy: (1, 2)),
            release("HR/D", deploy: (20, 21), dependsOn: ["HR/X"]),
            release("HR/U"),
            release("HR/E", deploy: (20, 21), dependsOn: ["HR/U"]),
            release("FIN/F", deploy: (20, 21), dependsOn: ["GONE/Z"]),
            release("FIN/H", status: .closed),
            release("FIN/G", deploy: (20, 21), dependsOn: ["FIN/H"]),
            release("FIN/I", dependsOn: ["HR/U"]),
        ])
        #expect(summary(conflicts) == [
            "dependency-order error CRM/A,CRM/B g=CRM",
            "dependency-order error FIN/F g=FIN",
            "dependency-order error HR/E,HR/U g=HR",
            "dependency-order error HR/D g=HR",
        ])
        #expect(conflicts[0].message
            == "CRM/B starts deploying at 2026-12-01T11:00:00Z, before CRM/A, which it depends on, has finished (2026-12-01T12:00:00Z)")
        #expect(conflicts[1].message == "FIN/F depends on GONE/Z, which is not in the plan")
        #expect(conflicts[2].message == "HR/E depends on HR/U, which has no deployment scheduled")
        #expect(conflicts[3].message == "HR/D depends on HR/X, which is cancelled")
    }

    @Test func untestedCoversLateTestBookingsAndMissingRequiredEnvironments() {
        let conflicts = detect([
            release("CRM/A", deploy: (50, 52), bookings: [booking(1, "TEST", 30, 51), booking(2, "PROD", 50, 52)]),
            release("CRM/B", deploy: (50, 52), bookings: [booking(3, "TEST", 30, 50)]),
            release("HR/C", deploy: (80, 81), bookings: [booking(4, "TEST", 30, 50)], required: ["TEST", "STAGING"]),
            release("HR/D", required: ["TEST"]),
        ], environments: [Scheduling.Environment(code: "TEST", kind: .test, capacity: 5), prod])
        #expect(summary(conflicts) == [
            "untested warning e=STAGING HR/C g=HR",
            "untested warning e=TEST CRM/A g=CRM",
            "untested warning e=TEST HR/D g=HR",
        ])
        #expect(conflicts[1].message == "CRM/A starts deploying at 2026-12-03T02:00:00Z, before its booking of TEST ends (2026-12-03T03:00:00Z)")
        #expect(conflicts[0].message == "HR/C has no booking of STAGING, which its release model requires")
    }

    @Test func deadlineIsTheLastInstantTheDeploymentMayEnd() {
        let conflicts = detect([
            release("CRM/A", deploy: (10, 12), deadline: 12),
            release("CRM/B", deploy: (10, 12), deadline: 11),
            release("CRM/C", deadline: 0),
        ])
        #expect(summary(conflicts) == ["deadline warning CRM/B g=CRM"])
        #expect(conflicts[0].message == "deployment of CRM/B ends at 2026-12-01T12:00:00Z, after its deadline 2026-12-01T11:00:00Z")
    }

    @Test func oneClashCanBeSeveralConflictsSortedByType() {
        let conflicts = detect([
            release("CRM/A", window: "SW", deploy: (18, 20), targets: ["db"], implementer: "ann",
                    bookings: [booking(1, "TEST", 0, 10)]),
            release("HR/B", window: "SW", deploy: (19, 21), targets: ["db"], implementer: "ann",
                    bookings: [booking(2, "TEST", 5, 15)]),
        ], windows: [window("SW", 18, 24)], environments: [test])
        #expect(summary(conflicts) == [
            "window-capacity error w=SW CRM/A,HR/B g=CRM,HR",
            "environment-overlap error e=TEST CRM/A,HR/B g=CRM,HR",
            "target-collision error t=db CRM/A,HR/B g=CRM,HR",
            "implementer-busy error CRM/A,HR/B g=CRM,HR",
        ])
    }

    @Test func resultDoesNotDependOnTheOrderOfTheSnapshot() {
        for seed in 1...40 as ClosedRange<UInt64> {
            var snapshot = InstanceGenerator().make(seed: seed)
            let forward = ConflictDetector.detect(in: snapshot)
            snapshot.releases.reverse()
            snapshot.windows.reverse()
            #expect(ConflictDetector.detect(in: snapshot) == forward, "seed \(seed)")
        }
    }

    @Test func identitiesAreUniqueWithinARun() {
        for seed in 1...200 as ClosedRange<UInt64> {
            let conflicts = ConflictDetector.detect(in: InstanceGenerator().make(seed: seed))
            #expect(Set(conflicts.map(\.identity)).count == conflicts.count, "seed \(seed)")
        }
    }

    @Test func encodesTheContractFieldsWithNulls() throws {
        let conflict = detect([
            release("CRM/R-2026.12", window: "SW-2026-12-05", deploy: (18, 19)),
            release("HR/PAY-7", window: "SW-2026-12-05", deploy: (19, 20)),
        ], windows: [window("SW-2026-12-05", 18, 24)])[0]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(conflict), as: UTF8.self)
        #expect(json == #"{"environment":null,"groups":["CRM","HR"],"message":"service window SW-2026-12-05 holds 2 releases, capacity 1","releases":["CRM\/R-2026.12","HR\/PAY-7"],"severity":"error","target":null,"type":"window-capacity","window":"SW-2026-12-05"}"#)
    }
}

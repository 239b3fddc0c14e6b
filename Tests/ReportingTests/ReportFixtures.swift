import Foundation
import Reporting
import Scheduling

/// A small, hand-checked nightly report in Europe/Stockholm: three groups, four service windows
/// (one over capacity, one across the start of summer time), three environments, two freezes and
/// five conflicts in every status.
enum ReportFixtures {
    static let stockholm = TimeZone(identifier: "Europe/Stockholm")!

    /// `2027-03-13T21:00:00Z`
    static func utc(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text)!
    }

    static func interval(_ start: String, _ end: String) -> Interval {
        Interval(start: utc(start), end: utc(end))
    }

    static let generatedAt = utc("2027-03-10T01:00:00Z")  // 02:00 in Stockholm

    static let capacityConflict = Conflict(
        type: .windowCapacity, window: "SW-2027-03-20", releases: ["CRM/R-2027.04", "FIN/GL-13", "HR/PAY-8"],
        groups: ["CRM", "FIN", "HR"], message: "service window SW-2027-03-20 holds 3 releases, capacity 2",
        identity: "window-capacity|SW-2027-03-20|CRM/R-2027.04,FIN/GL-13,HR/PAY-8")
    static let deadlineConflict = Conflict(
        type: .deadline, releases: ["FIN/GL-13"], groups: ["FIN"],
        message: "FIN/GL-13 ends 2027-03-21T01:00:00Z, after its deadline 2027-03-20",
        identity: "deadline|FIN/GL-13")
    static let overlapConflict = Conflict(
        type: .environmentOverlap, environment: "TEST-INT", releases: ["CRM/R-2027.04", "HR/PAY-8"], groups: ["CRM", "HR"],
        message: "TEST-INT holds 2 bookings at once from 2027-03-16T07:00:00Z, capacity 1",
        identity: "environment-overlap|TEST-INT|CRM/R-2027.04,HR/PAY-8")
    static let freezeConflict = Conflict(
        type: .freeze, releases: ["CRM/R-2027.05"], groups: ["CRM"],
        message: "CRM/R-2027.05 deploys during freeze FRZ-EASTER (\"Easter, no changes\")",
        identity: "freeze|FRZ-EASTER|CRM/R-2027.05")
    static let resolvedConflict = Conflict(
        type: .targetCollision, target: "srv-erp-01", releases: ["FIN/GL-12", "HR/PAY-7"], groups: ["FIN", "HR"],
        message: "FIN/GL-12 and HR/PAY-7 both change srv-erp-01 at once",
        identity: "target-collision|srv-erp-01|FIN/GL-12,HR/PAY-7")

    static func report(group: String? = nil, windows extraWindows: [NightlyReport.WindowLoad] = []) -> NightlyReport {
        let conflicts: [NightlyReport.TrackedConflict] = [
            // Deliberately out of order: the renderer sorts.
            .init(conflict: resolvedConflict, status: .resolved, firstSeen: utc("2027-03-01T01:00:00Z"),
                  lastSeen: utc("2027-03-09T01:00:00Z"), resolvedAt: generatedAt),
            .init(conflict: freezeConflict, status: .open, firstSeen: utc("2027-03-08T01:00:00Z"), lastSeen: generatedAt),
            .init(conflict: deadlineConflict, status: .new, firstSeen: generatedAt, lastSeen: generatedAt),
            .init(conflict: overlapConflict, status: .open, firstSeen: utc("2027-03-04T01:00:00Z"), lastSeen: generatedAt),
            .init(conflict: capacityConflict, status: .new, firstSeen: generatedAt, lastSeen: generatedAt),
        ]
        let windows: [NightlyReport.WindowLoad] = [
            .init(code: "SW-2027-03-13", interval: interval("2027-03-13T21:00:00Z", "2027-03-14T01:00:00Z"), capacity: 4,
                  kind: "regular", releases: ["CRM/R-2027.03", "HR/PAY-7", "FIN/GL-12"]),
            .init(code: "SW-2027-03-20", interval: interval("2027-03-20T21:00:00Z", "2027-03-21T01:00:00Z"), capacity: 2,
                  kind: "regular", releases: ["CRM/R-2027.04", "HR/PAY-8", "FIN/GL-13"]),
            // Last Saturday of March: 22:00 CET to 04:00 CEST.
            .init(code: "SW-2027-03-27", interval: interval("2027-03-27T21:00:00Z", "2027-03-28T02:00:00Z"), capacity: 3,
                  kind: "extra", releases: ["CRM/R-2027.05"]),
            .init(code: "SW-2027-04-03", interval: interval("2027-04-03T20:00:00Z", "2027-04-04T02:00:00Z"), capacity: 4,
                  kind: "regular", releases: []),
        ] + extraWindows
        let titles = [
            "CRM/R-2027.03": "Kunder & <avtal>, mars; \"stor\"", "HR/PAY-7": "Lönekörning – våren, del 1",
            "FIN/GL-12": "Huvudbok 12", "CRM/R-2027.04": "April release", "HR/PAY-8": "Lön 8",
            "FIN/GL-13": "Huvudbok 13", "CRM/R-2027.05": "Påsk-release",
        ]
        func deployment(_ release: String, _ window: String, _ start: String, _ end: String) -> NightlyReport.Deployment {
            .init(release: release, group: String(release.prefix { $0 != "/" }), title: titles[release] ?? release,
                  window: window, interval: interval(start, end), status: "planned")
        }
        let deployments = [
            deployment("CRM/R-2027.03", "SW-2027-03-13", "2027-03-13T21:00:00Z", "2027-03-13T22:30:00Z"),
            deployment("HR/PAY-7", "SW-2027-03-13", "2027-03-13T21:00:00Z", "2027-03-13T23:00:00Z"),
            deployment("FIN/GL-12", "SW-2027-03-13", "2027-03-13T22:00:00Z", "2027-03-14T00:30:00Z"),
            deployment("CRM/R-2027.04", "SW-2027-03-20", "2027-03-20T21:00:00Z", "2027-03-20T23:00:00Z"),
            deployment("HR/PAY-8", "SW-2027-03-20", "2027-03-20T21:30:00Z", "2027-03-20T23:30:00Z"),
            deployment("FIN/GL-13", "SW-2027-03-20", "2027-03-20T22:00:00Z", "2027-03-21T01:00:00Z"),
            deployment("CRM/R-2027.05", "SW-2027-03-27", "2027-03-27T21:30:00Z", "2027-03-28T01:30:00Z"),
        ]
        var bars = deployments.map {
            NightlyReport.Bar(lane: .window($0.window!), release: $0.release, group: $0.group, title: $0.title,
                              interval: $0.interval, kind: "deployment")
        }
        func booking(_ release: String, _ environment: String, _ start: String, _ end: String, _ status: String) -> NightlyReport.Bar {
            .init(lane: .environment(environment), release: release, group: String(release.prefix { $0 != "/" }),
                  title: titles[release] ?? release, interval: interval(start, end), kind: status)
        }
        bars += [
            booking("CRM/R-2027.04", "TEST-INT", "2027-03-15T07:00:00Z", "2027-03-17T16:00:00Z", "confirmed"),
            booking("HR/PAY-8", "TEST-INT", "2027-03-16T07:00:00Z", "2027-03-18T16:00:00Z", "tentative"),
            booking("CRM/R-2027.03", "TEST-INT", "2027-03-10T07:00:00Z", "2027-03-12T16:00:00Z", "confirmed"),
            booking("FIN/GL-13", "STAGE", "2027-03-18T07:00:00Z", "2027-03-19T16:00:00Z", "confirmed"),
            booking("CRM/R-2027.05", "STAGE", "2027-03-24T07:00:00Z", "2027-03-25T16:00:00Z", "confirmed"),
        ]
        return NightlyReport(
            generatedAt: generatedAt, timeZone: stockholm,
            horizon: interval("2027-03-10T01:00:00Z", "2027-04-07T00:00:00Z"),
            group: group, groups: ["CRM", "HR", "FIN"], conflicts: conflicts,
            proposals: [
                .init(id: 13, release: "HR/PAY-8", group: "HR", action: "shift-booking", from: "TEST-INT 2027-03-16",
                      to: "TEST-INT 2027-03-18", reason: "TEST-INT is free from 2027-03-17 16:00", proposedBy: "scheduler",
                      proposedAt: utc("2027-03-09T01:00:00Z")),
                .init(id: 12, release: "CRM/R-2027.04", group: "CRM", action: "move-window", from: "SW-2027-03-20",
                      to: "SW-2027-04-03", reason: "SW-2027-04-03 has room", proposedBy: "scheduler",
                      proposedAt: utc("2027-03-09T01:00:00Z")),
            ],
            windows: windows,
            environments: [
                .init(code: "TEST-INT", name: "Integration test", kind: "test", capacity: 1),
                .init(code: "PROD", name: "Production", kind: "prod", capacity: 2),
                .init(code: "STAGE", name: "Staging", kind: "staging", capacity: 1),
            ],
            bars: bars,
            freezes: [
                .init(code: "FRZ-EASTER", interval: interval("2027-03-25T23:00:00Z", "2027-03-29T22:00:00Z"),
                      environment: nil, reason: "Easter, no changes"),
                .init(code: "FRZ-STAGE-MIG", interval: interval("2027-03-22T07:00:00Z", "2027-03-23T16:00:00Z"),
                      environment: "STAGE", reason: "Storage migration; STAGE offline"),
            ],
            deployments: deployments
        )
    }

    /// `count` extra windows, one every `hours` hours from the start of the horizon.
    static func manyWindows(_ count: Int, everyHours hours: Double = 8) -> [NightlyReport.WindowLoad] {
        (0..<count).map { index in
            let start = generatedAt.addingTimeInterval(Double(index) * hours * 3600 + 3600)
            return .init(code: "XW-\(String(format: "%04d", index))", interval: Interval(start: start, end: start.addingTimeInterval(2 * 3600)),
                         capacity: 2, kind: "extra", releases: index % 3 == 0 ? ["CRM/X-\(index)"] : [])
        }
    }
}

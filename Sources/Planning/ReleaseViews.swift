import Foundation
import ReleaseCore
import ReleaseStore
import Reporting

/// How releases look in listings and in `release show`, in the contract's field names (DESIGN.md §4).
public enum ReleaseView {
    public static let columns = ["group", "code", "plan", "title", "window", "deploy_start", "deploy_end", "priority", "status", "deadline"]

    public static func cells(_ r: ReleaseRecord) -> [Cell] {
        [.text(r.group), .text(r.code), .text(r.plan), .text(r.title), .text(r.window), .timestamp(r.deployStart),
         .timestamp(r.deployEnd), .int(r.priority), .text(r.status.rawValue), .text(r.deadline)]
    }

    public static func listing(_ releases: [ReleaseRecord]) -> Listing {
        Listing(noun: "releases", columns: columns, rows: releases.map(cells)) { zone in
            TextTable(headers: ["RELEASE", "TITLE", "WINDOW", "DEPLOY", "P", "STATUS"], rows: releases.map {
                [$0.ref, TextTable.clip($0.title, 20), $0.window ?? "", TextTable.short($0.deployStart, in: zone), String($0.priority),
                 $0.status.rawValue + ($0.pinned ? "*" : "")]
            })
        }
    }

    public static func json(_ d: ReleaseDetail) -> JSONValue {
        var pairs = zip(columns, cells(d.release)).map { ($0, $1.json) }
        pairs += [
            ("pinned", .bool(d.release.pinned)),
            ("implementer", .string(d.release.implementer)),
            ("version", .int(d.release.version)),
            ("model", .string(d.model)),
            ("depends_on", .strings(d.dependsOn)),
            ("packages", .array(d.packages.map { p in
                .object([("code", .string(p.code)), ("units", .array(p.units.map { u in
                    .object([("code", .string(u.code)), ("kind", .string(u.kind)), ("target", .string(u.target)),
                             ("version", .string(u.version))])
                }))])
            })),
            ("bookings", .array(d.bookings.map { b in
                .object([("environment", .string(b.environment)), ("start", .timestamp(b.start)), ("end", .timestamp(b.end)),
                         ("status", .string(b.status.rawValue))])
            })),
            ("criteria", .array(d.criteria.map { c in
                .object([("activity", .string(c.activity.rawValue)), ("boundary", .string(c.boundary.rawValue)),
                         ("name", .string(c.name)), ("check", .string(c.check.description)), ("satisfied", .bool(c.satisfied))])
            })),
            ("deviations", .array(d.deviations.map(deviationJSON))),
            ("evaluation", .string(d.evaluation)),
        ]
        return .object(pairs)
    }

    public static func deviationJSON(_ d: DeviationRecord) -> JSONValue {
        .object([("id", .int(Int(d.id))), ("release", .string(d.release)), ("severity", .string(d.severity.rawValue)),
                 ("text", .string(d.text)), ("recorded_at", .timestamp(d.recordedAt)), ("recorded_by", .string(d.recordedBy)),
                 ("resolution", .string(d.resolution))])
    }


    public static func text(_ d: ReleaseDetail, zone: TimeZone) -> String {
        let r = d.release
        func time(_ date: Date?) -> String { date.map { Timestamps.local($0, in: zone) } ?? "—" }
        var lines: [String] = []
        // A title keeps its line breaks here, each further line under the first.
        lines.append("\(r.ref)  " + OneLine.lines(r.title).joined(separator: "\n" + String(repeating: " ", count: r.ref.count + 2)))
        lines.append("  plan:        \(r.plan)\(d.model.map { " (model \($0))" } ?? "")")
        lines.append("  status:      \(r.status.rawValue)\(r.pinned ? ", pinned" : "")   priority \(r.priority)   version \(r.version)")
        lines.append("  window:      \(r.window ?? "—")")
        lines.append("  deployment:  \(time(r.deployStart)) – \(time(r.deployEnd))\(r.implementer.map { " by \($0)" } ?? "")")
        if let deadline = r.deadline { lines.append("  deadline:    \(deadline)") }
        if !d.dependsOn.isEmpty { lines.append("  depends on:  \(d.dependsOn.joined(separator: ", "))") }
        lines.append("  changed:     \(Timestamps.local(r.updatedAt, in: zone)) by \(r.updatedBy)")
        if !d.packages.isEmpty {
            lines.append("packages:")
            for p in d.packages {
                lines.append("  \(p.code)")
                for u in p.units {
                    lines.append("    \(u.code)  \(u.kind)  → \(u.target)\(u.version.map { " \($0)" } ?? "")")
                }
            }
        }
        if !d.bookings.isEmpty {
            lines.append("bookings:")
            for b in d.bookings {
                lines.append("  \(b.environment)  \(Timestamps.local(b.start, in: zone)) – \(Timestamps.local(b.end, in: zone))  \(b.status.rawValue)")
            }
        }
        if !d.criteria.isEmpty {
            lines.append("criteria:")
            for c in d.criteria {
                lines.append("  [\(c.satisfied ? "x" : " ")] \(c.name)  (\(c.activity.title) \(c.boundary.rawValue), \(c.check))")
            }
        }
        if !d.deviations.isEmpty {
            lines.append("deviations:")
            for v in d.deviations {
                lines.append("  #\(v.id) \(v.severity.rawValue): \(v.text)\(v.resolution.map { " — handled: \($0)" } ?? " — open")")
            }
        }
        if let evaluation = d.evaluation { lines.append("evaluation:\n  \(evaluation)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension WindowNight {
    public var releaseListing: Listing {
        Listing(noun: "releases", columns: ["order", "group", "code", "title", "priority", "status", "deploy_start", "deploy_end",
                                            "implementer", "go"],
                rows: entries.enumerated().map { index, e in
                    let r = e.detail.release
                    return [.int(index + 1), .text(r.group), .text(r.code), .text(r.title), .int(r.priority), .text(r.status.rawValue),
                            .timestamp(r.deployStart), .timestamp(r.deployEnd), .text(r.implementer), .bool(e.isGo)]
                })
    }

    public var json: JSONValue {
        .object([
            ("code", .string(window.code)), ("start", .timestamp(window.start)), ("end", .timestamp(window.end)),
            ("capacity", .int(window.capacity)), ("kind", .string(window.kind.rawValue)), ("used", .int(window.used)),
            ("releases", .array(entries.map { e in
                guard case .object(var pairs) = ReleaseView.json(e.detail) else { return .null }
                pairs.append(("go", .bool(e.isGo)))
                pairs.append(("go_no_go", .array(e.goNoGo.map { .object([("name", .string($0.name)), ("satisfied", .bool($0.satisfied))]) })))
                return .object(pairs)
            })),
        ])
    }

    public func text(zone: TimeZone) -> String {
        var lines = ["service window \(window.code)  \(Timestamps.local(window.start, in: zone)) – \(Timestamps.local(window.end, in: zone))  (\(window.kind.rawValue))",
                     "load: \(window.used)/\(window.capacity) used\(window.used > window.capacity ? "  — OVER CAPACITY" : "")", ""]
        if entries.isEmpty { lines.append("(no releases in this window)") }
        for (index, e) in entries.enumerated() {
            let r = e.detail.release
            let when = "\(r.deployStart.map { Timestamps.local($0, in: zone) } ?? "—") – \(r.deployEnd.map { Timestamps.local($0, in: zone) } ?? "—")"
            lines.append("\(index + 1). \(r.ref)  \(OneLine.text(r.title))  [priority \(r.priority), \(r.status.rawValue)]  \(e.isGo ? "GO" : "NO-GO")")
            lines.append("   deploy \(when)  implementer: \(r.implementer ?? "unassigned")")
            for p in e.detail.packages {
                for u in p.units { lines.append("   unit \(p.code)/\(u.code) → \(u.target)\(u.version.map { " \($0)" } ?? "")") }
            }
            for b in e.detail.bookings {
                lines.append("   booking \(b.environment) \(Timestamps.local(b.start, in: zone)) – \(Timestamps.local(b.end, in: zone)) \(b.status.rawValue)")
            }
            for c in e.goNoGo { lines.append("   [\(c.satisfied ? "x" : " ")] \(c.name)") }
            if e.openHighDeviations > 0 { lines.append("   ! \(e.openHighDeviations) open high deviation(s)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

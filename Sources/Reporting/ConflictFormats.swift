import Foundation
import Scheduling

/// Conflicts and resolutions in the contract's shapes (DESIGN.md §4), for the CLI and the report.
public enum ConflictFormats {
    public static let columns = ["type", "severity", "window", "environment", "target", "releases", "groups", "message"]

    public static func fields(_ c: Conflict) -> [(String, JSONValue)] {
        [("type", .string(c.type.rawValue)), ("severity", .string(c.severity.rawValue)), ("window", .string(c.window)),
         ("environment", .string(c.environment)), ("target", .string(c.target)), ("releases", .strings(c.releases)),
         ("groups", .strings(c.groups)), ("message", .string(c.message))]
    }

    /// `{"generated_at", "conflicts": [...], "summary": {"total", "by_type"}}`.
    public static func document(_ conflicts: [Conflict], generatedAt: Date,
                                extra: (Conflict) -> [(String, JSONValue)] = { _ in [] }) -> JSONValue {
        var byType: [String: Int] = [:]
        for c in conflicts { byType[c.type.rawValue, default: 0] += 1 }
        return .object([
            ("generated_at", .timestamp(generatedAt)),
            ("conflicts", .array(conflicts.map { .object(fields($0) + extra($0)) })),
            ("summary", .object([
                ("total", .int(conflicts.count)),
                ("by_type", .object(ConflictType.allCases.compactMap { t in byType[t.rawValue].map { (t.rawValue, .int($0)) } })),
            ])),
        ])
    }

    /// Adds `new`, `open` and `resolved` to the document's summary (null when unknown), so every
    /// summary has the same keys: `conflicts --format json` and the report's `conflicts.json`.
    public static func withStanding(_ document: JSONValue, new: Int?, open: Int?, resolved: Int?) -> JSONValue {
        guard case .object(var pairs) = document,
              let index = pairs.firstIndex(where: { $0.0 == "summary" }),
              case .object(var summary) = pairs[index].1 else { return document }
        summary += [("new", new.map { .int($0) } ?? .null), ("open", open.map { .int($0) } ?? .null),
                    ("resolved", resolved.map { .int($0) } ?? .null)]
        pairs[index].1 = .object(summary)
        return .object(pairs)
    }

    public static func csv(_ conflicts: [Conflict], dialect: CSVDialect = .standard, extraColumns: [String] = [],
                           extra: (Conflict) -> [String] = { _ in [] }) -> String {
        CSVText.document(header: columns + extraColumns, rows: conflicts.map { c in
            [c.type.rawValue, c.severity.rawValue, c.window ?? "", c.environment ?? "", c.target ?? "",
             c.releases.joined(separator: "|"), c.groups.joined(separator: "|"), c.message] + extra(c)
        }, dialect: dialect)
    }

    /// For people: times in `zone`.
    public static func table(_ conflicts: [Conflict], zone: TimeZone) -> String {
        guard !conflicts.isEmpty else { return "no conflicts\n" }
        var text = TextTable(headers: ["TYPE", "RESOURCE", "RELEASES"], rows: conflicts.map {
            [$0.type.rawValue, $0.resource?.code ?? "", $0.releases.joined(separator: ", ")]
        }).render()
        text += "\n"
        let times = LocalTimes(zone: zone)
        for c in conflicts { text += "- \(c.type.rawValue): \(OneLine.text(times.render(c.text)))\n" }
        var byType: [String: Int] = [:]
        for c in conflicts { byType[c.type.rawValue, default: 0] += 1 }
        text += "\n\(conflicts.count) conflict\(conflicts.count == 1 ? "" : "s"): "
            + ConflictType.allCases.compactMap { t in byType[t.rawValue].map { "\($0) \(t.rawValue)" } }.joined(separator: ", ") + "\n"
        return text
    }

    // MARK: Resolutions

    /// `waiting`: moves stored and not carried out (release, status `approved`/`pending`, ids of the moves it waits on).
    public static func resolutionJSON(_ resolution: Resolution, proposalIDs: [String: Int64] = [:], applied: Set<String> = [],
                                      waiting: [(release: String, status: String, waitsOn: [Int64])] = []) -> JSONValue {
        .object([
            ("proposals", .array(resolution.proposals.map { p in
                // Every proposal has every key: `applied` false and `proposal_id` null unless --apply made or stored it.
                .object([
                    ("release", .string(p.release)), ("action", .string(p.action.rawValue)), ("from", .string(p.from)),
                    ("to", .string(p.to)), ("reason", .string(p.reason)), ("applied", .bool(applied.contains(p.release))),
                    ("proposal_id", proposalIDs[p.release].map { .int(Int($0)) } ?? .null),
                    ("waits_on", .array((waiting.first { $0.release == p.release }?.waitsOn ?? []).map { .int(Int($0)) })),
                ])
            })),
            ("unresolved", .array(resolution.unresolved.map { .object([("release", .string($0.release)), ("reason", .string($0.reason))]) })),
            ("components", .array(resolution.components.map {
                .object([("releases", .strings($0.releases)), ("method", .string($0.method.rawValue)), ("search_nodes", .int($0.searchNodes))])
            })),
        ])
    }

    public static func resolutionCSV(_ resolution: Resolution, dialect: CSVDialect = .standard) -> String {
        CSVText.document(
            header: ["release", "action", "from", "to", "reason"],
            rows: resolution.proposals.map { [$0.release, $0.action.rawValue, $0.from, $0.to, $0.reason] }
                + resolution.unresolved.map { [$0.release, "unresolved", "", "", $0.reason] },
            dialect: dialect)
    }

    /// For people: the reasons' times in `zone`.
    public static func resolutionText(_ resolution: Resolution, zone: TimeZone) -> String {
        let times = LocalTimes(zone: zone)
        var lines: [String] = []
        if resolution.proposals.isEmpty && resolution.unresolved.isEmpty { return "nothing to resolve\n" }
        for p in resolution.proposals { lines.append("- \(times.render(utc: p.reason))") }
        if !resolution.unresolved.isEmpty {
            lines.append("")
            lines.append("unresolved:")
            for u in resolution.unresolved { lines.append("- \(u.release): \(times.render(utc: u.reason))") }
        }
        if !resolution.components.isEmpty {
            lines.append("")
            for c in resolution.components {
                lines.append("component of \(c.releases.count) release\(c.releases.count == 1 ? "" : "s") (\(c.releases.joined(separator: ", "))): solved \(c.method.rawValue)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

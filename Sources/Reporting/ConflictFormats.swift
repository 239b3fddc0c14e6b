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

    public static func csv(_ conflicts: [Conflict], extraColumns: [String] = [], extra: (Conflict) -> [String] = { _ in [] }) -> String {
        var text = CSVText.line(columns + extraColumns)
        for c in conflicts {
            text += CSVText.line([c.type.rawValue, c.severity.rawValue, c.window ?? "", c.environment ?? "", c.target ?? "",
                                  c.releases.joined(separator: "|"), c.groups.joined(separator: "|"), c.message] + extra(c))
        }
        return text
    }

    public static func table(_ conflicts: [Conflict]) -> String {
        guard !conflicts.isEmpty else { return "no conflicts\n" }
        var text = TextTable(headers: ["TYPE", "RESOURCE", "RELEASES"], rows: conflicts.map {
            [$0.type.rawValue, $0.window ?? $0.environment ?? $0.target ?? "", $0.releases.joined(separator: ", ")]
        }).render()
        text += "\n"
        for c in conflicts { text += "- \(c.type.rawValue): \(c.message)\n" }
        var byType: [String: Int] = [:]
        for c in conflicts { byType[c.type.rawValue, default: 0] += 1 }
        text += "\n\(conflicts.count) conflict\(conflicts.count == 1 ? "" : "s"): "
            + ConflictType.allCases.compactMap { t in byType[t.rawValue].map { "\($0) \(t.rawValue)" } }.joined(separator: ", ") + "\n"
        return text
    }

    // MARK: Resolutions

    public static func resolutionJSON(_ resolution: Resolution, proposalIDs: [String: Int64] = [:], applied: Set<String> = []) -> JSONValue {
        .object([
            ("proposals", .array(resolution.proposals.map { p in
                var pairs: [(String, JSONValue)] = [
                    ("release", .string(p.release)), ("action", .string(p.action.rawValue)), ("from", .string(p.from)),
                    ("to", .string(p.to)), ("reason", .string(p.reason)),
                ]
                if applied.contains(p.release) { pairs.append(("applied", .bool(true))) }
                if let id = proposalIDs[p.release] { pairs.append(("proposal_id", .int(Int(id)))) }
                return .object(pairs)
            })),
            ("unresolved", .array(resolution.unresolved.map { .object([("release", .string($0.release)), ("reason", .string($0.reason))]) })),
            ("components", .array(resolution.components.map {
                .object([("releases", .strings($0.releases)), ("method", .string($0.method.rawValue)), ("search_nodes", .int($0.searchNodes))])
            })),
        ])
    }

    public static func resolutionCSV(_ resolution: Resolution) -> String {
        var text = CSVText.line(["release", "action", "from", "to", "reason"])
        for p in resolution.proposals { text += CSVText.line([p.release, p.action.rawValue, p.from, p.to, p.reason]) }
        for u in resolution.unresolved { text += CSVText.line([u.release, "unresolved", "", "", u.reason]) }
        return text
    }

    public static func resolutionText(_ resolution: Resolution) -> String {
        var lines: [String] = []
        if resolution.proposals.isEmpty && resolution.unresolved.isEmpty { return "nothing to resolve\n" }
        for p in resolution.proposals { lines.append("- \(p.reason)") }
        if !resolution.unresolved.isEmpty {
            lines.append("")
            lines.append("unresolved:")
            for u in resolution.unresolved { lines.append("- \(u.release): \(u.reason)") }
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

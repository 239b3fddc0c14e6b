import Foundation
import ReleaseStore
import Reporting

/// Listings the CLI prints with `--format json` and the server answers with: one shape for both.
public enum PlanViews {
    /// `window list`.
    public static func windows(_ windows: [WindowRecord]) -> Listing {
        Listing(noun: "windows", columns: ["code", "start", "end", "capacity", "kind", "used"], rows: windows.map { w in
            [.text(w.code), .timestamp(w.start), .timestamp(w.end), .int(w.capacity), .text(w.kind.rawValue), .int(w.used)]
        })
    }

    /// `schedule proposals`.
    public static func proposals(_ proposals: [StoredProposal]) -> Listing {
        Listing(noun: "proposals", columns: ["id", "release", "action", "from", "to", "reason", "status", "waits_on", "needed_by",
                                             "decision_reason"],
                rows: proposals.map {
                    [.int(Int($0.id)), .text($0.release), .text($0.action), .text($0.from), .text($0.to),
                     .text($0.reason), .text($0.status), .text($0.waitsOn.map { String($0.id) }.joined(separator: " ")),
                     .text($0.neededBy.map { String($0.id) }.joined(separator: " ")), .text($0.decisionReason ?? "")]
                }) { _ in
            TextTable(headers: ["ID", "RELEASE", "FROM", "TO", "STATUS", "BY", "WAITS ON", "NEEDED BY"], rows: proposals.map {
                [String($0.id), $0.release, $0.from, $0.to, $0.status, $0.proposedBy, links($0.waitsOn), links($0.neededBy)]
            })
        }
    }

    /// "12 HR/J (HR, pending); 13 …": the moves of a chain.
    public static func links(_ list: [StoredProposal.Link]) -> String {
        list.map { "\($0.id) \($0.release) (\($0.group), \($0.status))" }.joined(separator: "; ")
    }
}

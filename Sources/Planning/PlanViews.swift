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

    /// `env list`.
    public static func environments(_ environments: [EnvironmentRecord]) -> Listing {
        Listing(noun: "environments", columns: ["code", "name", "kind", "capacity"], rows: environments.map { e in
            [.text(e.code), .text(e.name), .text(e.kind.rawValue), .int(e.capacity)]
        })
    }

    /// Environment bookings, in the fields `release show` gives each of a release's bookings, with
    /// the booking's id and release (the CLI has no bookings listing).
    public static func bookings(_ bookings: [BookingRecord]) -> Listing {
        Listing(noun: "bookings", columns: ["id", "release", "environment", "start", "end", "status"], rows: bookings.map(bookingCells))
    }

    public static func booking(_ b: BookingRecord) -> JSONValue {
        .object(zip(bookings([]).columns, bookingCells(b)).map { ($0, $1.json) })
    }

    static func bookingCells(_ b: BookingRecord) -> [Cell] {
        [.int(Int(b.id)), .text(b.release), .text(b.environment), .timestamp(b.start), .timestamp(b.end), .text(b.status.rawValue)]
    }

    /// `audit` (JSON keeps every row key; the table shortens them).
    public static func audit(_ entries: [AuditEntry], rowKey: (String) -> String = { $0 }) -> Listing {
        Listing(noun: "entries", columns: ["id", "at", "login", "acting_role", "table", "operation", "row", "group", "release", "change"],
                rows: entries.map { e in
                    [.int(Int(e.id)), .timestamp(e.at), .text(e.login), .text(e.actingRole), .text(e.table), .text(e.operation.lowercased()),
                     .text(rowKey(e.rowKey)), .text(e.group), .text(e.release), .text(e.change)]
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

import Foundation
import Scheduling

/// The report's conflicts in a fixed order: new, then open by age (oldest first), then resolved
/// (most recently resolved first), with explicit tie-breaks so equal inputs give equal bytes.
enum ConflictOrder {
    static func sorted(_ conflicts: [NightlyReport.TrackedConflict]) -> [NightlyReport.TrackedConflict] {
        conflicts.sorted(by: precedes)
    }

    static func precedes(_ a: NightlyReport.TrackedConflict, _ b: NightlyReport.TrackedConflict) -> Bool {
        if a.status != b.status { return rank(a.status) < rank(b.status) }
        switch a.status {
        case .new: break
        case .open:
            if a.firstSeen != b.firstSeen { return a.firstSeen < b.firstSeen }
        case .resolved:
            let left = a.resolvedAt ?? .distantPast, right = b.resolvedAt ?? .distantPast
            if left != right { return left > right }
        }
        if a.conflict.severity != b.conflict.severity { return a.conflict.severity == .error }
        let typeA = typeRank(a.conflict.type), typeB = typeRank(b.conflict.type)
        if typeA != typeB { return typeA < typeB }
        if a.conflict.identity != b.conflict.identity { return a.conflict.identity < b.conflict.identity }
        if a.firstSeen != b.firstSeen { return a.firstSeen < b.firstSeen }
        if a.conflict.message != b.conflict.message { return a.conflict.message < b.conflict.message }
        return a.conflict.releases.lexicographicallyPrecedes(b.conflict.releases)
    }

    static func rank(_ status: NightlyReport.Status) -> Int {
        switch status {
        case .new: 0
        case .open: 1
        case .resolved: 2
        }
    }

    static func typeRank(_ type: ConflictType) -> Int {
        ConflictType.allCases.firstIndex(of: type) ?? 0
    }
}

/// `conflicts.json` and `conflicts.csv`: the contract's shape (DESIGN.md §4) plus how each
/// conflict stands against the previous run.
enum ConflictExport {
    static let extraColumns = ["id", "status", "first_seen", "resolved_at"]

    static func json(_ ordered: [NightlyReport.TrackedConflict], generatedAt: Date, extra: [(String, JSONValue)] = []) -> String {
        var pending = TrackedLookup(ordered)
        let document = ConflictFormats.document(ordered.map(\.conflict), generatedAt: generatedAt) { conflict in
            guard let tracked = pending.take(conflict) else { return [] }
            let pairs: [(String, JSONValue)] = [
                ("id", .string(conflict.identity)),
                ("status", .string(tracked.status.rawValue)),
                ("first_seen", .timestamp(tracked.firstSeen)),
                // Every conflict has every key: null until it is resolved.
                ("resolved_at", .timestamp(tracked.status == .resolved ? tracked.resolvedAt : nil)),
            ]
            return pairs
        }
        func count(_ status: NightlyReport.Status) -> Int { ordered.lazy.filter { $0.status == status }.count }
        var standing = ConflictFormats.withStanding(document, new: count(.new), open: count(.open), resolved: count(.resolved))
        if case .object(let pairs) = standing, !extra.isEmpty { standing = .object(pairs + extra) }
        return standing.serialized(pretty: true) + "\n"
    }

    static func csv(_ ordered: [NightlyReport.TrackedConflict]) -> String {
        var pending = TrackedLookup(ordered)
        return ConflictFormats.csv(ordered.map(\.conflict), extraColumns: extraColumns) { conflict in
            guard let tracked = pending.take(conflict) else { return ["", "", "", ""] }
            return [conflict.identity, tracked.status.rawValue, Timestamps.rfc3339(tracked.firstSeen),
                    tracked.resolvedAt.map(Timestamps.rfc3339) ?? ""]
        }
    }
}

/// Finds the tracked conflict behind each `Conflict` that `ConflictFormats` hands back, in order,
/// even if two entries share an identity (a resolved one and a reappearance, say).
private struct TrackedLookup {
    private var queues: [String: ArraySlice<NightlyReport.TrackedConflict>]

    init(_ conflicts: [NightlyReport.TrackedConflict]) {
        queues = Dictionary(grouping: conflicts, by: \.conflict.identity).mapValues { ArraySlice($0) }
    }

    mutating func take(_ conflict: Conflict) -> NightlyReport.TrackedConflict? {
        queues[conflict.identity]?.popFirst()
    }
}

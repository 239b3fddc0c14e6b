import Foundation

extension NightlyReport {
    /// One stored move, as the coordination lists name it.
    public struct MoveRef: Sendable, Hashable {
        public var id: Int64
        /// `GROUP/CODE`.
        public var release: String
        public var group: String
        /// `pending` (its group decides) or `approved` (its group agreed; it waits).
        public var status: String

        public init(id: Int64, release: String, group: String, status: String) {
            self.id = id
            self.release = release
            self.group = group
            self.status = status
        }
    }

    /// An open move of one group that waits on an open move of another group.
    public struct WaitLink: Sendable, Hashable {
        public var move: MoveRef
        public var waitsOn: MoveRef

        public init(move: MoveRef, waitsOn: MoveRef) {
            self.move = move
            self.waitsOn = waitsOn
        }
    }

    /// What one group waits on and what waits on it.
    public struct GroupWaits: Sendable, Hashable {
        public var group: String
        /// Moves of the group's releases that wait on other groups' moves.
        public var waitingOnOthers: [WaitLink]
        /// Other groups' moves that wait on moves of this group's releases.
        public var othersWaitingOnYou: [WaitLink]
    }

    /// Per group (the report's own, or every group with something waiting), in group order.
    public var groupWaits: [GroupWaits] {
        let ordered = waits.sorted { ($0.move.id, $0.waitsOn.id) < ($1.move.id, $1.waitsOn.id) }
        let involved = Set(ordered.flatMap { [$0.move.group, $0.waitsOn.group] })
        let shown = group.map { [$0] } ?? (groups.filter(involved.contains) + involved.subtracting(groups).sorted())
        return shown.compactMap { g in
            let mine = ordered.filter { $0.move.group == g }
            let theirs = ordered.filter { $0.waitsOn.group == g }
            if group == nil && mine.isEmpty && theirs.isEmpty { return nil }
            return GroupWaits(group: g, waitingOnOthers: mine, othersWaitingOnYou: theirs)
        }
    }
}

/// The coordination lists in `conflicts.json`: an additive top-level `coordination` array.
enum CoordinationExport {
    static func json(_ report: NightlyReport) -> JSONValue {
        func ref(_ m: NightlyReport.MoveRef) -> JSONValue {
            .object([("id", .int(Int(m.id))), ("release", .string(m.release)), ("group", .string(m.group)), ("status", .string(m.status))])
        }
        func link(_ l: NightlyReport.WaitLink) -> JSONValue { .object([("move", ref(l.move)), ("waits_on", ref(l.waitsOn))]) }
        return .array(report.groupWaits.map { g in
            .object([("group", .string(g.group)), ("waiting_on_others", .array(g.waitingOnOthers.map(link))),
                     ("others_waiting_on_you", .array(g.othersWaitingOnYou.map(link)))])
        })
    }
}

extension ReportDigest {
    /// One group's two lists, for Markdown and HTML.
    struct CoordinationGroup {
        let group: String
        let waitingOnOthers: [String]
        let hasWaitingOnOthers: Bool
        let othersWaitingOnYou: [String]
        let hasOthersWaitingOnYou: Bool
    }

    /// "move 12 (CRM/A, approved) waits on move 13 (HR/B, pending for HR)".
    static func coordinationGroups(_ report: NightlyReport, escape: (String) -> String) -> [CoordinationGroup] {
        func line(_ l: NightlyReport.WaitLink) -> String {
            escape("move \(l.move.id) (\(l.move.release), \(l.move.status)) waits on move \(l.waitsOn.id) (\(l.waitsOn.release), "
                   + (l.waitsOn.status == "pending" ? "pending: \(l.waitsOn.group) accepts with relplan schedule accept \(l.waitsOn.id))" : "\(l.waitsOn.status))"))
        }
        return report.groupWaits.map { g in
            CoordinationGroup(group: escape(g.group), waitingOnOthers: g.waitingOnOthers.map(line), hasWaitingOnOthers: !g.waitingOnOthers.isEmpty,
                              othersWaitingOnYou: g.othersWaitingOnYou.map(line), hasOthersWaitingOnYou: !g.othersWaitingOnYou.isEmpty)
        }
    }
}

import Foundation
import Postgres
import Scheduling

/// What the server's always-current calendar reads without recording anything: the nightly
/// job's history and event revisions, as they stand, next to the conflicts of now.
extension ReportStore {
    /// `conflicts` with the history's first-seen times: open when the last run saw them open, else new.
    public func liveHistory(of conflicts: [Conflict], now: Date, _ db: Connection) throws -> [HistoryEntry] {
        var known: [String: Date] = [:]
        for row in try db.query("SELECT identity, first_seen FROM conflict_history WHERE resolved_at IS NULL").rows {
            let (identity, firstSeen) = try row.decode((String, Date).self)
            known[identity] = firstSeen
        }
        return conflicts.map { conflict in
            let firstSeen = known[conflict.identity]
            return HistoryEntry(conflict: conflict, status: firstSeen == nil ? .new : .open, firstSeen: firstSeen ?? now,
                                lastSeen: now, resolvedAt: nil)
        }
    }

    /// The revisions the nightly job recorded for one calendar ('' for all groups), by UID.
    public func recordedEvents(calendar: String, _ db: Connection) throws -> [String: (fingerprint: String, sequence: Int, lastModified: Date)] {
        var events: [String: (fingerprint: String, sequence: Int, lastModified: Date)] = [:]
        for row in try db.query("SELECT uid, fingerprint, sequence, last_modified FROM calendar_event_sequence WHERE calendar = \(calendar)").rows {
            let (uid, fingerprint, sequence, lastModified) = try row.decode((String, String, Int, Date).self)
            events[uid] = (fingerprint, sequence, lastModified)
        }
        return events
    }
}

import Foundation
import Postgres
import ReleaseCore

public struct AuditEntry: Sendable, Equatable {
    public let id: Int64
    public let at: Date
    public let login: String
    public let actingRole: String
    public let table: String
    public let operation: String
    public let rowKey: String
    public let group: String?
    public let release: String?
    /// Changed fields as `field: old → new` (updates), the row's fields (inserts, deletes), or
    /// "N rows" for a bulk statement audited by key (sql/0007, sql/0009): the release's rows when
    /// the trail is read for one release, else the statement's rows in the group.
    public let change: String
}

/// Reads the audit trail the database writes.
public struct AuditTrail {
    let db: Connection

    public init(_ db: Connection) { self.db = db }

    public func entries(group: String?, release: ReleaseRef?, since: Date?, limit: Int = 1000) throws -> [AuditEntry] {
        let group = group.map(CodeKind.canonical)
        if let group { _ = try Lookup.id(.group, group, db) }
        let releaseID = try release.map { try Lookup.release($0, db).id }
        // A bulk row (release_ids set) covers many releases; read for one release, it shows that
        // release's part: its keys and row count (sql/0009).
        return try db.query("""
            SELECT a.id, a.at, a.login, a.acting_role, a.table_name, a.operation,
                   CASE WHEN part.i IS NOT NULL THEN split_part(a.row_key, ';', part.i) ELSE a.row_key END, g.code,
                   (SELECT rg.code || '/' || r.code FROM release r JOIN management_group rg ON rg.id = r.group_id
                    WHERE r.id = coalesce(a.release_id, a.release_ids[part.i])),
                   CASE WHEN a.new_row IS NULL AND a.old_row IS NULL THEN
                            coalesce(a.release_rows[part.i], a.row_count) || CASE WHEN coalesce(a.release_rows[part.i], a.row_count) = 1 THEN ' row' ELSE ' rows' END
                            || CASE WHEN part.i IS NULL AND cardinality(a.release_ids) > 1 THEN ' in ' || cardinality(a.release_ids) || ' releases' ELSE '' END
                     WHEN a.operation = 'UPDATE' THEN (SELECT string_agg(n.key || ': ' || coalesce(a.old_row ->> n.key, '∅') || ' → ' || coalesce(n.value #>> '{}', '∅'), ', ' ORDER BY n.key)
                                         FROM jsonb_each(a.new_row) n
                                         WHERE n.key NOT IN ('row_version', 'updated_at', 'updated_by')
                                           AND a.old_row -> n.key IS DISTINCT FROM n.value)
                     ELSE (SELECT string_agg(f.key || '=' || coalesce(f.value #>> '{}', '∅'), ', ' ORDER BY f.key)
                           FROM jsonb_each(coalesce(a.new_row, a.old_row)) f
                           WHERE f.key NOT IN ('id', 'group_id', 'row_version', 'updated_at', 'updated_by', 'created_at') AND f.value <> 'null')
                   END
            FROM audit_log a LEFT JOIN management_group g ON g.id = a.group_id
            CROSS JOIN LATERAL (SELECT array_position(a.release_ids, \(releaseID)::bigint) AS i) AS part
            WHERE (\(group)::text IS NULL OR g.code = \(group)) AND (\(since)::timestamptz IS NULL OR a.at >= \(since))
              AND (\(releaseID)::bigint IS NULL OR a.release_id = \(releaseID) OR a.release_ids @> ARRAY[\(releaseID)::bigint])
            ORDER BY a.id DESC LIMIT \(limit)
            """).rows.map {
            let (id, at, login, actingRole, table, operation, rowKey, group, release, change)
                = try $0.decode((Int64, Date, String, String, String, String, String, String?, String?, String?).self)
            return AuditEntry(id: id, at: at, login: login, actingRole: actingRole, table: table, operation: operation,
                              rowKey: rowKey, group: group, release: release, change: Self.utcStyle(change ?? ""))
        }.reversed()
    }

    private static let offsetStamp = try? NSRegularExpression(pattern: "([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\\.[0-9]+)?\\+00:00")

    /// The trail keeps rows as JSON, whose timestamps read `2027-03-14T17:00:00+00:00`; shown as
    /// everything else shows them: `2027-03-14T17:00:00Z` (the session's zone is UTC).
    static func utcStyle(_ text: String) -> String {
        guard text.contains("+00:00"), let offsetStamp else { return text }
        return offsetStamp.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1Z")
    }
}

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
    /// "N rows" for a bulk statement audited by key (sql/0007).
    public let change: String
}

/// Reads the audit trail the database writes.
public struct AuditTrail {
    let db: Connection

    public init(_ db: Connection) { self.db = db }

    public func entries(group: String?, release: ReleaseRef?, since: Date?, limit: Int = 1000) throws -> [AuditEntry] {
        if let group { _ = try Lookup.id(.group, group, db) }
        let releaseID = try release.map { try Lookup.release($0, db).id }
        return try db.query("""
            SELECT a.id, a.at, a.login, a.acting_role, a.table_name, a.operation, a.row_key, g.code,
                   (SELECT rg.code || '/' || r.code FROM release r JOIN management_group rg ON rg.id = r.group_id WHERE r.id = a.release_id),
                   CASE WHEN a.new_row IS NULL AND a.old_row IS NULL THEN a.row_count || CASE WHEN a.row_count = 1 THEN ' row' ELSE ' rows' END
                     WHEN a.operation = 'UPDATE' THEN (SELECT string_agg(n.key || ': ' || coalesce(a.old_row ->> n.key, '∅') || ' → ' || coalesce(n.value #>> '{}', '∅'), ', ' ORDER BY n.key)
                                         FROM jsonb_each(a.new_row) n
                                         WHERE n.key NOT IN ('row_version', 'updated_at', 'updated_by')
                                           AND a.old_row -> n.key IS DISTINCT FROM n.value)
                     ELSE (SELECT string_agg(f.key || '=' || coalesce(f.value #>> '{}', '∅'), ', ' ORDER BY f.key)
                           FROM jsonb_each(coalesce(a.new_row, a.old_row)) f
                           WHERE f.key NOT IN ('id', 'group_id', 'row_version', 'updated_at', 'updated_by', 'created_at') AND f.value <> 'null')
                   END
            FROM audit_log a LEFT JOIN management_group g ON g.id = a.group_id
            WHERE ($1::text IS NULL OR g.code = $1) AND ($2::bigint IS NULL OR a.release_id = $2) AND ($3::timestamptz IS NULL OR a.at >= $3)
            ORDER BY a.id DESC LIMIT $4
            """, [group, releaseID, since, limit]).rows.map {
            AuditEntry(id: try $0.decode(Int64.self, 0), at: try $0.decode(Date.self, 1), login: try $0.decode(String.self, 2),
                       actingRole: try $0.decode(String.self, 3), table: try $0.decode(String.self, 4), operation: try $0.decode(String.self, 5),
                       rowKey: try $0.decode(String.self, 6), group: try $0.decode(String?.self, 7), release: try $0.decode(String?.self, 8),
                       change: try $0.decode(String?.self, 9) ?? "")
        }.reversed()
    }
}

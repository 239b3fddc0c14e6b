import Foundation
import Postgres
import ReleaseCore

/// Turns the codes people type into row ids, or into "unknown X (did you mean Y?)".
///
enum Lookup {
    enum Table {
        case group, environment, window, freeze, model

        /// Whole statements per table: identifiers are never pasted into SQL, not even constant ones.
        func idByCode(_ code: String) -> SQL {
            switch self {
            case .group: "SELECT id FROM management_group WHERE code = \(code)"
            case .environment: "SELECT id FROM environment WHERE code = \(code)"
            case .window: "SELECT id FROM service_window WHERE code = \(code)"
            case .freeze: "SELECT id FROM change_freeze WHERE code = \(code)"
            // The shared model; a group's own is found by `model(_:group:_:)`.
            case .model: "SELECT id FROM release_model WHERE code = \(code) AND group_id IS NULL ORDER BY version DESC LIMIT 1"
            }
        }

        var allCodes: SQL {
            switch self {
            case .group: "SELECT code FROM management_group"
            case .environment: "SELECT code FROM environment"
            case .window: "SELECT code FROM service_window"
            case .freeze: "SELECT code FROM change_freeze"
            case .model: "SELECT DISTINCT code FROM release_model WHERE group_id IS NULL"
            }
        }

        var noun: String {
            switch self {
            case .group: "group"
            case .environment: "environment"
            case .window: "service window"
            case .freeze: "freeze"
            case .model: "release model"
            }
        }
    }

    /// `code` is looked up in NFC, the form codes are stored in (sql/0016).
    static func id(_ table: Table, _ code: String, _ db: Connection) throws -> Int {
        let code = CodeKind.canonical(code)
        if let row = try db.query(table.idByCode(code)).first {
            return try row.decode(Int.self, "id")
        }
        let all = try db.query(table.allCodes).rows.map { try $0.decode(String.self, "code") }
        throw StoreError.notFound(kind: table.noun, code: code, suggestion: Suggestions.nearest(to: code, in: all))
    }

    static func optionalID(_ table: Table, _ code: String?, _ db: Connection) throws -> Int? {
        guard let code else { return nil }
        return try id(table, code, db)
    }

    /// The latest version of a release model by code as a group sees it: the group's own, else the
    /// shared one (sql/0019). Another group's model of that code is never found.
    static func model(_ code: String, group groupID: Int, _ db: Connection) throws -> Int {
        let code = CodeKind.canonical(code)
        if let row = try db.query("""
            SELECT id FROM release_model WHERE code = \(code) AND (group_id = \(groupID) OR group_id IS NULL)
            ORDER BY group_id IS NULL, version DESC LIMIT 1
            """).first {
            return try row.decode(Int.self, "id")
        }
        let all = try db.query("SELECT DISTINCT code FROM release_model WHERE group_id = \(groupID) OR group_id IS NULL").rows
            .map { try $0.decode(String.self, "code") }
        throw StoreError.notFound(kind: "release model", code: code, suggestion: Suggestions.nearest(to: code, in: all))
    }

    /// A release by `GROUP/CODE`, with its group id, row version and status.
    static func release(_ ref: ReleaseRef, _ db: Connection) throws -> ReleaseKey {
        if let row = try db.query("""
            SELECT r.id, r.group_id, r.row_version, r.status FROM release r JOIN management_group g ON g.id = r.group_id
            WHERE g.code = \(ref.group) AND r.code = \(ref.code)
            """).first {
            let (id, groupID, version, status) = try row.decode((Int64, Int, Int, String).self)
            return ReleaseKey(ref: ref, id: id, groupID: groupID, version: version, status: status)
        }
        _ = try id(.group, ref.group, db)
        let codes = try db.query("""
            SELECT r.code FROM release r JOIN management_group g ON g.id = r.group_id WHERE g.code = \(ref.group)
            """).rows.map { "\(ref.group)/\(try $0.decode(String.self, "code"))" }
        throw StoreError.notFound(kind: "release", code: ref.description, suggestion: Suggestions.nearest(to: ref.description, in: codes))
    }

    static func plan(group: String, code: String, _ db: Connection) throws -> (id: Int64, groupID: Int, modelID: Int?) {
        let group = CodeKind.canonical(group), code = CodeKind.canonical(code)
        if let row = try db.query("""
            SELECT p.id, p.group_id, p.model_id FROM release_plan p JOIN management_group g ON g.id = p.group_id
            WHERE g.code = \(group) AND p.code = \(code)
            """).first {
            return try row.decode((Int64, Int, Int?).self)
        }
        _ = try id(.group, group, db)
        let codes = try db.query("""
            SELECT p.code FROM release_plan p JOIN management_group g ON g.id = p.group_id WHERE g.code = \(group)
            """).rows.map { try $0.decode(String.self, "code") }
        throw StoreError.notFound(kind: "plan", code: "\(group)/\(code)", suggestion: Suggestions.nearest(to: code, in: codes).map { "\(group)/\($0)" })
    }
}

/// The row identity of a release, with what optimistic concurrency needs.
public struct ReleaseKey: Sendable, Hashable {
    public let ref: ReleaseRef
    public let id: Int64
    public let groupID: Int
    public let version: Int
    public let status: String
}

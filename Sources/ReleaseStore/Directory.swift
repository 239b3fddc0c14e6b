import Foundation
import Postgres
import ReleaseCore

public struct GroupRecord: Sendable, Equatable {
    public let code: String
    public let name: String
    public let members: Int
    public let createdAt: Date
}

public struct MemberRecord: Sendable, Equatable {
    public let group: String
    public let login: String
    public let role: MemberRole
    public let addedAt: Date
    public let addedBy: String
}

/// Groups and the people in them.
public struct Directory {
    let db: Connection

    public init(_ db: Connection) { self.db = db }

    public func createGroup(code: String, name: String, by identity: Identity) throws {
        try identity.requireAdmin(to: "create group \(code)")
        let code = try CodeKind.group.validate(code)
        try translatingUniqueViolation("group \(code) exists already") {
            try db.execute("INSERT INTO management_group (code, name) VALUES (\(code), \(name))")
        }
    }

    public func groups() throws -> [GroupRecord] {
        try db.query("""
            SELECT g.code, g.name, (SELECT count(*) FROM membership m WHERE m.group_id = g.id), g.created_at
            FROM management_group g ORDER BY g.code
            """).rows.map {
            let (code, name, members, createdAt) = try $0.decode((String, String, Int, Date).self)
            return GroupRecord(code: code, name: name, members: members, createdAt: createdAt)
        }
    }

    /// Creates a login role (or grants relplan_user to an existing one). Admins only.
    /// The password never leaves this process: only its SCRAM-SHA-256 verifier is sent.
    /// `reporter`: the login the nightly job runs as (relplan_reporter, sql/0019).
    public func createUser(login: String, password: String?, admin: Bool, reporter: Bool = false, by identity: Identity) throws {
        try identity.requireAdmin(to: "create user \(login)")
        let verifier = try password.map { try db.scramVerifier(password: $0, user: login) }
        try db.retryingTransaction { db in
            try db.execute("SELECT relplan_create_user(\(login), \(verifier))")
            if admin { try db.execute("SELECT relplan_grant_admin(\(login))") }
            if reporter { try db.execute("SELECT relplan_grant_reporter(\(login))") }
        }
    }

    public func addMember(group: String, login: String, role: MemberRole, by identity: Identity) throws {
        let groupID = try Lookup.id(.group, group, db)
        if !identity.isAdmin { try identity.require([.manager], in: group, to: "add members to \(group)") }
        guard try db.query("SELECT 1 FROM pg_roles WHERE rolname = \(login)").rowCount > 0 else {
            throw StoreError.notFound(kind: "login", code: login, suggestion: nil)
        }
        try db.execute("""
            INSERT INTO membership (group_id, role_name, role) VALUES (\(groupID), \(login), \(role.rawValue))
            ON CONFLICT (group_id, role_name) DO UPDATE SET role = EXCLUDED.role
            """)
    }

    public func removeMember(group: String, login: String, by identity: Identity) throws {
        let groupID = try Lookup.id(.group, group, db)
        if !identity.isAdmin { try identity.require([.manager], in: group, to: "remove members from \(group)") }
        let removed = try db.execute("DELETE FROM membership WHERE group_id = \(groupID) AND role_name = \(login)")
        if removed == 0 {
            throw StoreError.notFound(kind: "member of \(group)", code: login, suggestion: nil)
        }
    }

    public func members(group: String) throws -> [MemberRecord] {
        let groupID = try Lookup.id(.group, group, db)
        return try db.query("""
            SELECT role_name, role, added_at, added_by FROM membership WHERE group_id = \(groupID)
            ORDER BY array_position(ARRAY['manager','release-manager','member','viewer'], role), role_name
            """).rows.map {
            let (login, role, addedAt, addedBy) = try $0.decode((String, String, Date, String).self)
            return MemberRecord(group: group, login: login, role: MemberRole(rawValue: role) ?? .viewer, addedAt: addedAt, addedBy: addedBy)
        }
    }
}

/// Runs `body`, turning a unique violation into a message a person understands.
@discardableResult
func translatingUniqueViolation<T>(_ message: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as PostgresError where error.sqlState == .uniqueViolation {
        throw StoreError.invalid(message())
    }
}

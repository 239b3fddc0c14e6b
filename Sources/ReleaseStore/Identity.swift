import Foundation
import Postgres
import ReleaseCore

/// Who is connected and what they may do, read once per command.
///
/// The database enforces every rule with row-level security; this copy exists to refuse early
/// with a message that says who, what and why, instead of "0 rows updated".
public struct Identity: Sendable {
    public let login: String
    public let isAdmin: Bool
    /// Group code → the person's role in it.
    public let roles: [String: MemberRole]

    public static func current(_ db: Connection) throws -> Identity {
        let row = try db.query("SELECT current_user::text AS login, relplan_is_admin(current_user) AS is_admin").first
        let login = try row?.decode(String.self, "login") ?? ""
        let isAdmin = try row?.decode(Bool.self, "is_admin") ?? false
        var roles: [String: MemberRole] = [:]
        for row in try db.query("""
            SELECT g.code, m.role FROM membership m JOIN management_group g ON g.id = m.group_id
            WHERE m.role_name = current_user
            """).rows {
            let (group, name) = try row.decode((String, String).self)
            if let role = MemberRole(rawValue: name) {
                roles[group] = role
            }
        }
        return Identity(login: login, isAdmin: isAdmin, roles: roles)
    }

    public var plannerGroups: [String] {
        roles.filter { $0.value == .manager || $0.value == .releaseManager }.keys.sorted()
    }

    public func isPlanner(of group: String) -> Bool {
        roles[group] == .manager || roles[group] == .releaseManager
    }

    /// Refuses unless the person holds one of `allowed` in `group`.
    public func require(_ allowed: [MemberRole], in group: String, to action: String) throws {
        if let role = roles[group], allowed.contains(role) { return }
        let needed = allowed.map(\.rawValue).joined(separator: " or ")
        let article = needed.first.map { "aeiou".contains($0) } == true ? "an" : "a"
        let escalation = allowed.contains(.manager) && allowed.count == 1 ? "ask an admin" : "ask a manager of \(group)"
        throw StoreError.permissionDenied(
            who: login, what: action,
            why: "\(login) is not \(article) \(needed) of group \(group); \(escalation)")
    }

    public func requireAdmin(to action: String) throws {
        guard isAdmin else {
            throw StoreError.permissionDenied(
                who: login, what: action, why: "\(login) is not a relplan admin (member of relplan_admin); ask an admin")
        }
    }
}

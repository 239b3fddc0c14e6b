import Foundation
import Postgres
import ReleaseCore

public struct EnvironmentRecord: Sendable, Equatable {
    public let code: String
    public let name: String
    public let kind: EnvironmentKind
    public let capacity: Int
}

public struct WindowRecord: Sendable, Equatable {
    public let code: String
    public let start: Date
    public let end: Date
    public let capacity: Int
    public let kind: WindowKind
    /// Releases assigned to it that are neither cancelled nor closed.
    public let used: Int
}

public struct FreezeRecord: Sendable, Equatable {
    public let code: String
    public let start: Date
    public let end: Date
    public let reason: String
    public let environment: String?
}

/// A window to create, from `window create` or one occurrence of `window generate`.
public struct NewWindow: Sendable, Equatable {
    public let code: String
    public let start: Date
    public let end: Date

    /// `code` is kept in NFC, the form codes are stored in.
    public init(code: String, start: Date, end: Date) {
        self.code = CodeKind.canonical(code)
        self.start = start
        self.end = end
    }
}

/// The shared calendar that admins keep: environments, service windows, freezes, configuration items.
public struct SharedCalendar {
    let db: Connection

    public init(_ db: Connection) { self.db = db }

    // MARK: Environments

    public func createEnvironment(code: String, name: String, kind: EnvironmentKind, capacity: Int, by identity: Identity) throws {
        try identity.requireAdmin(to: "create environment \(code)")
        let code = try CodeKind.environment.validate(code)
        guard capacity >= 1 else { throw StoreError.invalid("an environment's capacity is at least 1 (got \(capacity))") }
        try translatingUniqueViolation("environment \(code) exists already") {
            try db.execute("INSERT INTO environment (code, name, kind, capacity) VALUES (\(code), \(name), \(kind.rawValue), \(capacity))")
        }
    }

    public func environments() throws -> [EnvironmentRecord] {
        try db.query("SELECT code, name, kind, capacity FROM environment ORDER BY code").rows.map {
            let (code, name, kind, capacity) = try $0.decode((String, String, String, Int).self)
            return EnvironmentRecord(code: code, name: name, kind: EnvironmentKind(rawValue: kind) ?? .test, capacity: capacity)
        }
    }

    // MARK: Service windows

    public func createWindow(_ window: NewWindow, capacity: Int, kind: WindowKind, by identity: Identity) throws {
        try identity.requireAdmin(to: "create service window \(window.code)")
        try validate(window, capacity: capacity)
        try translatingUniqueViolation("service window \(window.code) exists already") {
            try db.execute("""
                INSERT INTO service_window (code, starts_at, ends_at, capacity, kind) VALUES (\(window.code), \(window.start), \(window.end), \(capacity), \(kind.rawValue))
                """)
        }
    }

    /// Creates the windows that do not exist yet, in one transaction; returns (created, already there).
    public func generateWindows(_ windows: [NewWindow], capacity: Int, kind: WindowKind, by identity: Identity) throws -> (created: [String], existing: [String]) {
        try identity.requireAdmin(to: "generate service windows")
        for window in windows { try validate(window, capacity: capacity) }
        return try db.retryingTransaction { db in
            let created = try db.query("""
                INSERT INTO service_window (code, starts_at, ends_at, capacity, kind)
                SELECT * FROM unnest(\(windows.map(\.code))::text[], \(windows.map(\.start))::timestamptz[],
                                     \(windows.map(\.end))::timestamptz[]) AS w(code, starts_at, ends_at),
                              (VALUES (\(capacity)::integer, \(kind.rawValue)::text)) AS o(capacity, kind)
                ON CONFLICT (code) DO NOTHING
                RETURNING code
                """)
                .rows.map { try $0.decode(String.self, "code") }
            let createdSet = Set(created)
            return (windows.map(\.code).filter { createdSet.contains($0) }, windows.map(\.code).filter { !createdSet.contains($0) })
        }
    }

    public func windows(from: Date? = nil, to: Date? = nil) throws -> [WindowRecord] {
        try db.query("""
            SELECT w.code, w.starts_at, w.ends_at, w.capacity, w.kind,
                   (SELECT count(*) FROM release r WHERE r.window_id = w.id AND r.status NOT IN ('cancelled', 'closed'))
            FROM service_window w
            WHERE (\(from)::timestamptz IS NULL OR w.ends_at > \(from)) AND (\(to)::timestamptz IS NULL OR w.starts_at < \(to))
            ORDER BY w.starts_at, w.code
            """).rows.map(Self.window)
    }

    public func window(_ code: String) throws -> WindowRecord {
        let id = try Lookup.id(.window, code, db)
        guard let row = try db.query("""
            SELECT w.code, w.starts_at, w.ends_at, w.capacity, w.kind,
                   (SELECT count(*) FROM release r WHERE r.window_id = w.id AND r.status NOT IN ('cancelled', 'closed'))
            FROM service_window w WHERE w.id = \(id)
            """).first else { throw StoreError.notFound(kind: "service window", code: code, suggestion: nil) }
        return try Self.window(row)
    }

    static func window(_ row: Row) throws -> WindowRecord {
        let (code, start, end, capacity, kind, used) = try row.decode((String, Date, Date, Int, String, Int).self)
        return WindowRecord(code: code, start: start, end: end, capacity: capacity, kind: WindowKind(rawValue: kind) ?? .regular,
                            used: used)
    }

    private func validate(_ window: NewWindow, capacity: Int) throws {
        try CodeKind.window.validate(window.code)
        guard window.end > window.start else {
            throw StoreError.invalid("service window \(window.code) must end after it starts")
        }
        guard capacity >= 1 else { throw StoreError.invalid("a window's capacity is at least 1 (got \(capacity))") }
    }

    // MARK: Freezes

    public func createFreeze(code: String, start: Date, end: Date, reason: String, environment: String?, by identity: Identity) throws {
        try identity.requireAdmin(to: "create freeze \(code)")
        let code = try CodeKind.freeze.validate(code)
        guard end > start else { throw StoreError.invalid("freeze \(code) must end after it starts") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw StoreError.invalid("a freeze needs a reason") }
        let environmentID = try Lookup.optionalID(.environment, environment, db)
        try translatingUniqueViolation("freeze \(code) exists already") {
            try db.execute("""
                INSERT INTO change_freeze (code, starts_at, ends_at, reason, environment_id) VALUES (\(code), \(start), \(end), \(reason), \(environmentID))
                """)
        }
    }

    public func freezes() throws -> [FreezeRecord] {
        try db.query("""
            SELECT f.code, f.starts_at, f.ends_at, f.reason, e.code
            FROM change_freeze f LEFT JOIN environment e ON e.id = f.environment_id ORDER BY f.starts_at, f.code
            """).rows.map {
            let (code, start, end, reason, environment) = try $0.decode((String, Date, Date, String, String?).self)
            return FreezeRecord(code: code, start: start, end: end, reason: reason, environment: environment)
        }
    }

    // MARK: Configuration items

    /// Records that `child` is part of `parent` (both created if new, registered by `group`: by
    /// default the one group the caller plans for, none for an admin), refusing cycles. Only the
    /// admins and the planners of the group that registered `child` may link it (sql/0010).
    public func linkTarget(_ child: String, partOf parent: String, group: String? = nil) throws {
        let child = CodeKind.canonical(child), parent = CodeKind.canonical(parent)
        guard child != parent else { throw StoreError.invalid("\(child) cannot be part of itself") }
        let identity = try Identity.current(db)
        let groupID: Int?
        if let group {
            groupID = try Lookup.id(.group, group, db)
        } else if identity.plannerGroups.count == 1, let only = identity.plannerGroups.first, !identity.isAdmin {
            groupID = try Lookup.id(.group, only, db)
        } else if identity.isAdmin {
            groupID = nil
        } else if identity.plannerGroups.isEmpty {
            throw StoreError.permissionDenied(who: identity.login, what: "link configuration items",
                                              why: "only admins and the managers or release-managers of a group may")
        } else {
            throw StoreError.invalid("say which group registers new items: --group \(identity.plannerGroups.joined(separator: "|"))")
        }
        try db.retryingTransaction { db in
            try db.execute("INSERT INTO target (code, group_id) VALUES (\(child), \(groupID)), (\(parent), \(groupID)) ON CONFLICT DO NOTHING")
            let cycle = try db.query("""
                WITH RECURSIVE up(code) AS (
                    SELECT \(parent)::text
                    UNION SELECT t.part_of FROM target t JOIN up ON t.code = up.code WHERE t.part_of IS NOT NULL)
                SELECT 1 FROM up WHERE code = \(child)
                """).rowCount > 0
            if cycle { throw StoreError.invalid("\(parent) is already part of \(child): linking would make a cycle") }
            let changed = try db.execute("UPDATE target SET part_of = \(parent) WHERE code = \(child)")
            if changed == 0 {
                throw StoreError.permissionDenied(
                    who: try db.query("SELECT current_user::text AS login").first?.decode(String.self, "login") ?? "you",
                    what: "link \(child)", why: "only admins and the managers or release-managers of the group that registered it may")
            }
        }
    }

    public func targets() throws -> [(code: String, partOf: String?)] {
        try db.query("SELECT code, part_of FROM target ORDER BY code").rows.map {
            try $0.decode((String, String?).self)
        }
    }
}

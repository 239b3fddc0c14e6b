import Foundation
import Postgres
import ReleaseCore

public struct PlanRecord: Sendable, Equatable {
    public let group: String
    public let code: String
    public let title: String
    public let changeRef: String?
    public let model: String?
    public let modelVersion: Int?
    public let releases: Int
    public let createdAt: Date
    public let createdBy: String
}

public struct StakeholderRecord: Sendable, Equatable {
    public let name: String
    public let role: String
}

public struct ModelRecord: Sendable, Equatable {
    public let code: String
    public let version: Int
    public let group: String?
    public let name: String
    public let model: ReleaseModel
    public let createdAt: Date
}

/// Release plans, their stakeholders, and the release models they are made from.
public struct Plans {
    let db: Connection

    public init(_ db: Connection) { self.db = db }

    public func create(group: String, code: String, title: String, changeRef: String?, model: String?, by identity: Identity) throws {
        let groupID = try Lookup.id(.group, group, db)
        try identity.require([.manager, .releaseManager], in: group, to: "create plans in \(group)")
        let code = try CodeKind.plan.validate(code)
        // The group's own model of that code, else the shared one (sql/0019).
        let modelID = try model.map { try Lookup.model($0, group: groupID, db) }
        try translatingUniqueViolation("plan \(group)/\(code) exists already") {
            try db.execute("""
                INSERT INTO release_plan (group_id, code, title, change_ref, model_id) VALUES (\(groupID), \(code), \(title), \(changeRef), \(modelID))
                """)
        }
    }

    public func list(group: String?) throws -> [PlanRecord] {
        let group = group.map(CodeKind.canonical)
        if let group { _ = try Lookup.id(.group, group, db) }
        return try db.query("""
            SELECT g.code, p.code, p.title, p.change_ref, m.code, m.version,
                   (SELECT count(*) FROM release r WHERE r.plan_id = p.id), p.created_at, p.created_by
            FROM release_plan p JOIN management_group g ON g.id = p.group_id LEFT JOIN release_model m ON m.id = p.model_id
            WHERE \(group)::text IS NULL OR g.code = \(group)
            ORDER BY g.code, p.code
            """).rows.map {
            let (group, code, title, changeRef, model, modelVersion, releases, createdAt, createdBy)
                = try $0.decode((String, String, String, String?, String?, Int?, Int, Date, String).self)
            return PlanRecord(group: group, code: code, title: title, changeRef: changeRef, model: model, modelVersion: modelVersion,
                              releases: releases, createdAt: createdAt, createdBy: createdBy)
        }
    }

    public func plan(group: String, code: String) throws -> PlanRecord {
        _ = try Lookup.plan(group: group, code: code, db)
        guard let plan = try list(group: group).first(where: { $0.code == code }) else {
            throw StoreError.notFound(kind: "plan", code: "\(group)/\(code)", suggestion: nil)
        }
        return plan
    }

    public func stakeholders(group: String, code: String) throws -> [StakeholderRecord] {
        let plan = try Lookup.plan(group: group, code: code, db)
        return try db.query("SELECT name, role FROM plan_stakeholder WHERE plan_id = \(plan.id) ORDER BY role, name").rows.map {
            StakeholderRecord(name: try $0.decode(String.self, "name"), role: try $0.decode(String.self, "role"))
        }
    }

    public func addStakeholder(group: String, code: String, name: String, role: String, by identity: Identity) throws {
        let plan = try Lookup.plan(group: group, code: code, db)
        try identity.require([.manager, .releaseManager], in: group, to: "change plan \(group)/\(code)")
        try db.execute("""
            INSERT INTO plan_stakeholder (group_id, plan_id, name, role) VALUES (\(plan.groupID), \(plan.id), \(name), \(role)) ON CONFLICT DO NOTHING
            """)
    }

    // MARK: Models

    /// Stores a model. A changed definition becomes a new version of its owner's code (the group's,
    /// or the shared one): the database numbers it. Plans keep the version they were made from.
    /// Returns the version and whether it is new.
    public func createModel(_ model: ReleaseModel, source: String, group: String?, by identity: Identity) throws -> (version: Int, created: Bool) {
        let groupID = try Lookup.optionalID(.group, group, db)
        if let group {
            try identity.require([.manager, .releaseManager], in: group, to: "add release models for \(group)")
        } else {
            try identity.requireAdmin(to: "add shared release model \(model.code)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let definition = String(decoding: try encoder.encode(model), as: UTF8.self)
        // Two people storing a version of one code at once get the same number from the database's
        // trigger; the later one fails on the owner's unique version and runs again, seeing the first.
        var attempt = 1
        while true {
            do {
                return try db.retryingTransaction { db in
                    if let latest = try db.query("""
                        SELECT version, definition = \(definition)::jsonb AS same FROM release_model
                        WHERE code = \(model.code) AND group_id IS NOT DISTINCT FROM \(groupID) ORDER BY version DESC LIMIT 1
                        """).first, try latest.decode(Bool.self, "same") {
                        return (try latest.decode(Int.self, "version"), false)
                    }
                    let stored = try db.query("""
                        INSERT INTO release_model (code, group_id, name, definition, source)
                        VALUES (\(model.code), \(groupID), \(model.name), \(definition)::jsonb, \(source))
                        RETURNING version
                        """).first
                    guard let version = try stored?.decode(Int.self, "version") else {
                        throw StoreError.internalInconsistency("storing model \(model.code) returned no version")
                    }
                    return (version, true)
                }
            } catch let error as PostgresError
                        where error.sqlState == .uniqueViolation && error.constraint == "release_model_owner_code_version_key" && attempt < 30 {
                Thread.sleep(forTimeInterval: 0.002 * Double(min(attempt, 10)) * Double.random(in: 0.5...1.5))
                attempt += 1
            }
        }
    }

    /// The latest version of every model of every owner.
    public func models() throws -> [ModelRecord] {
        try db.query("""
            SELECT DISTINCT ON (g.code, m.code) m.code, m.version, g.code, m.name, m.definition::text, m.created_at
            FROM release_model m LEFT JOIN management_group g ON g.id = m.group_id
            ORDER BY g.code NULLS FIRST, m.code, m.version DESC
            """).rows.map(Self.model)
    }

    /// A model by code: with `group`, the group's own, else the shared one; without, the shared one,
    /// or the one group's that holds the code when there is no shared one.
    public func model(_ code: String, version: Int? = nil, group: String? = nil) throws -> ModelRecord {
        let code = CodeKind.canonical(code)
        let id: Int
        if let group {
            id = try Lookup.model(code, group: try Lookup.id(.group, group, db), db)
        } else if let shared = try? Lookup.id(.model, code, db) {
            id = shared
        } else {
            let owners = try db.query("""
                SELECT DISTINCT g.code FROM release_model m JOIN management_group g ON g.id = m.group_id WHERE m.code = \(code) ORDER BY 1
                """).rows.map { try $0.decode(String.self, "code") }
            guard owners.count == 1, let owner = owners.first else {
                // None at all: "unknown release model", with the nearest shared code.
                if owners.isEmpty { _ = try Lookup.id(.model, code, db) }
                throw StoreError.invalid("release model \(code) is the own model of groups \(owners.joined(separator: ", ")): say which with --group")
            }
            id = try Lookup.model(code, group: try Lookup.id(.group, owner, db), db)
        }
        guard let row = try db.query("""
            SELECT m.code, m.version, g.code, m.name, m.definition::text, m.created_at
            FROM release_model m LEFT JOIN management_group g ON g.id = m.group_id
            WHERE m.code = \(code) AND m.group_id IS NOT DISTINCT FROM (SELECT group_id FROM release_model WHERE id = \(id))
              AND (\(version)::integer IS NULL OR m.version = \(version)) ORDER BY m.version DESC LIMIT 1
            """).first else {
            throw StoreError.notFound(kind: "release model", code: "\(code) version \(version ?? 0)", suggestion: nil)
        }
        return try Self.model(row)
    }

    static func model(_ row: Row) throws -> ModelRecord {
        let (code, version, group, name, definition, createdAt) = try row.decode((String, Int, String?, String, String, Date).self)
        let model = try JSONDecoder().decode(ReleaseModel.self, from: Data(definition.utf8))
        return ModelRecord(code: code, version: version, group: group, name: name, model: model, createdAt: createdAt)
    }
}

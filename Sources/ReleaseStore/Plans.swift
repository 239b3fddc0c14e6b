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
        let modelID = try Lookup.optionalID(.model, model, db)
        try translatingUniqueViolation("plan \(group)/\(code) exists already") {
            try db.execute("""
                INSERT INTO release_plan (group_id, code, title, change_ref, model_id) VALUES ($1, $2, $3, $4, $5)
                """, [groupID, code, title, changeRef, modelID])
        }
    }

    public func list(group: String?) throws -> [PlanRecord] {
        let group = group.map(CodeKind.canonical)
        if let group { _ = try Lookup.id(.group, group, db) }
        return try db.query("""
            SELECT g.code, p.code, p.title, p.change_ref, m.code, m.version,
                   (SELECT count(*) FROM release r WHERE r.plan_id = p.id), p.created_at, p.created_by
            FROM release_plan p JOIN management_group g ON g.id = p.group_id LEFT JOIN release_model m ON m.id = p.model_id
            WHERE $1::text IS NULL OR g.code = $1
            ORDER BY g.code, p.code
            """, [group]).rows.map {
            PlanRecord(group: try $0.decode(String.self, 0), code: try $0.decode(String.self, 1), title: try $0.decode(String.self, 2),
                       changeRef: try $0.decode(String?.self, 3), model: try $0.decode(String?.self, 4),
                       modelVersion: try $0.decode(Int?.self, 5), releases: try $0.decode(Int.self, 6),
                       createdAt: try $0.decode(Date.self, 7), createdBy: try $0.decode(String.self, 8))
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
        return try db.query("SELECT name, role FROM plan_stakeholder WHERE plan_id = $1 ORDER BY role, name", [plan.id]).rows.map {
            StakeholderRecord(name: try $0.decode(String.self, 0), role: try $0.decode(String.self, 1))
        }
    }

    public func addStakeholder(group: String, code: String, name: String, role: String, by identity: Identity) throws {
        let plan = try Lookup.plan(group: group, code: code, db)
        try identity.require([.manager, .releaseManager], in: group, to: "change plan \(group)/\(code)")
        try db.execute("""
            INSERT INTO plan_stakeholder (group_id, plan_id, name, role) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
            """, [plan.groupID, plan.id, name, role])
    }

    // MARK: Models

    /// Stores a model. A changed definition becomes a new version; plans keep the version they were made from.
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
        return try db.retryingTransaction { db in
            // Serialise versions of one model code.
            try db.execute("SELECT pg_advisory_xact_lock(hashtext('release_model:' || $1))", [model.code])
            if let latest = try db.query("""
                SELECT version, definition = $2::jsonb FROM release_model WHERE code = $1 ORDER BY version DESC LIMIT 1
                """, [model.code, definition]).first {
                let version = try latest.decode(Int.self, 0)
                if try latest.decode(Bool.self, 1) { return (version, false) }
                try insertModel(db, model, definition: definition, source: source, version: version + 1, groupID: groupID)
                return (version + 1, true)
            }
            try insertModel(db, model, definition: definition, source: source, version: 1, groupID: groupID)
            return (1, true)
        }
    }

    private func insertModel(_ db: Connection, _ model: ReleaseModel, definition: String, source: String, version: Int, groupID: Int?) throws {
        try db.execute("""
            INSERT INTO release_model (code, version, group_id, name, definition, source) VALUES ($1, $2, $3, $4, $5::jsonb, $6)
            """, [model.code, version, groupID, model.name, definition, source])
    }

    public func models() throws -> [ModelRecord] {
        try db.query("""
            SELECT DISTINCT ON (m.code) m.code, m.version, g.code, m.name, m.definition::text, m.created_at
            FROM release_model m LEFT JOIN management_group g ON g.id = m.group_id ORDER BY m.code, m.version DESC
            """).rows.map(Self.model)
    }

    public func model(_ code: String, version: Int? = nil) throws -> ModelRecord {
        _ = try Lookup.id(.model, code, db)
        guard let row = try db.query("""
            SELECT m.code, m.version, g.code, m.name, m.definition::text, m.created_at
            FROM release_model m LEFT JOIN management_group g ON g.id = m.group_id
            WHERE m.code = $1 AND ($2::integer IS NULL OR m.version = $2) ORDER BY m.version DESC LIMIT 1
            """, [code, version]).first else {
            throw StoreError.notFound(kind: "release model", code: "\(code) version \(version ?? 0)", suggestion: nil)
        }
        return try Self.model(row)
    }

    static func model(_ row: Row) throws -> ModelRecord {
        let definition = try row.decode(String.self, 4)
        let model = try JSONDecoder().decode(ReleaseModel.self, from: Data(definition.utf8))
        return ModelRecord(code: try row.decode(String.self, 0), version: try row.decode(Int.self, 1), group: try row.decode(String?.self, 2),
                           name: try row.decode(String.self, 3), model: model, createdAt: try row.decode(Date.self, 5))
    }
}

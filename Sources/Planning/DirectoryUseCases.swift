import Foundation
import Importing
import ReleaseCore
import ReleaseStore
import Reporting

// The directory's use cases (groups, logins, members), the audit trail, plans and release models,
// and the schema's migrations.

/// `group create` (admins).
public struct CreateGroup: UseCase {
    public let code: String
    public let name: String

    public init(code: String, name: String) {
        self.code = code
        self.name = name
    }

    public func run(in session: DatabaseSession) throws {
        try Directory(session.db).createGroup(code: code, name: name, by: try session.person())
    }
}

/// `group list`.
public struct ListGroups: UseCase {
    public init() {}

    public func run(in session: DatabaseSession) throws -> [GroupRecord] {
        try Directory(session.db).groups()
    }

    public static func listing(_ groups: [GroupRecord]) -> Listing {
        Listing(noun: "groups", columns: ["code", "name", "members", "created_at"], rows: groups.map { g -> [Cell] in
            [.text(g.code), .text(g.name), .int(g.members), .timestamp(g.createdAt)]
        })
    }
}

/// `user create` (admins): a login role that may use relplan, optionally an admin or the nightly job's.
public struct CreateUser: UseCase {
    public let login: String
    public let password: String?
    public let admin: Bool
    public let reporter: Bool

    public init(login: String, password: String?, admin: Bool, reporter: Bool) {
        self.login = login
        self.password = password
        self.admin = admin
        self.reporter = reporter
    }

    /// The password from the first line of a file, so it never appears on a command line where
    /// `ps` would show it. An unreadable file is a usage error, an empty first line a data error.
    public init(login: String, passwordFile: String, admin: Bool, reporter: Bool) throws(Failure) {
        guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
            throw Failure(.usage, "--password-file: cannot read \(passwordFile)")
        }
        let firstLine = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard !firstLine.isEmpty else { throw Failure(.invalid, "\(passwordFile): the first line is empty") }
        self.init(login: login, password: firstLine, admin: admin, reporter: reporter)
    }

    public func run(in session: DatabaseSession) throws {
        try Directory(session.db).createUser(login: login, password: password, admin: admin, reporter: reporter, by: try session.person())
    }
}

/// `member add`: a person into a group, or a new role there.
public struct AddMember: UseCase {
    public let group: String
    public let login: String
    public let role: MemberRole

    public init(group: String, login: String, role: MemberRole) {
        self.group = group
        self.login = login
        self.role = role
    }

    public func run(in session: DatabaseSession) throws {
        try Directory(session.db).addMember(group: group, login: login, role: role, by: try session.person())
    }
}

/// `member remove`.
public struct RemoveMember: UseCase {
    public let group: String
    public let login: String

    public init(group: String, login: String) {
        self.group = group
        self.login = login
    }

    public func run(in session: DatabaseSession) throws {
        try Directory(session.db).removeMember(group: group, login: login, by: try session.person())
    }
}

/// `member list`.
public struct ListMembers: UseCase {
    public let group: String

    public init(group: String) {
        self.group = group
    }

    public func run(in session: DatabaseSession) throws -> [MemberRecord] {
        try Directory(session.db).members(group: group)
    }

    public static func listing(_ members: [MemberRecord]) -> Listing {
        Listing(noun: "members", columns: ["login", "role", "added_at", "added_by"], rows: members.map { m -> [Cell] in
            [.text(m.login), .text(m.role.rawValue), .timestamp(m.addedAt), .text(m.addedBy)]
        })
    }
}

/// `audit`: who changed what and when, newest `limit` entries.
public struct ReadAuditTrail: UseCase {
    public let group: String?
    public let release: ReleaseRef?
    public let since: Date?
    public let limit: Int

    public init(group: String? = nil, release: ReleaseRef? = nil, since: Date? = nil, limit: Int = 1000) {
        self.group = group
        self.release = release
        self.since = since
        self.limit = limit
    }

    public func run(in session: DatabaseSession) throws -> [AuditEntry] {
        try AuditTrail(session.db).entries(group: group, release: release, since: since, limit: limit)
    }

    /// A bulk entry lists the keys of every row it covers, up to a million; a table shows the
    /// first few and how many (json and csv keep them all).
    public static func shortened(_ keys: String, limit: Int = 48) -> String {
        guard keys.count > limit else { return keys }
        let count = keys.split(whereSeparator: { $0 == "," || $0 == ";" }).count
        guard count > 1 else { return keys }
        let head = keys.prefix(limit)
        let cut = head.lastIndex(where: { $0 == "," || $0 == ";" }) ?? head.endIndex
        return "\(head[..<cut])… (\(count) keys)"
    }
}

/// `plan create`: a release plan of a group, with the model's current version for good.
public struct CreatePlan: UseCase {
    public let group: String
    public let code: String
    public let title: String
    public let changeRef: String?
    public let model: String?

    public init(group: String, code: String, title: String, changeRef: String?, model: String?) {
        self.group = group
        self.code = code
        self.title = title
        self.changeRef = changeRef
        self.model = model
    }

    public func run(in session: DatabaseSession) throws {
        try Plans(session.db).create(group: group, code: code, title: title, changeRef: changeRef, model: model, by: try session.person())
    }
}

/// `plan list`.
public struct ListPlans: UseCase {
    public let group: String?

    public init(group: String? = nil) {
        self.group = group
    }

    public func run(in session: DatabaseSession) throws -> [PlanRecord] {
        try Plans(session.db).list(group: group)
    }

    public static func listing(_ plans: [PlanRecord]) -> Listing {
        Listing(noun: "plans", columns: ["group", "code", "title", "change_ref", "model", "model_version", "releases", "created_at"],
                rows: plans.map {
                    [.text($0.group), .text($0.code), .text($0.title), .text($0.changeRef), .text($0.model), .int($0.modelVersion),
                     .int($0.releases), .timestamp($0.createdAt)]
                })
    }
}

/// `plan show`: a plan, its stakeholders and its releases.
public struct ShowPlan: UseCase {
    public let ref: ReleaseRef

    public init(_ ref: ReleaseRef) {
        self.ref = ref
    }

    public struct Shown: Sendable {
        public let plan: PlanRecord
        public let stakeholders: [StakeholderRecord]
        public let releases: [ReleaseRecord]

        /// `plan show --format json`: the plan's row with its stakeholders, and its releases.
        public var json: JSONValue? {
            guard case .object(let top) = ListPlans.listing([plan]).json, case .array(let rows)? = top.first?.1,
                  case .object(var pairs)? = rows.first else { return nil }
            pairs.append(("stakeholders", .array(stakeholders.map { .object([("name", .string($0.name)), ("role", .string($0.role))]) })))
            guard case .object(let releaseTop) = ReleaseView.listing(releases).json else { return nil }
            pairs += releaseTop
            return .object(pairs)
        }

        /// `plan show` as a person reads it: the plan, its stakeholders, then its releases.
        public func text(zone: TimeZone) -> String {
            var text = "\(plan.group)/\(plan.code)  \(plan.title)\n"
            if let ref = plan.changeRef { text += "  change:       \(ref)\n" }
            if let model = plan.model { text += "  model:        \(model) version \(plan.modelVersion ?? 0)\n" }
            text += "  created:      \(Timestamps.local(plan.createdAt, in: zone)) by \(plan.createdBy)\n"
            let who = stakeholders.isEmpty ? "none yet (plan stakeholder add)" : stakeholders.map { "\($0.name) (\($0.role))" }.joined(separator: ", ")
            text += "  stakeholders: \(who)\n\n"
            return text + ReleaseView.listing(releases).render(.table, zone: zone)
        }
    }

    public func run(in session: DatabaseSession) throws -> Shown {
        let plans = Plans(session.db)
        let record = try plans.plan(group: ref.group, code: ref.code)
        let stakeholders = try plans.stakeholders(group: ref.group, code: ref.code)
        let releases = try Releases(session.db).list(group: ref.group).filter { $0.plan == ref.code }
        return Shown(plan: record, stakeholders: stakeholders, releases: releases)
    }
}

/// `plan stakeholder add`.
public struct AddStakeholder: UseCase {
    public let plan: ReleaseRef
    public let name: String
    public let role: String

    public init(_ plan: ReleaseRef, name: String, role: String) {
        self.plan = plan
        self.name = name
        self.role = role
    }

    public func run(in session: DatabaseSession) throws {
        try Plans(session.db).addStakeholder(group: plan.group, code: plan.code, name: name, role: role, by: try session.person())
    }
}

/// `model create`: a validated model stored, a changed one as a new version.
public struct StoreModel: UseCase {
    public let model: ReleaseModel
    public let source: String
    public let group: String?

    public init(_ model: ReleaseModel, source: String, group: String?) {
        self.model = model
        self.source = source
        self.group = group
    }

    /// Reads and validates a model file before any connection: a YAML or model error names the
    /// line and column (data error), an unreadable file is a usage error.
    public init(file: String, group: String?) throws(Failure) {
        let source: String
        do {
            source = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw Failure(.usage, "--file: cannot read \(file): \(error.localizedDescription)")
        }
        do {
            self.init(try ReleaseModelFile.parse(source, file: file), source: source, group: group)
        } catch {
            throw Failure(.invalid, error.description)
        }
    }

    /// What `model create` says: a new version, or that the file matched the latest.
    public static func summary(code: String, _ result: (version: Int, created: Bool)) -> String {
        result.created ? "stored model \(code) version \(result.version)" : "model \(code) unchanged (version \(result.version))"
    }

    public func run(in session: DatabaseSession) throws -> (version: Int, created: Bool) {
        try Plans(session.db).createModel(model, source: source, group: group, by: try session.person())
    }
}

/// `model list`: the latest version of each model.
public struct ListModels: UseCase {
    public init() {}

    public func run(in session: DatabaseSession) throws -> [ModelRecord] {
        try Plans(session.db).models()
    }

    public static func listing(_ models: [ModelRecord]) -> Listing {
        Listing(noun: "models", columns: ["code", "version", "name", "group", "criteria", "environments", "created_at"],
                rows: models.map { m -> [Cell] in
                    [.text(m.code), .int(m.version), .text(m.name), .text(m.group), .int(m.model.allCriteria.count),
                     .list(m.model.environments.map(\.environment)), .timestamp(m.createdAt)]
                })
    }
}

/// `model show`: one version of a model, as `group` sees it.
public struct ShowModel: UseCase {
    public let code: String
    public let version: Int?
    public let group: String?

    public init(_ code: String, version: Int? = nil, group: String? = nil) {
        self.code = code
        self.version = version
        self.group = group
    }

    public func run(in session: DatabaseSession) throws -> ModelRecord {
        try Plans(session.db).model(code, version: version, group: group)
    }

    /// `model show` as a person reads it: the activities' criteria, environments, roles, documents.
    public static func text(_ record: ModelRecord) -> String {
        let m = record.model
        var text = "\(m.code) version \(record.version): \(m.name)\(record.group.map { " (group \($0))" } ?? " (shared)")\n"
        if !m.description.isEmpty { text += "  \(m.description)\n" }
        for activity in ReleaseActivity.allCases {
            let phase = m.phases[activity]
            guard !phase.entry.isEmpty || !phase.exit.isEmpty else { continue }
            text += "\(activity.title):\n"
            for c in phase.entry { text += "  entry: \(c.name) (\(c.check))\n" }
            for c in phase.exit { text += "  exit:  \(c.name) (\(c.check))\n" }
        }
        for e in m.environments { text += "environment: \(e.environment) for \(Durations.format(seconds: e.durationSeconds))\n" }
        for r in m.roles { text += "role: \(r.name)\(r.description.isEmpty ? "" : " — \(r.description)")\n" }
        if let v = m.versioning { text += "versioning: \(v)\n" }
        for d in m.documentation { text += "document: \(d)\n" }
        return text
    }

    /// `model show --format json|csv`: the model itself, keys sorted.
    public static func json(_ record: ModelRecord) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(record.model), as: UTF8.self)
    }
}

/// `db migrate`: applies the bundled migrations the database lacks, telling `onApply` of each.
public struct MigrateSchema: UseCase {
    public let onApply: (Migration) -> Void

    public init(onApply: @escaping (Migration) -> Void = { _ in }) {
        self.onApply = onApply
    }

    public struct Migrated {
        public let applied: [Migration]
        public let bundled: Int
    }

    public func run(in session: DatabaseSession) throws -> Migrated {
        let migrator = Migrator(migrations: try Migration.bundled())
        let applied = try migrator.migrate(session.db, onApply: onApply)
        return Migrated(applied: applied, bundled: migrator.migrations.count)
    }
}

/// `db status`: each bundled migration, applied, pending or changed since.
public struct SchemaStatus: UseCase {
    public init() {}

    public func run(in session: DatabaseSession) throws -> [MigrationStatus] {
        try Migrator(migrations: try Migration.bundled()).status(session.db)
    }

    public static func listing(_ statuses: [MigrationStatus]) -> Listing {
        Listing(
            noun: "migrations", columns: ["version", "name", "state", "applied_at", "applied_by"],
            rows: statuses.map {
                [.int($0.migration.version), .text($0.migration.name), .text($0.state.rawValue),
                 .timestamp($0.appliedAt), .text($0.appliedBy)]
            })
    }
}

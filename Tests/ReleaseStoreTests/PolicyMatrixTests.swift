import Foundation
import Postgres
import Testing
import TestSupport

// The database is the guard (DESIGN.md §3): these tests connect as ordinary logins and try, with
// plain SQL, what the CLI would refuse. Every attempt runs in a transaction that is rolled back.

enum Operation: String, CaseIterable, Sendable, CustomStringConvertible {
    case select = "SELECT", insert = "INSERT", update = "UPDATE", delete = "DELETE"
    var description: String { rawValue }
}

/// Who gets through the policies, per operation, for one kind of row.
struct Access: Sendable {
    var inserters: Set<Actor>
    var updaters: Set<Actor>
    var deleters: Set<Actor>
    /// Holders of the table's UPDATE and DELETE privileges (DELETE only those of them in
    /// `Actor.tableWriters`). They meet the policies, so a row they may not write is simply not
    /// found (0 rows); everyone else is refused outright (42501).
    var privileged: Set<Actor>

    static func writers(_ actors: Set<Actor>, privileged: Set<Actor> = Actor.users) -> Access {
        Access(inserters: actors, updaters: actors, deleters: actors, privileged: privileged)
    }

    /// The rules of the issue, as outcomes. With row-level security an INSERT that fails WITH CHECK
    /// raises 42501, while an UPDATE or DELETE of a row the policies hide changes 0 rows.
    func expected(_ operation: Operation, by actor: Actor, visibleRows: Int) -> Outcome {
        switch operation {
        case .select: return Actor.users.contains(actor) ? .rows(visibleRows) : .denied
        case .insert: return inserters.contains(actor) ? .rows(1) : .denied
        case .update: return updaters.contains(actor) ? .rows(1) : privileged.contains(actor) ? .rows(0) : .denied
        // DELETE is table-level, so it lets its holder LOCK the table: only relplan_writer and the
        // admins hold it (sql/0018), i.e. those with a write role somewhere.
        case .delete:
            return deleters.contains(actor) ? .rows(1) : privileged.intersection(Actor.tableWriters).contains(actor) ? .rows(0) : .denied
        }
    }
}

/// One row of the matrix: a table, which of its rows, one statement per operation, who may.
struct PolicyCase: Sendable, CustomStringConvertible {
    let table: String
    let rows: String?
    let insert: Statement
    let update: Statement
    let delete: Statement
    let access: Access

    var description: String { rows.map { "\(table) (\($0))" } ?? table }

    func statement(_ operation: Operation) -> Statement {
        switch operation {
        case .select: Statement("SELECT count(*) FROM \(table)")
        case .insert: insert
        case .update: update
        case .delete: delete
        }
    }
}

extension PolicyCase {
    /// The expectations: every group-owned table (rows of CRM), the shared and admin-managed ones, the audit trail.
    static func all(_ f: PolicyFixture) -> [PolicyCase] {
        let planners = Access.writers(Actor.crmPlanners)
        let adminsOnly = Access.writers([.admin], privileged: [.admin])
        let nobody = Access(inserters: [], updaters: [], deleters: [], privileged: [])
        func content(open: Bool) -> Access { .writers(open ? Actor.crmWriters : Actor.crmPlanners) }
        func release(_ id: Int) -> String { id == f.crmOpen ? "CRM release not yet deployed" : "CRM release deployed" }

        var cases = [
            PolicyCase(
                table: "release_plan", rows: "CRM",
                insert: Statement("INSERT INTO release_plan (group_id, code, title) VALUES ($1, 'CRM-NEW', 'new')", [f.crm]),
                update: Statement("UPDATE release_plan SET title = 'changed' WHERE id = $1", [f.crmPlan]),
                delete: Statement("DELETE FROM release_plan WHERE id = $1", [f.crmEmptyPlan]),
                access: planners),
            PolicyCase(
                table: "plan_stakeholder", rows: "CRM",
                insert: Statement("INSERT INTO plan_stakeholder (group_id, plan_id, name, role) VALUES ($1, $2, 'Support', 'informed')", [f.crm, f.crmPlan]),
                update: Statement("UPDATE plan_stakeholder SET role = 'sponsor' WHERE id = $1", [f.stakeholder]),
                delete: Statement("DELETE FROM plan_stakeholder WHERE id = $1", [f.stakeholder]),
                access: planners),
            PolicyCase(
                table: "release", rows: "CRM",
                insert: Statement("INSERT INTO release (group_id, plan_id, code) VALUES ($1, $2, 'R-NEW')", [f.crm, f.crmPlan]),
                update: Statement("UPDATE release SET title = 'changed', priority = 1 WHERE id = $1", [f.crmOpen]),
                delete: Statement("DELETE FROM release WHERE id = $1", [f.crmOpen]),
                access: planners),
            // A dependency is all key (and its group): it is added and removed; changing its key is
            // refused (ColumnWriteTests).
            PolicyCase(
                table: "release_dependency", rows: "CRM release on an HR release",
                insert: Statement("INSERT INTO release_dependency (group_id, release_id, depends_on_id) VALUES ($1, $2, $3)", [f.crm, f.crmOpen, f.crmDeployed]),
                update: Statement("UPDATE release_dependency SET group_id = group_id WHERE release_id = $1 AND depends_on_id = $2", [f.crmOpen, f.hrRelease]),
                delete: Statement("DELETE FROM release_dependency WHERE release_id = $1 AND depends_on_id = $2", [f.crmOpen, f.hrRelease]),
                access: planners),
            PolicyCase(
                table: "environment_booking", rows: "CRM",
                insert: Statement(
                    "INSERT INTO environment_booking (group_id, release_id, environment_id, during) VALUES ($1, $2, $3, '[2027-05-01 00:00Z, 2027-05-02 00:00Z)')",
                    [f.crm, f.crmOpen, f.testEnvironment]),
                update: Statement("UPDATE environment_booking SET status = 'confirmed' WHERE id = $1", [f.booking]),
                delete: Statement("DELETE FROM environment_booking WHERE id = $1", [f.booking]),
                access: planners),
        ]
        for (releaseID, package, unit, deviation) in [
            (f.crmOpen, f.openPackage, f.openUnit, f.openDeviation),
            (f.crmDeployed, f.deployedPackage, f.deployedUnit, f.deployedDeviation),
        ] {
            let access = content(open: releaseID == f.crmOpen)
            cases += [
                PolicyCase(
                    table: "release_package", rows: release(releaseID),
                    insert: Statement("INSERT INTO release_package (group_id, release_id, code) VALUES ($1, $2, 'docs')", [f.crm, releaseID]),
                    update: Statement("UPDATE release_package SET code = 'core-2' WHERE id = $1", [package]),
                    delete: Statement("DELETE FROM release_package WHERE id = $1", [package]),
                    access: access),
                PolicyCase(
                    table: "release_unit", rows: release(releaseID),
                    insert: Statement(
                        "INSERT INTO release_unit (group_id, package_id, code, kind, target_code) VALUES ($1, $2, 'db', 'database', 'srv-crm-01')",
                        [f.crm, package]),
                    update: Statement("UPDATE release_unit SET version = '4.3.0' WHERE id = $1", [unit]),
                    delete: Statement("DELETE FROM release_unit WHERE id = $1", [unit]),
                    access: access),
                PolicyCase(
                    table: "release_criterion", rows: release(releaseID),
                    insert: Statement("INSERT INTO release_criterion (group_id, release_id, phase, name) VALUES ($1, $2, 'deploy', 'signed off')", [f.crm, releaseID]),
                    update: Statement(
                        "UPDATE release_criterion SET checked_at = now() WHERE release_id = $1 AND name = $2",
                        [releaseID, f.criterion]),
                    delete: Statement("DELETE FROM release_criterion WHERE release_id = $1 AND name = $2", [releaseID, f.criterion]),
                    access: access),
                PolicyCase(
                    table: "deviation", rows: release(releaseID),
                    insert: Statement("INSERT INTO deviation (group_id, release_id, severity, text) VALUES ($1, $2, 'low', 'docs late')", [f.crm, releaseID]),
                    update: Statement("UPDATE deviation SET resolution = 'accepted' WHERE id = $1", [deviation]),
                    delete: Statement("DELETE FROM deviation WHERE id = $1", [deviation]),
                    access: access),
            ]
        }
        cases += [
            // Versions are immutable: nobody updates or deletes one, not even the admins.
            PolicyCase(
                table: "release_model", rows: "CRM's own",
                insert: Statement("INSERT INTO release_model (code, group_id, name, definition, source) VALUES ('CRM-NEW', $1, 'n', '{}', '')", [f.crm]),
                update: Statement("UPDATE release_model SET name = 'changed' WHERE id = $1", [f.crmModel]),
                delete: Statement("DELETE FROM release_model WHERE id = $1", [f.crmModel]),
                access: Access(inserters: Actor.crmPlanners, updaters: [], deleters: [], privileged: Actor.users)),
            PolicyCase(
                table: "release_model", rows: "shared",
                insert: Statement("INSERT INTO release_model (code, name, definition, source) VALUES ('SHARED-NEW', 'n', '{}', '')"),
                update: Statement("UPDATE release_model SET name = 'changed' WHERE id = $1", [f.sharedModel]),
                delete: Statement("DELETE FROM release_model WHERE id = $1", [f.sharedModel]),
                access: Access(inserters: [.admin], updaters: [], deleters: [], privileged: Actor.users)),
            // Nobody writes proposal rows: they are stored and decided only by relplan_store_plan and
            // relplan_decide (sql/0014), from structured fields, every hard rule re-checked.
            PolicyCase(
                table: "schedule_proposal", rows: "for a CRM release",
                insert: Statement(
                    """
                    INSERT INTO schedule_proposal (group_id, release_id, action, from_text, to_text, reason, release_version)
                    VALUES ($1, $2, 'shift-booking', 'TEST-INT 03-01', 'TEST-INT 03-09', 'environment overlap', 1)
                    """, [f.crm, f.crmOpen]),
                update: Statement(
                    "UPDATE schedule_proposal SET status = 'rejected', decision_reason = 'no' WHERE id = $1",
                    [f.proposal]),
                delete: Statement("DELETE FROM schedule_proposal WHERE id = $1", [f.proposal]),
                access: Access(inserters: [], updaters: [], deleters: [], privileged: [])),
            // A batch is history: recorded only by relplan_record_import (sql/0010), never changed.
            PolicyCase(
                table: "import_batch", rows: "of CRM",
                insert: Statement("INSERT INTO import_batch (file_name, sha256, rows) VALUES ('crm.csv', 'cd34', 1)"),
                update: Statement("UPDATE import_batch SET rows = 0 WHERE id = $1", [f.importBatch]),
                delete: Statement("DELETE FROM import_batch WHERE id = $1", [f.importBatch]),
                access: nobody),
            PolicyCase(
                table: "membership", rows: "CRM",
                insert: Statement("INSERT INTO membership (group_id, role_name, role) VALUES ($1, $2, 'member')", [f.crm, f.newcomer]),
                update: Statement("UPDATE membership SET role = 'member' WHERE group_id = $1 AND role_name = $2", [f.crm, f.spareMember]),
                delete: Statement("DELETE FROM membership WHERE group_id = $1 AND role_name = $2", [f.crm, f.spareMember]),
                access: .writers([.admin, .manager])),
            // Configuration items are shared: those who write a group's content register them in its
            // name, its planners and the admins link them, admins delete (sql/0010).
            PolicyCase(
                table: "target", rows: "CRM's",
                insert: Statement("INSERT INTO target (code, group_id) VALUES ('srv-new-01', $1)", [f.crm]),
                update: Statement("UPDATE target SET part_of = 'srv-crm-01' WHERE code = 'spare-ci'"),
                delete: Statement("DELETE FROM target WHERE code = 'spare-ci'"),
                access: Access(inserters: Actor.crmWriters.union([.admin]), updaters: [.admin, .manager, .releaseManager], deleters: [.admin],
                               privileged: Actor.users)),
            PolicyCase(
                table: "target", rows: "the admins'",
                insert: Statement("INSERT INTO target (code) VALUES ('srv-new-02')"),
                update: Statement("UPDATE target SET part_of = 'srv-crm-01' WHERE code = 'unowned'"),
                delete: Statement("DELETE FROM target WHERE code = 'unowned'"),
                access: Access(inserters: [.admin], updaters: [.admin], deleters: [.admin], privileged: Actor.users)),
            // Admin-managed reference data.
            PolicyCase(
                table: "management_group", rows: nil,
                insert: Statement("INSERT INTO management_group (code, name) VALUES ('OPS', 'Operations')"),
                update: Statement("UPDATE management_group SET name = 'CRM team' WHERE id = $1", [f.crm]),
                delete: Statement("DELETE FROM management_group WHERE id = $1", [f.spareGroup]),
                access: adminsOnly),
            PolicyCase(
                table: "environment", rows: nil,
                insert: Statement("INSERT INTO environment (code, name, kind) VALUES ('PROD', 'Production', 'prod')"),
                update: Statement("UPDATE environment SET capacity = 2 WHERE id = $1", [f.testEnvironment]),
                delete: Statement("DELETE FROM environment WHERE id = $1", [f.spareEnvironment]),
                access: adminsOnly),
            PolicyCase(
                table: "service_window", rows: nil,
                insert: Statement("INSERT INTO service_window (code, starts_at, ends_at) VALUES ('SW-2027-05-09', '2027-05-09 18:00Z', '2027-05-09 23:00Z')"),
                update: Statement("UPDATE service_window SET capacity = 3 WHERE id = $1", [f.window]),
                delete: Statement("DELETE FROM service_window WHERE id = $1", [f.spareWindow]),
                access: adminsOnly),
            PolicyCase(
                table: "change_freeze", rows: nil,
                insert: Statement("INSERT INTO change_freeze (code, starts_at, ends_at, reason) VALUES ('PEAK', '2027-11-20 00:00Z', '2027-11-30 00:00Z', 'peak season')"),
                update: Statement("UPDATE change_freeze SET reason = 'audit' WHERE id = $1", [f.freeze]),
                delete: Statement("DELETE FROM change_freeze WHERE id = $1", [f.spareFreeze]),
                access: adminsOnly),
            PolicyCase(
                table: "freeze_override", rows: nil,
                insert: Statement("INSERT INTO freeze_override (freeze_id, release_id, reason) VALUES ($1, $2, 'urgent fix')", [f.freeze, f.crmDeployed]),
                update: Statement("UPDATE freeze_override SET reason = 'changed' WHERE freeze_id = $1 AND release_id = $2", [f.freeze, f.crmOpen]),
                delete: Statement("DELETE FROM freeze_override WHERE freeze_id = $1 AND release_id = $2", [f.freeze, f.crmOpen]),
                access: adminsOnly),
            // The nightly job's records: only its login (relplan_reporter) writes them; nobody deletes
            // history; calendar sequences only through relplan_record_calendar_events (sql/0019).
            PolicyCase(
                table: "conflict_history", rows: nil,
                insert: Statement("""
                    INSERT INTO conflict_history (identity, type, severity, releases, groups, message, first_seen, last_seen)
                    VALUES ('forged', 'window-capacity', 'high', '{CRM/R-2027.03}', '{CRM}', 'forged', now() - interval '400 days', now())
                    """),
                update: Statement("UPDATE conflict_history SET resolved_at = now(), first_seen = now() - interval '30 days' WHERE identity = 'window-capacity|SW-2027-03-14'"),
                delete: Statement("DELETE FROM conflict_history WHERE identity = 'window-capacity|SW-2027-03-14'"),
                access: Access(inserters: [.reporter], updaters: [.reporter], deleters: [], privileged: [])),
            PolicyCase(
                table: "report_run", rows: nil,
                insert: Statement("INSERT INTO report_run (started_at, conflicts, new, resolved) VALUES (now(), 0, 0, 0)"),
                update: Statement("UPDATE report_run SET conflicts = 0 WHERE id = (SELECT min(id) FROM report_run)"),
                delete: Statement("DELETE FROM report_run WHERE id = (SELECT min(id) FROM report_run)"),
                access: Access(inserters: [.reporter], updaters: [], deleters: [], privileged: [])),
            PolicyCase(
                table: "calendar_event_sequence", rows: nil,
                insert: Statement("INSERT INTO calendar_event_sequence (calendar, uid, fingerprint, last_modified) VALUES ('', 'forged@relplan', 'f', now())"),
                update: Statement("UPDATE calendar_event_sequence SET sequence = 0 WHERE uid = 'deployment-CRM/R-2027.03@relplan'"),
                delete: Statement("DELETE FROM calendar_event_sequence WHERE uid = 'deployment-CRM/R-2027.03@relplan'"),
                access: nobody),
            // Append-only, and only by the audit triggers.
            PolicyCase(
                table: "audit_log", rows: nil,
                insert: Statement("INSERT INTO audit_log (table_name, operation, row_key) VALUES ('release', 'DELETE', $1)", [String(f.crmOpen)]),
                update: Statement("UPDATE audit_log SET row_key = 'forged' WHERE id = (SELECT min(id) FROM audit_log)"),
                delete: Statement("DELETE FROM audit_log WHERE id = (SELECT min(id) FROM audit_log)"),
                access: nobody),
        ]
        return cases
    }
}

@Suite("Row-level security: who may do what, tried with plain SQL")
struct PolicyMatrixTests {
    @Test("every role × table × operation gets exactly the outcome the rules give")
    func matrix() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            var connections: [Actor: Connection] = [:]
            for actor in Actor.allCases { connections[actor] = try f.connect(actor) }
            for policyCase in PolicyCase.all(f) {
                let visible = try superuser.count("SELECT count(*) FROM \(policyCase.table)")
                #expect(visible > 0, "the fixture holds no \(policyCase.table) rows: the matrix would prove nothing")
                for actor in Actor.allCases {
                    let db = try #require(connections[actor])
                    for operation in Operation.allCases {
                        let statement = policyCase.statement(operation)
                        let actual = operation == .select
                            ? db.attempt { try $0.count(statement.sql) }
                            : db.attempt(statement)
                        let expected = policyCase.access.expected(operation, by: actor, visibleRows: visible)
                        #expect(actual == expected, "\(actor) × \(policyCase) × \(operation): expected \(expected), got \(actual)")
                    }
                }
            }
        }
    }

    /// LOCK TABLE's modes, weakest first. On PostgreSQL 15, ACCESS SHARE needs table-level SELECT,
    /// ROW EXCLUSIVE table-level INSERT, UPDATE, DELETE or TRUNCATE, every other mode table-level
    /// UPDATE, DELETE or TRUNCATE; column privileges and row-level security do not count.
    static let lockModes = ["ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE",
                            "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"]

    @Test("every role × table × LOCK TABLE mode: only those who write a table may lock it beyond ACCESS SHARE")
    func lockMatrix() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            var connections: [Actor: Connection] = [:]
            for actor in Actor.allCases { connections[actor] = try f.connect(actor) }
            // Every table of the schema, from the catalog: a table added later is in the matrix at once.
            let tables = try superuser.query("""
                SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
                ORDER BY 1
                """).rows.map { try $0.decode(String.self) }
            // Who may lock beyond ACCESS SHARE: the writers of group-owned tables (relplan_writer,
            // which the admins hold too), the admins on the tables only they manage, nobody elsewhere.
            let groupOwned: Set<String> = ["membership", "target", "release_model", "release_plan", "plan_stakeholder", "release",
                                           "release_dependency", "release_package", "release_unit", "environment_booking",
                                           "release_criterion", "deviation"]
            let adminManaged: Set<String> = ["management_group", "environment", "service_window", "change_freeze", "freeze_override"]
            // Locks only relplan's own functions take: nobody reads them.
            let unreadable: Set<String> = ["relplan_lock", "scheduler_lock"]
            #expect(groupOwned.union(adminManaged).union(unreadable).isSubset(of: Set(tables)), "tables: \(tables)")
            var refused = 0, granted = 0
            for table in tables {
                let lockers: Set<Actor> = groupOwned.contains(table) ? Actor.tableWriters : adminManaged.contains(table) ? [.admin] : []
                for actor in Actor.allCases {
                    let db = try #require(connections[actor])
                    for mode in Self.lockModes {
                        let may = mode == "ACCESS SHARE" ? Actor.users.contains(actor) && !unreadable.contains(table) : lockers.contains(actor)
                        let actual = db.attempt(Statement("LOCK TABLE \(quotedIdentifier(table)) IN \(mode) MODE NOWAIT"))
                        let expected: Outcome = may ? .rows(0) : .denied
                        #expect(actual == expected, "\(actor) × LOCK TABLE \(table) IN \(mode) MODE: expected \(expected), got \(actual)")
                        if actual == .denied { refused += 1 } else if actual == .rows(0) { granted += 1 }
                    }
                }
            }
            // It tried what it claims: every table, and both outcomes many times over.
            #expect(tables.count >= 25 && refused > 1_000 && granted > 500, "\(tables.count) tables, \(refused) refused, \(granted) granted")
            // Nobody without a write role holds any table-level privilege but SELECT.
            let loose = try superuser.query("""
                SELECT c.relname::text || ': ' || r.rolname || ' ' || a.privilege_type
                FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) AS a JOIN pg_roles r ON r.oid = a.grantee
                WHERE c.relnamespace = 'public'::regnamespace AND a.privilege_type <> 'SELECT'
                  AND r.rolname NOT IN ('relplan_writer', 'relplan_admin') AND a.grantee <> c.relowner
                """).rows.map { try $0.decode(String.self) }
            #expect(loose.isEmpty, "table-level privileges beyond SELECT outside relplan_writer/relplan_admin: \(loose)")
        }
    }

    /// Columns of a table read from the catalog: so a column added later is in the matrix at once.
    /// `setByDatabase`: identity columns and those sql/0010 marks "set by the database"; `key`: the primary key.
    static func columns(of table: String, _ db: Connection) throws -> [(name: String, identity: Bool, setByDatabase: Bool, key: Bool)] {
        try db.query("""
            SELECT a.attname::text, a.attidentity <> '',
                   a.attidentity <> '' OR coalesce(col_description(a.attrelid, a.attnum), '') LIKE 'set by the database:%',
                   EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = a.attrelid AND c.contype = 'p' AND a.attnum = ANY (c.conkey))
            FROM pg_attribute a WHERE a.attrelid = ('public.' || $1)::regclass AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """, [table]).rows.map { try $0.decode((String, Bool, Bool, Bool).self) }
    }

    @Test("every role × table × column: who may name a column in INSERT and UPDATE")
    func columnMatrix() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            var connections: [Actor: Connection] = [:]
            for actor in Actor.allCases { connections[actor] = try f.connect(actor) }
            let adminTables: Set<String> = ["management_group", "environment", "service_window", "change_freeze", "freeze_override"]
            let unwritable: Set<String> = ["audit_log", "import_batch", "schedule_proposal", "calendar_event_sequence"]
            let reporterTables: Set<String> = ["conflict_history", "report_run"]
            var checked = 0, refusedByColumn = 0
            for policyCase in PolicyCase.all(f) {
                let update = policyCase.update
                guard let whereRange = update.sql.range(of: " WHERE ") else {
                    Issue.record("\(policyCase): its UPDATE names no row"); continue
                }
                let filter = String(update.sql[whereRange.upperBound...])
                let insertHolders: Set<Actor> = unwritable.contains(policyCase.table) ? []
                    : adminTables.contains(policyCase.table) ? [.admin]
                    : reporterTables.contains(policyCase.table) ? [.reporter] : Actor.users
                let columns = try Self.columns(of: policyCase.table, superuser)
                #expect(!columns.isEmpty)
                for column in columns {
                    let name = quotedIdentifier(column.name)
                    // A no-op on the matrix's row: privileges and policies decide, not the values.
                    let setSame = Statement("UPDATE \(policyCase.table) SET \(name) = \(column.identity ? "DEFAULT" : name) WHERE \(filter)", update.parameters)
                    let nameIt = Statement("INSERT INTO \(policyCase.table) (\(name)) SELECT \(name) FROM \(policyCase.table) WHERE false")
                    for actor in Actor.allCases {
                        let db = try #require(connections[actor])
                        let updated = db.attempt(setSame)
                        let expectedUpdate: Outcome = column.setByDatabase || column.key
                            ? .denied : policyCase.access.expected(.update, by: actor, visibleRows: 0)
                        #expect(updated == expectedUpdate,
                                "\(actor) × \(policyCase) × UPDATE SET \(column.name): expected \(expectedUpdate), got \(updated)")
                        let inserted = db.attempt(nameIt)
                        if column.identity {
                            // GENERATED ALWAYS: refused by the privilege or by the column itself (428C9).
                            #expect(inserted.sqlState == "42501" || inserted.sqlState == "428C9",
                                    "\(actor) × \(policyCase) × INSERT (\(column.name)): got \(inserted)")
                        } else {
                            let expectedInsert: Outcome = !column.setByDatabase && insertHolders.contains(actor) ? .rows(0) : .denied
                            #expect(inserted == expectedInsert,
                                    "\(actor) × \(policyCase) × INSERT (\(column.name)): expected \(expectedInsert), got \(inserted)")
                        }
                        if expectedUpdate == .denied && policyCase.access.expected(.update, by: actor, visibleRows: 0) != .denied { refusedByColumn += 1 }
                        checked += 2
                    }
                }
            }
            // The matrix exercised what it tests: many attempts, and column refusals to writers of the row.
            #expect(checked > 2_000 && refusedByColumn > 100, "checked \(checked), refused by column \(refusedByColumn)")
        }
    }

    @Test("a content change by a member depends on the release's status")
    func memberContentFollowsStatus() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            let member = try f.connect(.member)
            let open: Set<String> = ["planned", "building", "testing", "ready"]
            // An INSERT refused raises 42501; an UPDATE or DELETE refused finds nothing.
            let attempts: [(what: String, statement: Statement, refused: Outcome)] = [
                ("adds a package", Statement("INSERT INTO release_package (group_id, release_id, code) VALUES ($1, $2, 'docs')", [f.crm, f.crmOpen]), .denied),
                ("changes a unit", Statement("UPDATE release_unit SET version = '5' WHERE id = $1", [f.openUnit]), .rows(0)),
                ("ticks a criterion", Statement("UPDATE release_criterion SET checked_at = now() WHERE release_id = $1", [f.crmOpen]), .rows(0)),
                ("records a deviation", Statement("INSERT INTO deviation (group_id, release_id, severity, text) VALUES ($1, $2, 'low', 'x')", [f.crm, f.crmOpen]), .denied),
                ("removes a deviation", Statement("DELETE FROM deviation WHERE id = $1", [f.openDeviation]), .rows(0)),
            ]
            for status in ["planned", "building", "testing", "ready", "deploying", "deployed", "evaluating", "closed", "cancelled"] {
                try superuser.execute("UPDATE release SET status = $2 WHERE id = $1", [f.crmOpen, status])
                for (what, statement, refused) in attempts {
                    let expected: Outcome = open.contains(status) ? .rows(1) : refused
                    let actual = member.attempt(statement)
                    #expect(actual == expected, "member \(what) of a release in status \(status): expected \(expected), got \(actual)")
                }
            }
            try superuser.execute("UPDATE release SET status = 'planned' WHERE id = $1", [f.crmOpen])
            // Nor does a member carry content out of an open release into a deployed one, or move the release itself.
            let moved = member.attempt(Statement(
                "UPDATE release_criterion SET release_id = $2 WHERE release_id = $1 AND name = 'tested'", [f.crmOpen, f.crmDeployed]))
            #expect(moved == .denied, "member moves a criterion into the deployed release: got \(moved)")
            let advanced = member.attempt(Statement("UPDATE release SET status = 'deployed' WHERE id = $1", [f.crmOpen]))
            #expect(advanced == .rows(0), "member advances its release: got \(advanced)")
        }
    }

    @Test("no row moves to another group by updating its group_id")
    func noGroupMoves() throws {
        try withPolicyFixture { f in
            let dual = try f.connect(login: f.dualPlanner)
            let moves: [(table: String, key: String, parameters: [any PostgresEncodable])] = [
                ("release_plan", "id = $2", [f.crmEmptyPlan]),
                ("plan_stakeholder", "id = $2", [f.stakeholder]),
                ("release", "id = $2", [f.crmOpen]),
                ("release_dependency", "release_id = $2", [f.crmOpen]),
                ("release_package", "id = $2", [f.openPackage]),
                ("release_unit", "id = $2", [f.openUnit]),
                ("environment_booking", "id = $2", [f.booking]),
                ("release_criterion", "release_id = $2", [f.crmOpen]),
                ("deviation", "id = $2", [f.openDeviation]),
                ("schedule_proposal", "id = $2", [f.proposal]),
                ("membership", "role_name = $2", [f.spareMember]),
                ("release_model", "id = $2", [f.crmModel]),
            ]
            // The dual planner writes in both CRM and HR, so the policies alone would let every move
            // through; the trigger refuses. Models have no UPDATE policy at all: 0 rows.
            for move in moves {
                let statement = Statement("UPDATE \(move.table) SET group_id = $1 WHERE \(move.key)", [f.hr] + move.parameters)
                let expected: Outcome = move.table == "release_model" ? .rows(0) : .denied
                let actual = dual.attempt(statement)
                #expect(actual == expected, "manager of CRM and HR × \(move.table) × UPDATE group_id: expected \(expected), got \(actual)")
            }
            let admin = try f.connect(.admin)
            let adminMove = admin.attempt(Statement("UPDATE membership SET group_id = $1 WHERE role_name = $2", [f.hr, f.spareMember]))
            #expect(adminMove == .denied, "admin × membership × UPDATE group_id: got \(adminMove)")
            let manager = try f.connect(.manager)
            let managerMove = manager.attempt(Statement("UPDATE environment_booking SET group_id = $1 WHERE id = $2", [f.hr, f.booking]))
            #expect(managerMove == .denied, "manager × environment_booking × UPDATE group_id: got \(managerMove)")
        }
    }

    @Test("proposals are recorded in one's own name, undecided for another group; import batches only by the database")
    func proposalsAndImports() throws {
        try withPolicyFixture { f in
            let propose = """
                INSERT INTO schedule_proposal (group_id, release_id, action, from_text, to_text, reason, release_version, status)
                VALUES ($1, $2, 'move-window', 'SW-2027-03-14', 'SW-2027-04-11', 'capacity', 1, $3)
                """
            func proposal(status: String) -> Statement { Statement(propose, [f.crm, f.crmOpen, status]) }
            // Who proposed and who decided are the database's (sql/0010): naming them is refused.
            let forged = """
                INSERT INTO schedule_proposal (group_id, release_id, action, from_text, to_text, reason, release_version,
                                               status, proposed_by, decided_by, decided_at)
                VALUES ($1, $2, 'move-window', 'SW-2027-03-14', 'SW-2027-04-11', 'capacity', 1, 'pending', $3, $4, now())
                """
            let record = "INSERT INTO import_batch (file_name, sha256, rows, group_ids, imported_by) VALUES ('f.csv', 'ef56', 1, $1::integer[], $2)"
            let attempts: [(Actor, String, Statement, Outcome)] = [
                // Every direct write of a proposal is refused, whoever tries and whatever it says.
                (.otherGroup, "proposes a move of a CRM release", proposal(status: "pending"), .denied),
                (.otherGroup, "records an accepted proposal for CRM", proposal(status: "accepted"), .denied),
                (.otherGroup, "records a pending proposal as decided", Statement(forged, [f.crm, f.crmOpen, f.login(.otherGroup), f.login(.manager)]), .denied),
                (.otherGroup, "proposes in the CRM manager's name", Statement(forged, [f.crm, f.crmOpen, f.login(.manager), String?.none]), .denied),
                (.manager, "records an accepted proposal for its own group", proposal(status: "accepted"), .denied),
                (.member, "proposes a move", proposal(status: "pending"), .denied),
                (.admin, "proposes a move", proposal(status: "pending"), .denied),
                (.otherGroup, "decides a CRM proposal",
                 Statement("UPDATE schedule_proposal SET status = 'accepted', decided_by = current_user, decided_at = now() WHERE id = $1", [f.proposal]), .denied),
                (.releaseManager, "decides a CRM proposal by hand",
                 Statement("UPDATE schedule_proposal SET status = 'accepted', decided_by = current_user, decided_at = now() WHERE id = $1", [f.proposal]), .denied),
                (.releaseManager, "rewrites a proposal's target",
                 Statement("UPDATE schedule_proposal SET new_window_id = NULL, to_text = 'SW-2026-12-12' WHERE id = $1", [f.proposal]), .denied),
                (.otherGroup, "decides a CRM proposal through the function",
                 Statement("SELECT * FROM relplan_decide($1, true, NULL, '{}', 'UTC')", [f.proposal]), .denied),
                (.viewer, "takes the scheduler's lock", Statement("SELECT relplan_lock_scheduler()", []), .denied),
                (.noMembership, "takes the scheduler's lock", Statement("SELECT relplan_lock_scheduler()", []), .denied),
                (.viewer, "locks the scheduler's lock row", Statement("SELECT 1 FROM scheduler_lock FOR UPDATE", []), .denied),
                (.member, "records a batch for CRM", Statement(record, [[f.crm], f.login(.member)]), .denied),
                (.manager, "records a batch for CRM", Statement(record, [[f.crm], f.login(.manager)]), .denied),
                (.manager, "records a batch without naming groups or itself",
                 Statement("INSERT INTO import_batch (file_name, sha256, rows) VALUES ('f.csv', 'ef56', 1)"), .denied),
                (.manager, "records a batch through the function without having imported anything",
                 Statement("SELECT relplan_record_import('f.csv', 'ef56', 1, 1, 0, 0, 0)"), .denied),
                (.noMembership, "records a batch through the function", Statement("SELECT relplan_record_import('f.csv', 'ef56', 1, 1, 0, 0, 0)"), .denied),
                (.notAUser, "records a batch through the function", Statement("SELECT relplan_record_import('f.csv', 'ef56', 1, 1, 0, 0, 0)"), .denied),
            ]
            var connections: [Actor: Connection] = [:]
            for (actor, what, statement, expected) in attempts {
                let db = try connections[actor] ?? f.connect(actor)
                connections[actor] = db
                let actual = db.attempt(statement)
                #expect(actual == expected, "\(actor) \(what): expected \(expected), got \(actual)")
            }
            // Who decided is whoever did.
            let superuser = try f.superuser()
            _ = try f.connect(.releaseManager).query("SELECT * FROM relplan_decide($1, false, 'no', '{}', 'UTC')", [f.proposal])
            let decided = try #require(try superuser.query("SELECT decided_by, decided_at IS NOT NULL FROM schedule_proposal WHERE id = $1", [f.proposal]).first)
            #expect(try decided.decode((String, Bool).self) == (f.login(.releaseManager), true))
        }
    }
}

/// One thing someone tries, with the outcome the rules give.
private struct Try {
    let actor: Actor
    let what: String
    let expected: Outcome
    let body: (Connection) throws -> Int

    init(_ actor: Actor, _ what: String, _ expected: Outcome, _ sql: String, _ parameters: [any PostgresEncodable] = []) {
        self.init(actor, what, expected) { try $0.execute(sql, parameters) }
    }

    init(_ actor: Actor, _ what: String, _ expected: Outcome, body: @escaping (Connection) throws -> Int) {
        self.actor = actor
        self.what = what
        self.expected = expected
        self.body = body
    }
}

/// Runs each attempt (rolled back) as its actor and checks its outcome.
private func check(_ attempts: [Try], in f: PolicyFixture) throws {
    var connections: [Actor: Connection] = [:]
    for attempt in attempts {
        let db = try connections[attempt.actor] ?? f.connect(attempt.actor)
        connections[attempt.actor] = db
        let actual = db.attempt(attempt.body)
        #expect(actual == attempt.expected, "\(attempt.actor) \(attempt.what): expected \(attempt.expected), got \(actual)")
    }
}

@Suite("Row-level security: ways around the policies, all closed")
struct PolicyEscapeTests {
    @Test("nobody grants themselves a role")
    func noSelfPromotion() throws {
        try withPolicyFixture { f in
            let join = "INSERT INTO membership (group_id, role_name, role) VALUES ($1, current_user, $2)"
            var attempts = [
                Try(.releaseManager, "makes itself manager of CRM", .denied, join, [f.crm, "manager"]),
                Try(.releaseManager, "promotes its own membership", .rows(0),
                    "UPDATE membership SET role = 'manager' WHERE group_id = $1 AND role_name = current_user", [f.crm]),
                Try(.releaseManager, "upserts itself as manager", .denied,
                    join + " ON CONFLICT (group_id, role_name) DO UPDATE SET role = 'manager'", [f.crm, "manager"]),
                Try(.member, "promotes itself to release-manager", .rows(0),
                    "UPDATE membership SET role = 'release-manager' WHERE role_name = current_user"),
                Try(.viewer, "adds itself to CRM as manager", .denied, join, [f.crm, "manager"]),
                Try(.viewer, "adds itself to HR", .denied, join, [f.hr, "viewer"]),
                Try(.noMembership, "adds itself to CRM", .denied, join, [f.crm, "viewer"]),
                Try(.manager, "adds itself to HR", .denied, join, [f.hr, "manager"]),
                Try(.manager, "moves its membership to HR", .denied,
                    "UPDATE membership SET group_id = $1 WHERE group_id = $2 AND role_name = current_user", [f.hr, f.crm]),
                Try(.otherGroup, "adds itself to CRM", .denied, join, [f.crm, "manager"]),
                Try(.otherGroup, "adds a friend to CRM", .denied,
                    "INSERT INTO membership (group_id, role_name, role) VALUES ($1, $2, 'manager')", [f.crm, f.newcomer]),
                Try(.otherGroup, "removes CRM's manager", .rows(0), "DELETE FROM membership WHERE group_id = $1", [f.crm]),
                Try(.manager, "adds a member to its own group", .rows(1), join.replacingOccurrences(of: "current_user", with: "$3"), [f.crm, "member", f.newcomer]),
            ]
            for actor in Actor.allCases {
                // Role membership is the server's own: only holders of ADMIN OPTION grant it, and nobody here has it.
                attempts.append(Try(actor, "grants itself relplan_admin", .denied,
                                    "GRANT relplan_admin TO \(quotedIdentifier(f.login(actor)))"))
                attempts.append(Try(actor, "makes itself a CREATEROLE role", .denied, "ALTER ROLE CURRENT_USER CREATEROLE"))
                guard actor != .admin else { continue }
                attempts.append(Try(actor, "calls relplan_grant_admin on itself", .denied, "SELECT relplan_grant_admin(current_user)"))
                attempts.append(Try(actor, "calls relplan_create_user", .denied, "SELECT relplan_create_user('rp_sneaky', NULL)"))
                attempts.append(Try(actor, "sets role relplan_admin", .denied, "SET ROLE relplan_admin"))
                attempts.append(Try(actor, "becomes the admin login", .denied,
                                    "SET SESSION AUTHORIZATION \(quotedIdentifier(f.login(.admin)))"))
            }
            attempts.append(Try(.notAUser, "grants itself relplan_user", .denied,
                                "GRANT relplan_user TO \(quotedIdentifier(f.login(.notAUser)))"))
            attempts.append(Try(.manager, "lends relplan_user to a stranger", .denied,
                                "GRANT relplan_user TO \(quotedIdentifier(f.login(.notAUser)))"))
            try check(attempts, in: f)

            // What an admin may do: create a login and make it an admin, through the two functions.
            let newcomer = TestDatabase.uniqueRoleName("rp_newcomer")
            defer { _ = try? TestDatabase.adminConnection().execute("DROP ROLE IF EXISTS \(quotedIdentifier(newcomer))", simple: true) }
            let admin = try f.connect(.admin)
            try admin.execute("SELECT relplan_create_user($1, NULL)", [newcomer])
            try admin.execute("SELECT relplan_grant_admin($1)", [newcomer])
            let superuser = try f.superuser()
            let granted = try superuser.query(
                "SELECT rolcanlogin, pg_has_role(rolname, 'relplan_user', 'MEMBER'), pg_has_role(rolname, 'relplan_admin', 'MEMBER') FROM pg_roles WHERE rolname = $1",
                [newcomer])
            let row = try #require(granted.first)
            #expect(try row.decode((Bool, Bool, Bool).self) == (true, true, true), "admin creates an admin login")
            let admins = try superuser.count(
                "SELECT count(*) FROM unnest($1::text[]) AS r(name) WHERE pg_has_role(r.name, 'relplan_admin', 'MEMBER')",
                [Actor.allCases.filter { $0 != .admin }.map(f.login)])
            #expect(admins == 0, "no non-admin actor ended up in relplan_admin")
        }
    }

    // What was tried, as an ordinary login: objects of one's own run with one's own rights (a view's
    // owner, a SECURITY DEFINER function's owner are the user), so they reach only what the user
    // reaches; objects in the shared schema, DDL on our tables and changes of ownership are refused.
    @Test("views, functions and DDL of one's own bypass nothing")
    func noBypassThroughOwnObjects() throws {
        try withPolicyFixture { f in
            let renameAll = """
                CREATE FUNCTION pg_temp.rename_all() RETURNS bigint LANGUAGE sql SECURITY DEFINER
                AS $$ WITH changed AS (UPDATE public.release SET title = 'renamed' RETURNING 1) SELECT count(*) FROM changed $$
                """
            let attempts = [
                Try(.viewer, "creates a view in public", .denied, "CREATE VIEW public.all_releases AS SELECT * FROM release"),
                Try(.viewer, "creates a function in public", .denied,
                    "CREATE FUNCTION public.wipe() RETURNS void LANGUAGE sql SECURITY DEFINER AS 'DELETE FROM public.release'"),
                Try(.manager, "creates a schema", .denied, "CREATE SCHEMA mine"),
                Try(.viewer, "updates through a temporary view", .rows(0)) { db in
                    try db.execute("CREATE TEMP VIEW mine AS SELECT * FROM release", simple: true)
                    return try db.execute("UPDATE mine SET title = 'through a view'")
                },
                Try(.otherGroup, "deletes CRM releases through a security_barrier view", .rows(0)) { db in
                    try db.execute("CREATE TEMP VIEW mine WITH (security_barrier) AS SELECT * FROM release WHERE group_id = \(f.crm)", simple: true)
                    return try db.execute("DELETE FROM mine")
                },
                Try(.viewer, "updates every release through its own SECURITY DEFINER function", .rows(0)) { db in
                    try db.execute(renameAll, simple: true)
                    return try db.count("SELECT pg_temp.rename_all()")
                },
                Try(.viewer, "hands its SECURITY DEFINER function to the CRM manager", .denied) { db in
                    try db.execute(renameAll, simple: true)
                    return try db.execute("ALTER FUNCTION pg_temp.rename_all() OWNER TO \(identifier: f.login(.manager))")
                },
                Try(.admin, "hands its SECURITY DEFINER function to the superuser", .denied) { db in
                    try db.execute(renameAll, simple: true)
                    return try db.execute("ALTER FUNCTION pg_temp.rename_all() OWNER TO postgres")
                },
                Try(.manager, "disables row-level security", .denied, "ALTER TABLE release DISABLE ROW LEVEL SECURITY"),
                Try(.admin, "lifts FORCE ROW LEVEL SECURITY", .denied, "ALTER TABLE management_group NO FORCE ROW LEVEL SECURITY"),
                Try(.manager, "adds a policy of its own", .denied,
                    "CREATE POLICY mine ON release FOR ALL TO relplan_user USING (true) WITH CHECK (true)"),
                Try(.admin, "drops a policy", .denied, "DROP POLICY planners_write ON release"),
                Try(.manager, "truncates release (TRUNCATE ignores policies)", .denied, "TRUNCATE release CASCADE"),
                Try(.admin, "truncates membership", .denied, "TRUNCATE membership"),
                Try(.manager, "adds a trigger to release", .denied,
                    "CREATE TRIGGER mine BEFORE UPDATE ON release FOR EACH ROW EXECUTE FUNCTION release_touch()"),
                Try(.viewer, "reads memberships through the policy helper", .rows(1),
                    "SELECT relplan_groups_with_role($1, '{manager}')", [f.login(.manager)]),
            ]
            try check(attempts, in: f)
        }
    }

    // Every user may create temporary tables (the importer stages into them), and an unqualified
    // table name looks in pg_temp first: a trigger or SECURITY DEFINER function that names a table
    // without pinning its search_path would read or write the user's look-alike instead.
    @Test("temporary look-alike tables fool neither the audit trail nor the booking checks")
    func temporaryLookAlikes() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            let manager = try f.connect(.manager)
            let booking = """
                INSERT INTO public.environment_booking (group_id, release_id, environment_id, during, status)
                VALUES ($1, $2, $3, $4::tstzrange, 'confirmed')
                """

            // The audit trail still gets the change.
            try manager.execute("""
                CREATE TEMP TABLE audit_log (id bigint, at timestamptz, login text, acting_role text, table_name text,
                    operation text, row_key text, group_id integer, release_id bigint, old_row jsonb, new_row jsonb)
                """, simple: true)
            try manager.execute("UPDATE public.release SET title = 'unaudited?' WHERE id = $1", [f.crmOpen])
            #expect(try superuser.count(
                "SELECT count(*) FROM audit_log WHERE table_name = 'release' AND new_row ->> 'title' = 'unaudited?' AND login = $1",
                [f.login(.manager)]) == 1, "a temporary audit_log swallowed the audit row")
            #expect(try manager.count("SELECT count(*) FROM pg_temp.audit_log") == 0)

            // A capacity-1 environment stays exclusive (0001's trigger reads `environment`).
            let exclusive = manager.attempt { db in
                try db.execute("CREATE TEMP TABLE environment (id integer, capacity integer)", simple: true)
                try db.execute("INSERT INTO pg_temp.environment VALUES ($1, 5)", [f.testEnvironment])
                try db.execute(booking, [f.crm, f.crmOpen, f.testEnvironment, "[2027-05-01 00:00Z, 2027-05-03 00:00Z)"])
                return try db.execute(booking, [f.crm, f.crmDeployed, f.testEnvironment, "[2027-05-02 00:00Z, 2027-05-04 00:00Z)"])
            }
            #expect(exclusive.sqlState == "23P01", "overlapping confirmed bookings of a capacity-1 environment: got \(exclusive)")

            // A capacity-2 environment holds two (0004's trigger reads `environment` and `environment_booking`).
            let capacity = manager.attempt { db in
                try db.execute("CREATE TEMP TABLE environment (id integer, capacity integer)", simple: true)
                try db.execute("INSERT INTO pg_temp.environment VALUES ($1, 1)", [f.sharedEnvironment])
                try db.execute("CREATE TEMP TABLE environment_booking (LIKE public.environment_booking)", simple: true)
                var changed = 0
                for releaseID in [f.crmOpen, f.crmDeployed, f.crmOpen] {
                    let day = 1 + changed
                    changed += try db.execute(booking, [f.crm, releaseID, f.sharedEnvironment,
                                                         "[2027-06-0\(day) 00:00Z, 2027-06-10 00:00Z)"])
                }
                return changed
            }
            #expect(capacity.sqlState == "23P01", "three overlapping confirmed bookings of a capacity-2 environment: got \(capacity)")
        }
    }

    @Test("the audit trail is append-only, written by triggers, and names login and acting role")
    func auditTrail() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            func lastEntry(_ table: String) throws -> (login: String, actingRole: String, operation: String, group: Int?) {
                let row = try #require(try superuser.query(
                    "SELECT login, acting_role, operation, group_id FROM audit_log WHERE table_name = $1 ORDER BY id DESC LIMIT 1", [table]).first)
                return try row.decode((String, String, String, Int?).self)
            }

            try f.connect(.manager).execute("UPDATE release SET title = 'audited' WHERE id = $1", [f.crmOpen])
            let release = try lastEntry("release")
            #expect(release.login == f.login(.manager) && release.actingRole == f.login(.manager))
            #expect(release.operation == "UPDATE" && release.group == f.crm)

            try f.connect(.member).execute("INSERT INTO release_package (group_id, release_id, code) VALUES ($1, $2, 'docs')", [f.crm, f.crmOpen])
            let package = try lastEntry("release_package")
            #expect(package.login == f.login(.member) && package.actingRole == f.login(.member) && package.operation == "INSERT")

            try f.connect(.admin).execute("INSERT INTO management_group (code, name) VALUES ('OPS', 'Operations')")
            let group = try lastEntry("management_group")
            #expect(group.login == f.login(.admin) && group.actingRole == f.login(.admin))

            // A login acting through SET ROLE: the login and the role both recorded.
            let delegate = try f.connect(login: f.delegate)
            try delegate.execute("SET ROLE \(quotedIdentifier(f.team))", simple: true)
            try delegate.execute("INSERT INTO deviation (group_id, release_id, severity, text) VALUES ($1, $2, 'high', 'rollback')", [f.crm, f.crmOpen])
            let deviation = try lastEntry("deviation")
            #expect(deviation.login == f.delegate && deviation.actingRole == f.team, "SET ROLE: got \(deviation)")

            // Nobody rewrites history, the table's owner (here the superuser) included.
            #expect(superuser.attempt(Statement("UPDATE audit_log SET login = 'someone else'")) == .denied)
            #expect(superuser.attempt(Statement("DELETE FROM audit_log")) == .denied)
            #expect(superuser.attempt(Statement("TRUNCATE audit_log")) == .denied)

            let forge = "INSERT INTO public.audit_log (table_name, operation, row_key, group_id) VALUES ('release', 'DELETE', '1', \(f.crm))"
            try check([
                Try(.admin, "truncates the audit trail", .denied, "TRUNCATE audit_log"),
                Try(.manager, "inserts a forged audit row", .denied, forge),
                Try(.viewer, "inserts a forged audit row from a trigger of its own", .denied) { db in
                    try db.execute("""
                        CREATE FUNCTION pg_temp.forge() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \(forge); RETURN NULL; END $$;
                        CREATE TEMP TABLE decoy (x integer);
                        CREATE TRIGGER forge AFTER INSERT ON decoy FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.forge();
                        """, simple: true)
                    return try db.execute("INSERT INTO decoy VALUES (1)")
                },
                Try(.viewer, "attaches the audit trigger to a look-alike release table", .denied) { db in
                    try db.execute("CREATE TEMP TABLE release (id bigint, group_id integer)", simple: true)
                    return try db.execute("""
                        CREATE TRIGGER audit_insert AFTER INSERT ON pg_temp.release REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION public.audit_statement('id')
                        """)
                },
            ], in: f)
            #expect(try superuser.count("SELECT count(*) FROM audit_log WHERE row_key = '1' AND operation = 'DELETE' AND table_name = 'release'") == 0)
        }
    }

    @Test("values that look like SQL are stored literally")
    func literalValues() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            let manager = try f.connect(.manager)
            let releasesBefore = try superuser.count("SELECT count(*) FROM release")
            let title = "'); DELETE FROM release; --"
            let stakeholder = #"O'Brien "Bob"; DROP TABLE release_plan; --"#
            let deviation = #"\'; SELECT pg_sleep(10); -- $$ $1 E'\x41'"#
            // Memberships name logins (sql/0010): this odd name is one, for the test's length.
            let person = TestDatabase.uniqueRoleName(#"o'neil"; DROP ROLE postgres; --"#)
            let cluster = try TestDatabase.adminConnection()
            try cluster.execute("CREATE ROLE \(quotedIdentifier(person)) LOGIN", simple: true)
            defer { _ = try? cluster.execute("DROP ROLE IF EXISTS \(quotedIdentifier(person))", simple: true) }
            let groupName = "Finance'); TRUNCATE management_group; --"

            let releaseID = try #require(try manager.query(
                "INSERT INTO release (group_id, plan_id, code, title) VALUES ($1, $2, 'R-QUOTE', $3) RETURNING id",
                [f.crm, f.crmPlan, title]).first?.decode(Int.self))
            try manager.execute("INSERT INTO plan_stakeholder (group_id, plan_id, name, role) VALUES ($1, $2, $3, $4)", [f.crm, f.crmPlan, stakeholder, title])
            try f.connect(.member).execute("INSERT INTO deviation (group_id, release_id, severity, text) VALUES ($1, $2, 'low', $3)", [f.crm, f.crmOpen, deviation])
            try manager.execute("INSERT INTO membership (group_id, role_name, role) VALUES ($1, $2, 'viewer')", [f.crm, person])
            let admin = try f.connect(.admin)
            try admin.execute("INSERT INTO management_group (code, name) VALUES ('FIN', $1)", [groupName])

            #expect(try superuser.query("SELECT title FROM release WHERE id = $1", [releaseID]).first?.decode(String.self) == title)
            #expect(try superuser.count("SELECT count(*) FROM release") == releasesBefore + 1)
            #expect(try superuser.count("SELECT count(*) FROM plan_stakeholder WHERE name = $1 AND role = $2", [stakeholder, title]) == 1)
            #expect(try superuser.count("SELECT count(*) FROM deviation WHERE text = $1", [deviation]) == 1)
            #expect(try superuser.count("SELECT count(*) FROM membership WHERE role_name = $1", [person]) == 1)
            #expect(try superuser.query("SELECT name FROM management_group WHERE code = 'FIN'").first?.decode(String.self) == groupName)
            #expect(try superuser.count("SELECT count(*) FROM management_group") == 4)
            #expect(try superuser.count("SELECT count(*) FROM audit_log WHERE table_name = 'release' AND new_row ->> 'title' = $1", [title]) == 1)

            // Role names reach SQL only as identifiers quoted by the functions themselves.
            let injected = admin.attempt { try $0.execute("SELECT relplan_create_user($1, NULL)", ["bobby'); DROP TABLE release; --"]) }
            #expect(injected.sqlState == "42602", "relplan_create_user with a quote in the name: got \(injected)")
            let unknown = admin.attempt { try $0.execute("SELECT relplan_grant_admin($1)", [#"nobody"; DROP ROLE postgres; --"#]) }
            #expect(unknown.sqlState == "42704", "relplan_grant_admin of an odd, unknown name: got \(unknown)")
            #expect(try superuser.count("SELECT count(*) FROM pg_roles WHERE rolname = 'postgres'") == 1)
        }
    }
}

import Foundation
import Postgres
import Testing
import TestSupport

// Issue 16, tried as ordinary logins with plain SQL: each finding is a class, and the tables and
// columns it applies to are read from the catalog, so a table added later is tried as well.

/// Tables with the audit triggers, and the key each pairs rows by (the trigger's arguments).
func auditedTables(_ db: Connection) throws -> [(table: String, key: [String])] {
    try db.query("""
        SELECT c.relname::text, array_remove(string_to_array(encode(t.tgargs, 'escape'), '\\000'), '')
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE t.tgname = 'audit_update' ORDER BY c.relname
        """).rows.map { try $0.decode((String, [String]).self) }
}

/// An expression that changes a column's value, whatever its type, for an UPDATE's SET.
private func changed(_ column: String, type: String, identity: Bool) -> String {
    let name = quotedIdentifier(column)
    if identity { return "DEFAULT" }
    switch type {
    case "text": return "\(name) || '-renamed'"
    case "boolean": return "NOT \(name)"
    case "timestamp with time zone": return "coalesce(\(name), now()) - interval '1 day'"
    case "jsonb": return "'{\"forged\": true}'::jsonb"
    case "integer[]": return "'{}'::integer[]"
    default: return "coalesce(\(name), 0) + 1"
    }
}

@Suite("Security: what the database derives, keys, memberships, targets, lifecycle, import batches")
struct SecurityTests {
    // MARK: Finding 1: derived and attribution columns

    @Test("every attribution and derived column is set by the database: no login may name it, on any table")
    func derivedColumnsRefused() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            // Every "who" column (…_by) of every relplan table (those under row-level security) is
            // marked, so a new one cannot be forgotten.
            let unmarked = try superuser.query("""
                SELECT c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
                WHERE c.relkind = 'r' AND c.relrowsecurity AND a.attnum > 0 AND NOT a.attisdropped AND a.attname ~ '_by$'
                  AND coalesce(col_description(a.attrelid, a.attnum), '') NOT LIKE 'set by the database:%'
                """).rows.map { try $0.decode(String.self) }
            #expect(unmarked.isEmpty, "attribution columns the database does not set: \(unmarked)")
            let columns = try superuser.query("""
                SELECT c.relname::text, a.attname::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
                WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
                  AND col_description(a.attrelid, a.attnum) LIKE 'set by the database:%'
                ORDER BY 1, 2
                """).rows.map { try $0.decode((String, String).self) }
            #expect(columns.count >= 25, "only \(columns.count) columns marked")
            for required in ["environment_booking.exclusive", "release.row_version", "environment_booking.booked_by",
                             "release_criterion.checked_by", "deviation.recorded_by", "schedule_proposal.proposed_by",
                             "membership.added_by", "release_plan.created_by", "release_model.created_by", "freeze_override.granted_by",
                             "import_batch.imported_by", "deviation.handled_by", "schedule_proposal.decided_by"] {
                #expect(columns.contains { "\($0.0).\($0.1)" == required }, "\(required) is not marked as set by the database")
            }
            var connections: [Actor: Connection] = [:]
            for actor in Actor.allCases { connections[actor] = try f.connect(actor) }
            for (table, column) in columns {
                let name = quotedIdentifier(column)
                for actor in Actor.allCases {
                    let db = try #require(connections[actor])
                    let update = db.attempt(Statement("UPDATE \(table) SET \(name) = \(name)"))
                    #expect(update == .denied, "\(actor) × UPDATE \(table) SET \(column): got \(update)")
                    let insert = db.attempt(Statement("INSERT INTO \(table) (\(name)) SELECT \(name) FROM \(table) WHERE false"))
                    #expect(insert == .denied, "\(actor) × INSERT INTO \(table) (\(column)): got \(insert)")
                }
            }
        }
    }

    @Test("the double booking of the red team: exclusivity cannot be switched off, the range cannot land on a confirmed booking")
    func noDoubleBooking() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            try superuser.execute("UPDATE environment_booking SET status = 'confirmed' WHERE release_id = $1", [f.hrRelease])
            let manager = try f.connect(.manager)
            try manager.execute("UPDATE environment_booking SET status = 'confirmed' WHERE id = $1", [f.booking])
            #expect(try superuser.count("SELECT count(*) FROM environment_booking WHERE id = $1 AND exclusive", [f.booking]) == 1)
            let exploit = manager.attempt(Statement(
                "UPDATE environment_booking SET exclusive = false, during = '[2027-03-06 00:00Z, 2027-03-08 00:00Z)' WHERE id = $1", [f.booking]))
            #expect(exploit == .denied, "switching exclusivity off: got \(exploit)")
            let onto = manager.attempt(Statement(
                "UPDATE environment_booking SET during = '[2027-03-06 00:00Z, 2027-03-08 00:00Z)' WHERE id = $1", [f.booking]))
            #expect(onto.sqlState == "23P01", "moving onto HR's confirmed booking: got \(onto)")
            // Not even the owner (here the superuser) makes a confirmed booking of a capacity-1 environment non-exclusive.
            try superuser.execute("UPDATE environment_booking SET exclusive = false WHERE id = $1", [f.booking])
            #expect(try superuser.count("SELECT count(*) FROM environment_booking WHERE id = $1 AND exclusive", [f.booking]) == 1)
            // A capacity raised to 2 and lowered again: exclusivity follows the environment.
            let admin = try f.connect(.admin)
            try admin.execute("UPDATE environment SET capacity = 2 WHERE id = $1", [f.testEnvironment])
            #expect(try superuser.count("SELECT count(*) FROM environment_booking WHERE environment_id = $1 AND exclusive", [f.testEnvironment]) == 0)
            try admin.execute("UPDATE environment SET capacity = 1 WHERE id = $1", [f.testEnvironment])
            #expect(try superuser.count("SELECT count(*) FROM environment_booking WHERE environment_id = $1 AND exclusive", [f.testEnvironment]) == 2)
        }
    }

    @Test("who and when are the database's: attribution follows the acting role, event columns follow the event")
    func attributionValues() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            func value(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> String? {
                try superuser.query(sql, parameters).first?.decode(String?.self)
            }
            let member = try f.connect(.member)
            try member.execute("UPDATE deviation SET resolution = 'fixed' WHERE id = $1", [f.openDeviation])
            #expect(try value("SELECT handled_by FROM deviation WHERE id = $1", [f.openDeviation]) == f.login(.member))
            try member.execute("UPDATE release_criterion SET checked_at = '2001-01-01' WHERE release_id = $1", [f.crmOpen])
            #expect(try value("SELECT checked_by FROM release_criterion WHERE release_id = $1", [f.crmOpen]) == f.login(.member))
            #expect(try value("SELECT (checked_at > now() - interval '1 hour')::text FROM release_criterion WHERE release_id = $1", [f.crmOpen]) == "true",
                    "a backdated tick keeps its date")
            let delegate = try f.connect(login: f.delegate)
            try delegate.execute("SET ROLE \(quotedIdentifier(f.team))", simple: true)
            try delegate.execute(
                "INSERT INTO environment_booking (group_id, release_id, environment_id, during) VALUES ($1, $2, $3, '[2027-07-01 00:00Z, 2027-07-02 00:00Z)')",
                [f.crm, f.crmOpen, f.sharedEnvironment])
            #expect(try value("SELECT booked_by FROM environment_booking WHERE environment_id = $1", [f.sharedEnvironment]) == f.team)
            let manager = try f.connect(.manager)
            try manager.execute("UPDATE release SET title = 'x' WHERE id = $1", [f.crmOpen])
            #expect(try value("SELECT row_version || ' ' || updated_by FROM release WHERE id = $1", [f.crmOpen]) == "2 \(f.login(.manager))")
            // The owner's own writes are derived too.
            try superuser.execute("UPDATE release SET row_version = 1000 WHERE id = $1", [f.crmOpen])
            #expect(try value("SELECT row_version::text FROM release WHERE id = $1", [f.crmOpen]) == "3")
            let fixedAttribution = superuser.attempt(Statement("UPDATE deviation SET recorded_by = 'someone else' WHERE id = $1", [f.openDeviation]))
            #expect(fixedAttribution == .denied, "the owner rewrites who recorded a deviation: got \(fixedAttribution)")
        }
    }

    // MARK: Finding 2: keys, and what the audit does when rows do not pair

    @Test("keys never change, on every audited table, for every login and for the owner")
    func keysNeverChange() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            let tables = try auditedTables(superuser)
            #expect(tables.count >= 19, "audited tables: \(tables.map(\.table))")
            var connections: [Actor: Connection] = [:]
            for actor in Actor.allCases { connections[actor] = try f.connect(actor) }
            for (table, key) in tables {
                #expect(try superuser.count("SELECT count(*) FROM \(table)") > 0, "the fixture holds no \(table) rows")
                for column in key {
                    let row = try #require(try superuser.query("""
                        SELECT format_type(a.atttypid, a.atttypmod), a.attidentity <> '' FROM pg_attribute a
                        WHERE a.attrelid = ('public.' || $1)::regclass AND a.attname = $2
                        """, [table, column]).first)
                    let (type, identity) = try row.decode((String, Bool).self)
                    let change = changed(column, type: type, identity: identity)
                    let statement = Statement("UPDATE \(table) SET \(quotedIdentifier(column)) = \(change)")
                    for actor in Actor.allCases {
                        let outcome = try #require(connections[actor]).attempt(statement)
                        #expect(outcome == .denied, "\(actor) × UPDATE \(table) SET \(column): got \(outcome)")
                    }
                    // The owner holds every privilege (and the superuser bypasses them): the trigger refuses.
                    let owner = superuser.attempt(statement)
                    #expect(owner == .denied, "superuser × UPDATE \(table) SET \(column) = \(change): got \(owner)")
                }
            }
        }
    }

    @Test("an update whose rows do not pair by key is audited all the same (the key trigger switched off)")
    func unpairedRowsAudited() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            let attempts: [(table: String, sql: String, parameters: [any PostgresEncodable], old: String)] = [
                ("deviation", "UPDATE deviation SET id = DEFAULT, severity = 'low' WHERE id = $1", [f.openDeviation], String(f.openDeviation)),
                ("environment_booking", "UPDATE environment_booking SET id = DEFAULT WHERE id = $1", [f.booking], String(f.booking)),
                ("membership", "UPDATE membership SET role_name = $2 WHERE role_name = $1", [f.spareMember, f.newcomer], "\(f.crm)/\(f.spareMember)"),
                ("target", "UPDATE target SET code = 'renamed' WHERE code = 'unowned'", [], "unowned"),
            ]
            for attempt in attempts {
                try superuser.execute("BEGIN", simple: true)
                defer { try? superuser.execute("ROLLBACK", simple: true) }
                try superuser.execute("ALTER TABLE \(attempt.table) DISABLE TRIGGER keys_fixed", simple: true)
                let before = try superuser.count("SELECT coalesce(max(id), 0) FROM audit_log")
                #expect(try superuser.execute(attempt.sql, attempt.parameters) == 1)
                let rows = try superuser.query("""
                    SELECT row_key, old_row IS NOT NULL, new_row IS NOT NULL FROM audit_log WHERE id > $1 AND table_name = $2 ORDER BY row_key
                    """, [before, attempt.table]).rows.map { try $0.decode((String, Bool, Bool).self) }
                #expect(rows.count == 2, "\(attempt.table): \(rows)")
                #expect(rows.contains { $0.0 == attempt.old && $0.1 && !$0.2 }, "\(attempt.table): the old row alone is missing: \(rows)")
                #expect(rows.contains { $0.0 != attempt.old && !$0.1 && $0.2 }, "\(attempt.table): the new row alone is missing: \(rows)")
            }
        }
    }

    // MARK: Finding 3: bulk statements keep every value

    /// For each audited table: set-up, an INSERT of 150 rows, the rows it wrote, and a change to them.
    static func bulkCases(_ f: PolicyFixture) -> [String: (setup: String, insert: String, rows: String, update: String)] {
        let many = "generate_series(1, 150) AS i"
        let releases = "SELECT id FROM release WHERE code LIKE 'BULKDEP-%'"
        return [
            "management_group": ("", "INSERT INTO management_group (code, name) SELECT 'BULK-' || i, 'backdoor-9.9-' || i FROM \(many)",
                                 "name LIKE 'backdoor-9.9-%'", "name = name || '!'"),
            "membership": ("DO $$ BEGIN FOR i IN 1..150 LOOP EXECUTE format('CREATE ROLE %I LOGIN', 'rp_bulk_' || i || '_' || txid_current()); END LOOP; END $$",
                           "INSERT INTO membership (group_id, role_name, role) SELECT \(f.crm), 'rp_bulk_' || i || '_' || txid_current(), 'viewer' FROM \(many)",
                           "role_name LIKE 'rp\\_bulk\\_%'", "role = 'member'"),
            "environment": ("", "INSERT INTO environment (code, name) SELECT 'BULK-' || i, 'backdoor-9.9-' || i FROM \(many)",
                            "name LIKE 'backdoor-9.9-%'", "name = name || '!'"),
            "service_window": ("", "INSERT INTO service_window (code, starts_at, ends_at) SELECT 'BULK-' || i, '2030-01-01Z'::timestamptz + i * interval '1 day', '2030-01-01Z'::timestamptz + i * interval '1 day' + interval '4 hours' FROM \(many)",
                               "code LIKE 'BULK-%'", "capacity = 7"),
            "change_freeze": ("", "INSERT INTO change_freeze (code, starts_at, ends_at, reason) SELECT 'BULK-' || i, '2030-01-01Z', '2030-01-02Z', 'backdoor-9.9-' || i FROM \(many)",
                              "reason LIKE 'backdoor-9.9-%'", "reason = reason || '!'"),
            "target": ("", "INSERT INTO target (code) SELECT 'backdoor-9.9-' || i FROM \(many)", "code LIKE 'backdoor-9.9-%'", "part_of = 'srv-crm-01'"),
            "release_model": ("", "INSERT INTO release_model (code, version, name, definition, source) SELECT 'BULK-' || i, 1, 'backdoor-9.9-' || i, '{}', '' FROM \(many)",
                              "name LIKE 'backdoor-9.9-%'", "name = name || '!'"),
            "release_plan": ("", "INSERT INTO release_plan (group_id, code, title) SELECT \(f.crm), 'BULK-' || i, 'backdoor-9.9-' || i FROM \(many)",
                             "title LIKE 'backdoor-9.9-%'", "title = title || '!'"),
            "plan_stakeholder": ("", "INSERT INTO plan_stakeholder (group_id, plan_id, name, role) SELECT \(f.crm), \(f.crmPlan), 'backdoor-9.9-' || i, 'r' FROM \(many)",
                                 "name LIKE 'backdoor-9.9-%'", "role = 'sponsor'"),
            "release": ("", "INSERT INTO release (group_id, plan_id, code, title) SELECT \(f.crm), \(f.crmPlan), 'BULK-' || i, 'backdoor-9.9-' || i FROM \(many)",
                        "title LIKE 'backdoor-9.9-%'", "title = title || '!'"),
            "release_dependency": ("INSERT INTO release (group_id, plan_id, code) SELECT \(f.crm), \(f.crmPlan), 'BULKDEP-' || i FROM \(many)",
                                   "INSERT INTO release_dependency (group_id, release_id, depends_on_id) SELECT \(f.crm), id, \(f.hrRelease) FROM (\(releases)) AS r",
                                   "release_id IN (\(releases))", "group_id = group_id"),
            "release_package": ("", "INSERT INTO release_package (group_id, release_id, code) SELECT \(f.crm), \(f.crmOpen), 'backdoor-9.9-' || i FROM \(many)",
                                "code LIKE 'backdoor-9.9-%'", "code = code || '-b'"),
            "release_unit": ("", "INSERT INTO release_unit (group_id, package_id, code, kind, target_code, version) SELECT \(f.crm), \(f.openPackage), 'u-' || i, 'application', 'srv-crm-01', 'backdoor-9.9-' || i FROM \(many)",
                             "version LIKE 'backdoor-9.9-%'", "version = version || '!'"),
            "environment_booking": ("", "INSERT INTO environment_booking (group_id, release_id, environment_id, during) SELECT \(f.crm), \(f.crmOpen), \(f.sharedEnvironment), tstzrange('2030-01-01Z'::timestamptz + i * interval '1 day', '2030-01-01Z'::timestamptz + i * interval '1 day' + interval '1 hour') FROM \(many)",
                                    "environment_id = \(f.sharedEnvironment)", "during = tstzrange(lower(during), upper(during) + interval '1 hour')"),
            "release_criterion": ("", "INSERT INTO release_criterion (group_id, release_id, phase, name) SELECT \(f.crm), \(f.crmOpen), 'test', 'backdoor-9.9-' || i FROM \(many)",
                                  "name LIKE 'backdoor-9.9-%'", "phase = 'deploy'"),
            "deviation": ("", "INSERT INTO deviation (group_id, release_id, severity, text) SELECT \(f.crm), \(f.crmOpen), 'high', 'backdoor-9.9-' || i FROM \(many)",
                          "text LIKE 'backdoor-9.9-%'", "severity = 'low'"),
            "import_batch": ("", "INSERT INTO import_batch (file_name, sha256, rows) SELECT 'backdoor-9.9-' || i, 'x', 1 FROM \(many)",
                             "file_name LIKE 'backdoor-9.9-%'", "rows = 2"),
            "schedule_proposal": ("", "INSERT INTO schedule_proposal (group_id, release_id, action, from_text, to_text, reason, release_version) SELECT \(f.crm), \(f.crmOpen), 'move-window', 'a', 'b', 'backdoor-9.9-' || i, 1 FROM \(many)",
                                  "reason LIKE 'backdoor-9.9-%'", "reason = reason || '!'"),
            "freeze_override": ("INSERT INTO release (group_id, plan_id, code) SELECT \(f.crm), \(f.crmPlan), 'BULKDEP-' || i FROM \(many)",
                                "INSERT INTO freeze_override (freeze_id, release_id, reason) SELECT \(f.freeze), id, 'backdoor-9.9' FROM (\(releases)) AS r",
                                "release_id IN (\(releases))", "reason = 'changed'"),
        ]
    }

    @Test("a bulk insert, update and delete on every audited table leaves every value in the trail")
    func bulkStatementsKeepValues() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            let cases = Self.bulkCases(f)
            for (table, _) in try auditedTables(superuser) {
                guard let bulk = cases[table] else {
                    Issue.record("\(table) is audited but has no bulk case here: add one"); continue
                }
                try superuser.execute("BEGIN", simple: true)
                defer { try? superuser.execute("ROLLBACK", simple: true) }
                if !bulk.setup.isEmpty { try superuser.execute(bulk.setup, simple: true) }
                let before = try superuser.count("SELECT coalesce(max(id), 0) FROM audit_log")
                #expect(try superuser.execute(SQL(unsafeSQL: bulk.insert)) == 150, "\(table): the bulk insert")
                let written = try superuser.query(SQL(unsafeSQL: "SELECT to_jsonb(t) FROM \(table) t WHERE \(bulk.rows)")).rows.map { try $0.decode(String.self) }
                #expect(written.count == 150)
                #expect(try superuser.execute(SQL(unsafeSQL: "UPDATE \(table) SET \(bulk.update) WHERE \(bulk.rows)")) == 150, "\(table): the update")
                let updated = try superuser.query(SQL(unsafeSQL: "SELECT to_jsonb(t) FROM \(table) t WHERE \(bulk.rows)")).rows.map { try $0.decode(String.self) }
                #expect(try superuser.execute(SQL(unsafeSQL: "DELETE FROM \(table) WHERE \(bulk.rows)")) == 150, "\(table): the delete")
                func trail(_ operation: String, _ column: String = "r") throws -> [String] {
                    try superuser.query("""
                        SELECT \(column)::text FROM audit_log a CROSS JOIN LATERAL relplan_audit_rows(a.id) AS r
                        WHERE a.id > $1 AND a.table_name = $2 AND a.operation = $3
                        """, [before, table, operation]).rows.map { try $0.decode(String.self) }
                }
                // jsonb text is canonical: the same values print the same.
                let normalise = { (rows: [String]) throws -> [String] in
                    try rows.map { try superuser.query("SELECT $1::jsonb::text", [$0]).first?.decode(String.self) ?? "" }.sorted()
                }
                #expect(try normalise(trail("INSERT")) == normalise(written), "\(table): the trail of the bulk insert lacks values")
                #expect(try normalise(trail("DELETE")) == normalise(updated), "\(table): the trail of the bulk delete lacks values")
                let changes = try superuser.query("""
                    SELECT new_row::text FROM audit_log WHERE id > $1 AND table_name = $2 AND operation = 'UPDATE'
                    """, [before, table]).rows.map { try $0.decode(String?.self) ?? "" }
                let expectedChanges = bulk.update == "group_id = group_id" ? [] : updated
                #expect(try normalise(changes) == normalise(expectedChanges), "\(table): the updates' new values")
                let bulkEntries = try superuser.count(
                    "SELECT count(*) FROM audit_log WHERE id > $1 AND table_name = $2 AND bulk_rows IS NOT NULL", [before, table])
                #expect(bulkEntries >= 2, "\(table): the statements were not audited as bulk statements (\(bulkEntries))")
            }
        }
    }

    // MARK: Finding 14: memberships

    @Test("memberships name logins only, never relplan's own roles, and nobody adds themselves")
    func membershipsNamePeople() throws {
        try withPolicyFixture { f in
            let admin = TestDatabase.uniqueRoleName("rp_nologin")
            let alias = TestDatabase.uniqueRoleName("rp_alias")
            let cluster = try TestDatabase.adminConnection()
            try cluster.execute("""
                CREATE ROLE \(quotedIdentifier(admin)) NOLOGIN IN ROLE relplan_user;
                CREATE ROLE \(quotedIdentifier(alias)) LOGIN IN ROLE relplan_user;
                GRANT \(quotedIdentifier(alias)) TO \(quotedIdentifier(f.login(.manager)));
                """, simple: true)
            defer { _ = try? cluster.execute("DROP ROLE IF EXISTS \(quotedIdentifier(admin)), \(quotedIdentifier(alias))", simple: true) }
            let owner = try f.superuser().query("SELECT tableowner::text FROM pg_tables WHERE tablename = 'membership'").first?.decode(String.self) ?? "?"
            let add = "INSERT INTO membership (group_id, role_name, role) VALUES ($1, $2, $3)"
            var attempts: [(Actor, String, Statement, String)] = []
            for role in ["relplan_user", "relplan_admin", "pg_monitor", admin, "nobody-at-all", owner] {
                attempts.append((.manager, "makes \(role) a manager", Statement(add, [f.crm, role, "manager"]), "22023"))
                attempts.append((.admin, "makes \(role) a manager", Statement(add, [f.crm, role, "manager"]), "22023"))
            }
            attempts += [
                (.admin, "adds itself to CRM", Statement(add, [f.crm, f.login(.admin), "manager"]), "42501"),
                (.admin, "adds itself to HR", Statement(add, [f.hr, f.login(.admin), "release-manager"]), "42501"),
                (.manager, "adds a login it can become", Statement(add, [f.crm, alias, "manager"]), "42501"),
                (.manager, "re-adds itself", Statement(add + " ON CONFLICT (group_id, role_name) DO UPDATE SET role = EXCLUDED.role",
                                                       [f.crm, f.login(.manager), "manager"]), "42501"),
                (.otherGroup, "makes relplan_user a manager of HR", Statement(add, [f.hr, "relplan_user", "manager"]), "22023"),
            ]
            for (actor, what, statement, state) in attempts {
                let outcome = try f.connect(actor).attempt(statement)
                #expect(outcome.sqlState == state, "\(actor) \(what): expected SQLSTATE \(state), got \(outcome)")
            }
            // What still works: a manager adds someone else's login; an admin adds a manager.
            #expect(try f.connect(.manager).attempt(Statement(add, [f.crm, f.newcomer, "member"])) == .rows(1))
            #expect(try f.connect(.admin).attempt(Statement(add, [f.hr, f.newcomer, "manager"])) == .rows(1))
        }
    }

    // MARK: Findings 7 and 13: the target registry

    @Test("targets: owners link them, nobody renames them, links are audited, cycles and deep chains are refused")
    func targetRegistry() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            let hr = try f.connect(.otherGroup)
            #expect(hr.attempt(Statement("UPDATE target SET code = 'mine' WHERE code = 'srv-crm-01'")) == .denied)
            #expect(hr.attempt(Statement("UPDATE target SET part_of = NULL WHERE code = 'crm-api'")) == .rows(0), "HR unlinks CRM's target")
            #expect(hr.attempt(Statement("UPDATE target SET part_of = 'srv-crm-01' WHERE code = 'srv-hr-01'")) == .rows(1), "HR links its own")
            #expect(hr.attempt(Statement("INSERT INTO target (code, group_id) VALUES ('x', $1)", [f.crm])) == .denied)
            #expect(hr.attempt(Statement("INSERT INTO target (code) VALUES ('x')")) == .denied, "an unowned target by a non-admin")
            #expect(try f.connect(.viewer).attempt(Statement("INSERT INTO target (code, group_id) VALUES ('x', $1)", [f.crm])) == .denied)

            let manager = try f.connect(.manager)
            let before = try superuser.count("SELECT coalesce(max(id), 0) FROM audit_log")
            try manager.execute("UPDATE target SET part_of = 'srv-crm-01' WHERE code = 'spare-ci'")
            #expect(try superuser.count("""
                SELECT count(*) FROM audit_log WHERE id > $1 AND table_name = 'target' AND row_key = 'spare-ci'
                  AND old_row ->> 'part_of' IS NULL AND new_row ->> 'part_of' = 'srv-crm-01'
                """, [before]) == 1, "a link is audited")

            let cycle = manager.attempt(Statement("UPDATE target SET part_of = 'crm-api' WHERE code = 'srv-crm-01'"))
            #expect(cycle.sqlState == "23514", "a cycle: got \(cycle)")
            // A chain of 32 links is fine, 33 is not: by inserting, and by linking a chain under another.
            let chain = manager.attempt { db in
                try db.execute("INSERT INTO target (code, group_id) VALUES ('c-0', $1)", [f.crm])
                for i in 1...32 { try db.execute("INSERT INTO target (code, part_of, group_id) VALUES ($1, $2, $3)", ["c-\(i)", "c-\(i - 1)", f.crm]) }
                return 32
            }
            #expect(chain == .rows(32))
            let tooDeep = manager.attempt { db in
                try db.execute("INSERT INTO target (code, group_id) VALUES ('c-0', $1)", [f.crm])
                for i in 1...33 { try db.execute("INSERT INTO target (code, part_of, group_id) VALUES ($1, $2, $3)", ["c-\(i)", "c-\(i - 1)", f.crm]) }
                return 33
            }
            #expect(tooDeep.sqlState == "23514", "a chain of 33 links: got \(tooDeep)")
            let relinked = manager.attempt { db in
                try db.execute("INSERT INTO target (code, group_id) VALUES ('d-0', $1)", [f.crm])
                for i in 1...20 { try db.execute("INSERT INTO target (code, part_of, group_id) VALUES ($1, $2, $3)", ["d-\(i)", "d-\(i - 1)", f.crm]) }
                try db.execute("INSERT INTO target (code, group_id) VALUES ('e-0', $1)", [f.crm])
                for i in 1...12 { try db.execute("INSERT INTO target (code, part_of, group_id) VALUES ($1, $2, $3)", ["e-\(i)", "e-\(i - 1)", f.crm]) }
                return try db.execute("UPDATE target SET part_of = 'e-12' WHERE code = 'd-0'")  // 12 + 1 + 20 links
            }
            #expect(relinked.sqlState == "23514", "linking a 20-link chain under a 12-link one: got \(relinked)")

            // The foreign key's index.
            #expect(try superuser.count("""
                SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE i.indrelid = 'target'::regclass AND a.attname = 'part_of'
                """) == 1)
        }
    }

    @Test("two links that would close a cycle together meet on a lock; the second then sees the cycle")
    func concurrentCycle() throws {
        try withPolicyFixture { f in
            let first = try f.connect(.manager), second = try f.connect(.releaseManager)
            try first.execute("BEGIN", simple: true)
            try first.execute("UPDATE target SET part_of = 'spare-ci' WHERE code = 'srv-crm-01'")
            try second.execute("SET lock_timeout = '300ms'", simple: true)
            let waiting = second.attempt(Statement("UPDATE target SET part_of = 'crm-api' WHERE code = 'spare-ci'"))
            #expect(waiting.sqlState == "55P03", "the second link did not wait for the first: \(waiting)")
            try first.execute("COMMIT", simple: true)
            let after = second.attempt(Statement("UPDATE target SET part_of = 'crm-api' WHERE code = 'spare-ci'"))
            #expect(after.sqlState == "23514", "after the first committed: \(after)")
        }
    }

    @Test("one login registers at most relplan_target_quota() targets")
    func targetQuota() throws {
        try withPolicyFixture { f in
            let quota = try f.superuser().count("SELECT relplan_target_quota()")
            let member = try f.connect(.member)
            let many = "INSERT INTO target (code, group_id) SELECT 'q-' || i, $1 FROM generate_series(1, $2::integer) AS i"
            #expect(member.attempt(Statement(many, [f.crm, quota - 10])) == .rows(quota - 10))
            #expect(member.attempt(Statement(many, [f.crm, quota + 1])) == .denied, "over the quota")
            #expect(try f.connect(.admin).attempt(Statement(many, [f.crm, quota + 1])) == .rows(quota + 1), "admins register any number")
        }
    }

    // MARK: Lower: the lifecycle and import batches

    @Test("the lifecycle's one-step rule holds in the database")
    func lifecycle() throws {
        try withPolicyFixture { f in
            let manager = try f.connect(.manager)
            let set = "UPDATE release SET status = $2 WHERE id = $1"
            for target in ["building", "testing", "ready", "deploying", "deployed", "evaluating", "closed"] where target != "building" {
                let skip = manager.attempt(Statement(set, [f.crmOpen, target]))
                #expect(skip.sqlState == "23514", "planned → \(target): got \(skip)")
            }
            #expect(manager.attempt(Statement(set, [f.crmOpen, "building"])) == .rows(1))
            #expect(manager.attempt(Statement(set, [f.crmOpen, "cancelled"])) == .rows(1))
            #expect(manager.attempt(Statement(set, [f.crmDeployed, "planned"])).sqlState == "23514", "backwards")
            #expect(manager.attempt(Statement(set, [f.crmDeployed, "evaluating"])) == .rows(1))
            let insert = manager.attempt(Statement("INSERT INTO release (group_id, plan_id, code, status) VALUES ($1, $2, 'R-X', 'deployed')", [f.crm, f.crmPlan]))
            #expect(insert.sqlState == "23514", "a release born deployed: got \(insert)")
            // Closing: an evaluation and every deviation handled, even with psql.
            let close = manager.attempt { db in
                try db.execute(set, [f.crmDeployed, "evaluating"])
                try db.execute("UPDATE release SET evaluation = 'went well' WHERE id = $1", [f.crmDeployed])
                return try db.execute(set, [f.crmDeployed, "closed"])
            }
            #expect(close.sqlState == "23514", "closing with an open deviation: got \(close)")
            let hidden = manager.attempt { db in
                try db.execute(set, [f.crmDeployed, "evaluating"])
                try db.execute("UPDATE release SET evaluation = 'went well' WHERE id = $1", [f.crmDeployed])
                try db.execute("UPDATE deviation SET resolution = 'accepted' WHERE id = $1", [f.deployedDeviation])
                return try db.execute(set, [f.crmDeployed, "closed"])
            }
            #expect(hidden == .rows(1))
        }
    }

    @Test("an import batch is recorded by the database: its groups from what the transaction wrote, its importer the login")
    func importBatches() throws {
        try withPolicyFixture { f in
            let superuser = try f.superuser()
            let manager = try f.connect(.manager)
            try manager.execute("BEGIN", simple: true)
            try manager.execute("INSERT INTO release (group_id, plan_id, code) VALUES ($1, $2, 'R-IMPORTED')", [f.crm, f.crmPlan])
            let batch = try #require(try manager.query("SELECT relplan_record_import('crm.csv', 'ab', 1, 1, 0, 0, 0)").first?.decode(Int.self))
            try manager.execute("COMMIT", simple: true)
            let row = try #require(try superuser.query("SELECT group_ids, imported_by FROM import_batch WHERE id = $1", [batch]).first)
            #expect(try row.decode([Int].self, "group_ids") == [f.crm] && row.decode(String.self, "imported_by") == f.login(.manager))
            // A second transaction that wrote nothing records nothing.
            #expect(manager.attempt(Statement("SELECT relplan_record_import('crm.csv', 'ab', 1, 1, 0, 0, 0)")) == .denied)
            #expect(manager.attempt(Statement("UPDATE import_batch SET rows = 0 WHERE id = $1", [batch])) == .denied)
        }
    }
}

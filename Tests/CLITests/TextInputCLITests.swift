import Foundation
import Postgres
import Testing
import TestSupport

/// Issue 16, findings 8, 10 and 15: text limits, control characters in and out, and passwords
/// sent only as SCRAM verifiers. Real PostgreSQL, through the binary where a person would type.
@Suite("Text limits, control characters and SCRAM passwords")
struct TextInputCLITests {
    private func expectOK(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
    }

    private func setUp() throws -> PlanningFixture {
        let f = try PlanningFixture.make(people: ["alice", "bob"])
        expectOK(try f.run("admin", "group", "create", "CRM", "--name", "CRM förvaltning"))
        expectOK(try f.run("admin", "member", "add", "CRM", f.login("alice"), "--role", "release-manager"))
        expectOK(try f.run("admin", "member", "add", "CRM", f.login("bob"), "--role", "viewer"))
        expectOK(try f.run("admin", "window", "generate", "--prefix", "SW", "--rrule", "FREQ=WEEKLY;BYDAY=SA", "--start-time", "22:00",
                           "--duration", "4h", "--from", "2030-03-01", "--until", "2030-03-31", "--capacity", "2", "--tz", "Europe/Stockholm"))
        expectOK(try f.run("alice", "plan", "create", "CRM", "P1", "--title", "Plan"))
        return f
    }

    @Test("too long or control-character text on the command line: exit 64 naming the option and the limit")
    func cliRefuses() throws {
        let f = try setUp()
        defer { f.drop() }
        let cases: [([String], String)] = [
            (["release", "create", "CRM", "R1", "--plan", "P1", "--title", String(repeating: "x", count: 201)],
             "--title: a title is at most 200 characters long (this one has 201)"),
            (["release", "create", "CRM", "R1", "--plan", "P1", "--title", "a\u{1B}]0;owned\u{07}"],
             "--title: a title may not hold control characters other than line breaks: U+001B (escape) at character 2"),
            (["release", "create", "CRM", "R1", "--plan", "P1", "--title", "tab\there"], "U+0009 (tab) at character 4"),
            (["plan", "create", "CRM", "P2", "--title", "ok", "--change-ref", String(repeating: "C", count: 65)],
             "--change-ref: a change reference is at most 64 characters long (this one has 65)"),
            (["group", "create", "HR", "--name", "two\nlines"], "--name: a name may not hold control characters: U+000A (line feed)"),
            (["env", "create", "E1", "--name", String(repeating: "n", count: 201)], "--name: a name is at most 200"),
            (["freeze", "create", "F1", "--start", "2030-12-20", "--end", "2030-12-21", "--reason", String(repeating: "r", count: 2001)],
             "--reason: a reason is at most 2000 characters long"),
        ]
        for (arguments, message) in cases {
            let person = arguments[0] == "release" || arguments[0] == "plan" ? "alice" : "admin"
            let result = try f.run(person, arguments)
            #expect(result.status == 64, "\(arguments.prefix(3)): \(result)")
            #expect(result.stderr.contains(message), "\(arguments.prefix(3)): \(result)")
        }
        // At the limit, and a title with a CRLF line break (stored as LF), are fine.
        expectOK(try f.run("alice", "release", "create", "CRM", "R1", "--plan", "P1", "--title", String(repeating: "é", count: 200)))
        expectOK(try f.run("alice", "release", "create", "CRM", "R2", "--plan", "P1", "--title", "First\r\nSecond"))
        let db = try f.database.connect()
        let title = try db.query("SELECT title FROM release WHERE code = 'R2'").first?.decode(String.self)
        #expect(title == "First\nSecond")
        let evaluation = try f.run("alice", "release", "evaluate", "CRM/R1", "--text", String(repeating: "e", count: 10001))
        #expect(evaluation.status == 64 && evaluation.stderr.contains("--text: an evaluation is at most 10000 characters long"), "\(evaluation)")
    }

    @Test("plain SQL as an ordinary login: the CHECK refuses a long title and an escape sequence")
    func sqlRefusesOrdinaryLogin() throws {
        let f = try setUp()
        defer { f.drop() }
        let alice = try f.database.connect(user: f.login("alice"))
        for bad in [String(repeating: "x", count: 201), "red \u{1B}[31m", "bell\u{07}", "csi\u{9B}"] {
            do {
                try alice.execute("UPDATE release_plan SET title = $1 WHERE code = 'P1'", [bad])
                Issue.record("the database took \(bad.debugDescription.prefix(40))")
            } catch let error as PostgresError {
                #expect(error.sqlState == "23514" && error.constraint == "release_plan_title_text", "\(error)")
            }
        }
        #expect(try alice.execute("UPDATE release_plan SET title = $1 WHERE code = 'P1'", ["two\nlines"]) == 1)
    }

    /// The columns migration 0013 limits, with their limit and whether a line feed is allowed.
    private struct Limited { let table: String; let column: String; let limit: Int; let rule: String }

    @Test("every text column of relplan's tables has a CHECK or is a code; every 0013 CHECK refuses one character more")
    func catalogCoverage() throws {
        let database = try TestDatabase.migrated()
        defer { database.drop() }
        let db = try database.connect()
        // Written by the system only (audit triggers, the nightly job): README "Text limits".
        let systemTables: Set<String> = ["audit_log", "conflict_history", "report_run", "calendar_event_sequence", "schema_migrations"]
        let uncovered = try db.query("""
            SELECT c.relname, a.attname FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
              AND a.atttypid = 'text'::regtype
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype IN ('c', 'f')
                                AND a.attnum = ANY (k.conkey))
            ORDER BY 1, 2
            """).rows.map { "\(try $0.decode(String.self, "relname")).\(try $0.decode(String.self, "attname"))" }
            .filter { !systemTables.contains(String($0.prefix(while: { $0 != "." }))) }
        // Codes that are foreign keys to target's code (first-hour's rule, limited there).
        let codeColumns: Set<String> = ["release_unit.target_code", "target.part_of"]
        #expect(uncovered.filter { !codeColumns.contains($0) }.isEmpty, "text columns without a CHECK: \(uncovered)")

        let limited = try db.query("""
            SELECT c.relname, a.attname, pg_get_constraintdef(k.oid), k.convalidated
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
            WHERE k.conname = c.relname || '_' || a.attname || '_text' ORDER BY 1, 2
            """).rows.map { row -> (Limited, Bool) in
                let (table, column, definition, validated) = try row.decode((String, String, String, Bool).self)
                let limit = Int(definition.split(separator: "<= ").last?.prefix(while: \.isNumber) ?? "") ?? -1
                let rule = definition.contains("x01-\\x09") ? "lines" : definition.contains("x01-\\x1f") ? "line" : "length"
                return (Limited(table: table, column: column, limit: limit, rule: rule), validated)
            }
        #expect(limited.count >= 38, "\(limited.count) text CHECKs")
        #expect(limited.allSatisfy { $0.1 }, "every text CHECK is validated on a fresh database")
        var probed = 0
        for (column, _) in limited {
            #expect(column.limit > 0, "\(column.table).\(column.column)")
            // A copy of the table with its CHECKs and no NOT NULLs: the one column can be probed alone.
            try db.execute("DROP TABLE IF EXISTS pg_temp.probe; CREATE TEMP TABLE probe (LIKE \"\(column.table)\" INCLUDING CONSTRAINTS)", simple: true)
            let notNull = try db.query("""
                SELECT attname FROM pg_attribute WHERE attrelid = 'pg_temp.probe'::regclass AND attnum > 0 AND attnotnull
                """).rows.map { try $0.decode(String.self) }
            for name in notNull { try db.execute("ALTER TABLE pg_temp.probe ALTER COLUMN \"\(name)\" DROP NOT NULL", simple: true) }
            // Only the column's own text CHECK (a table CHECK such as deviation's "resolved with a time" stays out).
            let others = try db.query("""
                SELECT conname FROM pg_constraint WHERE conrelid = 'pg_temp.probe'::regclass AND contype = 'c' AND conname <> $1
                """, ["\(column.table)_\(column.column)_text"]).rows.map { try $0.decode(String.self) }
            for name in others { try db.execute("ALTER TABLE pg_temp.probe DROP CONSTRAINT \"\(name)\"", simple: true) }
            let insert = "INSERT INTO pg_temp.probe (\"\(column.column)\") VALUES ($1)"
            // Refused by the CHECK (true) or stored (false); any other failure is recorded, so that
            // "not refused" means the value was stored, not that the insert broke some other way.
            func refused(_ value: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
                do { try db.execute(insert, [value]); return false } catch let error as PostgresError where error.sqlState == "23514" {
                    return true
                } catch {
                    Issue.record("\(column.table).\(column.column): the probe failed otherwise: \(error)", sourceLocation: sourceLocation)
                    return false
                }
            }
            let at = column.limit > 100_000 ? 100_000 : column.limit
            #expect(!refused(String(repeating: "å", count: at)), "\(column.table).\(column.column) at its limit")
            if column.limit <= 100_000 {
                #expect(refused(String(repeating: "å", count: column.limit + 1)), "\(column.table).\(column.column) one over")
            }
            if column.rule != "length" {
                #expect(refused("a\u{1B}[31m"), "\(column.table).\(column.column) ESC")
                #expect(refused("a\u{9B}b"), "\(column.table).\(column.column) CSI")
                #expect(refused("a\tb"), "\(column.table).\(column.column) TAB")
                #expect(refused("a\rb"), "\(column.table).\(column.column) CR")
                #expect(refused("a\nb") == (column.rule == "line"), "\(column.table).\(column.column) LF")
                #expect(!refused("Räksmörgås \u{A0}🦐"), "\(column.table).\(column.column) printable")
            }
            probed += 1
        }
        #expect(probed == limited.count)
        let expected: [String: Int] = ["release.title": 200, "release_plan.title": 200, "release.evaluation": 10000,
                                       "release_unit.version": 64, "release_plan.change_ref": 64, "change_freeze.reason": 2000,
                                       "management_group.name": 200, "deviation.text": 2000]
        for (key, limit) in expected {
            #expect(limited.contains { "\($0.0.table).\($0.0.column)" == key && $0.0.limit == limit }, "\(key) ≤ \(limit)")
        }
    }

    @Test("control characters already in the database never reach the terminal raw")
    func outputNeutralised() throws {
        let f = try setUp()
        defer { f.drop() }
        expectOK(try f.run("alice", "release", "create", "CRM", "R1", "--plan", "P1", "--title", "Plain", "--window", "SW-2030-03-16"))
        // Written as the owner with the CHECK dropped in this test's own database: as a row from
        // before migration 0013, or a superuser's, would be.
        let owner = try f.database.connect()
        let evil = "\u{1B}]0;owned\u{07}\u{1B}[31mred\u{9B}2J\u{7F}\ttab\r\nnext"
        try owner.execute("ALTER TABLE release DROP CONSTRAINT release_title_text; ALTER TABLE schedule_proposal DROP CONSTRAINT schedule_proposal_reason_text", simple: true)
        try owner.execute("UPDATE release SET title = $1 WHERE code = 'R1'", [evil])
        try owner.execute("""
            INSERT INTO schedule_proposal (group_id, release_id, action, from_text, to_text, reason, release_version)
            SELECT group_id, id, 'move-window', 'SW-2030-03-16', 'SW-2030-03-23', $1, row_version FROM release WHERE code = 'R1'
            """, [evil])
        let commands: [[String]] = [
            ["release", "list"], ["release", "show", "CRM/R1"], ["audit"], ["audit", "--format", "json"],
            ["schedule", "proposals"], ["schedule", "proposals", "--format", "json"], ["window", "show", "SW-2030-03-16"],
            ["release", "list", "--format", "csv"], ["release", "show", "CRM/R1", "--format", "json"], ["plan", "show", "CRM/P1"],
        ]
        for arguments in commands {
            let result = try f.run(arguments.first == "audit" ? "admin" : "bob", arguments)
            expectOK(result)
            let bytes = Array(result.stdout.utf8) + Array(result.stderr.utf8)
            let raw = bytes.enumerated().filter { index, byte in
                byte == 0x1B || byte == 0x07 || byte == 0x7F || (byte == 0xC2 && index + 1 < bytes.count && (0x80...0x9F).contains(bytes[index + 1]))
            }
            #expect(raw.isEmpty, "\(arguments.joined(separator: " ")) printed a raw control character:\n\(result.stdout.debugDescription)")
        }
        let list = try f.run("bob", "release", "list")
        #expect(list.stdout.contains("\\u{1B}]0;owned\\u{7}"), "\(list)")
        let json = try f.run("bob", "release", "show", "CRM/R1", "--format", "json")
        let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(String(describing: parsed ?? [:]).contains("owned"), "JSON stays JSON: \(json)")
    }

    @Test("user create sends only a SCRAM verifier: never the password, not even to a server logging every statement")
    func scramVerifier() throws {
        let f = try PlanningFixture.make(people: [])
        defer { f.drop() }
        let owner = try f.database.connect()
        try owner.execute("ALTER DATABASE \"\(f.database.name)\" SET log_statement = 'all'", simple: true)
        let secret = "pw-\(UUID().uuidString)-'quoted'"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID().uuidString)")
        try (secret + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let login = TestDatabase.uniqueRoleName("scram")
        defer { _ = try? owner.execute("DROP ROLE IF EXISTS \"\(login)\"", simple: true) }
        expectOK(try f.run("admin", "user", "create", login, "--password-file", file.path))

        let stored = try owner.query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [login]).first?.decode(String?.self)
        #expect(stored?.hasPrefix("SCRAM-SHA-256$4096:") == true, "\(stored ?? "nil")")
        #expect(stored.map(Connection.isSCRAMVerifier) == true)
        #expect(stored?.contains(secret) == false)

        // The server log of the test cluster (scripts/dev-db): the call is logged, the password is not.
        let log = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../.relplan/\(ProcessInfo.processInfo.environment["RELPLAN_CLUSTER"] ?? "cluster")/server.log").standardized
        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(text.contains("relplan_create_user"), "log_statement = 'all' should have logged the call")
        #expect(text.contains("SCRAM-SHA-256$"), "the verifier is what was sent")
        #expect(!text.contains(secret), "the password reached the server log")

        // The database refuses a plaintext password sent to the function directly.
        let admin = try f.database.connect(user: f.login("admin"))
        do {
            try admin.execute("SELECT relplan_create_user($1, $2)", [TestDatabase.uniqueRoleName("plain"), "hunter2"])
            Issue.record("relplan_create_user took a plaintext password")
        } catch let error as PostgresError {
            #expect(error.sqlState == "22023", "\(error)")
        }
    }
}

import Foundation
import Postgres
import Testing
import TestSupport

@Suite("SQL that binds itself, rows by name, SQLSTATEs, outcomes, COPY text")
struct SQLTests {
    @Test("every interpolated value is a $n parameter; fragments are renumbered; identifiers are quoted")
    func interpolation() {
        let code = "CRM'; DROP TABLE release; --"
        let limit = 5
        let query: SQL = "SELECT id FROM management_group WHERE code = \(code) LIMIT \(limit)"
        #expect(query.text == "SELECT id FROM management_group WHERE code = $1 LIMIT $2")
        #expect(query.binds.map(\.text) == [code, "5"])
        let filter: SQL = "status = \("planned") AND code <> '$1' AND x = $$a$$"
        let joined: SQL = "SELECT 1 WHERE group_id = \(7) AND \(filter)"
        #expect(joined.text == "SELECT 1 WHERE group_id = $1 AND status = $2 AND code <> '$1' AND x = $$a$$")
        #expect(joined.binds.map(\.text) == ["7", "planned"])
        let added = joined + " AND y = \(Optional<Int>.none)"
        #expect(added.text.hasSuffix("AND y = $3"))
        #expect(added.binds.count == 3 && added.binds[2] == .null)
        let grant: SQL = "GRANT relplan_writer TO \(identifier: #"Ann "the" admin"#)"
        #expect(grant.text == #"GRANT relplan_writer TO "Ann ""the"" admin""#)
        #expect(grant.binds.isEmpty)
    }

    @Test("an interpolated query runs with its values as data, and rows read by name and as tuples")
    func runAndDecode() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            let name = "O'Brien; --"
            try db.execute("INSERT INTO management_group (code, name) VALUES (\("CRM"), \(name))")
            let result = try db.query("SELECT code, name, NULL::int AS missing, 42 AS answer FROM management_group WHERE name = \(name)")
            let row = try #require(result.first)
            #expect(try row.decode(String.self, "code") == "CRM")
            #expect(try row.decode("name", as: String.self) == name)
            #expect(try row.decode(Int?.self, "missing") == nil)
            #expect(try row.isNull("missing"))
            let (code, stored, missing, answer) = try row.decode((String, String, Int?, Int).self)
            #expect(code == "CRM" && stored == name && missing == nil && answer == 42)
            #expect(try result.decode((String, String, Int?, Int).self).count == 1)
            // A missing column names itself and the statement.
            do {
                _ = try row.decode(String.self, "nope")
                Issue.record("no error for a missing column")
            } catch let error as PostgresError {
                #expect(error.kind == .decoding && error.column == "nope")
                #expect(error.message.contains("\"nope\"") && error.message.contains("code, name, missing, answer"))
                #expect(error.statement?.contains("FROM management_group") == true)
            }
            // A tuple of the wrong width is an error, not a silent misread.
            #expect(throws: PostgresError.self) { _ = try row.decode((String, String).self) }
            // NULL into a non-optional names the column.
            do {
                _ = try row.decode(Int.self, "missing")
                Issue.record("no error for NULL")
            } catch let error as PostgresError {
                #expect(error.message == "column \"missing\" is NULL, expected Int")
            }
        }
    }

    @Test("a one-column row reads as its one type: compared, mapped, optional; another width is refused")
    func singleColumn() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            #expect(try db.query("SELECT 1").first?.decode(Int.self) == 1)
            #expect(try db.query("SELECT generate_series(1, 3)").rows.map { try $0.decode(Int.self) } == [1, 2, 3])
            let null = try #require(try db.query("SELECT NULL::text").first)
            let value: String? = try null.decode(String?.self)
            #expect(value == nil)
            let pair = try #require(try db.query("SELECT 1 AS a, 2 AS b").first)
            do {
                _ = try pair.decode(Int.self)
                Issue.record("no error for a two-column row read as one")
            } catch let error as PostgresError {
                #expect(error.kind == .decoding && error.message.contains("2 columns (a, b)") && error.message.contains("read as 1"))
            }
        }
    }

    @Test("identifiers are quoted as libpq's PQescapeIdentifier quotes them")
    func identifiers() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            for name in ["plain", "Ann \"the\" admin", "ÅÄÖ", "a;b--c", "\"\""] {
                #expect(try db.escapeIdentifier(name) == SQL.quotedIdentifier(name), "\(name)")
            }
        }
    }

    @Test("SQLSTATEs match by name and by class")
    func sqlStates() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            try db.execute("INSERT INTO management_group (code, name) VALUES (\("CRM"), \("CRM"))")
            do {
                try db.execute("INSERT INTO management_group (code, name) VALUES (\("CRM"), \("again"))")
                Issue.record("no unique violation")
            } catch let error as PostgresError where error.sqlState == .uniqueViolation {
                switch error.sqlState {
                case .checkViolation: Issue.record("matched the wrong state")
                case .uniqueViolation: break
                default: Issue.record("did not match")
                }
                switch error.sqlState {
                case SQLState.Class.integrityConstraintViolation: break
                default: Issue.record("did not match the class")
                }
                #expect(error.sqlState == "23505")
                #expect(error.description.contains("(SQLSTATE 23505)"))
            }
        }
        #expect(SQLState.deadlockDetected.class == .transactionRollback)
        #expect(PostgresError(kind: .server, message: "x", sqlState: .serializationFailure).isRetryableTransactionFailure)
        #expect(!PostgresError(kind: .server, message: "x", sqlState: .uniqueViolation).isTemporary)
        #expect(PostgresError(kind: .server, message: "x", sqlState: .lockNotAvailable).isTemporary)
    }

    @Test("a dry run returns .rolledBack and leaves nothing; transaction and savepoint do not stand in for each other")
    func outcomes() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            let outcome = try db.transaction(outcome: { tx -> TransactionOutcome<Int> in
                try tx.execute("INSERT INTO management_group (code, name) VALUES (\("HR"), \("HR"))")
                let count = try tx.query("SELECT count(*) FROM management_group").first?.decode(Int.self) ?? 0
                return .rolledBack(count)
            })
            #expect(!outcome.isCommitted && outcome.value == 1)
            #expect(!db.isInTransaction)
            #expect(try db.query("SELECT count(*) FROM management_group").first?.decode(Int.self) == 0)
            // A savepoint needs a transaction, and a transaction is not nested.
            #expect(throws: PostgresError.self) { try db.savepoint { _ in () } }
            try db.transaction { tx in
                try tx.execute("INSERT INTO management_group (code, name) VALUES (\("OPS"), \("Ops"))")
                #expect(throws: PostgresError.self) { try tx.transaction { _ in () } }
                let inner = try tx.savepoint(outcome: { sp -> TransactionOutcome<Void> in
                    try sp.execute("INSERT INTO management_group (code, name) VALUES (\("HR"), \("HR"))")
                    return .rolledBack(())
                })
                #expect(!inner.isCommitted)
            }
            let codes = try db.query("SELECT code FROM management_group ORDER BY code").rows.map { try $0.decode(String.self, "code") }
            #expect(codes == ["OPS"])
        }
    }

    @Test("a connection lost during COMMIT says the change may have been committed")
    func lostDuringCommit() throws {
        try withMigratedDatabase { database in
            let admin = try database.connect()
            // A deferred trigger ends its own session at COMMIT, as a server going away would.
            try admin.execute("""
                CREATE TABLE commit_probe (id int);
                CREATE FUNCTION commit_probe_die() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NULL; END $$;
                CREATE CONSTRAINT TRIGGER commit_probe_die AFTER INSERT ON commit_probe DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION commit_probe_die();
                """, simple: true)
            let db = try database.connect()
            do {
                try db.transaction { tx in try tx.execute("INSERT INTO commit_probe VALUES (\(1))") }
                Issue.record("the COMMIT did not fail")
            } catch let error as PostgresError {
                #expect(error.statement == "COMMIT", "\(error)")
                #expect(error.mayHaveCommitted, "\(error)")
            }
            // Lost before the COMMIT: nothing can have been committed.
            let other = try database.connect()
            do {
                try other.transaction { tx in
                    try tx.execute("SELECT pg_terminate_backend(pg_backend_pid()), pg_sleep(5)")
                }
                Issue.record("the statement did not fail")
            } catch let error as PostgresError {
                #expect(!error.mayHaveCommitted, "\(error)")
            }
            // A statement run for its effect outside a transaction commits as it ends: lost on the
            // way, it may have (the row trigger ends the session after the row is written).
            try admin.execute("""
                CREATE TABLE autocommit_probe (id int);
                CREATE FUNCTION autocommit_probe_die() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NULL; END $$;
                CREATE TRIGGER autocommit_probe_die AFTER INSERT ON autocommit_probe FOR EACH ROW EXECUTE FUNCTION autocommit_probe_die();
                """, simple: true)
            let alone = try database.connect()
            do {
                try alone.execute("INSERT INTO autocommit_probe VALUES (\(1))")
                Issue.record("the statement did not fail")
            } catch let error as PostgresError {
                #expect(error.mayHaveCommitted, "\(error)")
            }
            // A query for rows, lost the same way, changed nothing that it was asked to.
            let reader = try database.connect()
            do {
                try reader.query("SELECT pg_terminate_backend(pg_backend_pid()), pg_sleep(5)")
                Issue.record("the query did not fail")
            } catch let error as PostgresError {
                #expect(!error.mayHaveCommitted, "\(error)")
            }
        }
    }

    @Test("a session that caches statements prepares each once, reads the same rows, and recovers when a table changes shape")
    func statementCache() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            db.cachesStatements = true
            try db.execute("CREATE TABLE cache_probe (id int, name text); INSERT INTO cache_probe VALUES (1, 'Åsa'), (2, 'Örjan')", simple: true)
            for id in [1, 2, 1, 2, 1, 2, 1] {
                let name = try db.query("SELECT name FROM cache_probe WHERE id = \(id)").first?.decode(String.self, "name")
                #expect(name == (id == 1 ? "Åsa" : "Örjan"))
            }
            // One prepared statement for the seven runs, and this query's own (none for the simple-protocol script).
            let prepared = try db.query("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE NOT from_sql").first?.decode(Int.self, "n")
            #expect(prepared == 2)
            // Another type for the same text is another statement.
            #expect(try db.query("SELECT name FROM cache_probe WHERE id = \(Int64(2))").first?.decode(String.self, "name") == "Örjan")
            // A failure inside a transaction is the transaction's, as without the cache.
            #expect(throws: PostgresError.self) {
                try db.transaction { tx in _ = try tx.query("SELECT name FROM cache_probe WHERE id = \(1) AND 1 / \(0) = 1") }
            }
            // The table changes shape under the prepared statement: at most one failure, then it is prepared again.
            try db.execute("ALTER TABLE cache_probe ALTER COLUMN name TYPE varchar(20)", simple: true)
            let statement: SQL = "SELECT name FROM cache_probe WHERE id = \(1)"
            if (try? db.query(statement)) == nil {
                #expect(try db.query(statement).first?.decode(String.self, "name") == "Åsa")
            }
            #expect(try db.query(statement).first?.decode(String.self, "name") == "Åsa")
        }
    }

    @Test("COPY text: what the writer escapes the reader reads back")
    func copyTextRoundTrip() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [String] = ["a", "Ö", "\t", "\n", "\r", "\\", "\\N", "N", " ", "\"", "{", "}", ",", "日本", "\u{8}", "\u{B}", "\u{C}"]
        for _ in 0..<500 {
            let fields: [String?] = (0..<Int.random(in: 1...6, using: &generator)).map { _ in
                if Int.random(in: 0..<5, using: &generator) == 0 { return nil }
                return (0..<Int.random(in: 0...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? "" }.joined()
            }
            let line = CopyText.line(fields)
            #expect(line.last == UInt8(ascii: "\n"))
            #expect(!line.dropLast().contains(UInt8(ascii: "\n")))
            let decoded = line.dropLast().withUnsafeBufferPointer { CopyText.fields($0) }
            #expect(decoded == fields, "\(fields)")
        }
        #expect(String(decoding: CopyText.line(["a\tb", nil, "c\\d", "e\nf\r"]), as: UTF8.self) == "a\\tb\t\\N\tc\\\\d\te\\nf\\r\n")
    }

    @Test("COPY text written by the writer is what the server stores, and what it sends back reads the same")
    func copyTextServer() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            try db.execute("CREATE TEMP TABLE copy_probe (a text, b text)", simple: true)
            let rows: [[String?]] = [["tab\there", nil], ["back\\slash", "new\nline\r"], ["", "\\N"]]
            try db.copyIn("COPY copy_probe FROM STDIN") { writer in
                for row in rows { try writer.write(CopyText.line(row)) }
            }
            var read: [[String?]] = []
            try db.copyOut("COPY copy_probe TO STDOUT") { read.append(CopyText.fields($0)) }
            #expect(read == rows)
        }
    }
}

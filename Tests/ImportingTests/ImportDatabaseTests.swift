import Foundation
import Postgres
import ReleaseCore
import ReleaseStore
import Testing
import TestSupport
@testable import Importing

/// `ImportStore` against a real PostgreSQL, connected as the people themselves, so the
/// row-level security policies and the audit triggers take part as they do for the CLI.
@Suite("Import staging and merge in the database")
struct ImportDatabaseTests {
    static let header = "group,plan,release,release_title,window,priority,package,unit,unit_kind,target,version,environment,env_start,env_end\n"

    @Test("the staging table's columns are the COPY encoder's, in order")
    func stagingColumnsMatchEncoder() {
        #expect(ImportStore.stagingColumns == CopyTextEncoder.columns)
    }

    /// Reads `text`, stages it and merges it in one transaction, as `login`.
    private func importText(_ text: String, as db: Connection, skipChecks: Bool = false) throws -> (ImportCounts, [StagedIssue]) {
        let reader = try ImportReader(source: .bytes(Array(text.utf8), name: "t.csv"), options: ImportOptions())
        let login = try db.query("SELECT current_user::text").first?.decode(String.self) ?? ""
        return try db.transaction { db in
            let store = ImportStore(db)
            try store.createStaging()
            try store.stage { writer in
                while let chunk = try reader.nextChunk() { try writer.write(chunk.bytes) }
            }
            #expect(!reader.report.hasErrors, "\(reader.report.messages)")
            try store.summarise()
            let issues = try store.check(login: login)
            if !issues.isEmpty && !skipChecks { return (ImportCounts(), issues) }
            _ = try store.prepareMerge()
            return (try store.merge(), issues)
        }
    }

    private func count(_ sql: SQL, _ db: Connection) throws -> Int {
        try db.query(sql).first?.decode(Int.self) ?? -1
    }

    @Test("an unchanged row is not rewritten: no audit rows, no version bump; a changed one is, once")
    func unchangedRowsAreNotRewritten() throws {
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        let alice = try f.planning.database.connect(user: f.planning.login("alice"))
        let file = Self.header
            + "CRM,CRM-Q,R-1,Customer merge,SW-2027-05-01,2,core,crm-api,application,crm-api,4.2.0,TEST-INT,2027-04-26T08:00Z,2027-04-27T15:00Z\n"
            + "CRM,CRM-Q,R-1,Customer merge,SW-2027-05-01,2,core,crm-db,database,crm-db,1.0,,,\n"
        let (first, _) = try importText(file, as: alice)
        #expect(first.releasesCreated == 1 && first.plansCreated == 0)
        let audit = try count("SELECT count(*) FROM audit_log", f.admin)
        let (second, _) = try importText(file, as: alice)
        #expect(second.releasesUnchanged == 1 && !second.changedAnything)
        #expect(try count("SELECT count(*) FROM audit_log", f.admin) == audit)
        #expect(try count("SELECT row_version FROM release WHERE code = 'R-1'", f.admin) == 1)

        // A new unit version changes the unit, not the release row.
        let (unit, _) = try importText(file.replacingOccurrences(of: "4.2.0", with: "4.2.1"), as: alice)
        #expect(unit.releasesChanged == 1)
        #expect(try count("SELECT row_version FROM release WHERE code = 'R-1'", f.admin) == 1)
        #expect(try count("SELECT count(*) FROM audit_log WHERE table_name = 'release_unit' AND operation = 'UPDATE'", f.admin) == 1)
        // A new window moves the deployment with it and bumps the version once.
        let (moved, _) = try importText(file.replacingOccurrences(of: "SW-2027-05-01", with: "SW-2027-05-08"), as: alice)
        #expect(moved.releasesChanged == 1)
        #expect(try count("SELECT row_version FROM release WHERE code = 'R-1'", f.admin) == 2)
        #expect(try f.admin.query("SELECT deploy_start FROM release WHERE code = 'R-1'").first?.decode(Date.self)
                == Date(timeIntervalSince1970: 1_809_806_400))  // 2027-05-08T20:00:00Z, 22:00 in Stockholm
    }

    @Test("a bulk statement is audited once per group: who, which rows of which release, how many; small ones row by row")
    func bulkStatementsAreAuditedPerGroup() throws {
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        let alice = try f.planning.database.connect(user: f.planning.login("alice"))
        // 3 releases of 40 units each: 120 unit rows in one statement, over the bulk threshold of 100.
        var file = Self.header
        for release in 1...3 {
            for unit in 1...40 {
                file += "CRM,CRM-Q,B-\(release),Bulk,SW-2027-05-01,3,core,u-\(unit),application,ci-\(unit),1.0,,,\n"
            }
        }
        let (counts, _) = try importText(file, as: alice)
        #expect(counts.releasesCreated == 3)
        let units = try f.admin.query("""
            SELECT a.login, a.row_count, a.row_key, a.new_row IS NULL, a.release_id IS NULL,
                   (SELECT array_agg(r.code ORDER BY r.id) FROM release r WHERE r.id = ANY (a.release_ids)),
                   a.release_ids = (SELECT array_agg(r.id ORDER BY r.id) FROM release r WHERE r.code LIKE 'B-%'),
                   a.release_rows
            FROM audit_log a WHERE a.table_name = 'release_unit' AND a.operation = 'INSERT'
            """).rows
        #expect(units.count == 1)
        let row = try #require(units.first)
        let (login, rowCount, rowKey, noNewRow, noRelease, releases, allBulkReleases, releaseRows)
            = try row.decode((String, Int, String, Bool, Bool, [String], Bool, [Int]).self)
        #expect(login == f.planning.login("alice"))
        #expect(rowCount == 120)
        #expect(noNewRow)
        #expect(noRelease)  // three releases: none is "the" release
        #expect(releases == ["B-1", "B-2", "B-3"])
        #expect(allBulkReleases)
        #expect(releaseRows == [40, 40, 40])
        // The keys, release by release in the same order, are exactly each release's unit rows.
        let parts = rowKey.split(separator: ";", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        for (index, part) in parts.enumerated() {
            let ids = part.split(separator: ",").compactMap { Int64($0) }
            let actual = try f.admin.query("""
                SELECT u.id FROM release_unit u JOIN release_package p ON p.id = u.package_id
                JOIN release r ON r.id = p.release_id WHERE r.code = $1 ORDER BY u.id
                """, ["B-\(index + 1)"]).rows.map { try $0.decode(Int64.self) }
            #expect(ids.sorted() == actual)
        }
        // Three releases in one statement: under the threshold, one full row each, as before.
        #expect(try count("""
            SELECT count(*) FROM audit_log WHERE table_name = 'release' AND operation = 'INSERT'
              AND row_count = 1 AND new_row ->> 'title' = 'Bulk'
            """, f.admin) == 3)
        // Read for one release, the trail shows that release's part; read for the group, the whole statement.
        let entries = try AuditTrail(f.admin).entries(group: nil, release: try ReleaseRef(group: "CRM", code: "B-2"), since: nil)
        let b2 = try #require(entries.first { $0.table == "release_unit" })
        #expect(b2.change == "40 rows")
        #expect(b2.release == "CRM/B-2")
        #expect(b2.rowKey == String(parts[1]))
        let group = try AuditTrail(f.admin).entries(group: "CRM", release: nil, since: nil)
        #expect(group.contains { $0.table == "release_unit" && $0.change == "120 rows in 3 releases" && $0.release == nil })
        // 101 releases of one row: the release statement is bulk, one row for the group, read per release as "1 row".
        var many = Self.header
        for release in 1...101 { many += "CRM,CRM-Q,M-\(release),Many,SW-2027-05-01,3,core,u,application,ci,1.0,,,\n" }
        _ = try importText(many, as: alice)
        let single = try AuditTrail(f.admin).entries(group: nil, release: try ReleaseRef(group: "CRM", code: "M-7"), since: nil)
        #expect(single.contains { $0.table == "release" && $0.operation == "INSERT" && $0.change == "1 row" })
    }

    @Test("the database refuses what the checks would have refused: a member cannot merge releases")
    func policiesGuardTheMerge() throws {
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        let carol = try f.planning.database.connect(user: f.planning.login("carol"))
        let file = Self.header + "CRM,CRM-Q,R-1,Customer merge,SW-2027-05-01,2,,,,,,,,\n"
        let (_, issues) = try importText(file, as: carol)
        #expect(issues.map(\.field) == ["group"])
        #expect(issues.first?.scope == .group("CRM"))
        #expect(throws: PostgresError.self) { try importText(file, as: carol, skipChecks: true) }
        #expect(try count("SELECT count(*) FROM release", f.admin) == 1)  // WEB/SHOP-12 only
    }

    @Test("left-out releases leave the staging table and its summaries, with their lines")
    func removingReleases() throws {
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        let alice = try f.planning.database.connect(user: f.planning.login("alice"))
        let text = Self.header
            + "CRM,CRM-Q,R-1,,SW-2027-05-01,,core,a,application,a,1,,,\n"
            + "CRM,CRM-Q,R-2,,SW-2027-05-01,,core,b,application,b,1,,,\n"
            + "CRM,CRM-Q,R-1,,SW-2027-05-01,,core,c,application,c,1,,,\n"
        let reader = try ImportReader(source: .bytes(Array(text.utf8), name: "t.csv"))
        try alice.transaction { db in
            let store = ImportStore(db)
            try store.createStaging()
            try store.stage { writer in
                while let chunk = try reader.nextChunk() { try writer.write(chunk.bytes) }
            }
            try store.summarise()
            let removed = try store.remove(releases: [StagedRelease(group: "CRM", code: "R-1")])
            #expect(removed.map(\.line) == [2, 4])
            #expect(try count("SELECT count(*) FROM import_unit", db) == 1)
            #expect(try count("SELECT count(*) FROM import_release", db) == 1)
            let gone = try store.remove(releases: [], groups: ["CRM"])
            #expect(gone.map(\.line) == [3])
        }
    }

    @Test("the session refuses a step out of order, saying where it is, and a dry run rolls back by its outcome")
    func stepsInOrder() throws {
        try withMigratedDatabase { database in
            let db = try database.connect()
            let outside = ImportSession(db)
            #expect(throws: ImportStepError.self) { try outside.createStaging() }
            try db.transaction { db in
                let session = ImportSession(db)
                do {
                    _ = try session.merge()
                    Issue.record("merge before staging ran")
                } catch let error as ImportStepError {
                    #expect(error.step == "merge" && error.stage == .opened && error.allowed == [.prepared])
                    #expect(error.description.contains("called out of order"))
                }
                try session.createStaging()
                #expect(throws: ImportStepError.self) { try session.createStaging() }
                #expect(throws: ImportStepError.self) { try session.prepareSession() }
                try session.stage { _ in }
                #expect(throws: ImportStepError.self) { _ = try session.check(login: "x") }
                try session.summarise()
                #expect(session.stage == .summarised)
            }
            #expect(!db.isInTransaction)
        }
    }
}

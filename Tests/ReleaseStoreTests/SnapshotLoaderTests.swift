import Foundation
import Postgres
import ReleaseStore
import Testing
import TestSupport

@Suite("Snapshot loading")
struct SnapshotLoaderTests {
    /// After a rolled-back load (a dry run) autovacuum leaves the tables' pages with 0 rows
    /// counted, and until the next ANALYZE PostgreSQL believes the next load's tables are empty:
    /// it planned the units read as a nested loop over every package and every unit, which after
    /// a million-row import ran for hours. Here 3,000 packages × 30,000 units: 8 s that way,
    /// milliseconds with a hash or merge join.
    @Test("the whole-portfolio read does not trust statistics that say the tables are empty")
    func staleStatistics() throws {
        let database = try TestDatabase.migrated()
        defer { database.drop() }
        let db = try database.connect()
        try db.execute("INSERT INTO management_group (code, name) VALUES ('G', 'G')")
        try db.execute("INSERT INTO release_plan (group_id, code) SELECT id, 'P' FROM management_group")
        func load() throws {
            try db.execute("""
                INSERT INTO release (group_id, plan_id, code) SELECT p.group_id, p.id, 'R' || i FROM release_plan p, generate_series(1, 1000) i
                """)
            try db.execute("""
                INSERT INTO release_package (group_id, release_id, code) SELECT r.group_id, r.id, 'pkg-' || i FROM release r, generate_series(1, 3) i
                """)
            try db.execute("""
                INSERT INTO release_unit (group_id, package_id, code, kind, target_code)
                SELECT p.group_id, p.id, 'u-' || i, 'application', 'ci-' || p.id % 500 FROM release_package p, generate_series(1, 10) i
                """)
        }
        try db.execute("BEGIN", simple: true)
        try load()
        try db.execute("ROLLBACK", simple: true)
        try db.execute("VACUUM (TRUNCATE false) release, release_package, release_unit", simple: true)
        try load()
        let stats = try #require(try db.query("SELECT reltuples, relpages FROM pg_class WHERE relname = 'release_unit'").first)
        #expect(try stats.decode(Double.self, "reltuples") == 0 && stats.decode(Int.self, "relpages") > 0)
        try db.execute("SET statement_timeout = '3s'", simple: true)
        try db.execute("SET enable_nestloop = on", simple: true)
        let snapshot = try SnapshotLoader(db, deadlineZone: TimeZone(identifier: "UTC")!).load()
        #expect(snapshot.releases.count == 1000)
        // The setting is the caller's again afterwards.
        #expect(try db.query("SELECT current_setting('enable_nestloop')").first?.decode(String.self) == "on")
        try db.execute("SET enable_nestloop = off", simple: true)
        let pairs = try db.query("SELECT count(*) FROM (SELECT DISTINCT p.release_id, u.target_code FROM release_unit u JOIN release_package p ON p.id = u.package_id) s")
        #expect(try snapshot.releases.map(\.targets.count).reduce(0, +) == pairs.first?.decode(Int.self))
    }
}

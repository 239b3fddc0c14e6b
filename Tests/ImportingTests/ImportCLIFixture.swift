import Foundation
import Postgres
import Testing
import TestSupport

/// A database ready for the example files: groups CRM, HR and WEB with a release-manager each
/// (alice, bob, erik) and a member of CRM (carol), the shared environments, weekly Saturday
/// windows for spring 2027 and WEB's release SHOP-12. Set up with SQL as the superuser, which is
/// much faster than a CLI call per step; the imports themselves run the binary as the people.
struct ImportCLIFixture {
    let planning: PlanningFixture
    let admin: Connection

    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../examples/csv").standardized
    static var swedishExample: String { examples.appendingPathComponent("crm-export-sv.csv.in").path }
    static var englishExample: String { examples.appendingPathComponent("web-export.csv.in").path }

    static func make() throws -> ImportCLIFixture {
        let planning = try PlanningFixture.make(people: ["alice", "bob", "erik", "carol"])
        let admin = try planning.database.connect()
        try admin.execute("""
            INSERT INTO management_group (code, name) VALUES ('CRM', 'CRM förvaltning'), ('HR', 'HR & lön'), ('WEB', 'Webb');
            INSERT INTO environment (code, name, kind, capacity) VALUES
                ('TEST-INT', 'Integration test', 'test', 1), ('PREPROD', 'Pre-production', 'preprod', 2);
            INSERT INTO service_window (code, starts_at, ends_at, capacity)
            SELECT 'SW-' || to_char(d, 'YYYY-MM-DD'), (d + time '22:00') AT TIME ZONE 'Europe/Stockholm',
                   (d + interval '1 day' + time '02:00') AT TIME ZONE 'Europe/Stockholm', 3
            FROM generate_series(date '2027-04-03', date '2027-06-26', interval '7 days') AS s (day), LATERAL (SELECT s.day::date AS d) AS x;
            """, simple: true)
        for (group, person, role) in [("CRM", "alice", "release-manager"), ("HR", "bob", "release-manager"),
                                      ("WEB", "erik", "release-manager"), ("CRM", "carol", "member")] {
            try admin.execute("""
                INSERT INTO membership (group_id, role_name, role) SELECT id, $2, $3 FROM management_group WHERE code = $1
                """, [group, planning.login(person), role])
        }
        let fixture = ImportCLIFixture(planning: planning, admin: admin)
        try fixture.expectOK(fixture.run("erik", "plan", "create", "WEB", "SHOP", "--title", "Web shop"))
        try fixture.expectOK(fixture.run("erik", "release", "create", "WEB", "SHOP-12", "--plan", "SHOP", "--window", "SW-2027-04-17"))
        return fixture
    }

    func drop() {
        admin.close()
        planning.drop()
    }

    @discardableResult
    func run(_ person: String, _ arguments: String...) throws -> CLIResult {
        try planning.run(person, arguments)
    }

    @discardableResult
    func run(_ person: String, _ arguments: [String], stdin: String? = nil) throws -> CLIResult {
        try CLI.run(arguments, database: planning.database, user: planning.login(person), stdin: stdin)
    }

    /// Counts that any write would change: rows of every planning table and of the audit trail.
    func footprint() throws -> [Int] {
        // No row would make every before/after comparison [] == []: that fails instead.
        let row = try #require(try admin.query("""
            SELECT (SELECT count(*) FROM audit_log), (SELECT count(*) FROM release_plan), (SELECT count(*) FROM release),
                   (SELECT count(*) FROM release_dependency), (SELECT count(*) FROM release_package),
                   (SELECT count(*) FROM release_unit), (SELECT count(*) FROM environment_booking),
                   (SELECT count(*) FROM target), (SELECT count(*) FROM import_batch),
                   (SELECT coalesce(sum(row_version), 0) FROM release)
            """).first)
        let counts = try row.decode((Int, Int, Int, Int, Int, Int, Int, Int, Int, Int).self)
        return [counts.0, counts.1, counts.2, counts.3, counts.4, counts.5, counts.6, counts.7, counts.8, counts.9]
    }

    func expectOK(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
    }

    /// Writes `bytes` to a fresh file and returns its path.
    static func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("relplan-import-cli-\(UUID().uuidString.prefix(8))-\(name)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func file(_ name: String, _ text: String) throws -> String {
        try file(name, Array(text.utf8))
    }

    static func example(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }
}

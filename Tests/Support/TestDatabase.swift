import Foundation
import Postgres
import ReleaseStore

/// A throwaway database on the cluster `scripts/test` started, one per test, so tests running
/// in parallel never see each other. There is no fallback: without the cluster, tests fail.
public struct TestDatabase: Sendable {
    public let name: String

    /// The database's connection string; libpq's PG* variables (from `scripts/dev-db env`) supply the rest.
    public var conninfo: String { "dbname=\(name)" }

    /// A database with every migration applied, cloned from a template made once per schema version.
    public static func migrated() throws -> TestDatabase {
        try create(template: try migratedTemplate())
    }

    /// The template's name carries a hash of the migrations, so a changed schema gets a new one;
    /// an advisory lock makes parallel tests build it once.
    static func migratedTemplate() throws -> String {
        let migrations = try Migration.bundled()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in migrations.map(\.sql).joined(separator: "\u{0}").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let name = "relplan_tpl_" + String(hash, radix: 16)
        let admin = try adminConnection()
        try admin.execute("SELECT pg_advisory_lock(7215)")
        defer { _ = try? admin.execute("SELECT pg_advisory_unlock(7215)") }
        let exists = try admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).rowCount > 0
        if !exists {
            let building = name + "_new"
            try admin.execute("DROP DATABASE IF EXISTS \(building)", simple: true)
            try admin.execute("CREATE DATABASE \(building) TEMPLATE template0", simple: true)
            do {
                let connection = try Connection(conninfo: "dbname=\(building)")
                try Migrator(migrations: migrations).migrate(connection)
                connection.close()
            }
            try admin.execute("ALTER DATABASE \(building) RENAME TO \(name)", simple: true)
        }
        return name
    }

    /// An empty database, for migration tests.
    public static func empty() throws -> TestDatabase {
        try create(template: "template0")
    }

    private static func create(template: String) throws -> TestDatabase {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased()
        let admin = try adminConnection()
        // Identifiers cannot be parameters; both come from this code, never from input.
        try admin.execute("CREATE DATABASE \(name) TEMPLATE \(template)", simple: true)
        if template != "template0" {
            // Database privileges are not copied from the template: only relplan's logins connect (sql/0018).
            let connection = try Connection(conninfo: "dbname=\(name)")
            defer { connection.close() }
            try connection.execute("SELECT relplan_restrict_connect()")
        }
        return TestDatabase(name: name)
    }

    public func connect(user: String? = nil) throws -> Connection {
        try Connection(conninfo: conninfo + (user.map { " user=\($0)" } ?? ""))
    }

    public func drop() {
        guard let admin = try? Self.adminConnection() else { return }
        _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", simple: true)
    }

    /// The cluster's superuser on the maintenance database.
    public static func adminConnection() throws -> Connection {
        guard ProcessInfo.processInfo.environment["PGHOST"] != nil else {
            throw PostgresError(
                kind: .connectionFailed,
                message: "PGHOST is not set: run the tests with scripts/test, which starts PostgreSQL")
        }
        return try Connection(conninfo: "dbname=postgres")
    }

    /// A login role with a unique name (roles are cluster-wide, tests run in parallel).
    public static func uniqueRoleName(_ base: String) -> String {
        "\(base)_\(UUID().uuidString.prefix(8).lowercased())"
    }
}

/// Runs `body` with a fresh migrated database and drops it afterwards.
public func withMigratedDatabase<T>(_ body: (TestDatabase) throws -> T) throws -> T {
    let database = try TestDatabase.migrated()
    defer { database.drop() }
    return try body(database)
}

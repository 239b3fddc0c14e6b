import Foundation
import Postgres

/// A throwaway database on the cluster `scripts/test` started, one per test, so tests running
/// in parallel never see each other. There is no fallback: without the cluster, tests fail.
public struct TestDatabase: Sendable {
    public let name: String

    /// The database's connection string; libpq's PG* variables (from `scripts/dev-db env`) supply the rest.
    public var conninfo: String { "dbname=\(name)" }

    /// A database with every migration applied, cloned from the template `scripts/test` prepares.
    public static func migrated() throws -> TestDatabase {
        try create(template: "relplan_template")
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

import Foundation
import Postgres

/// One numbered file of `sql/`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String

    /// The migrations compiled into this build from `sql/`, in order.
    public static func bundled() throws -> [Migration] {
        try parse(embedded.map { ($0.file, $0.text) })
    }

    /// Reads `NNNN_name.sql` files from a folder (tests, or a site's own migrations).
    public static func load(from folder: URL) throws -> [Migration] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }
        return try parse(names.map { ($0, try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)) })
    }

    static func parse(_ files: [(file: String, sql: String)]) throws -> [Migration] {
        var migrations: [Migration] = []
        for (file, sql) in files {
            let stem = file.dropLast(4)
            guard file.hasSuffix(".sql"), let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw StoreError.internalInconsistency("migration file \(file) is not named NNNN_name.sql")
            }
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        let versions = migrations.map(\.version)
        if Set(versions).count != versions.count {
            throw StoreError.internalInconsistency("two migration files share a number: \(versions.sorted())")
        }
        return migrations.sorted { $0.version < $1.version }
    }

    public var fileName: String { String(format: "%04d_%@.sql", version, name) }
}

/// Where a migration stands in one database.
public struct MigrationStatus: Sendable, Equatable {
    public enum State: String, Sendable { case applied, pending, changed }
    public let migration: Migration
    public let state: State
    public let appliedAt: Date?
    public let appliedBy: String?
}

/// Applies `sql/` in order, each file in its own transaction, recorded with a checksum in
/// `schema_migrations`, under an advisory lock so two runs at once never both apply.
public struct Migrator {
    /// Arbitrary constant: the advisory lock key that serialises `db migrate` runs.
    static let lockKey: Int64 = 0x72656C706C616E  // "relplan"

    public let migrations: [Migration]

    public init(migrations: [Migration]) {
        self.migrations = migrations
    }

    public func status(_ connection: Connection) throws -> [MigrationStatus] {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS exists")
            .first?.decode(Bool.self, "exists") ?? false
        var applied: [Int: (String, Date, String)] = [:]
        if exists {
            for row in try connection.query("SELECT version, checksum, applied_at, applied_by FROM schema_migrations").rows {
                let (version, checksum, appliedAt, appliedBy) = try row.decode((Int, String, Date, String).self)
                applied[version] = (checksum, appliedAt, appliedBy)
            }
        }
        return try migrations.map { migration in
            guard let (checksum, at, by) = applied[migration.version] else {
                return MigrationStatus(migration: migration, state: .pending, appliedAt: nil, appliedBy: nil)
            }
            let state: MigrationStatus.State = try self.checksum(migration, connection) == checksum ? .applied : .changed
            return MigrationStatus(migration: migration, state: state, appliedAt: at, appliedBy: by)
        }
    }

    /// Applies what is pending and returns it; refuses when an applied file has changed.
    @discardableResult
    public func migrate(_ connection: Connection, onApply: (Migration) -> Void = { _ in }) throws -> [Migration] {
        do {
            try connection.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
        } catch let error as PostgresError where error.sqlState == .lockNotAvailable {
            // Waited lock_timeout: another run (or a session holding the key) has it.
            let holder = try? connection.query("""
                SELECT coalesce(a.usename::text, '?') || ' (pid ' || a.pid || ')' AS holder FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.classid = (\(Self.lockKey) >> 32)::oid AND l.objid = (\(Self.lockKey) & 4294967295)::oid
                LIMIT 1
                """).first?.decode(String.self, "holder")
            throw StoreError.busy("another `db migrate` is running, held by \(holder ?? "another session"); nothing was changed, retry")
        }
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))") }
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                applied_by  text NOT NULL DEFAULT current_user
            )
            """)
        let current = try status(connection)
        if let changed = current.first(where: { $0.state == .changed }) {
            throw StoreError.migrationChanged(
                file: changed.migration.fileName, appliedAt: changed.appliedAt ?? Date(timeIntervalSince1970: 0))
        }
        var applied: [Migration] = []
        for entry in current where entry.state == .pending {
            let migration = entry.migration
            try connection.transaction { connection in
                try connection.execute(migration.sql, simple: true)
                try connection.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(try checksum(migration, connection)))")
            }
            onApply(migration)
            applied.append(migration)
        }
        // Database privileges are not copied with a database (CREATE DATABASE … TEMPLATE): every
        // run re-asserts that only relplan's logins connect (sql/0018).
        if try connection.query("SELECT to_regprocedure('relplan_restrict_connect()') IS NOT NULL AS exists")
            .first?.decode(Bool.self, "exists") == true {
            try connection.execute("SELECT relplan_restrict_connect()")
        }
        return applied
    }

    private func checksum(_ migration: Migration, _ connection: Connection) throws -> String {
        try connection.query("SELECT encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex') AS checksum")
            .first?.decode(String.self, "checksum") ?? ""
    }
}

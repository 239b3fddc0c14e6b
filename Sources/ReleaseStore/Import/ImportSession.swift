import Foundation
import Postgres
import ReleaseCore

/// The import's database half: rows are streamed with COPY into a temporary staging table
/// (`COPY FROM` is refused on tables with row-level security), checked there set-based for
/// what only the database knows, and merged into the planning tables with
/// `INSERT ... SELECT ... ON CONFLICT (natural key) DO UPDATE ... WHERE (values differ)`, where
/// the policies apply as for any other write. Rows whose values do not change are neither
/// inserted nor updated, so an unchanged import writes nothing: no audit rows, no version bumps.
///
/// The steps must run in order, in one transaction (the staging tables are dropped at its end,
/// so a failed, killed or dry run leaves nothing behind): `createStaging`, `stage`, optionally
/// `remove`, `summarise`, `check` (and `remove`, `checkDependencies` for `--on-error skip`),
/// `prepareMerge`, optionally `preview`, `merge`, `recordBatch`. The session knows which step
/// it is at and refuses one out of order with `ImportStepError` instead of failing on a
/// missing temporary table. Split by responsibility: staging (ImportStaging.swift), the
/// checks (ImportChecks.swift), the merge (ImportMerge.swift) and the dry run (ImportPreview.swift).
public final class ImportSession {
    let db: Connection
    /// The last step done.
    public private(set) var stage: Stage = .opened

    public init(_ db: Connection) {
        self.db = db
    }

    /// Where a session is, in the order the steps run.
    public enum Stage: Int, Sendable, Comparable, CustomStringConvertible {
        case opened, created, staged, summarised, prepared, merged, recorded

        public static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.rawValue < rhs.rawValue }

        public var description: String {
            switch self {
            case .opened: "opened"
            case .created: "staging table created"
            case .staged: "rows staged"
            case .summarised: "summarised"
            case .prepared: "merge prepared"
            case .merged: "merged"
            case .recorded: "batch recorded"
            }
        }
    }

    /// Checks that `step` may run now; moves to `next` when it has.
    func require(_ step: String, at allowed: Stage...) throws {
        guard allowed.contains(stage) else {
            throw ImportStepError(step: step, stage: stage, allowed: allowed)
        }
    }

    func advance(to next: Stage) {
        stage = next
    }

    /// The staging table's columns, in the order every COPY line gives them.
    public static let stagingColumns = [
        "line", "release_no", "grp", "plan", "plan_title", "change_ref", "release", "release_title", "window_code",
        "deploy_start", "deploy_end", "priority", "deadline", "depends_on", "package", "unit", "unit_kind",
        "target", "version", "environment", "env_start", "env_end",
    ]

    /// Planners write plans, releases and bookings (sql/0003_security.sql).
    static let writerRoles = "{manager,release-manager}"

    // MARK: Before reading (any time)

    public func knownCodes() throws -> ImportCodes {
        func codes(_ sql: SQL) throws -> Set<String> {
            Set(try db.query(sql).rows.map { try $0.decode(String.self, "code") })
        }
        return ImportCodes(
            groups: try codes("SELECT code FROM management_group"),
            windows: try codes("SELECT code FROM service_window"),
            environments: try codes("SELECT code FROM environment"))
    }

    /// The last batch imported from a file with these bytes, if any.
    public func previousBatch(sha256: String) throws -> (id: Int64, importedAt: Date, importedBy: String)? {
        try db.query("""
            SELECT id, imported_at, imported_by FROM import_batch WHERE sha256 = \(sha256) ORDER BY id DESC LIMIT 1
            """).first.map { row in
            let (id, importedAt, importedBy) = try row.decode((Int64, Date, String).self)
            return (id, importedAt, importedBy)
        }
    }

    /// Gives the session room to keep a large staging table in memory; call before the import's
    /// transaction (the setting cannot change once the session used a temporary table).
    public func prepareSession() throws {
        try require("prepareSession", at: .opened)
        guard !db.isInTransaction else {
            throw ImportStepError(step: "prepareSession", stage: stage, allowed: [.opened],
                                  reason: "it must run before the import's transaction begins")
        }
        try db.execute("SET temp_buffers = '256MB'", simple: true)
        // A killed importer's long merge stops within a second instead of running on unseen,
        // holding locks the next import would wait for.
        try db.execute("SET client_connection_check_interval = '1s'", simple: true)
    }

    // MARK: After the merge

    /// Records the batch, through the database's own function (sql/0010): it names the batch's
    /// groups itself, from what this transaction wrote, and who and when.
    public func recordBatch(fileName: String, sha256: String, rows: Int, counts: ImportCounts, rejected: Int) throws -> Int64 {
        try require("recordBatch", at: .merged)
        guard let id = try db.query("""
            SELECT relplan_record_import(\(fileName), \(sha256), \(rows)::integer, \(counts.releasesCreated)::integer,
                                         \(counts.releasesChanged)::integer, \(counts.releasesUnchanged)::integer, \(rejected)::integer)
                   AS batch
            """).first?.decode(Int64.self, "batch") else {
            throw StoreError.internalInconsistency("relplan_record_import returned nothing")
        }
        advance(to: .recorded)
        return id
    }
}

/// The name the session had when it was a set of functions to call in the right order.
public typealias ImportStore = ImportSession

/// A step of an import session called out of order: a programming error, reported with
/// where the session was and where the step belongs.
public struct ImportStepError: Error, Sendable, Equatable, CustomStringConvertible {
    public let step: String
    public let stage: ImportSession.Stage
    public let allowed: [ImportSession.Stage]
    public var reason: String? = nil

    public var description: String {
        "import step \(step) called out of order: the session is at \"\(stage)\", the step runs after "
            + allowed.map { "\"\($0)\"" }.joined(separator: " or ") + (reason.map { "; \($0)" } ?? "")
    }
}

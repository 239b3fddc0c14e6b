import Foundation
import Postgres
import ReleaseCore

/// A release as an import file names it, `GROUP/CODE`.
public struct StagedRelease: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var group: String
    public var code: String

    public init(group: String, code: String) {
        self.group = group
        self.code = code
    }

    public var description: String { "\(group)/\(code)" }

    public static func < (lhs: StagedRelease, rhs: StagedRelease) -> Bool {
        (lhs.group, lhs.code) < (rhs.group, rhs.code)
    }
}

/// A problem in an import file that only the database can see: a dependency on a release that
/// exists nowhere, a group the importer may not write, a unit described two ways, a release that
/// lives in another plan.
public struct StagedIssue: Sendable, Hashable {
    /// What `--on-error skip` leaves out because of the problem.
    public enum Scope: Sendable, Hashable {
        case release(StagedRelease)
        /// Every release of the group (a group the importer may not write).
        case group(String)
    }

    /// The file line the problem is reported on.
    public var line: Int
    /// The field as the import format names it (`group`, `plan`, `depends_on`, `unit_kind`, `target`, `version`).
    public var field: String
    public var message: String
    /// The offending value, when there is one.
    public var got: String?
    public var scope: Scope

    public init(line: Int, field: String, message: String, got: String?, scope: Scope) {
        self.line = line
        self.field = field
        self.message = message
        self.got = got
        self.scope = scope
    }
}

/// The codes an import file may refer to, for "did you mean" while the file is read.
public struct ImportCodes: Sendable {
    public var groups: Set<String>
    public var windows: Set<String>
    public var environments: Set<String>
}

/// What a merge did, counted by release (and plan).
public struct ImportCounts: Sendable, Equatable {
    public var releasesCreated = 0
    public var releasesChanged = 0
    public var releasesUnchanged = 0
    public var plansCreated = 0
    public var plansChanged = 0
    /// The groups of every release in the merge, sorted.
    public var groupIDs: [Int] = []

    public init() {}

    /// False when the database is exactly as it was before the merge.
    public var changedAnything: Bool { releasesCreated + releasesChanged + plansCreated + plansChanged > 0 }
}

/// A value shown in a dry run's "from → to".
public enum PreviewValue: Sendable, Hashable {
    case text(String)
    case instant(Date)
    case range(Date, Date)
}

/// One difference a merge makes to an existing release, or one fact about a new one.
public struct FieldChange: Sendable, Hashable {
    /// `window`, `title`, `unit core/crm-api`, `booking TEST-INT`, `depends_on`...
    public var field: String
    public var from: PreviewValue?
    public var to: PreviewValue?

    public init(field: String, from: PreviewValue?, to: PreviewValue?) {
        self.field = field
        self.from = from
        self.to = to
    }
}

/// What a merge would do to one release of the file.
public struct ReleasePreview: Sendable, Hashable {
    public enum State: String, Sendable {
        case created, changed, unchanged
    }

    public var release: StagedRelease
    public var state: State
    /// For a changed release, each difference; for a created one, what it is made of.
    public var changes: [FieldChange]
}

/// The import's database half: rows are streamed with COPY into a temporary staging table
/// (`COPY FROM` is refused on tables with row-level security), checked there set-based for
/// what only the database knows, and merged into the planning tables with
/// `INSERT ... SELECT ... ON CONFLICT (natural key) DO UPDATE ... WHERE (values differ)`, where
/// the policies apply as for any other write. Rows whose values do not change are neither
/// inserted nor updated, so an unchanged import writes nothing: no audit rows, no version bumps.
///
/// Run every step in one transaction (the staging tables are dropped at its end): a failed,
/// killed or dry run leaves nothing behind.
public struct ImportStore {
    let db: Connection

    public init(_ db: Connection) {
        self.db = db
    }

    /// The staging table's columns, in the order every COPY line gives them.
    public static let stagingColumns = [
        "line", "release_no", "grp", "plan", "plan_title", "change_ref", "release", "release_title", "window_code",
        "deploy_start", "deploy_end", "priority", "deadline", "depends_on", "package", "unit", "unit_kind",
        "target", "version", "environment", "env_start", "env_end",
    ]

    /// Planners write plans, releases and bookings (sql/0003_security.sql).
    static let writerRoles = "{manager,release-manager}"

    // MARK: Before reading

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
        guard let row = try db.query("""
            SELECT id, imported_at, imported_by FROM import_batch WHERE sha256 = $1 ORDER BY id DESC LIMIT 1
            """, [sha256]).first else { return nil }
        return (try row.decode(Int64.self, 0), try row.decode(Date.self, 1), try row.decode(String.self, 2))
    }

    // MARK: Staging

    /// Gives the session room to keep a large staging table in memory; call before the import's
    /// transaction (the setting cannot change once the session used a temporary table).
    public func prepareSession() throws {
        try db.execute("SET temp_buffers = '256MB'", simple: true)
        // A killed importer's long merge stops within a second instead of running on unseen,
        // holding locks the next import would wait for.
        try db.execute("SET client_connection_check_interval = '1s'", simple: true)
    }

    /// The planning tables the merge joins and writes.
    static let planningTables = ["release_plan", "release", "release_dependency", "release_package", "release_unit",
                                 "environment_booking"]

    /// Creates the staging table; call inside the import's transaction.
    public func createStaging() throws {
        // Sorting and hashing a million rows in memory rather than in temporary files.
        try db.execute("SET LOCAL work_mem = '256MB'", simple: true)
        // Statistics far below what a planning table holds (its pages were last counted when
        // nearly every row on them was dead: vacuumed after a rolled-back dry run, before ANALYZE
        // saw the rows imported since) make the planner probe it row by row: re-importing a
        // million rows then took minutes instead of seconds. The importer may not ANALYZE tables
        // it does not own; while the statistics are that far off, it joins by hashing instead,
        // which is right for any size. The planner's own estimate: rows per page, as last
        // counted, times the pages there are now.
        let statisticsUnderstate = try db.query("""
            SELECT EXISTS (
                SELECT 1 FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
                WHERE s.schemaname = 'public' AND s.relname = ANY ($1::text[]) AND c.reltuples >= 0 AND c.relpages > 0
                  AND s.n_live_tup > 1000 + 10 * c.reltuples / c.relpages
                                                * (pg_relation_size(c.oid) / current_setting('block_size')::numeric))
            """, [Self.planningTables]).first?.decode(Bool.self, 0) ?? false
        if statisticsUnderstate { try db.execute("SET LOCAL enable_nestloop = off", simple: true) }
        try db.execute("""
            CREATE TEMPORARY TABLE import_staging (
                line integer NOT NULL, release_no integer NOT NULL, grp text NOT NULL, plan text, plan_title text, change_ref text,
                release text NOT NULL, release_title text, window_code text, deploy_start timestamptz,
                deploy_end timestamptz, priority smallint, deadline date, depends_on text[], package text, unit text,
                unit_kind text, target text, version text, environment text, env_start timestamptz, env_end timestamptz
            ) ON COMMIT DROP
            """, simple: true)
    }

    /// Streams COPY text lines (`stagingColumns`, tab-separated) into the staging table.
    @discardableResult
    public func stage(_ body: (CopyWriter) throws -> Void) throws -> Int {
        let rows = try db.copyIn("COPY import_staging FROM STDIN", body)
        // Temporary tables are never analysed automatically; the joins below need the numbers.
        // A sample of 3,000 rows is plenty to choose hash joins over nested loops (the default
        // 30,000 took a tenth of a second per table on a million rows).
        try db.execute("SET LOCAL default_statistics_target = 10", simple: true)
        try db.execute("ANALYZE import_staging (release_no, package, unit, environment)", simple: true)
        return rows
    }

    /// Takes releases (or whole groups) out of the staging table, for `--on-error skip`;
    /// returns the file lines of their rows.
    public func remove(releases: [StagedRelease], groups: [String] = []) throws -> [(line: Int, release: StagedRelease)] {
        guard !releases.isEmpty || !groups.isEmpty else { return [] }
        let removed = try db.query("""
            WITH gone AS (
                DELETE FROM import_staging s
                WHERE s.grp = ANY ($3::text[])
                   OR (s.grp, s.release) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                RETURNING s.line, s.grp, s.release)
            SELECT line, grp, release FROM gone ORDER BY line
            """, [releases.map(\.group), releases.map(\.code), groups]).rows.map {
            (line: try $0.decode(Int.self, 0),
             release: StagedRelease(group: try $0.decode(String.self, 1), code: try $0.decode(String.self, 2)))
        }
        if try derivedTablesExist() {
            for table in Self.derivedTables {
                try db.execute(table.delete, [releases.map(\.group), releases.map(\.code), groups])
            }
        }
        return removed
    }

    /// Statements over tables whose names are constants of this file, never input.
    struct DerivedTable {
        let name: String
        let create: String
        let delete: String
    }

    static let derivedTables: [DerivedTable] = [
        DerivedTable(
            name: "import_release",
            create: """
                CREATE TEMPORARY TABLE import_release ON COMMIT DROP AS
                SELECT r.*, g.id AS group_id FROM (
                SELECT s.release_no, min(s.grp COLLATE "C") COLLATE "default" AS grp,
                       min(s.release COLLATE "C") COLLATE "default" AS release, min(s.line) AS first_line, min(s.plan COLLATE "C") COLLATE "default" AS plan,
                       max(s.plan_title COLLATE "C") COLLATE "default" AS plan_title,
                       max(s.change_ref COLLATE "C") COLLATE "default" AS change_ref,
                       max(s.release_title COLLATE "C") COLLATE "default" AS title, max(s.window_code COLLATE "C") COLLATE "default" AS window_code,
                       max(s.deploy_start) AS deploy_start, max(s.deploy_end) AS deploy_end,
                       max(s.priority) AS priority, max(s.deadline) AS deadline,
                       max(s.depends_on) AS depends_on, min(s.line) FILTER (WHERE s.depends_on IS NOT NULL) AS depends_on_line
                FROM import_staging s
                GROUP BY s.release_no) AS r
                LEFT JOIN management_group g ON g.code = r.grp
                """,
            delete: """
                DELETE FROM import_release t WHERE t.grp = ANY ($3::text[])
                    OR (t.grp, t.release) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                """),
        // Units given on one row each (the usual case) are read from the staging table as they
        // are; only the ones repeated on several rows are summarised, which saves a pass over
        // every row. `import_unit` is a view over both, one row per unit.
        DerivedTable(
            name: "import_unit_repeated",
            create: """
                CREATE TEMPORARY TABLE import_unit_repeated ON COMMIT DROP AS
                SELECT s.release_no, s.grp, s.release, s.package, s.unit, min(s.line) AS first_line,
                       min(s.unit_kind COLLATE "C") COLLATE "default" AS kind, max(s.unit_kind COLLATE "C") COLLATE "default" AS kind_max,
                       min(s.target COLLATE "C") COLLATE "default" AS target, max(s.target COLLATE "C") COLLATE "default" AS target_max,
                       min(s.version COLLATE "C") COLLATE "default" AS version, max(s.version COLLATE "C") COLLATE "default" AS version_max
                FROM import_staging s
                JOIN (SELECT grp, release, package, unit FROM import_staging WHERE unit IS NOT NULL
                      GROUP BY grp, release, package, unit HAVING count(*) > 1) r
                  ON r.grp = s.grp AND r.release = s.release AND r.package = s.package AND r.unit = s.unit
                GROUP BY s.release_no, s.grp, s.release, s.package, s.unit
                """,
            delete: """
                DELETE FROM import_unit_repeated t WHERE t.grp = ANY ($3::text[])
                    OR (t.grp, t.release) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                """),
        DerivedTable(
            name: "import_dependency",
            create: """
                CREATE TEMPORARY TABLE import_dependency ON COMMIT DROP AS
                SELECT ir.release_no, ir.grp, ir.release, split_part(d, '/', 1) AS dep_group, split_part(d, '/', 2) AS dep_code,
                       min(ir.depends_on_line) AS first_line
                FROM import_release ir CROSS JOIN LATERAL unnest(ir.depends_on) AS d
                WHERE ir.depends_on IS NOT NULL
                GROUP BY 1, 2, 3, 4, 5
                """,
            delete: """
                DELETE FROM import_dependency t WHERE t.grp = ANY ($3::text[])
                    OR (t.grp, t.release) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                """),
    ]

    private func derivedTablesExist() throws -> Bool {
        try db.query("SELECT to_regclass('pg_temp.import_release') IS NOT NULL").first?.decode(Bool.self, 0) ?? false
    }

    /// Summarises the staged rows per release, unit and dependency (after any `remove`).
    /// `unitsMayRepeat: false` (the reader saw every unit once) saves looking for units
    /// described on several rows, a pass over every staged row.
    public func summarise(unitsMayRepeat: Bool = true) throws {
        for table in Self.derivedTables {
            let skip = !unitsMayRepeat && table.name == "import_unit_repeated"
            try db.execute(skip ? table.create + " WITH NO DATA" : table.create, simple: true)
        }
        try db.execute("ANALYZE import_release (release_no, grp, release, group_id, plan, window_code); ANALYZE import_dependency", simple: true)
        let repeated = try db.query("SELECT EXISTS (SELECT 1 FROM import_unit_repeated)").first?.decode(Bool.self, 0) ?? false
        // Without repeated units the view is a plain filter, through which the planner sees the
        // staging table's statistics (a UNION ALL would hide them and invite nested loops).
        try db.execute(repeated ? Self.unitsView : Self.singleUnitsView, simple: true)
        try db.execute(Self.partsViews, simple: true)
    }

    /// The file's packages and bookings, once each, by release number; read by the merge and
    /// the dry run. (Like `import_unit`, views over the staging table: dropped before commit.)
    static let partsViews = """
        CREATE TEMPORARY VIEW import_staged_package AS
        SELECT DISTINCT release_no, package FROM import_staging WHERE package IS NOT NULL;
        CREATE TEMPORARY VIEW import_staged_booking AS
        SELECT DISTINCT release_no, environment, env_start, env_end FROM import_staging WHERE environment IS NOT NULL
        """

    static let singleUnitsView = """
        CREATE TEMPORARY VIEW import_unit AS
        SELECT s.release_no, s.grp, s.release, s.package, s.unit, s.line AS first_line, s.unit_kind AS kind, s.target, s.version
        FROM import_staging s WHERE s.unit IS NOT NULL
        """

    static let unitsView = """
        CREATE TEMPORARY VIEW import_unit AS
        SELECT s.release_no, s.grp, s.release, s.package, s.unit, s.line AS first_line, s.unit_kind AS kind, s.target, s.version
        FROM import_staging s
        WHERE s.unit IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM import_unit_repeated r
            WHERE r.release_no = s.release_no AND r.package = s.package AND r.unit = s.unit)
        UNION ALL
        SELECT release_no, grp, release, package, unit, first_line, kind, target, version FROM import_unit_repeated
        """

    // MARK: Checks

    /// Everything the database knows that the file alone does not, checked set-based over the
    /// staged rows; call after `summarise`. `skipped` are releases already left out (their
    /// dependents are reported as depending on a skipped release).
    public func check(login: String, skipped: Set<StagedRelease> = []) throws -> [StagedIssue] {
        var issues = try unwritableGroups(login: login)
        issues += try plansOfExistingReleases()
        issues += try inconsistentUnits()
        issues += try unknownDependencies(skipped: skipped)
        return issues.sorted { ($0.line, $0.field, $0.message) < ($1.line, $1.field, $1.message) }
    }

    /// Checks only the dependencies again, after releases were left out.
    public func checkDependencies(skipped: Set<StagedRelease>) throws -> [StagedIssue] {
        try unknownDependencies(skipped: skipped)
    }

    private func unwritableGroups(login: String) throws -> [StagedIssue] {
        try db.query("""
            SELECT ir.grp, min(ir.first_line), bool_or(ir.group_id IS NULL)
            FROM import_release ir
            WHERE ir.group_id IS NULL
               OR NOT (ir.group_id = ANY ((SELECT relplan_groups_with_role(current_user, $1::text[]))::integer[]))
            GROUP BY ir.grp ORDER BY 2
            """, [Self.writerRoles]).rows.map { row in
            let group = try row.decode(String.self, 0)
            let unknown = try row.decode(Bool.self, 2)
            let message = unknown
                ? "unknown group \(group)"
                : "\(login) may not write group \(group): \(login) is not a manager or release-manager of \(group)"
            return StagedIssue(line: try row.decode(Int.self, 1), field: "group", message: message, got: group, scope: .group(group))
        }
    }

    /// A release already in the database under another plan is refused: an import describes
    /// releases, and moving one between plans is a decision about the plans, not a data load.
    private func plansOfExistingReleases() throws -> [StagedIssue] {
        try db.query("""
            SELECT ir.grp, ir.release, ir.first_line, ir.plan, p.code
            FROM import_release ir
            JOIN release r ON r.group_id = ir.group_id AND r.code = ir.release
            JOIN release_plan p ON p.id = r.plan_id
            WHERE p.code <> ir.plan
            ORDER BY ir.first_line
            """).rows.map { row in
            let release = StagedRelease(group: try row.decode(String.self, 0), code: try row.decode(String.self, 1))
            let existing = try row.decode(String.self, 4)
            return StagedIssue(
                line: try row.decode(Int.self, 2), field: "plan",
                message: "release \(release) exists in plan \(existing); an import does not move releases between plans "
                    + "(give plan \(existing), or create the release under a new code)",
                got: try row.decode(String.self, 3), scope: .release(release))
        }
    }

    /// A unit given different kind, target or version on two rows; names both lines.
    private func inconsistentUnits() throws -> [StagedIssue] {
        var issues: [StagedIssue] = []
        // (A target's length is checked by the reader, row by row.)
        // The rows of units whose values differ, in file order; the first row's values are the reference.
        let differing = try db.query("""
            SELECT EXISTS (SELECT 1 FROM import_unit_repeated WHERE kind <> kind_max OR target <> target_max OR version <> version_max)
            """).first?.decode(Bool.self, 0) ?? false
        guard differing else { return issues }
        let rows = try db.query("""
            SELECT s.grp, s.release, s.package, s.unit, s.line, s.unit_kind, s.target, s.version
            FROM import_staging s
            JOIN (SELECT grp, release, package, unit FROM import_unit_repeated
                  WHERE kind <> kind_max OR target <> target_max OR version <> version_max) u
              ON u.grp = s.grp AND u.release = s.release AND u.package = s.package AND u.unit = s.unit
            ORDER BY s.grp, s.release, s.package, s.unit, s.line
            """).rows
        struct Reference {
            var key: [String]
            var line: Int
            var values: [String?]
            var reported = false
        }
        var reference: Reference?
        let fields = ["unit_kind", "target", "version"]
        for row in rows {
            let key = [try row.decode(String.self, 0), try row.decode(String.self, 1), try row.decode(String.self, 2),
                       try row.decode(String.self, 3)]
            let line = try row.decode(Int.self, 4)
            let values = [try row.decode(String?.self, 5), try row.decode(String?.self, 6), try row.decode(String?.self, 7)]
            guard var current = reference, current.key == key else {
                reference = Reference(key: key, line: line, values: values)
                continue
            }
            if current.values[2] == nil, let version = values[2] { current.values[2] = version }  // empty: not given
            guard !current.reported,
                  let index = values.indices.first(where: { values[$0] != nil && current.values[$0] != nil && values[$0] != current.values[$0] })
            else {
                reference = current
                continue
            }
            current.reported = true
            reference = current
            let release = StagedRelease(group: key[0], code: key[1])
            issues.append(StagedIssue(
                line: line, field: fields[index],
                message: "differs from line \(current.line) (\"\(current.values[index] ?? "")\") for unit \(key[2])/\(key[3]) of \(release)",
                got: values[index], scope: .release(release)))
        }
        return issues
    }

    private func unknownDependencies(skipped: Set<StagedRelease>) throws -> [StagedIssue] {
        let missing = try db.query("""
            SELECT d.grp, d.release, d.dep_group, d.dep_code, d.first_line
            FROM import_dependency d
            WHERE NOT EXISTS (SELECT 1 FROM import_release ir WHERE ir.grp = d.dep_group AND ir.release = d.dep_code)
              AND NOT EXISTS (SELECT 1 FROM release r JOIN management_group g ON g.id = r.group_id
                              WHERE g.code = d.dep_group AND r.code = d.dep_code)
            ORDER BY d.first_line, d.dep_group, d.dep_code
            """).rows.map {
            (release: StagedRelease(group: try $0.decode(String.self, 0), code: try $0.decode(String.self, 1)),
             dependency: StagedRelease(group: try $0.decode(String.self, 2), code: try $0.decode(String.self, 3)),
             line: try $0.decode(Int.self, 4))
        }
        guard !missing.isEmpty else { return [] }
        // Candidates for "did you mean": the group's releases in the database and in the file.
        var candidates: [String: [String]] = [:]
        let groups = Set(missing.map(\.dependency.group)).sorted()
        for row in try db.query("""
            SELECT g.code, g.code || '/' || r.code FROM release r JOIN management_group g ON g.id = r.group_id
            WHERE g.code = ANY ($1::text[])
            UNION ALL
            SELECT grp, grp || '/' || release FROM import_release WHERE grp = ANY ($1::text[])
            """, [groups]).rows {
            candidates[try row.decode(String.self, 0), default: []].append(try row.decode(String.self, 1))
        }
        let knownGroups = try knownCodes().groups
        var suggestions: [StagedRelease: String] = [:]
        return missing.map { item in
            let text = item.dependency.description
            let message: String
            if skipped.contains(item.dependency) {
                message = "depends on \(text), which is skipped, so \(item.release) is skipped too"
            } else if !knownGroups.contains(item.dependency.group) {
                message = "unknown release \(text): there is no group \(item.dependency.group)"
                    + Suggestions.didYouMean(item.dependency.group, in: knownGroups)
            } else {
                let hint = suggestions[item.dependency]
                    ?? Suggestions.didYouMean(text, in: candidates[item.dependency.group] ?? [])
                suggestions[item.dependency] = hint
                message = "unknown release \(text): it is neither in the database nor in the file" + hint
            }
            return StagedIssue(line: item.line, field: "depends_on", message: message, got: text, scope: .release(item.release))
        }
    }

    // MARK: Merge

    /// Prepares the merge: creates missing plans, updates changed ones, and works out every
    /// release's new values. Call after the checks passed (or the failing releases were removed).
    public func prepareMerge() throws -> (plansCreated: Int, plansChanged: Int) {
        let plans = try db.query("""
            WITH staged AS (
                SELECT ir.group_id, ir.plan, max(ir.plan_title COLLATE "C") COLLATE "default" AS title,
                       max(ir.change_ref COLLATE "C") COLLATE "default" AS change_ref
                FROM import_release ir
                GROUP BY ir.group_id, ir.plan),
            wanted AS (
                SELECT st.group_id, st.plan, coalesce(st.title, x.title, '') AS title,
                       coalesce(st.change_ref, x.change_ref) AS change_ref, x.id AS existing
                FROM staged st LEFT JOIN release_plan x ON x.group_id = st.group_id AND x.code = st.plan),
            merged AS (
                INSERT INTO release_plan AS p (group_id, code, title, change_ref)
                SELECT w.group_id, w.plan, w.title, w.change_ref FROM wanted w
                LEFT JOIN release_plan x ON x.id = w.existing
                WHERE x.id IS NULL OR (x.title, x.change_ref) IS DISTINCT FROM (w.title, w.change_ref)
                ON CONFLICT (group_id, code) DO UPDATE SET title = EXCLUDED.title, change_ref = EXCLUDED.change_ref
                WHERE (p.title, p.change_ref) IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.change_ref)
                RETURNING (xmax = 0) AS inserted)
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged
            """).first
        // Each release's values after the merge: an empty cell keeps what the database has; a new
        // window without deployment times moves the deployment along, keeping its offset from the
        // window's start and its duration (as `release move` does), or takes the whole window.
        try db.execute("""
            CREATE TEMPORARY TABLE import_release_diff ON COMMIT DROP AS
            SELECT *, existed AND
                   (old_title, old_window_id, old_deploy_start, old_deploy_end, old_priority, old_deadline)
                   IS DISTINCT FROM (new_title, new_window_id, new_deploy_start, new_deploy_end, new_priority, new_deadline) AS changed
            FROM (
            SELECT ir.release_no, ir.grp, ir.release, ir.first_line, ir.group_id, p.id AS plan_id, ir.plan, r.id AS release_id,
                   r.id IS NOT NULL AS existed,
                   r.title AS old_title, r.window_id AS old_window_id, r.deploy_start AS old_deploy_start,
                   r.deploy_end AS old_deploy_end, r.priority AS old_priority, r.deadline AS old_deadline,
                   coalesce(ir.title, r.title, '') AS new_title,
                   coalesce(w.id, r.window_id) AS new_window_id,
                   CASE WHEN ir.deploy_start IS NOT NULL THEN ir.deploy_start
                        WHEN w.id IS NULL THEN r.deploy_start
                        WHEN w.id IS DISTINCT FROM r.window_id AND r.deploy_start IS NOT NULL AND ow.id IS NOT NULL
                            THEN w.starts_at + (r.deploy_start - ow.starts_at)
                        WHEN w.id IS DISTINCT FROM r.window_id OR r.deploy_start IS NULL THEN w.starts_at
                        ELSE r.deploy_start END AS new_deploy_start,
                   CASE WHEN ir.deploy_start IS NOT NULL THEN ir.deploy_end
                        WHEN w.id IS NULL THEN r.deploy_end
                        WHEN w.id IS DISTINCT FROM r.window_id AND r.deploy_start IS NOT NULL AND ow.id IS NOT NULL
                            THEN w.starts_at + (r.deploy_end - ow.starts_at)
                        WHEN w.id IS DISTINCT FROM r.window_id OR r.deploy_start IS NULL THEN w.ends_at
                        ELSE r.deploy_end END AS new_deploy_end,
                   coalesce(ir.priority, r.priority, 3) AS new_priority,
                   coalesce(ir.deadline, r.deadline) AS new_deadline
            FROM import_release ir
            JOIN release_plan p ON p.group_id = ir.group_id AND p.code = ir.plan
            LEFT JOIN service_window w ON w.code = ir.window_code
            LEFT JOIN release r ON r.group_id = ir.group_id AND r.code = ir.release
            LEFT JOIN service_window ow ON ow.id = r.window_id) AS merged_values;
            CREATE TEMPORARY TABLE import_touched (release_id bigint) ON COMMIT DROP;
            ANALYZE import_release_diff
            """, simple: true)
        return (try plans?.decode(Int.self, 0) ?? 0, try plans?.decode(Int.self, 1) ?? 0)
    }

    /// The tables `merge` writes, in order, as its progress names them.
    public static let mergeSteps = ["releases", "dependencies", "packages", "units", "bookings"]

    /// Writes releases, dependencies, packages, targets, units and bookings, each with one
    /// set-based statement; call after `prepareMerge`. `step` hears each of `mergeSteps` as it
    /// starts: the database cannot report progress within a statement, and on a large file each
    /// takes seconds.
    public func merge(step: (String) -> Void = { _ in }) throws -> ImportCounts {
        step("releases")
        try db.execute("""
            WITH merged AS (
                INSERT INTO release AS r (group_id, plan_id, code, title, window_id, deploy_start, deploy_end, priority, deadline)
                SELECT d.group_id, d.plan_id, d.release, d.new_title, d.new_window_id, d.new_deploy_start, d.new_deploy_end,
                       d.new_priority, d.new_deadline
                FROM import_release_diff d WHERE NOT d.existed OR d.changed
                ON CONFLICT (group_id, code) DO UPDATE SET
                    title = EXCLUDED.title, window_id = EXCLUDED.window_id, deploy_start = EXCLUDED.deploy_start,
                    deploy_end = EXCLUDED.deploy_end, priority = EXCLUDED.priority, deadline = EXCLUDED.deadline
                WHERE (r.title, r.window_id, r.deploy_start, r.deploy_end, r.priority, r.deadline)
                    IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.window_id, EXCLUDED.deploy_start, EXCLUDED.deploy_end,
                                      EXCLUDED.priority, EXCLUDED.deadline)
                RETURNING r.id, r.group_id, r.code)
            UPDATE import_release_diff d SET release_id = m.id
            FROM merged m WHERE d.release_id IS NULL AND d.group_id = m.group_id AND d.release = m.code
            """)
        step("dependencies")
        try db.execute("""
            WITH merged AS (
                INSERT INTO release_dependency (group_id, release_id, depends_on_id)
                SELECT DISTINCT d.group_id, d.release_id, dep.id
                FROM import_dependency x
                JOIN import_release_diff d ON d.release_no = x.release_no
                JOIN management_group dg ON dg.code = x.dep_group
                JOIN release dep ON dep.group_id = dg.id AND dep.code = x.dep_code
                WHERE NOT EXISTS (SELECT 1 FROM release_dependency e WHERE e.release_id = d.release_id AND e.depends_on_id = dep.id)
                ON CONFLICT DO NOTHING
                RETURNING release_id)
            INSERT INTO import_touched SELECT DISTINCT release_id FROM merged
            """)
        // The parts of releases created just now are new too, and nobody else can see those
        // releases yet: plain inserts. Existing releases merge on their natural keys.
        step("packages")
        try db.execute("""
            INSERT INTO release_package (group_id, release_id, code)
            SELECT d.group_id, d.release_id, s.package
            FROM import_staged_package s
            JOIN import_release_diff d ON d.release_no = s.release_no
            WHERE NOT d.existed
            """)
        try db.execute("""
            WITH merged AS (
                INSERT INTO release_package (group_id, release_id, code)
                SELECT d.group_id, d.release_id, s.package
                FROM import_staged_package s
                JOIN import_release_diff d ON d.release_no = s.release_no
                WHERE d.existed
                  AND NOT EXISTS (SELECT 1 FROM release_package e WHERE e.release_id = d.release_id AND e.code = s.package)
                ON CONFLICT (release_id, code) DO NOTHING
                RETURNING release_id)
            INSERT INTO import_touched SELECT DISTINCT release_id FROM merged
            """)
        // Every package of the file's releases, with its id, in a table of our own: analysed here,
        // it tells the planner how many units will join (the planning tables' statistics are
        // stale right after a large import, and a guess of a few thousand rows instead of a
        // million chose a million index probes).
        try db.execute("""
            CREATE TEMPORARY TABLE import_package ON COMMIT DROP AS
            SELECT d.release_no, p.code, p.id AS package_id, p.group_id, d.existed
            FROM import_release_diff d JOIN release_package p ON p.release_id = d.release_id;
            ANALYZE import_package
            """, simple: true)
        // The targets units name are registered as they are written (the registry of
        // configuration items the scheduler reads for target collisions).
        step("units")
        try db.execute("""
            WITH inserted AS (
                INSERT INTO release_unit (group_id, package_id, code, kind, target_code, version)
                SELECT ip.group_id, ip.package_id, u.unit, u.kind, u.target, u.version
                FROM import_unit u
                JOIN import_package ip ON ip.release_no = u.release_no AND ip.code = u.package
                WHERE NOT ip.existed
                RETURNING group_id, target_code)
            INSERT INTO target (code, group_id)
            SELECT i.target_code, min(i.group_id) FROM inserted i
            WHERE NOT EXISTS (SELECT 1 FROM target t WHERE t.code = i.target_code)
            GROUP BY i.target_code
            ON CONFLICT DO NOTHING
            """)
        try db.execute("""
            WITH wanted AS (
                SELECT ip.group_id, ip.package_id, u.unit, u.kind, u.target,
                       coalesce(u.version, e.version) AS version, e.id AS existing,
                       e.kind AS old_kind, e.target_code AS old_target, e.version AS old_version
                FROM import_unit u
                JOIN import_package ip ON ip.release_no = u.release_no AND ip.code = u.package AND ip.existed
                LEFT JOIN release_unit e ON e.package_id = ip.package_id AND e.code = u.unit),
            merged AS (
                INSERT INTO release_unit AS x (group_id, package_id, code, kind, target_code, version)
                SELECT w.group_id, w.package_id, w.unit, w.kind, w.target, w.version FROM wanted w
                WHERE w.existing IS NULL OR (w.old_kind, w.old_target, w.old_version) IS DISTINCT FROM (w.kind, w.target, w.version)
                ON CONFLICT (package_id, code) DO UPDATE SET
                    kind = EXCLUDED.kind, target_code = EXCLUDED.target_code, version = EXCLUDED.version
                WHERE (x.kind, x.target_code, x.version) IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.target_code, EXCLUDED.version)
                RETURNING group_id, package_id, target_code),
            touched AS (
                INSERT INTO import_touched
                SELECT DISTINCT p.release_id FROM (SELECT DISTINCT package_id FROM merged) m JOIN release_package p ON p.id = m.package_id)
            INSERT INTO target (code, group_id)
            SELECT m.target_code, min(m.group_id) FROM merged m
            WHERE NOT EXISTS (SELECT 1 FROM target t WHERE t.code = m.target_code)
            GROUP BY m.target_code
            ON CONFLICT DO NOTHING
            """)
        step("bookings")
        try db.execute("""
            INSERT INTO environment_booking (group_id, release_id, environment_id, during, status)
            SELECT d.group_id, d.release_id, e.id, tstzrange(b.env_start, b.env_end), 'tentative'
            FROM import_staged_booking b
            JOIN import_release_diff d ON d.release_no = b.release_no
            JOIN environment e ON e.code = b.environment
            WHERE NOT d.existed
            """)
        try db.execute("""
            WITH merged AS (
                INSERT INTO environment_booking (group_id, release_id, environment_id, during, status)
                SELECT d.group_id, d.release_id, e.id, tstzrange(b.env_start, b.env_end), 'tentative'
                FROM import_staged_booking b
                JOIN import_release_diff d ON d.release_no = b.release_no
                JOIN environment e ON e.code = b.environment
                -- Compared on the range's bounds: timestamps hash and compare faster than ranges.
                WHERE d.existed AND NOT EXISTS (
                    SELECT 1 FROM environment_booking x
                    WHERE x.release_id = d.release_id AND x.environment_id = e.id
                      AND lower(x.during) = b.env_start AND upper(x.during) = b.env_end
                      AND lower_inc(x.during) AND NOT upper_inc(x.during))
                ON CONFLICT (release_id, environment_id, during) DO NOTHING
                RETURNING release_id)
            INSERT INTO import_touched SELECT DISTINCT release_id FROM merged
            """)
        // Temporary tables go at commit; the views over them must go first.
        try db.execute("DROP VIEW import_unit, import_staged_package, import_staged_booking", simple: true)
        guard let row = try db.query("""
            SELECT count(*) FILTER (WHERE NOT d.existed),
                   count(*) FILTER (WHERE d.existed AND (d.changed OR d.release_id IN (SELECT release_id FROM import_touched))),
                   count(*),
                   coalesce(array_agg(DISTINCT d.group_id ORDER BY d.group_id), '{}')
            FROM import_release_diff d
            """).first else { throw StoreError.internalInconsistency("counting the merge returned nothing") }
        var counts = ImportCounts()
        counts.releasesCreated = try row.decode(Int.self, 0)
        counts.releasesChanged = try row.decode(Int.self, 1)
        counts.releasesUnchanged = try row.decode(Int.self, 2) - counts.releasesCreated - counts.releasesChanged
        counts.groupIDs = try row.decode([Int].self, 3)
        return counts
    }

    /// Records the batch, through the database's own function (sql/0010): it names the batch's
    /// groups itself, from what this transaction wrote, and who and when.
    public func recordBatch(fileName: String, sha256: String, rows: Int, counts: ImportCounts, rejected: Int) throws -> Int64 {
        guard let id = try db.query("""
            SELECT relplan_record_import($1, $2, $3::integer, $4::integer, $5::integer, $6::integer, $7::integer)
            """, [fileName, sha256, rows, counts.releasesCreated, counts.releasesChanged, counts.releasesUnchanged,
                  rejected]).first?.decode(Int64.self, 0) else {
            throw StoreError.internalInconsistency("relplan_record_import returned nothing")
        }
        return id
    }

    // MARK: Dry run

    /// What `merge` will do, release by release, in file order; call between `prepareMerge` and `merge`.
    public func preview() throws -> [ReleasePreview] {
        var previews: [StagedRelease: ReleasePreview] = [:]
        var order: [StagedRelease] = []
        func key(_ row: Row) throws -> StagedRelease {
            StagedRelease(group: try row.decode(String.self, 0), code: try row.decode(String.self, 1))
        }
        func add(_ release: StagedRelease, _ change: FieldChange) {
            previews[release]?.changes.append(change)
            if previews[release]?.state == .unchanged { previews[release]?.state = .changed }
        }
        func text(_ value: String?) -> PreviewValue? { value.map(PreviewValue.text) }

        for row in try db.query("""
            SELECT d.grp, d.release, d.existed, d.changed, d.plan, d.old_title, d.new_title, ow.code, nw.code,
                   d.old_deploy_start, d.old_deploy_end, d.new_deploy_start, d.new_deploy_end,
                   d.old_priority, d.new_priority, to_char(d.old_deadline, 'YYYY-MM-DD'), to_char(d.new_deadline, 'YYYY-MM-DD'),
                   coalesce(uc.n, 0), coalesce(bc.n, 0)
            FROM import_release_diff d
            LEFT JOIN service_window ow ON ow.id = d.old_window_id LEFT JOIN service_window nw ON nw.id = d.new_window_id
            LEFT JOIN (SELECT release_no, count(*) AS n FROM import_unit GROUP BY 1) uc
                   ON uc.release_no = d.release_no
            LEFT JOIN (SELECT release_no, count(*) AS n FROM import_staged_booking GROUP BY 1) bc
                   ON bc.release_no = d.release_no
            ORDER BY d.first_line
            """).rows {
            let release = try key(row)
            order.append(release)
            let existed = try row.decode(Bool.self, 2)
            let oldDeploy = try range(row, 9, 10)
            let newDeploy = try range(row, 11, 12)
            var changes: [FieldChange] = []
            if !existed {
                changes.append(FieldChange(field: "plan", from: nil, to: .text(try row.decode(String.self, 4))))
                if let title = try row.decode(String?.self, 6), !title.isEmpty { changes.append(FieldChange(field: "title", from: nil, to: .text(title))) }
                if let window = try row.decode(String?.self, 8) { changes.append(FieldChange(field: "window", from: nil, to: .text(window))) }
                if let newDeploy { changes.append(FieldChange(field: "deployment", from: nil, to: newDeploy)) }
                changes.append(FieldChange(field: "priority", from: nil, to: .text(String(try row.decode(Int.self, 14)))))
                if let deadline = try row.decode(String?.self, 16) { changes.append(FieldChange(field: "deadline", from: nil, to: .text(deadline))) }
                let units = try row.decode(Int.self, 17)
                let bookings = try row.decode(Int.self, 18)
                if units > 0 { changes.append(FieldChange(field: "units", from: nil, to: .text(String(units)))) }
                if bookings > 0 { changes.append(FieldChange(field: "bookings", from: nil, to: .text(String(bookings)))) }
                previews[release] = ReleasePreview(release: release, state: .created, changes: changes)
                continue
            }
            func compare(_ field: String, _ old: PreviewValue?, _ new: PreviewValue?) {
                if old != new { changes.append(FieldChange(field: field, from: old, to: new)) }
            }
            compare("title", text(try row.decode(String?.self, 5)), text(try row.decode(String?.self, 6)))
            compare("window", text(try row.decode(String?.self, 7)), text(try row.decode(String?.self, 8)))
            compare("deployment", oldDeploy, newDeploy)
            compare("priority", text(try row.decode(Int?.self, 13).map(String.init)), text(try row.decode(Int?.self, 14).map(String.init)))
            compare("deadline", text(try row.decode(String?.self, 15)), text(try row.decode(String?.self, 16)))
            previews[release] = ReleasePreview(release: release, state: changes.isEmpty ? .unchanged : .changed, changes: changes)
        }

        // Parts added to or changed in existing releases.
        for row in try db.query("""
            SELECT DISTINCT x.grp, x.release, x.dep_group || '/' || x.dep_code
            FROM import_dependency x JOIN import_release_diff d ON d.release_no = x.release_no
            LEFT JOIN management_group dg ON dg.code = x.dep_group
            LEFT JOIN release dep ON dep.group_id = dg.id AND dep.code = x.dep_code
            WHERE d.existed AND (dep.id IS NULL OR NOT EXISTS (
                SELECT 1 FROM release_dependency e WHERE e.release_id = d.release_id AND e.depends_on_id = dep.id))
            ORDER BY 1, 2, 3
            """).rows {
            add(try key(row), FieldChange(field: "depends_on", from: nil, to: .text(try row.decode(String.self, 2))))
        }
        for row in try db.query("""
            SELECT DISTINCT s.grp, s.release, s.package
            FROM import_staging s JOIN import_release_diff d ON d.release_no = s.release_no
            WHERE d.existed AND s.package IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM release_package e WHERE e.release_id = d.release_id AND e.code = s.package)
            ORDER BY 1, 2, 3
            """).rows {
            add(try key(row), FieldChange(field: "package", from: nil, to: .text(try row.decode(String.self, 2))))
        }
        for row in try db.query("""
            SELECT u.grp, u.release, u.package || '/' || u.unit,
                   e.kind || ' ' || e.target_code || coalesce(' ' || e.version, ''),
                   u.kind || ' ' || u.target || coalesce(' ' || coalesce(u.version, e.version), '')
            FROM import_unit u JOIN import_release_diff d ON d.release_no = u.release_no
            LEFT JOIN release_package p ON p.release_id = d.release_id AND p.code = u.package
            LEFT JOIN release_unit e ON e.package_id = p.id AND e.code = u.unit
            WHERE d.existed AND (e.id IS NULL OR (e.kind, e.target_code, e.version)
                                 IS DISTINCT FROM (u.kind, u.target, coalesce(u.version, e.version)))
            ORDER BY 1, 2, 3
            """).rows {
            add(try key(row), FieldChange(field: "unit " + (try row.decode(String.self, 2)),
                                          from: text(try row.decode(String?.self, 3)), to: text(try row.decode(String?.self, 4))))
        }
        for row in try db.query("""
            SELECT DISTINCT s.grp, s.release, s.environment, s.env_start, s.env_end
            FROM import_staging s JOIN import_release_diff d ON d.release_no = s.release_no
            JOIN environment e ON e.code = s.environment
            WHERE d.existed AND NOT EXISTS (
                SELECT 1 FROM environment_booking x
                WHERE x.release_id = d.release_id AND x.environment_id = e.id AND x.during = tstzrange(s.env_start, s.env_end))
            ORDER BY 1, 2, 4, 3
            """).rows {
            add(try key(row), FieldChange(field: "booking " + (try row.decode(String.self, 2)), from: nil,
                                          to: .range(try row.decode(Date.self, 3), try row.decode(Date.self, 4))))
        }
        return order.compactMap { previews[$0] }
    }

    private func range(_ row: Row, _ start: Int, _ end: Int) throws -> PreviewValue? {
        guard let from = try row.decode(Date?.self, start), let to = try row.decode(Date?.self, end) else { return nil }
        return .range(from, to)
    }
}

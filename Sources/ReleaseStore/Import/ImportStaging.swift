import Foundation
import Postgres
import ReleaseCore

/// Staging: the file's rows into a temporary table, and the summaries the checks and the merge read.
extension ImportSession {
    /// The planning tables the merge joins and writes.
    static let planningTables = ["release_plan", "release", "release_dependency", "release_package", "release_unit",
                                 "environment_booking"]

    /// Creates the staging table; call inside the import's transaction.
    public func createStaging() throws {
        try require("createStaging", at: .opened)
        guard db.isInTransaction else {
            throw ImportStepError(step: "createStaging", stage: stage, allowed: [.opened],
                                  reason: "it runs inside the import's transaction (the staging tables go at its end)")
        }
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
                WHERE s.schemaname = 'public' AND s.relname = ANY (\(Self.planningTables)::text[]) AND c.reltuples >= 0 AND c.relpages > 0
                  AND s.n_live_tup > 1000 + 10 * c.reltuples / c.relpages
                                                * (pg_relation_size(c.oid) / current_setting('block_size')::numeric))
                AS understated
            """).first?.decode(Bool.self, "understated") ?? false
        if statisticsUnderstate { try db.execute("SET LOCAL enable_nestloop = off", simple: true) }
        try db.execute("""
            CREATE TEMPORARY TABLE import_staging (
                line integer NOT NULL, release_no integer NOT NULL, grp text NOT NULL, plan text, plan_title text, change_ref text,
                release text NOT NULL, release_title text, window_code text, deploy_start timestamptz,
                deploy_end timestamptz, priority smallint, deadline date, depends_on text[], package text, unit text,
                unit_kind text, target text, version text, environment text, env_start timestamptz, env_end timestamptz
            ) ON COMMIT DROP
            """, simple: true)
        advance(to: .created)
    }

    /// Streams COPY text lines (`stagingColumns`, tab-separated) into the staging table.
    @discardableResult
    public func stage(_ body: (CopyWriter) throws -> Void) throws -> Int {
        try require("stage", at: .created)
        let rows = try db.copyIn("COPY import_staging FROM STDIN", body)
        // Temporary tables are never analysed automatically; the joins below need the numbers.
        // A sample of 3,000 rows is plenty to choose hash joins over nested loops (the default
        // 30,000 took a tenth of a second per table on a million rows).
        try db.execute("SET LOCAL default_statistics_target = 10", simple: true)
        try db.execute("ANALYZE import_staging (release_no, package, unit, environment)", simple: true)
        advance(to: .staged)
        return rows
    }

    /// Takes releases (or whole groups) out of the staging table, for `--on-error skip`;
    /// returns the file lines of their rows.
    public func remove(releases: [StagedRelease], groups: [String] = []) throws -> [(line: Int, release: StagedRelease)] {
        try require("remove", at: .staged, .summarised)
        guard !releases.isEmpty || !groups.isEmpty else { return [] }
        let removed = try db.query("""
            WITH gone AS (
                DELETE FROM import_staging s
                WHERE s.grp = ANY (\(groups)::text[])
                   OR (s.grp, s.release) IN (SELECT * FROM unnest(\(releases.map(\.group))::text[], \(releases.map(\.code))::text[]))
                RETURNING s.line, s.grp, s.release)
            SELECT line, grp, release FROM gone ORDER BY line
            """).rows.map {
            let (line, group, code) = try $0.decode((Int, String, String).self)
            return (line: line, release: StagedRelease(group: group, code: code))
        }
        if stage == .summarised {
            for table in Self.derivedTables {
                try db.execute(table.delete(releases: releases, groups: groups))
            }
        }
        return removed
    }

    /// Statements over tables whose names are constants of this file, never input.
    struct DerivedTable {
        let name: String
        let create: String
        /// Deletes what `remove` takes out; `$1` the groups of the releases, `$2` their codes, `$3` whole groups.
        let deleteStatement: String

        init(name: String, create: String, delete: String) {
            self.name = name
            self.create = create
            deleteStatement = delete
        }

        func delete(releases: [StagedRelease], groups: [String]) -> SQL {
            SQL(unsafeSQL: deleteStatement, binds: [releases.map(\.group), releases.map(\.code), groups])
        }
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

    /// Summarises the staged rows per release, unit and dependency (after any `remove`).
    /// `unitsMayRepeat: false` (the reader saw every unit once) saves looking for units
    /// described on several rows, a pass over every staged row.
    public func summarise(unitsMayRepeat: Bool = true) throws {
        try require("summarise", at: .staged)
        for table in Self.derivedTables {
            let skip = !unitsMayRepeat && table.name == "import_unit_repeated"
            try db.execute(skip ? table.create + " WITH NO DATA" : table.create, simple: true)
        }
        try db.execute("ANALYZE import_release (release_no, grp, release, group_id, plan, window_code); ANALYZE import_dependency", simple: true)
        let repeated = try db.query("SELECT EXISTS (SELECT 1 FROM import_unit_repeated) AS repeated").first?.decode(Bool.self, "repeated") ?? false
        // Without repeated units the view is a plain filter, through which the planner sees the
        // staging table's statistics (a UNION ALL would hide them and invite nested loops).
        try db.execute(repeated ? Self.unitsView : Self.singleUnitsView, simple: true)
        try db.execute(Self.partsViews, simple: true)
        advance(to: .summarised)
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
}

import Foundation
import Postgres
import ReleaseCore

/// The merge: plans, releases and their parts written with one set-based statement each.
extension ImportSession {
    /// Prepares the merge: creates missing plans, updates changed ones, and works out every
    /// release's new values. Call after the checks passed (or the failing releases were removed).
    public func prepareMerge() throws -> (plansCreated: Int, plansChanged: Int) {
        try require("prepareMerge", at: .summarised)
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
            SELECT count(*) FILTER (WHERE inserted) AS created, count(*) FILTER (WHERE NOT inserted) AS changed FROM merged
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
        advance(to: .prepared)
        return (try plans?.decode(Int.self, "created") ?? 0, try plans?.decode(Int.self, "changed") ?? 0)
    }

    /// The tables `merge` writes, in order, as its progress names them.
    public static let mergeSteps = ["releases", "dependencies", "packages", "units", "bookings"]

    /// Writes releases, dependencies, packages, targets, units and bookings, each with one
    /// set-based statement; call after `prepareMerge`. `step` hears each of `mergeSteps` as it
    /// starts: the database cannot report progress within a statement, and on a large file each
    /// takes seconds.
    public func merge(step: (String) -> Void = { _ in }) throws -> ImportCounts {
        try require("merge", at: .prepared)
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
            SELECT count(*) FILTER (WHERE NOT d.existed) AS created,
                   count(*) FILTER (WHERE d.existed AND (d.changed OR d.release_id IN (SELECT release_id FROM import_touched))) AS changed,
                   count(*) AS total,
                   coalesce(array_agg(DISTINCT d.group_id ORDER BY d.group_id), '{}') AS group_ids
            FROM import_release_diff d
            """).first else { throw StoreError.internalInconsistency("counting the merge returned nothing") }
        var counts = ImportCounts()
        let total: Int
        (counts.releasesCreated, counts.releasesChanged, total, counts.groupIDs) = try row.decode((Int, Int, Int, [Int]).self)
        counts.releasesUnchanged = total - counts.releasesCreated - counts.releasesChanged
        advance(to: .merged)
        return counts
    }
}

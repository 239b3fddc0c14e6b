import Foundation
import Postgres
import ReleaseCore
import Scheduling

/// Reads the whole portfolio into the scheduler's snapshot, in one read-only, repeatable-read
/// transaction, so detection and resolution see one consistent picture (and can run on a standby).
///
/// The large tables come out with `COPY … TO STDOUT` and are split by hand: for 500,000 bookings
/// that is several times faster than a row-by-row result.
public struct SnapshotLoader {
    let db: Connection
    let zone: TimeZone
    let now: Date

    /// - Parameter zone: the zone deadlines (dates) are read in.
    public init(_ db: Connection, deadlineZone zone: TimeZone, now: Date = Date()) {
        self.db = db
        self.zone = zone
        self.now = now
    }

    public func load() throws -> Snapshot {
        try reading { db in try read(db) }
    }

    /// In the caller's transaction when one is open (a decision on a proposal reads the portfolio
    /// inside its own), else in a read-only snapshot transaction of its own.
    private func reading<T>(_ body: (Connection) throws -> T) throws -> T {
        db.isInTransaction ? try body(db) : try db.transaction(.snapshot, body)
    }

    /// The snapshot with each release's row version, so moves computed from it can be applied
    /// only to releases nobody changed since.
    public func loadWithVersions() throws -> (Snapshot, [String: Int]) {
        try reading { db in
            var versions: [String: Int] = [:]
            let snapshot = try read(db, versions: &versions)
            return (snapshot, versions)
        }
    }

    /// Reads inside a transaction the caller already opened.
    public func read(_ db: Connection) throws -> Snapshot {
        var versions: [String: Int] = [:]
        return try read(db, versions: &versions)
    }

    func read(_ db: Connection, versions: inout [String: Int]) throws -> Snapshot {
        // Whole tables are read and joined: a hash or merge join is right whatever the statistics
        // say. Right after a large load into tables vacuumed while empty, the catalogue says 0
        // rows until autoanalyze catches up, and a nested loop over a million units ran for hours.
        // Transaction-local, and put back before the caller's next statement.
        let nestLoop = try db.query("SELECT current_setting('enable_nestloop') AS setting").first?.decode(String.self, "setting") ?? "on"
        try db.execute("SELECT set_config('enable_nestloop', 'off', true)")
        let snapshot = try readTables(db, versions: &versions)
        try db.execute("SELECT set_config('enable_nestloop', \(nestLoop), true)")
        return snapshot
    }

    private func readTables(_ db: Connection, versions: inout [String: Int]) throws -> Snapshot {
        var environmentCodes: [Int: String] = [:]
        var environments: [Scheduling.Environment] = []
        for (id, code, kind, capacity) in try db.query("SELECT id, code, kind, capacity FROM environment ORDER BY code")
            .decode((Int, String, String, Int).self) {
            environmentCodes[id] = code
            environments.append(Scheduling.Environment(code: code, kind: EnvironmentKind(rawValue: kind) ?? .test, capacity: capacity))
        }
        var windowCodes: [Int: String] = [:]
        var windows: [Scheduling.Window] = []
        for (id, code, start, end, capacity, kind) in try db.query(
            "SELECT id, code, starts_at, ends_at, capacity, kind FROM service_window ORDER BY starts_at, code"
        ).decode((Int, String, Date, Date, Int, String).self) {
            windowCodes[id] = code
            windows.append(Scheduling.Window(
                code: code, interval: Interval(start: start, end: end), capacity: capacity, kind: WindowKind(rawValue: kind) ?? .regular))
        }
        let freezes = try db.query("""
            SELECT f.code, f.starts_at, f.ends_at, e.code, f.reason FROM change_freeze f LEFT JOIN environment e ON e.id = f.environment_id
            ORDER BY f.starts_at, f.code
            """).decode((String, Date, Date, String?, String).self).map { code, start, end, environment, reason in
            Scheduling.Freeze(code: code, interval: Interval(start: start, end: end), environment: environment, reason: reason)
        }
        var targetParents: [String: String] = [:]
        for row in try db.query("SELECT code, part_of FROM target WHERE part_of IS NOT NULL").rows {
            let (code, parent) = try row.decode((String, String).self)
            targetParents[code] = parent
        }
        var requiredByModel: [Int: [String]] = [:]
        for row in try db.query("""
            SELECT id, coalesce(array(SELECT e ->> 'environment' FROM jsonb_array_elements(definition -> 'environments') e), '{}')
            FROM release_model
            """).rows {
            let (model, environments) = try row.decode((Int, [String]).self)
            requiredByModel[model] = environments
        }

        // Releases, then what hangs under them, joined by release id in memory.
        var releases: [Scheduling.Release] = []
        var indexByID: [Int64: Int] = [:]
        var deadlines: [String: Date] = [:]
        try db.copyOut("""
            COPY (SELECT r.id, g.code, r.code, r.priority, r.status, r.pinned, r.window_id,
                         extract(epoch FROM r.deploy_start), extract(epoch FROM r.deploy_end), r.deadline, r.implementer, p.model_id,
                         r.row_version
                  FROM release r JOIN management_group g ON g.id = r.group_id JOIN release_plan p ON p.id = r.plan_id
                  ORDER BY r.id) TO STDOUT
            """) { line in
            var fields = CopyTextFields(line)
            let id = fields.int64()
            let group = fields.text() ?? ""
            let code = fields.text() ?? ""
            let priority = Int(fields.int64())
            let status = ReleaseStatus(rawValue: fields.text() ?? "") ?? .planned
            let pinned = fields.text() == "t"
            let window = fields.optionalInt64().flatMap { windowCodes[Int($0)] }
            let start = fields.double()
            let end = fields.double()
            var deadline: Date?
            if let day = fields.text() {
                if let cached = deadlines[day] {
                    deadline = cached
                } else if let parsed = Self.deadline(day, zone) {
                    deadlines[day] = parsed
                    deadline = parsed
                }
            }
            let implementer = fields.text()
            let modelID = fields.optionalInt64()
            let key = ReleaseRef.text(group: group, code: code)
            versions[key] = Int(fields.int64())
            let deploy = start.flatMap { s in end.map { Interval(start: Date(timeIntervalSince1970: s), end: Date(timeIntervalSince1970: $0)) } }
            indexByID[id] = releases.count
            releases.append(Scheduling.Release(
                key: key, group: group, priority: Priority(clamping: priority), status: status, pinned: pinned, window: window,
                deploy: deploy, deadline: deadline, implementer: implementer,
                requiredEnvironments: modelID.flatMap { requiredByModel[Int($0)] } ?? []))
        }
        try db.copyOut("""
            COPY (SELECT id, release_id, environment_id, extract(epoch FROM lower(during)), extract(epoch FROM upper(during)), status
                  FROM environment_booking ORDER BY release_id, lower(during), id) TO STDOUT
            """) { line in
            var fields = CopyTextFields(line)
            let id = fields.int64()
            let releaseID = fields.int64()
            let environment = environmentCodes[Int(fields.int64())] ?? "?"
            let start = fields.double() ?? 0
            let end = fields.double() ?? 0
            let status: BookingStatus = fields.text() == "confirmed" ? .confirmed : .tentative
            guard let index = indexByID[releaseID] else { return }
            releases[index].bookings.append(Booking(
                id: id, environment: environment,
                interval: Interval(start: Date(timeIntervalSince1970: start), end: Date(timeIntervalSince1970: end)), status: status))
        }
        try db.copyOut("""
            COPY (SELECT DISTINCT p.release_id, u.target_code FROM release_unit u JOIN release_package p ON p.id = u.package_id
                  ORDER BY 1, 2) TO STDOUT
            """) { line in
            var fields = CopyTextFields(line)
            let releaseID = fields.int64()
            guard let index = indexByID[releaseID], let target = fields.text() else { return }
            releases[index].targets.append(target)
        }
        try db.copyOut("COPY (SELECT release_id, depends_on_id FROM release_dependency ORDER BY 1, 2) TO STDOUT") { line in
            var fields = CopyTextFields(line)
            let releaseID = fields.int64()
            let dependsOn = fields.int64()
            guard let index = indexByID[releaseID], let dependency = indexByID[dependsOn] else { return }
            releases[index].dependsOn.append(releases[dependency].key)
        }
        for row in try db.query("""
            SELECT o.release_id, f.code FROM freeze_override o JOIN change_freeze f ON f.id = o.freeze_id ORDER BY 1, 2
            """).rows {
            let (releaseID, freeze) = try row.decode((Int64, String).self)
            if let index = indexByID[releaseID] { releases[index].freezeOverrides.append(freeze) }
        }
        return Snapshot(releases: releases, windows: windows, environments: environments, freezes: freezes,
                        targetParents: targetParents, now: now)
    }

    /// The last instant a deployment may end: the start of the next day in `zone`.
    static func deadline(_ text: String, _ zone: TimeZone) -> Date? {
        guard var parser = try? TimestampParser(timeZone: zone), let day = try? parser.day(from: text) else { return nil }
        return Deadline(day: day).latestEnd(in: zone)
    }
}

import Foundation
import Postgres
import ReleaseCore

public struct ReleaseRecord: Sendable, Equatable {
    public let group: String
    public let code: String
    public let plan: String
    public let title: String
    public let window: String?
    public let deployStart: Date?
    public let deployEnd: Date?
    public let priority: Int
    public let status: ReleaseStatus
    public let deadline: String?
    public let pinned: Bool
    public let implementer: String?
    public let version: Int
    public let updatedAt: Date
    public let updatedBy: String

    public var ref: String { ReleaseRef.text(group: group, code: code) }
}

public struct UnitRecord: Sendable, Equatable {
    public let code: String
    public let kind: String
    public let target: String
    public let version: String?
}

public struct PackageRecord: Sendable, Equatable {
    public let code: String
    public let units: [UnitRecord]
}

public struct BookingRecord: Sendable, Equatable {
    public let id: Int64
    public let release: String
    public let environment: String
    public let start: Date
    public let end: Date
    public let status: BookingStatus
}

public struct DeviationRecord: Sendable, Equatable {
    public let id: Int64
    public let release: String
    public let severity: DeviationSeverity
    public let text: String
    public let recordedAt: Date
    public let recordedBy: String
    public let resolution: String?
}

public struct CriterionState: Sendable, Equatable {
    public let activity: ReleaseActivity
    public let boundary: ReleaseModel.PhaseBoundary
    public let name: String
    public let check: CriterionCheck
    public let satisfied: Bool
}

/// Everything `release show` prints.
public struct ReleaseDetail: Sendable, Equatable {
    public let release: ReleaseRecord
    public let dependsOn: [String]
    public let packages: [PackageRecord]
    public let bookings: [BookingRecord]
    public let deviations: [DeviationRecord]
    public let model: String?
    public let criteria: [CriterionState]
    public let evaluation: String?
}

/// What `release create` asks for.
public struct NewRelease: Sendable {
    public var ref: ReleaseRef
    public var plan: String
    public var title: String
    public var window: String?
    public var deploy: (start: Date, end: Date)?
    public var priority: Priority
    public var deadline: CalendarDay?
    public var dependsOn: [ReleaseRef]

    public init(ref: ReleaseRef, plan: String, title: String = "", window: String? = nil, deploy: (start: Date, end: Date)? = nil,
                priority: Priority = .default, deadline: CalendarDay? = nil, dependsOn: [ReleaseRef] = []) {
        self.ref = ref
        self.plan = plan
        self.title = title
        self.window = window
        self.deploy = deploy
        self.priority = priority
        self.deadline = deadline
        self.dependsOn = dependsOn
    }
}

/// Releases and what hangs under them: packages, units, bookings, deviations, criteria, lifecycle.
public struct Releases {
    let db: Connection
    /// "Now", injectable so tests can plan in a fixed present.
    let now: Date

    public init(_ db: Connection, now: Date = Date()) {
        self.db = db
        self.now = now
    }

    static let planners: [MemberRole] = [.manager, .releaseManager]
    static let contentEditors: [MemberRole] = [.manager, .releaseManager, .member]

    // MARK: Create and read

    /// Creates a release; returns warnings (an over-full window) that do not stop it.
    public func create(_ new: NewRelease, by identity: Identity) throws -> [String] {
        let plan = try Lookup.plan(group: new.ref.group, code: new.plan, db)
        try identity.require(Self.planners, in: new.ref.group, to: "create releases in \(new.ref.group)")
        var deploy = new.deploy
        var windowID: Int?
        if let code = new.window {
            windowID = try Lookup.id(.window, code, db)
            let window = try SharedCalendar(db).window(code)
            if window.end <= now {
                throw StoreError.invalid("service window \(code) ended on \(Timestamp.text(window.end)): a new release needs a window ahead")
            }
            if deploy == nil { deploy = (window.start, window.end) }
        }
        if let deploy, deploy.end <= deploy.start {
            throw StoreError.invalid("the deployment must end after it starts")
        }
        let dependencies = try new.dependsOn.map { try Lookup.release($0, db) }
        return try db.retryingTransaction { db in
            let id = try translatingUniqueViolation("release \(new.ref) exists already") {
                try db.query("""
                    INSERT INTO release (group_id, plan_id, code, title, window_id, deploy_start, deploy_end, priority, deadline)
                    VALUES (\(plan.groupID), \(plan.id), \(new.ref.code), \(new.title), \(windowID), \(deploy?.start), \(deploy?.end),
                            \(new.priority.value), \(new.deadline?.description)::date) RETURNING id
                    """).first?.decode(Int64.self, "id")
            }
            guard let id else { throw StoreError.internalInconsistency("INSERT … RETURNING returned nothing") }
            for dependency in dependencies {
                guard dependency.id != id else { throw StoreError.invalid("\(new.ref) cannot depend on itself") }
                try db.execute("""
                    INSERT INTO release_dependency (group_id, release_id, depends_on_id) VALUES (\(plan.groupID), \(id), \(dependency.id))
                    """)
            }
            return try windowWarnings(windowID, db)
        }
    }

    public func list(group: String? = nil, window: String? = nil, status: ReleaseStatus? = nil) throws -> [ReleaseRecord] {
        let group = group.map(CodeKind.canonical), window = window.map(CodeKind.canonical)
        if let group { _ = try Lookup.id(.group, group, db) }
        if let window { _ = try Lookup.id(.window, window, db) }
        let status = status?.rawValue
        return try db.query(Self.selectReleases + """
             WHERE (\(group)::text IS NULL OR g.code = \(group)) AND (\(window)::text IS NULL OR w.code = \(window))
               AND (\(status)::text IS NULL OR r.status = \(status))
            ORDER BY r.deploy_start NULLS LAST, g.code, r.code
            """).rows.map(Self.record)
    }

    static let selectReleases: SQL = """
        SELECT g.code, r.code, p.code, r.title, w.code, r.deploy_start, r.deploy_end, r.priority, r.status,
               to_char(r.deadline, 'YYYY-MM-DD'), r.pinned, r.implementer, r.row_version, r.updated_at, r.updated_by
        FROM release r JOIN management_group g ON g.id = r.group_id JOIN release_plan p ON p.id = r.plan_id
        LEFT JOIN service_window w ON w.id = r.window_id
        """

    /// A row of `selectReleases`, read as the tuple of its columns.
    static func record(_ row: Row) throws -> ReleaseRecord {
        record(try row.decode((String, String, String, String, String?, Date?, Date?, Int, String, String?, Bool, String?,
                               Int, Date, String).self))
    }

    /// The columns of `selectReleases`, in order.
    static func record(_ columns: (String, String, String, String, String?, Date?, Date?, Int, String, String?, Bool, String?,
                                   Int, Date, String)) -> ReleaseRecord {
        let (group, code, plan, title, window, deployStart, deployEnd, priority, status, deadline, pinned, implementer,
             version, updatedAt, updatedBy) = columns
        return ReleaseRecord(
            group: group, code: code, plan: plan, title: title, window: window, deployStart: deployStart, deployEnd: deployEnd,
            priority: priority, status: ReleaseStatus(rawValue: status) ?? .planned, deadline: deadline, pinned: pinned,
            implementer: implementer, version: version, updatedAt: updatedAt, updatedBy: updatedBy)
    }

    /// A release with everything its page shows, in one statement (one snapshot, one round trip:
    /// a statement per part made a page cost a dozen, which is what a server answering thousands
    /// of these a second cannot afford). An unknown release is looked up again for its did-you-mean.
    public func show(_ ref: ReleaseRef) throws -> ReleaseDetail {
        guard let row = try db.query(Self.selectDetail(ref, now: now)).first else {
            _ = try Lookup.release(ref, db)
            throw StoreError.notFound(kind: "release", code: ref.description, suggestion: nil)
        }
        let (group, code, plan, title, window, deployStart, deployEnd, priority, status, deadline, pinned, implementer,
             version, updatedAt, updatedBy, detailJSON)
            = try row.decode((String, String, String, String, String?, Date?, Date?, Int, String, String?, Bool, String?,
                              Int, Date, String, String).self)
        let release = Self.record((group, code, plan, title, window, deployStart, deployEnd, priority, status, deadline, pinned,
                                   implementer, version, updatedAt, updatedBy))
        let detail: DetailColumns
        do {
            detail = try JSONDecoder().decode(DetailColumns.self, from: Data(detailJSON.utf8))
        } catch {
            throw StoreError.internalInconsistency("release \(ref) read back unreadable: \(error)")
        }
        let model = detail.model.map {
            ModelRecord(code: $0.code, version: $0.version, group: $0.group, name: $0.name, model: $0.definition,
                        createdAt: Date(timeIntervalSince1970: $0.created_at))
        }
        let facts = detail.facts
        let lifecycle = Self.facts(model: model, openDeviations: facts.open_deviations, openHighDeviations: facts.open_high_deviations,
                                   hasEvaluation: facts.has_evaluation, testBookingsFinished: facts.test_bookings_finished,
                                   versions: facts.versions, ticked: Set(facts.ticked))
        let reference = "\(group)/\(code)"
        return ReleaseDetail(
            release: release, dependsOn: detail.depends_on,
            packages: detail.packages.map { package in
                PackageRecord(code: package.code, units: package.units.map {
                    UnitRecord(code: $0.code, kind: $0.kind, target: $0.target, version: $0.version)
                })
            },
            bookings: detail.bookings.map {
                BookingRecord(id: $0.id, release: reference, environment: $0.environment, start: Date(timeIntervalSince1970: $0.start),
                              end: Date(timeIntervalSince1970: $0.end), status: BookingStatus(rawValue: $0.status) ?? .tentative)
            },
            deviations: detail.deviations.map {
                DeviationRecord(id: $0.id, release: ref.description, severity: DeviationSeverity(rawValue: $0.severity) ?? .low,
                                text: $0.text, recordedAt: Date(timeIntervalSince1970: $0.recorded_at), recordedBy: $0.recorded_by,
                                resolution: $0.resolution)
            },
            model: model.map { "\($0.code) v\($0.version)" }, criteria: Self.criteria(model?.model, lifecycle),
            evaluation: detail.evaluation)
    }

    /// The columns of `selectReleases` and one `detail` JSON column: the parts of the page
    /// (times as epoch seconds, so no date text is parsed twice), the model and the lifecycle facts.
    static func selectDetail(_ ref: ReleaseRef, now: Date) -> SQL {
        """
        SELECT g.code, r.code, p.code, r.title, w.code, r.deploy_start, r.deploy_end, r.priority, r.status,
               to_char(r.deadline, 'YYYY-MM-DD'), r.pinned, r.implementer, r.row_version, r.updated_at, r.updated_by,
               json_build_object(
                 'depends_on', coalesce((
                     SELECT json_agg(dg.code || '/' || d.code ORDER BY dg.code || '/' || d.code)
                     FROM release_dependency rd JOIN release d ON d.id = rd.depends_on_id
                     JOIN management_group dg ON dg.id = d.group_id WHERE rd.release_id = r.id), '[]'),
                 'packages', coalesce((
                     SELECT json_agg(json_build_object('code', pk.code, 'units', coalesce((
                                SELECT json_agg(json_build_object('code', u.code, 'kind', u.kind, 'target', u.target_code,
                                                                  'version', u.version) ORDER BY u.code)
                                FROM release_unit u WHERE u.package_id = pk.id), '[]')) ORDER BY pk.code)
                     FROM release_package pk WHERE pk.release_id = r.id), '[]'),
                 'bookings', coalesce((
                     SELECT json_agg(json_build_object('id', b.id, 'environment', e.code, 'start', extract(epoch FROM lower(b.during)),
                                                       'end', extract(epoch FROM upper(b.during)), 'status', b.status)
                                     ORDER BY lower(b.during), e.code)
                     FROM environment_booking b JOIN environment e ON e.id = b.environment_id WHERE b.release_id = r.id), '[]'),
                 'deviations', coalesce((
                     SELECT json_agg(json_build_object('id', dv.id, 'severity', dv.severity, 'text', dv.text,
                                                       'recorded_at', extract(epoch FROM dv.recorded_at),
                                                       'recorded_by', dv.recorded_by, 'resolution', dv.resolution) ORDER BY dv.id)
                     FROM deviation dv WHERE dv.release_id = r.id), '[]'),
                 'evaluation', r.evaluation,
                 'model', (SELECT json_build_object('code', m.code, 'version', m.version, 'group', mg.code, 'name', m.name,
                                                    'definition', m.definition, 'created_at', extract(epoch FROM m.created_at))
                           FROM release_model m LEFT JOIN management_group mg ON mg.id = m.group_id WHERE m.id = p.model_id),
                 'facts', json_build_object(
                     'open_deviations', (SELECT count(*) FROM deviation d WHERE d.release_id = r.id AND d.resolution IS NULL),
                     'open_high_deviations', (SELECT count(*) FROM deviation d WHERE d.release_id = r.id
                                              AND d.resolution IS NULL AND d.severity = 'high'),
                     'has_evaluation', r.evaluation IS NOT NULL,
                     'test_bookings_finished',
                         NOT EXISTS (SELECT 1 FROM environment_booking b JOIN environment e ON e.id = b.environment_id
                                     WHERE b.release_id = r.id AND e.kind <> 'prod' AND upper(b.during) > \(now))
                         AND EXISTS (SELECT 1 FROM environment_booking b JOIN environment e ON e.id = b.environment_id
                                     WHERE b.release_id = r.id AND e.kind <> 'prod'),
                     'versions', coalesce((SELECT json_agg(coalesce(u.version, '')) FROM release_unit u
                                           JOIN release_package pk ON pk.id = u.package_id WHERE pk.release_id = r.id), '[]'),
                     'ticked', coalesce((SELECT json_agg(c.name) FROM release_criterion c
                                         WHERE c.release_id = r.id AND c.checked_at IS NOT NULL), '[]'))
               ) AS detail
        FROM release r JOIN management_group g ON g.id = r.group_id JOIN release_plan p ON p.id = r.plan_id
        LEFT JOIN service_window w ON w.id = r.window_id
        WHERE g.code = \(ref.group) AND r.code = \(ref.code)
        """
    }

    /// The `detail` column of `selectDetail`, named as PostgreSQL writes it.
    private struct DetailColumns: Decodable {
        struct Package: Decodable { let code: String; let units: [Unit] }
        struct Unit: Decodable { let code: String; let kind: String; let target: String; let version: String? }
        struct Booking: Decodable { let id: Int64; let environment: String; let start: Double; let end: Double; let status: String }
        struct Deviation: Decodable {
            let id: Int64; let severity: String; let text: String; let recorded_at: Double; let recorded_by: String; let resolution: String?
        }
        struct Model: Decodable {
            let code: String; let version: Int; let group: String?; let name: String; let definition: ReleaseModel; let created_at: Double
        }
        struct Facts: Decodable {
            let open_deviations: Int; let open_high_deviations: Int; let has_evaluation: Bool; let test_bookings_finished: Bool
            let versions: [String]; let ticked: [String]
        }
        let depends_on: [String]
        let packages: [Package]
        let bookings: [Booking]
        let deviations: [Deviation]
        let evaluation: String?
        let model: Model?
        let facts: Facts
    }

    func bookings(releaseID: Int64, _ db: Connection) throws -> [BookingRecord] {
        try db.query("""
            SELECT b.id, g.code || '/' || r.code, e.code, lower(b.during), upper(b.during), b.status
            FROM environment_booking b JOIN environment e ON e.id = b.environment_id
            JOIN release r ON r.id = b.release_id JOIN management_group g ON g.id = r.group_id
            WHERE b.release_id = \(releaseID) ORDER BY lower(b.during), e.code
            """).rows.map(Self.booking)
    }

    /// A booking row: id, `GROUP/CODE`, environment, start, end, status.
    static func booking(_ row: Row) throws -> BookingRecord {
        let (id, release, environment, start, end, status) = try row.decode((Int64, String, String, Date, Date, String).self)
        return BookingRecord(id: id, release: release, environment: environment, start: start, end: end,
                             status: BookingStatus(rawValue: status) ?? .tentative)
    }

    func deviations(releaseID: Int64, ref: String, _ db: Connection) throws -> [DeviationRecord] {
        try db.query("""
            SELECT id, severity, text, recorded_at, recorded_by, resolution FROM deviation WHERE release_id = \(releaseID) ORDER BY id
            """).rows.map {
            let (id, severity, text, recordedAt, recordedBy, resolution) = try $0.decode((Int64, String, String, Date, String, String?).self)
            return DeviationRecord(id: id, release: ref, severity: DeviationSeverity(rawValue: severity) ?? .low, text: text,
                                   recordedAt: recordedAt, recordedBy: recordedBy, resolution: resolution)
        }
    }

    // MARK: Changes to the release row

    /// Moves a release to another window; the deployment keeps its offset from the window's start
    /// and its duration. Returns warnings (an over-full window, a freeze) that do not stop it.
    public func move(_ ref: ReleaseRef, to windowCode: String, overrideFreezeReason: String? = nil,
                     expectedVersion: Int? = nil, by identity: Identity) throws -> [String] {
        let key = try Lookup.release(ref, db)
        try identity.require(Self.planners, in: ref.group, to: "move \(ref)")
        let target = try SharedCalendar(db).window(windowCode)
        let targetID = try Lookup.id(.window, windowCode, db)
        if let reason = overrideFreezeReason {
            try identity.requireAdmin(to: "override a freeze for \(ref)")
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw StoreError.invalid("overriding a freeze needs a reason (--reason)")
            }
        }
        return try db.retryingTransaction { db in
            guard let row = try db.query("""
                SELECT r.deploy_start, r.deploy_end, w.starts_at FROM release r LEFT JOIN service_window w ON w.id = r.window_id
                WHERE r.id = \(key.id)
                """).first else { throw StoreError.notFound(kind: "release", code: ref.description, suggestion: nil) }
            let (oldStart, oldEnd, oldWindowStart) = try row.decode((Date?, Date?, Date?).self)
            var start = target.start
            var end = target.end
            if let oldStart, let oldEnd {
                let offset = oldWindowStart.map { oldStart.timeIntervalSince($0) } ?? 0
                start = target.start.addingTimeInterval(offset)
                end = start.addingTimeInterval(oldEnd.timeIntervalSince(oldStart))
            }
            try updateRelease(key, expectedVersion: expectedVersion, db: db, identity: identity, action: "move \(ref)") { id, version in
                "UPDATE release SET window_id = \(targetID), deploy_start = \(start), deploy_end = \(end) WHERE id = \(id) AND row_version = \(version)"
            }
            var warnings = try windowWarnings(targetID, db)
            let freezes = try db.query("""
                SELECT f.id, f.code, f.reason FROM change_freeze f
                WHERE f.environment_id IS NULL AND tstzrange(f.starts_at, f.ends_at) && tstzrange(\(start), \(end)) ORDER BY f.starts_at
                """).rows
            for freeze in freezes {
                let (freezeID, code, freezeReason) = try freeze.decode((Int, String, String).self)
                if let reason = overrideFreezeReason {
                    try db.execute("""
                        INSERT INTO freeze_override (freeze_id, release_id, reason) VALUES (\(freezeID), \(key.id), \(reason))
                        ON CONFLICT (freeze_id, release_id) DO UPDATE SET reason = EXCLUDED.reason
                        """)
                    warnings.append("freeze \(code) overridden for \(ref): \(reason)")
                } else {
                    warnings.append("the deployment falls in freeze \(code) (\(freezeReason)); it shows up as a conflict")
                }
            }
            return warnings
        }
    }

    public func setPinned(_ ref: ReleaseRef, _ pinned: Bool, by identity: Identity) throws {
        let key = try Lookup.release(ref, db)
        try identity.require(Self.planners, in: ref.group, to: "pin \(ref)")
        try updateRelease(key, expectedVersion: nil, db: db, identity: identity, action: "pin \(ref)") { id, version in
            "UPDATE release SET pinned = \(pinned) WHERE id = \(id) AND row_version = \(version)"
        }
    }

    public func assign(_ ref: ReleaseRef, implementer: String?, by identity: Identity) throws {
        let key = try Lookup.release(ref, db)
        try identity.require(Self.planners, in: ref.group, to: "assign \(ref)")
        try updateRelease(key, expectedVersion: nil, db: db, identity: identity, action: "assign \(ref)") { id, version in
            "UPDATE release SET implementer = \(implementer) WHERE id = \(id) AND row_version = \(version)"
        }
    }

    public func evaluate(_ ref: ReleaseRef, text: String, by identity: Identity) throws {
        let key = try Lookup.release(ref, db)
        try identity.require(Self.planners, in: ref.group, to: "evaluate \(ref)")
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw StoreError.invalid("an evaluation needs text: what went well, what to change")
        }
        try updateRelease(key, expectedVersion: nil, db: db, identity: identity, action: "evaluate \(ref)") { id, version in
            "UPDATE release SET evaluation = \(text) WHERE id = \(id) AND row_version = \(version)"
        }
    }

    /// Moves a release one step along its lifecycle (or cancels it), checking the model's criteria.
    public func advance(_ ref: ReleaseRef, to requested: ReleaseStatus?, expectedVersion: Int? = nil,
                        by identity: Identity) throws -> (from: ReleaseStatus, to: ReleaseStatus) {
        let key = try Lookup.release(ref, db)
        try identity.require(Self.planners, in: ref.group, to: "advance \(ref)")
        return try db.retryingTransaction { db in
            let current = ReleaseStatus(rawValue: key.status) ?? .planned
            let (model, facts) = try lifecycleFacts(key, db)
            let next = try ReleaseLifecycle.advance(from: current, requested.map { .to($0) } ?? .next, model: model?.model, facts: facts)
            try updateRelease(key, expectedVersion: expectedVersion, db: db, identity: identity, action: "advance \(ref)") { id, version in
                "UPDATE release SET status = \(next.rawValue) WHERE id = \(id) AND row_version = \(version)"
            }
            return (current, next)
        }
    }

    /// Runs a guarded UPDATE of one release, given its id and the version it was read at.
    /// No row changed means someone else changed it first (exit 75) or the policies refused.
    private func updateRelease(_ key: ReleaseKey, expectedVersion: Int?, db: Connection, identity: Identity, action: String,
                               _ update: (_ id: Int64, _ version: Int) -> SQL) throws {
        let version = expectedVersion ?? key.version
        let changed = try db.execute(update(key.id, version))
        guard changed == 0 else { return }
        if let row = try db.query("SELECT row_version, updated_by, updated_at FROM release WHERE id = \(key.id)").first {
            let (current, changedBy, changedAt) = try row.decode((Int, String, Date).self)
            if current != version { throw StoreError.staleWrite(what: key.ref.description, changedBy: changedBy, changedAt: changedAt) }
        }
        throw StoreError.permissionDenied(who: identity.login, what: action, why: "the database's policies refused the change")
    }

    // MARK: Criteria

    /// Ticks a manual criterion of the release's model.
    public func check(_ ref: ReleaseRef, criterion name: String, by identity: Identity) throws {
        let key = try Lookup.release(ref, db)
        try identity.require(Self.contentEditors, in: ref.group, to: "tick criteria of \(ref)")
        guard let model = try model(for: key, db) else {
            throw StoreError.invalid("\(ref) has no release model, so it has no criteria to tick (plan create --model M)")
        }
        let criterion: ReleaseModel.Criterion
        do {
            criterion = try model.model.tickableCriterion(named: name)
        } catch {
            throw StoreError.invalid(error.description)
        }
        let activity = ReleaseActivity.allCases.first { activity in
            model.model.phases[activity].entry.contains(criterion) || model.model.phases[activity].exit.contains(criterion)
        } ?? .plan
        try db.execute("""
            INSERT INTO release_criterion (group_id, release_id, phase, name, checked_at)
            VALUES (\(key.groupID), \(key.id), \(activity.rawValue), \(criterion.name), now())
            ON CONFLICT (release_id, name) DO UPDATE SET checked_at = now()
            """)
    }

    func model(for key: ReleaseKey, _ db: Connection) throws -> ModelRecord? {
        guard let row = try db.query("""
            SELECT m.code, m.version, g.code, m.name, m.definition::text, m.created_at
            FROM release r JOIN release_plan p ON p.id = r.plan_id JOIN release_model m ON m.id = p.model_id
            LEFT JOIN management_group g ON g.id = m.group_id WHERE r.id = \(key.id)
            """).first else { return nil }
        return try Plans.model(row)
    }

    func lifecycleFacts(_ key: ReleaseKey, _ db: Connection) throws -> (ModelRecord?, ReleaseFacts) {
        let model = try model(for: key, db)
        guard let row = try db.query("""
            SELECT (SELECT count(*) FROM deviation d WHERE d.release_id = r.id AND d.resolution IS NULL) AS open_deviations,
                   (SELECT count(*) FROM deviation d WHERE d.release_id = r.id AND d.resolution IS NULL AND d.severity = 'high')
                       AS open_high_deviations,
                   r.evaluation IS NOT NULL AS has_evaluation,
                   NOT EXISTS (SELECT 1 FROM environment_booking b JOIN environment e ON e.id = b.environment_id
                               WHERE b.release_id = r.id AND e.kind <> 'prod' AND upper(b.during) > \(now))
                   AND EXISTS (SELECT 1 FROM environment_booking b JOIN environment e ON e.id = b.environment_id
                               WHERE b.release_id = r.id AND e.kind <> 'prod') AS test_bookings_finished,
                   coalesce((SELECT array_agg(coalesce(u.version, '')) FROM release_unit u JOIN release_package p ON p.id = u.package_id
                             WHERE p.release_id = r.id), '{}') AS versions,
                   coalesce((SELECT array_agg(c.name) FROM release_criterion c WHERE c.release_id = r.id AND c.checked_at IS NOT NULL), '{}')
                       AS ticked
            FROM release r WHERE r.id = \(key.id)
            """).first else {
            throw StoreError.notFound(kind: "release", code: key.ref.description, suggestion: nil)
        }
        return (model, Self.facts(
            model: model, openDeviations: try row.decode(Int.self, "open_deviations"),
            openHighDeviations: try row.decode(Int.self, "open_high_deviations"), hasEvaluation: try row.decode(Bool.self, "has_evaluation"),
            testBookingsFinished: try row.decode(Bool.self, "test_bookings_finished"),
            versions: try row.decode([String].self, "versions"), ticked: Set(try row.decode([String].self, "ticked"))))
    }

    /// What holds of a release, from the counts and lists the database gave: the model's automatic
    /// checks are worked out here, against its versioning rule.
    static func facts(model: ModelRecord?, openDeviations: Int, openHighDeviations: Int, hasEvaluation: Bool,
                      testBookingsFinished: Bool, versions: [String], ticked: Set<String>) -> ReleaseFacts {
        var satisfied = ticked
        if let model {
            // A unit without a version, or with one the model's versioning rule rejects.
            let invalidVersions = versions.filter { version in
                version.isEmpty || (model.model.versioning.map { rule in (try? rule.check(version)) == nil } ?? false)
            }.count
            let facts = AutomaticCheckFacts(testBookingsFinished: testBookingsFinished, openHighDeviations: openHighDeviations,
                                            unitsWithoutValidVersion: invalidVersions)
            satisfied = model.model.satisfiedCriteria(ticked: ticked, automatic: facts)
        }
        return ReleaseFacts(satisfiedCriteria: satisfied, openDeviations: openDeviations, hasEvaluation: hasEvaluation)
    }

    /// Every criterion of the model's phases, in order, and whether it holds.
    static func criteria(_ model: ReleaseModel?, _ facts: ReleaseFacts) -> [CriterionState] {
        guard let model else { return [] }
        var states: [CriterionState] = []
        for activity in ReleaseActivity.allCases {
            for boundary in ReleaseModel.PhaseBoundary.allCases {
                for criterion in model.phases[activity][boundary] {
                    states.append(CriterionState(activity: activity, boundary: boundary, name: criterion.name,
                                                 check: criterion.check, satisfied: facts.satisfiedCriteria.contains(criterion.name)))
                }
            }
        }
        return states
    }

    // MARK: Helpers

    /// "service window W holds 4 releases, capacity 3" when a person over-fills a window.
    func windowWarnings(_ windowID: Int?, _ db: Connection) throws -> [String] {
        guard let windowID, let row = try db.query("""
            SELECT w.code, w.capacity, (SELECT count(*) FROM release r WHERE r.window_id = w.id AND r.status NOT IN ('cancelled', 'closed'))
            FROM service_window w WHERE w.id = \(windowID)
            """).first else { return [] }
        let (code, capacity, used) = try row.decode((String, Int, Int).self)
        guard used > capacity else { return [] }
        return ["service window \(code) holds \(used) releases, capacity \(capacity): this shows up as a window-capacity conflict"]
    }
}

/// Timestamps in messages: UTC, to the minute.
enum Timestamp {
    static func text(_ date: Date) -> String {
        CivilCalendar.utcMinute(date) + " UTC"
    }
}

import Foundation
import Postgres
import ReleaseCore

extension Releases {
    // MARK: Packages and units

    public func addPackage(_ ref: ReleaseRef, code: String, by identity: Identity) throws {
        let key = try Lookup.release(ref, db)
        try requireContentEditable(key, identity, action: "add packages to \(ref)")
        let code = try CodeKind.package.validate(code)
        try translatingUniqueViolation("package \(code) of \(ref) exists already") {
            try db.execute("INSERT INTO release_package (group_id, release_id, code) VALUES (\(key.groupID), \(key.id), \(code))")
        }
    }

    public func addUnit(_ ref: ReleaseRef, package: String, code: String, kind: UnitKind, target: String, version: String?,
                        by identity: Identity) throws {
        let key = try Lookup.release(ref, db)
        try requireContentEditable(key, identity, action: "add units to \(ref)")
        let code = try CodeKind.unit.validate(code)
        let package = CodeKind.canonical(package)
        let target = CodeKind.canonical(target)
        guard let packageID = try db.query("SELECT id FROM release_package WHERE release_id = \(key.id) AND code = \(package)")
            .first?.decode(Int64.self, "id") else {
            let codes = try db.query("SELECT code FROM release_package WHERE release_id = \(key.id)").rows.map { try $0.decode(String.self, "code") }
            throw StoreError.notFound(kind: "package of \(ref)", code: package, suggestion: Suggestions.nearest(to: package, in: codes))
        }
        try db.retryingTransaction { db in
            // A new target belongs to the group that names it first (sql/0010).
            try db.execute("INSERT INTO target (code, group_id) VALUES (\(target), \(key.groupID)) ON CONFLICT DO NOTHING")
            try translatingUniqueViolation("unit \(code) of package \(package) exists already") {
                try db.execute("""
                    INSERT INTO release_unit (group_id, package_id, code, kind, target_code, version)
                    VALUES (\(key.groupID), \(packageID), \(code), \(kind.rawValue), \(target), \(version))
                    """)
            }
        }
    }

    // MARK: Bookings

    /// Books an environment for a release. Confirming beyond the environment's capacity is refused
    /// with the releases that hold it (the database guards this, see sql/0004).
    ///
    /// `identity` is asked for only when the common case does not apply: a planner of the group
    /// books in one round trip, the role checked in the statement itself, so a caller that has not
    /// read who it is (a server request, a CLI run) does not pay for reading it.
    public func book(_ ref: ReleaseRef, environment: String, start: Date, end: Date, confirm: Bool,
                     by identity: @autoclosure () throws -> Identity) throws -> BookingRecord {
        let status = confirm ? "confirmed" : "tentative"
        // The common case in one statement (atomic in autocommit): the release, environment and
        // planner's membership found by codes. Anything else (an unknown code, no right, a
        // refusal) takes the steps below, which say exactly what is wrong.
        if end > start {
            do {
                let inserted = try db.retrying {
                    try db.query("""
                        INSERT INTO environment_booking (group_id, release_id, environment_id, during, status)
                        SELECT r.group_id, r.id, e.id, tstzrange(\(start), \(end)), \(status)
                        FROM release r JOIN management_group g ON g.id = r.group_id CROSS JOIN environment e
                        WHERE g.code = \(ref.group) AND r.code = \(ref.code) AND e.code = \(CodeKind.canonical(environment))
                          AND EXISTS (SELECT FROM membership m WHERE m.group_id = r.group_id AND m.role_name = current_user
                                      AND m.role = ANY(\(Self.planners.map(\.rawValue))::text[]))
                        ON CONFLICT (release_id, environment_id, during) DO UPDATE SET status = EXCLUDED.status
                        RETURNING id
                        """).first
                }
                if let inserted {
                    return BookingRecord(id: try inserted.decode(Int64.self, "id"), release: ref.description, environment: environment,
                                         start: start, end: end, status: confirm ? .confirmed : .tentative)
                }
            } catch let error as PostgresError where error.sqlState == .exclusionViolation {
                // Taken: the steps below name who holds that time.
            }
        }
        let identity = try identity()
        let key = try Lookup.release(ref, db)
        try identity.require(Self.planners, in: ref.group, to: "book environments for \(ref)")
        let environmentID = try Lookup.id(.environment, environment, db)
        guard end > start else { throw StoreError.invalid("the booking must end after it starts") }
        do {
            return try db.retryingTransaction { db in
                guard let row = try db.query("""
                    INSERT INTO environment_booking (group_id, release_id, environment_id, during, status)
                    VALUES (\(key.groupID), \(key.id), \(environmentID), tstzrange(\(start), \(end)), \(status))
                    ON CONFLICT (release_id, environment_id, during) DO UPDATE SET status = EXCLUDED.status
                    RETURNING id
                    """).first else {
                    throw StoreError.internalInconsistency("INSERT … RETURNING returned nothing")
                }
                let id = try row.decode(Int64.self, "id")
                return BookingRecord(id: id, release: ref.description, environment: environment, start: start, end: end,
                                     status: confirm ? .confirmed : .tentative)
            }
        } catch let error as PostgresError where error.sqlState == .exclusionViolation {
            throw try Self.environmentTaken(environment, environmentID, start, end, for: key.id, db)
        }
    }

    /// The refusal when confirming a booking (or moving a confirmed one) would overfill an
    /// environment (SQLSTATE 23P01, from the exclusion constraint or the capacity trigger),
    /// naming the releases that hold that time. Call outside the failed statement's transaction,
    /// or after rolling back to a savepoint.
    static func environmentTaken(
        _ environment: String, _ environmentID: Int, _ start: Date, _ end: Date, for release: Int64, _ db: Connection
    ) throws -> StoreError {
        let holders = try db.query("""
            SELECT string_agg(DISTINCT g.code || '/' || r.code, ', ') AS holders
            FROM environment_booking b JOIN release r ON r.id = b.release_id JOIN management_group g ON g.id = r.group_id
            WHERE b.environment_id = \(environmentID) AND b.status = 'confirmed' AND b.during && tstzrange(\(start), \(end))
              AND b.release_id <> \(release)
            """).first?.decode(String?.self, "holders")
        return StoreError.capacityTaken(
            what: "\(environment) from \(Timestamp.text(start)) to \(Timestamp.text(end))", holder: holders ?? "another release")
    }

    public func bookings(environment: String? = nil) throws -> [BookingRecord] {
        if let environment { _ = try Lookup.id(.environment, environment, db) }
        return try db.query("""
            SELECT b.id, g.code || '/' || r.code, e.code, lower(b.during), upper(b.during), b.status
            FROM environment_booking b JOIN environment e ON e.id = b.environment_id
            JOIN release r ON r.id = b.release_id JOIN management_group g ON g.id = r.group_id
            WHERE \(environment)::text IS NULL OR e.code = \(environment) ORDER BY lower(b.during), e.code, g.code, r.code
            """).rows.map(Self.booking)
    }

    // MARK: Deviations

    public func addDeviation(_ ref: ReleaseRef, severity: DeviationSeverity, text: String, by identity: Identity) throws -> Int64 {
        let key = try Lookup.release(ref, db)
        try requireContentEditable(key, identity, action: "record deviations for \(ref)")
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw StoreError.invalid("a deviation needs a text") }
        guard let id = try db.query("""
            INSERT INTO deviation (group_id, release_id, severity, text) VALUES (\(key.groupID), \(key.id), \(severity.rawValue), \(text)) RETURNING id
            """).first?.decode(Int64.self, "id") else {
            throw StoreError.internalInconsistency("INSERT … RETURNING returned nothing")
        }
        return id
    }

    public func handleDeviation(id: Int64, resolution: String, by identity: Identity) throws {
        guard let row = try db.query("""
            SELECT g.code, r.code, d.resolution FROM deviation d JOIN release r ON r.id = d.release_id
            JOIN management_group g ON g.id = r.group_id WHERE d.id = \(id)
            """).first else { throw StoreError.notFound(kind: "deviation", code: String(id), suggestion: nil) }
        let (group, code, resolved) = try row.decode((String, String, String?).self)
        let ref = try ReleaseRef(group: group, code: code)
        if resolved != nil { throw StoreError.invalid("deviation \(id) of \(ref) is handled already") }
        let key = try Lookup.release(ref, db)
        try requireContentEditable(key, identity, action: "handle deviations of \(ref)")
        guard !resolution.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw StoreError.invalid("say how it was handled (--resolution)") }
        let changed = try db.execute("""
            UPDATE deviation SET resolution = \(resolution) WHERE id = \(id) AND resolution IS NULL
            """)
        if changed == 0 {
            throw StoreError.permissionDenied(who: identity.login, what: "handle deviation \(id)", why: "the database's policies refused the change")
        }
    }

    public func deviations(group: String? = nil, openOnly: Bool = false) throws -> [DeviationRecord] {
        let group = group.map(CodeKind.canonical)
        return try db.query("""
            SELECT d.id, g.code || '/' || r.code, d.severity, d.text, d.recorded_at, d.recorded_by, d.resolution
            FROM deviation d JOIN release r ON r.id = d.release_id JOIN management_group g ON g.id = r.group_id
            WHERE (\(group)::text IS NULL OR g.code = \(group)) AND (NOT \(openOnly) OR d.resolution IS NULL) ORDER BY d.id
            """).rows.map {
            let (id, release, severity, text, recordedAt, recordedBy, resolution)
                = try $0.decode((Int64, String, String, String, Date, String, String?).self)
            return DeviationRecord(id: id, release: release, severity: DeviationSeverity(rawValue: severity) ?? .low, text: text,
                                   recordedAt: recordedAt, recordedBy: recordedBy, resolution: resolution)
        }
    }

    /// Members may change content only while the release is not yet deployed; planners always.
    private func requireContentEditable(_ key: ReleaseKey, _ identity: Identity, action: String) throws {
        if identity.isPlanner(of: key.ref.group) { return }
        try identity.require(Self.contentEditors, in: key.ref.group, to: action)
        let open: Set<String> = ["planned", "building", "testing", "ready"]
        guard open.contains(key.status) else {
            throw StoreError.permissionDenied(
                who: identity.login, what: action,
                why: "\(key.ref) is \(key.status): members change releases only until they are deployed; ask a release-manager of \(key.ref.group)")
        }
    }
}

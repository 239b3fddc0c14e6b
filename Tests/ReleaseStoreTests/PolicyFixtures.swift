import Foundation
import Postgres
import TestSupport

/// Who tries an operation, seen from the group CRM that owns the rows under test.
enum Actor: String, CaseIterable, Sendable, CustomStringConvertible {
    case admin = "admin"
    case manager = "manager"
    case releaseManager = "release-manager"
    case member = "member"
    case viewer = "viewer"
    case otherGroupMember = "member of HR"
    /// A planner elsewhere, the strongest outsider: manager of HR, nothing in CRM.
    case otherGroup = "manager of HR"
    case noMembership = "relplan_user without membership"
    case notAUser = "login without relplan_user"
    /// The nightly job's login: relplan_user and relplan_reporter, in no group (sql/0019).
    case reporter = "the nightly job's login (relplan_reporter)"

    var description: String { rawValue }

    /// The stem of the actor's login name (made unique per fixture).
    var loginStem: String {
        switch self {
        case .admin: "admin"
        case .manager: "manager"
        case .releaseManager: "relmgr"
        case .member: "member"
        case .viewer: "viewer"
        case .otherGroupMember: "hrmember"
        case .otherGroup: "hrmgr"
        case .noMembership: "loner"
        case .notAUser: "stranger"
        case .reporter: "reporter"
        }
    }

    /// Every actor holding relplan_user, directly or through relplan_admin.
    static let users: Set<Actor> = Set(allCases).subtracting([.notAUser])
    /// Holders of relplan_writer (sql/0018): a write role (member, release-manager, manager) in some
    /// group, or admin. Only they hold table-level write privileges, and so may LOCK a table.
    static let tableWriters: Set<Actor> = [.admin, .manager, .releaseManager, .member, .otherGroupMember, .otherGroup]
    static let crmPlanners: Set<Actor> = [.manager, .releaseManager]
    static let crmWriters: Set<Actor> = [.manager, .releaseManager, .member]
    /// Planners of some group, who may propose moves to any group.
    static let anyPlanners: Set<Actor> = [.manager, .releaseManager, .otherGroup]
}

/// One database with groups CRM, HR and a spare, a plan and releases in each, their packages,
/// units, bookings, criteria, deviations, a proposal, an import batch, windows, freezes and models;
/// plus a login per `Actor`. Built once per test function by the superuser; attempts are rolled
/// back, so the rows below hold for the whole test unless it commits changes of its own.
struct PolicyFixture: Sendable {
    let database: TestDatabase
    let logins: [Actor: String]
    /// Manager of both CRM and HR: passes the policies on both sides, so only the trigger stops a group move.
    let dualPlanner: String
    /// A login, release-manager of CRM, that `delegate` acts as through SET ROLE (memberships name
    /// logins only, sql/0010).
    let team: String
    let delegate: String
    /// A login with a viewer membership of CRM that the matrix changes and removes.
    let spareMember: String
    /// A login in no group, that tests add.
    let newcomer: String

    let crm: Int, hr: Int, spareGroup: Int
    let testEnvironment: Int, sharedEnvironment: Int, spareEnvironment: Int
    let window: Int, spareWindow: Int
    let freeze: Int, spareFreeze: Int
    let sharedModel: Int, crmModel: Int
    let crmPlan: Int, crmEmptyPlan: Int, hrPlan: Int
    let stakeholder: Int
    /// CRM releases: one still planned, one deployed; and one HR release.
    let crmOpen: Int, crmDeployed: Int, hrRelease: Int
    let openPackage: Int, deployedPackage: Int, hrPackage: Int
    let openUnit: Int, deployedUnit: Int
    let openDeviation: Int, deployedDeviation: Int
    let booking: Int
    let proposal: Int
    let importBatch: Int
    let criterion = "tested"

    func login(_ actor: Actor) -> String {
        logins[actor] ?? "missing-\(actor.rawValue)"
    }

    func connect(_ actor: Actor) throws -> Connection {
        try database.connect(user: login(actor))
    }

    func connect(login: String) throws -> Connection {
        try database.connect(user: login)
    }

    /// The cluster's superuser: bypasses row-level security, so it sees the truth.
    func superuser() throws -> Connection {
        try database.connect()
    }

    func tearDown() {
        database.drop()
        guard let admin = try? TestDatabase.adminConnection() else { return }
        let roles = Array(logins.values) + [dualPlanner, delegate, team, spareMember, newcomer]
        _ = try? admin.execute("DROP ROLE IF EXISTS " + roles.map(quotedIdentifier).joined(separator: ", "), simple: true)
    }
}

/// Runs `body` with a fresh fixture and removes its database and roles afterwards.
func withPolicyFixture(_ body: (PolicyFixture) throws -> Void) throws {
    let fixture = try PolicyFixture.make()
    defer { fixture.tearDown() }
    try body(fixture)
}

/// Identifiers cannot be `$n` parameters; role names here come from this code, but are quoted anyway.
func quotedIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

extension PolicyFixture {
    static func make() throws -> PolicyFixture {
        let database = try TestDatabase.migrated()
        do {
            return try build(in: database)
        } catch {
            database.drop()
            throw error
        }
    }

    private static func build(in database: TestDatabase) throws -> PolicyFixture {
        var logins: [Actor: String] = [:]
        for actor in Actor.allCases {
            logins[actor] = TestDatabase.uniqueRoleName("rp_" + actor.loginStem)
        }
        func name(_ actor: Actor) -> String { logins[actor] ?? "" }
        let dual = TestDatabase.uniqueRoleName("rp_dual")
        let team = TestDatabase.uniqueRoleName("rp_team")
        let delegate = TestDatabase.uniqueRoleName("rp_delegate")
        let spare = TestDatabase.uniqueRoleName("rp_spare")
        let newcomer = TestDatabase.uniqueRoleName("rp_newcomer")

        let admin = try TestDatabase.adminConnection()
        var roleSQL = ""
        for actor in Actor.allCases {
            let membership: String
            switch actor {
            case .admin: membership = " IN ROLE relplan_admin"
            case .notAUser: membership = ""
            case .reporter: membership = " IN ROLE relplan_user, relplan_reporter"
            default: membership = " IN ROLE relplan_user"
            }
            roleSQL += "CREATE ROLE \(quotedIdentifier(name(actor))) LOGIN\(membership);\n"
        }
        roleSQL += """
            CREATE ROLE \(quotedIdentifier(dual)) LOGIN IN ROLE relplan_user;
            CREATE ROLE \(quotedIdentifier(team)) LOGIN IN ROLE relplan_user;
            CREATE ROLE \(quotedIdentifier(delegate)) LOGIN IN ROLE relplan_user, \(quotedIdentifier(team));
            CREATE ROLE \(quotedIdentifier(spare)) LOGIN IN ROLE relplan_user;
            CREATE ROLE \(quotedIdentifier(newcomer)) LOGIN IN ROLE relplan_user;
            """
        try admin.execute(roleSQL, simple: true)
        // Only relplan's logins may connect (sql/0018); the stranger gets CONNECT here so that the
        // matrix shows the tables refuse it as well (LockingTests: without it, it cannot connect).
        try admin.execute("GRANT CONNECT ON DATABASE \(quotedIdentifier(database.name)) TO \(quotedIdentifier(name(.notAUser)))", simple: true)

        let db = try database.connect()
        return try db.transaction { db in
            func id(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> Int {
                let result = try db.query(sql, parameters)
                guard let row = result.first else {
                    throw PostgresError(kind: .client, message: "fixture statement returned no id", statement: sql)
                }
                return try row.decode(Int.self)
            }
            let group = "INSERT INTO management_group (code, name) VALUES ($1, $2) RETURNING id"
            let crm = try id(group, ["CRM", "Customer relations"])
            let hr = try id(group, ["HR", "Human resources"])
            let spareGroup = try id(group, ["SPARE", "Nobody's"])

            let member = "INSERT INTO membership (group_id, role_name, role) VALUES ($1, $2, $3)"
            for (groupID, role, kind) in [
                (crm, name(.manager), "manager"), (crm, name(.releaseManager), "release-manager"),
                (crm, name(.member), "member"), (crm, name(.viewer), "viewer"),
                (hr, name(.otherGroupMember), "member"), (hr, name(.otherGroup), "manager"), (crm, dual, "manager"), (hr, dual, "manager"),
                (crm, team, "release-manager"), (crm, spare, "viewer"),
            ] {
                try db.execute(member, [groupID, role, kind])
            }

            let environment = "INSERT INTO environment (code, name, capacity) VALUES ($1, $2, $3) RETURNING id"
            let testEnvironment = try id(environment, ["TEST-INT", "Integration test", 1])
            let sharedEnvironment = try id(environment, ["STAGE", "Shared staging", 2])
            let spareEnvironment = try id(environment, ["SPARE-ENV", "Unused", 1])

            let window = "INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ($1, $2::timestamptz, $3::timestamptz, 2) RETURNING id"
            let sw = try id(window, ["SW-2027-03-14", "2027-03-14 18:00Z", "2027-03-14 23:00Z"])
            let spareWindow = try id(window, ["SW-2027-04-11", "2027-04-11 18:00Z", "2027-04-11 23:00Z"])

            let freeze = "INSERT INTO change_freeze (code, starts_at, ends_at, reason) VALUES ($1, $2::timestamptz, $3::timestamptz, $4) RETURNING id"
            let fz = try id(freeze, ["YEAR-END", "2027-12-20 00:00Z", "2028-01-07 00:00Z", "year-end closing"])
            let spareFreeze = try id(freeze, ["ELECTION", "2026-09-01 00:00Z", "2026-09-14 00:00Z", "elections"])

            // Targets belong to the group that registered them (sql/0010); `unowned` to the admins.
            try db.execute("INSERT INTO target (code, group_id) VALUES ('srv-crm-01', $1), ('srv-hr-01', $2), ('spare-ci', $1), ('unowned', NULL)", [crm, hr])
            try db.execute("INSERT INTO target (code, part_of, group_id) VALUES ('crm-api', 'srv-crm-01', $1)", [crm])

            let model = "INSERT INTO release_model (code, version, group_id, name, definition, source) VALUES ($1, 1, $2, $3, '{}', '') RETURNING id"
            let sharedModel = try id(model, ["STANDARD", Int?.none, "Standard release"])
            let crmModel = try id(model, ["CRM-MONTHLY", crm, "CRM monthly"])

            let plan = "INSERT INTO release_plan (group_id, code, title, change_ref) VALUES ($1, $2, $3, $4) RETURNING id"
            let crmPlan = try id(plan, [crm, "CRM-2027", "CRM roadmap 2027", "CHG-1234"])
            let crmEmptyPlan = try id(plan, [crm, "CRM-IDEAS", "Not started", String?.none])
            let hrPlan = try id(plan, [hr, "HR-2027", "HR roadmap 2027", "CHG-2000"])
            let stakeholder = try id(
                "INSERT INTO plan_stakeholder (group_id, plan_id, name, role) VALUES ($1, $2, 'Sales', 'business owner') RETURNING id",
                [crm, crmPlan])

            let release = """
                INSERT INTO release (group_id, plan_id, code, title, window_id, deploy_start, deploy_end, status)
                VALUES ($1, $2, $3, $4, $5, '2027-03-14 19:00Z', '2027-03-14 21:00Z', $6) RETURNING id
                """
            let crmOpen = try id(release, [crm, crmPlan, "R-2027.03", "March release", sw, "planned"])
            let crmDeployed = try id(release, [crm, crmPlan, "R-2027.01", "January release", sw, "deployed"])
            let hrRelease = try id(release, [hr, hrPlan, "PAY-7", "Payroll 7", sw, "planned"])
            try db.execute("INSERT INTO release_dependency (group_id, release_id, depends_on_id) VALUES ($1, $2, $3)", [crm, crmOpen, hrRelease])

            let package = "INSERT INTO release_package (group_id, release_id, code) VALUES ($1, $2, 'core') RETURNING id"
            let openPackage = try id(package, [crm, crmOpen])
            let deployedPackage = try id(package, [crm, crmDeployed])
            let hrPackage = try id(package, [hr, hrRelease])
            let unit = """
                INSERT INTO release_unit (group_id, package_id, code, kind, target_code, version)
                VALUES ($1, $2, 'api', 'application', $3, '4.2.0') RETURNING id
                """
            let openUnit = try id(unit, [crm, openPackage, "crm-api"])
            let deployedUnit = try id(unit, [crm, deployedPackage, "crm-api"])
            _ = try id(unit, [hr, hrPackage, "srv-hr-01"])

            for releaseID in [crmOpen, crmDeployed] {
                try db.execute("INSERT INTO release_criterion (group_id, release_id, phase, name) VALUES ($1, $2, 'test', 'tested')", [crm, releaseID])
            }
            let deviation = "INSERT INTO deviation (group_id, release_id, severity, text) VALUES ($1, $2, 'medium', 'late test data') RETURNING id"
            let openDeviation = try id(deviation, [crm, crmOpen])
            let deployedDeviation = try id(deviation, [crm, crmDeployed])

            let booking = try id(
                "INSERT INTO environment_booking (group_id, release_id, environment_id, during) VALUES ($1, $2, $3, '[2027-03-01 00:00Z, 2027-03-05 00:00Z)') RETURNING id",
                [crm, crmOpen, testEnvironment])
            try db.execute(
                "INSERT INTO environment_booking (group_id, release_id, environment_id, during) VALUES ($1, $2, $3, '[2027-03-06 00:00Z, 2027-03-08 00:00Z)')",
                [hr, hrRelease, testEnvironment])

            let proposal = try id(
                """
                INSERT INTO schedule_proposal (group_id, release_id, action, from_text, to_text, reason, release_version, proposed_by)
                VALUES ($1, $2, 'move-window', 'SW-2027-03-14', 'SW-2027-04-11', 'window over capacity', 1, $3) RETURNING id
                """, [crm, crmOpen, name(.otherGroup)])
            let importBatch = try id(
                "INSERT INTO import_batch (file_name, sha256, rows, group_ids, imported_by) VALUES ('crm.csv', 'ab12', 3, $1, $2) RETURNING id",
                [[crm], name(.manager)])
            try db.execute("INSERT INTO freeze_override (freeze_id, release_id, reason) VALUES ($1, $2, 'legal deadline')", [fz, crmOpen])
            // What the nightly job recorded: a conflict of CRM's, its run, a calendar event's SEQUENCE.
            try db.execute("""
                INSERT INTO conflict_history (identity, type, severity, window_code, releases, groups, message, first_seen, last_seen)
                VALUES ('window-capacity|SW-2027-03-14', 'window-capacity', 'high', 'SW-2027-03-14', '{CRM/R-2027.03,HR/PAY-7}', '{CRM,HR}',
                        'over capacity', now() - interval '2 days', now());
                INSERT INTO report_run (started_at, conflicts, new, resolved) VALUES (now(), 1, 1, 0);
                INSERT INTO calendar_event_sequence (calendar, uid, fingerprint, last_modified) VALUES ('', 'deployment-CRM/R-2027.03@relplan', 'f1', now());
                """, simple: true)

            return PolicyFixture(
                database: database, logins: logins, dualPlanner: dual, team: team, delegate: delegate,
                spareMember: spare, newcomer: newcomer,
                crm: crm, hr: hr, spareGroup: spareGroup,
                testEnvironment: testEnvironment, sharedEnvironment: sharedEnvironment, spareEnvironment: spareEnvironment,
                window: sw, spareWindow: spareWindow, freeze: fz, spareFreeze: spareFreeze,
                sharedModel: sharedModel, crmModel: crmModel,
                crmPlan: crmPlan, crmEmptyPlan: crmEmptyPlan, hrPlan: hrPlan, stakeholder: stakeholder,
                crmOpen: crmOpen, crmDeployed: crmDeployed, hrRelease: hrRelease,
                openPackage: openPackage, deployedPackage: deployedPackage, hrPackage: hrPackage,
                openUnit: openUnit, deployedUnit: deployedUnit,
                openDeviation: openDeviation, deployedDeviation: deployedDeviation,
                booking: booking, proposal: proposal, importBatch: importBatch)
        }
    }
}

// MARK: Running attempts

/// What a statement did: rows (visible for SELECT, changed otherwise), SQLSTATE 42501, or another error.
enum Outcome: Equatable, Sendable, CustomStringConvertible {
    case rows(Int)
    case denied
    case failed(sqlState: String, message: String)

    var sqlState: String? {
        switch self {
        case .rows: nil
        case .denied: "42501"
        case .failed(let sqlState, _): sqlState
        }
    }

    var description: String {
        switch self {
        case .rows(1): "1 row"
        case .rows(let count): "\(count) rows"
        case .denied: "SQLSTATE 42501"
        case .failed(let sqlState, let message): "SQLSTATE \(sqlState) (\(message))"
        }
    }
}

/// A statement with its `$n` parameters.
struct Statement: Sendable {
    let sql: String
    let parameters: [any PostgresEncodable]

    init(_ sql: String, _ parameters: [any PostgresEncodable] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

extension Connection {
    /// Runs `statement` in a transaction that is always rolled back, so the fixture stays as built.
    func attempt(_ statement: Statement) -> Outcome {
        attempt { try $0.execute(statement.sql, statement.parameters) }
    }

    /// Runs `body` in a transaction that is always rolled back and reports what it returned or raised.
    func attempt(_ body: (Connection) throws -> Int) -> Outcome {
        do {
            try execute("BEGIN", simple: true)
            defer { if isOpen { try? execute("ROLLBACK", simple: true) } }
            return .rows(try body(self))
        } catch let error as PostgresError where error.isInsufficientPrivilege {
            return .denied
        } catch let error as PostgresError {
            return .failed(sqlState: error.sqlState?.rawValue ?? "none", message: error.message)
        } catch {
            return .failed(sqlState: "none", message: "\(error)")
        }
    }

    func count(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> Int {
        try query(sql, parameters).first?.decode(Int.self) ?? -1
    }
}

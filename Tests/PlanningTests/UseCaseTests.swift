import Foundation
import Importing
import Planning
import ReleaseCore
import ReleaseStore
import Testing
import TestSupport

/// The use cases as the CLI and the server run them, without the binary: each performed on a
/// database of its own as one of the fixture's people, once as it should go and once refused.
struct Planners {
    let fixture: PlanningFixture
    /// An hour well ahead of now: windows, bookings and freezes are laid out from it.
    let base = Date(timeIntervalSince1970: ((Date().timeIntervalSince1970 + 30 * 86_400) / 3600).rounded(.down) * 3600)

    static func make() throws -> Planners {
        Planners(fixture: try PlanningFixture.make(people: ["alice", "bob", "carol"]))
    }

    func target(_ person: String) -> DatabaseTarget {
        DatabaseTarget(conninfo: "\(fixture.database.conninfo) user=\(fixture.login(person))")
    }

    @discardableResult
    func perform<Case: UseCase>(_ person: String, _ useCase: Case) throws -> Case.Output {
        try target(person).perform(useCase)
    }

    /// The exit status the refusal maps to; nil when it was not refused.
    func refusal<Case: UseCase>(_ person: String, _ useCase: Case) -> Planning.ExitStatus? {
        do {
            _ = try perform(person, useCase)
            return nil
        } catch {
            return ErrorReport(error, verbose: false).status
        }
    }

    func hours(_ hours: Double) -> Date { base.addingTimeInterval(hours * 3600) }

    /// Groups CRM (alice release-manager, bob viewer) and HR (carol release-manager), TEST-INT
    /// (capacity 1), windows W1 and W2 a week apart (capacity 1), plans CRM/P and HR/P.
    func calendar() throws {
        try perform("admin", CreateGroup(code: "CRM", name: "CRM förvaltning"))
        try perform("admin", CreateGroup(code: "HR", name: "HR"))
        try perform("admin", AddMember(group: "CRM", login: fixture.login("alice"), role: .releaseManager))
        try perform("admin", AddMember(group: "CRM", login: fixture.login("bob"), role: .viewer))
        try perform("admin", AddMember(group: "HR", login: fixture.login("carol"), role: .releaseManager))
        try perform("admin", CreateEnvironment(code: "TEST-INT", name: "Integration test", kind: .test, capacity: 1))
        try perform("admin", CreateWindow(NewWindow(code: "W1", start: hours(0), end: hours(4)), capacity: 1, kind: .regular))
        try perform("admin", CreateWindow(NewWindow(code: "W2", start: hours(168), end: hours(172)), capacity: 1, kind: .regular))
        try perform("alice", CreatePlan(group: "CRM", code: "P", title: "CRM plan", changeRef: nil, model: nil))
        try perform("carol", CreatePlan(group: "HR", code: "P", title: "HR plan", changeRef: nil, model: nil))
    }

    func ref(_ text: String) throws -> ReleaseRef { try ReleaseRef(parsing: text) }
}

@Suite("Planning use cases")
struct UseCaseTests {
    @Test("connecting: an unreachable server is unavailable (69), named without its password")
    func unreachable() throws {
        let target = DatabaseTarget(conninfo: "host=127.0.0.1 port=1 password=secret connect_timeout=2")
        do {
            _ = try target.perform(ListGroups())
            Issue.record("connected to port 1")
        } catch {
            let report = ErrorReport(error, verbose: false)
            #expect(report.status == .unavailable)
            #expect(report.message.contains("password=***"))
            #expect(!report.message.contains("secret"))
        }
    }

    @Test("directory: groups, users and members; a planner may not create a group or a login")
    func directory() throws {
        let p = try Planners.make()
        defer { p.fixture.drop() }
        try p.calendar()
        #expect(try p.perform("alice", ListGroups()).map(\.code) == ["CRM", "HR"])
        #expect(p.refusal("alice", CreateGroup(code: "WEB", name: "Webb")) == .permissionDenied)
        #expect(try p.perform("admin", ListMembers(group: "CRM")).map(\.role).sorted(by: { $0.rawValue < $1.rawValue }) == [.releaseManager, .viewer])
        try p.perform("admin", RemoveMember(group: "CRM", login: p.fixture.login("bob")))
        #expect(try p.perform("admin", ListMembers(group: "CRM")).count == 1)
        #expect(p.refusal("admin", RemoveMember(group: "NOPE", login: p.fixture.login("bob"))) == .dataError)
        #expect(p.refusal("alice", AddMember(group: "HR", login: p.fixture.login("bob"), role: .member)) == .permissionDenied)
        let login = TestDatabase.uniqueRoleName("dora")
        defer { _ = try? TestDatabase.adminConnection().execute("DROP ROLE IF EXISTS \"\(login)\"", simple: true) }
        try p.perform("admin", CreateUser(login: login, password: nil, admin: false, reporter: false))
        #expect(p.refusal("alice", CreateUser(login: login + "x", password: nil, admin: false, reporter: false)) == .permissionDenied)
        #expect(try p.perform("admin", ReadAuditTrail(group: "CRM")).isEmpty == false)
        #expect(p.refusal("alice", ReadAuditTrail(release: try p.ref("CRM/NOPE"))) == .dataError)
    }

    @Test("calendar: environments, windows, series, freezes, targets; admins only")
    func calendar() throws {
        let p = try Planners.make()
        defer { p.fixture.drop() }
        try p.calendar()
        #expect(try p.perform("alice", ListEnvironments()).map(\.code) == ["TEST-INT"])
        #expect(p.refusal("alice", CreateEnvironment(code: "PROD", name: "Prod", kind: .prod, capacity: 1)) == .permissionDenied)
        #expect(p.refusal("admin", CreateWindow(NewWindow(code: "W1", start: p.hours(1), end: p.hours(2)), capacity: 1, kind: .regular)) != nil)
        var parser = try TimestampParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        let series = WindowSeries(prefix: "SAT", rule: try RecurrenceRule(parsing: "FREQ=WEEKLY;BYDAY=SA"), startTime: try TimeOfDay(parsing: "22:00"),
                                  durationSeconds: 4 * 3600, timeZone: TimeZone(identifier: "UTC") ?? .current,
                                  from: try parser.day(from: "2031-01-01"), until: try parser.day(from: "2031-01-31"))
        let windows = try series.windows()
        let generate = GenerateWindows(windows, capacity: 2, kind: .regular)
        #expect(try p.perform("admin", generate).created.count == windows.count)
        #expect(try p.perform("admin", generate).existing.count == windows.count)
        #expect(p.refusal("alice", generate) == .permissionDenied)
        #expect(generate.listing(created: []).rows.count == windows.count)
        let written = try GenerateWindows(prefix: "SAT", rule: "FREQ=WEEKLY;BYDAY=SA", startTime: "22:00", duration: "4h",
                                          timeZone: TimeZone(identifier: "UTC") ?? .current, from: try parser.day(from: "2031-01-01"),
                                          until: try parser.day(from: "2031-01-31"), capacity: 2, kind: .regular)
        #expect(written.windows == windows)
        #expect(written.preview.rows.count == windows.count)
        #expect(throws: Failure.self) {
            try GenerateWindows(prefix: "SAT", rule: "FREQ=DAILY", startTime: "22:00", duration: "4h", timeZone: .current,
                                from: try parser.day(from: "2031-01-01"), until: try parser.day(from: "2031-01-31"), capacity: 2, kind: .regular)
        }
        #expect(try p.perform("alice", ListWindows(from: p.hours(-1), to: p.hours(200))).map(\.code) == ["W1", "W2"])
        try p.perform("admin", CreateFreeze(code: "AUDIT", start: p.hours(100), end: p.hours(120), reason: "Audit", environment: nil))
        #expect(try p.perform("alice", ListFreezes()).map(\.code) == ["AUDIT"])
        #expect(ListFreezes.listing(try p.perform("alice", ListFreezes())).rows.count == 1)
        #expect(p.refusal("alice", CreateFreeze(code: "X", start: p.hours(1), end: p.hours(2), reason: "x", environment: nil)) == .permissionDenied)
        try p.perform("alice", LinkTarget("crm-api", partOf: "srv-crm-01", group: "CRM"))
        #expect(try p.perform("alice", ListTargets()).contains { $0.code == "crm-api" && $0.partOf == "srv-crm-01" })
        #expect(p.refusal("bob", LinkTarget("x", partOf: "y", group: "HR")) != nil)
    }

    @Test("plans and models: create, list, show, stakeholders; a viewer may not plan")
    func plans() throws {
        let p = try Planners.make()
        defer { p.fixture.drop() }
        try p.calendar()
        #expect(p.refusal("bob", CreatePlan(group: "CRM", code: "Q", title: "Q", changeRef: nil, model: nil)) == .permissionDenied)
        try p.perform("alice", AddStakeholder(try p.ref("CRM/P"), name: "Sales", role: "business-owner"))
        #expect(p.refusal("bob", AddStakeholder(try p.ref("CRM/P"), name: "X", role: "y")) == .permissionDenied)
        _ = try p.perform("alice", CreateRelease(NewRelease(ref: try p.ref("CRM/R1"), plan: "P", window: "W1")))
        let shown = try p.perform("bob", ShowPlan(try p.ref("CRM/P")))
        #expect(shown.stakeholders.map(\.name) == ["Sales"])
        #expect(shown.releases.map(\.code) == ["R1"])
        #expect(shown.json != nil)
        #expect(p.refusal("bob", ShowPlan(try p.ref("CRM/NOPE"))) == .dataError)
        #expect(try p.perform("bob", ListPlans(group: "CRM")).map(\.code) == ["P"])
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/models/standard.yaml").standardized.path
        let source = try String(contentsOfFile: file, encoding: .utf8)
        let model = try ReleaseModelFile.parse(source, file: file)
        #expect(p.refusal("alice", StoreModel(model, source: source, group: nil)) == .permissionDenied)
        #expect(try p.perform("admin", StoreModel(model, source: source, group: nil)).created)
        #expect(try p.perform("admin", StoreModel(model, source: source, group: nil)).created == false)
        #expect(try p.perform("alice", ListModels()).map(\.code) == [model.code])
        #expect(try p.perform("alice", ShowModel(model.code)).version == 1)
        #expect(p.refusal("alice", ShowModel("nope")) == .dataError)
    }

    @Test("releases: create, list, show, move, advance, pin, assign, content, bookings, deviations")
    func releases() throws {
        let p = try Planners.make()
        defer { p.fixture.drop() }
        try p.calendar()
        let r1 = try p.ref("CRM/R1")
        #expect(try p.perform("alice", CreateRelease(NewRelease(ref: r1, plan: "P", window: "W1"))).isEmpty)
        #expect(p.refusal("bob", CreateRelease(NewRelease(ref: try p.ref("CRM/R2"), plan: "P", window: "W1"))) == .permissionDenied)
        #expect(try p.perform("bob", ListReleases(group: "CRM")).map(\.code) == ["R1"])
        #expect(try p.perform("bob", ListReleases(status: .closed)).isEmpty)
        #expect(p.refusal("bob", ShowRelease(try p.ref("CRM/NOPE"))) == .dataError)

        #expect(try p.perform("alice", MoveRelease(r1, to: "W2")).isEmpty)
        #expect(try p.perform("bob", ShowRelease(r1)).release.window == "W2")
        #expect(p.refusal("alice", MoveRelease(r1, to: "NOPE")) == .dataError)
        #expect(p.refusal("alice", MoveRelease(r1, to: "W1", expectedVersion: 0)) == .temporaryFailure)

        try p.perform("alice", AddPackage(r1, code: "core"))
        try p.perform("alice", AddUnit(r1, package: "core", code: "crm-api", kind: .application, target: "srv-crm-01", version: "4.2.0"))
        #expect(p.refusal("alice", AddUnit(r1, package: "nope", code: "x", kind: .application, target: "t", version: nil)) == .dataError)
        #expect(p.refusal("bob", AddPackage(r1, code: "more")) == .permissionDenied)

        try p.perform("alice", PinRelease(r1, pinned: true))
        #expect(try p.perform("bob", ShowRelease(r1)).release.pinned)
        #expect(p.refusal("bob", PinRelease(r1, pinned: false)) == .permissionDenied)
        try p.perform("alice", AssignImplementer(r1, implementer: "carol"))
        #expect(p.refusal("bob", AssignImplementer(r1, implementer: "x")) == .permissionDenied)

        let booking = try p.perform("alice", BookEnvironment(r1, environment: "TEST-INT", start: p.hours(-48), end: p.hours(-24), confirm: true))
        #expect(booking.status == .confirmed)
        _ = try p.perform("carol", CreateRelease(NewRelease(ref: try p.ref("HR/H1"), plan: "P", window: "W1")))
        // TEST-INT holds one release at a time: a second confirmed booking then is refused (retry later).
        #expect(p.refusal("carol", BookEnvironment(try p.ref("HR/H1"), environment: "TEST-INT", start: p.hours(-40), end: p.hours(-30),
                                                   confirm: true)) == .temporaryFailure)

        let step = try p.perform("alice", AdvanceRelease(r1))
        #expect(step == AdvanceRelease.Step(from: .planned, to: .building))
        #expect(p.refusal("alice", AdvanceRelease(r1, to: .closed)) == .dataError)
        #expect(p.refusal("alice", CheckCriterion(r1, criterion: "CAB approved")) == .dataError)
        #expect(p.refusal("bob", EvaluateRelease(r1, text: "Smooth")) == .permissionDenied)
        try p.perform("alice", EvaluateRelease(r1, text: "Smooth"))

        let id = try p.perform("alice", RecordDeviation(r1, severity: .high, text: "Rollback needed"))
        #expect(try p.perform("bob", ListDeviations(group: "CRM", openOnly: true)).map(\.id) == [id])
        #expect(ListDeviations.listing(try p.perform("bob", ListDeviations())).rows.count == 1)
        try p.perform("alice", HandleDeviation(id: id, resolution: "Rolled back"))
        #expect(try p.perform("bob", ListDeviations(openOnly: true)).isEmpty)
        #expect(p.refusal("alice", HandleDeviation(id: id + 1000, resolution: "x")) == .dataError)
        #expect(p.refusal("bob", RecordDeviation(r1, severity: .low, text: "x")) == .permissionDenied)

        #expect(try p.perform("bob", ShowWindowNight("W2")).entries.count == 1)
        #expect(p.refusal("bob", ShowWindowNight("NOPE")) == .dataError)
    }

    @Test("scheduling: conflicts found, resolved and applied; the other group decides; a decided proposal is refused")
    func scheduling() throws {
        let p = try Planners.make()
        defer { p.fixture.drop() }
        try p.calendar()
        _ = try p.perform("alice", CreateRelease(NewRelease(ref: try p.ref("CRM/A"), plan: "P", window: "W1", priority: try Priority(1))))
        _ = try p.perform("carol", CreateRelease(NewRelease(ref: try p.ref("HR/B"), plan: "P", window: "W1", priority: try Priority(4))))
        let zone = TimeZone(identifier: "UTC") ?? .current
        let found = try p.perform("bob", FindConflicts(zone: zone, standing: true))
        #expect(found.conflicts.count == 1)
        #expect(found.standing == nil)  // no nightly run yet
        #expect(try p.perform("bob", FindConflicts(group: "HR", zone: zone)).conflicts.count == 1)

        let proposed = try p.perform("alice", ResolveConflicts(apply: false, zone: zone))
        #expect(proposed.outcome == nil)
        #expect(proposed.resolution.proposals.map(\.release) == ["HR/B"])
        let applied = try p.perform("alice", ResolveConflicts(apply: true, zone: zone))
        let id = try #require(applied.outcome?.proposed.first?.id)
        #expect(try p.perform("carol", ListProposals(group: "HR")).map(\.id) == [id])
        #expect(p.refusal("bob", AcceptProposal(id)) != nil)
        let accepted = try p.perform("carol", AcceptProposal(id))
        #expect(accepted.status == "accepted")
        #expect(try p.perform("carol", ListProposals(group: "HR")).isEmpty)
        #expect(try p.perform("carol", ListProposals(group: "HR", all: true)).count == 1)
        #expect(p.refusal("carol", RejectProposal(id, reason: "too late")) == .dataError)
        #expect(try p.perform("bob", FindConflicts(zone: zone)).conflicts.isEmpty)
    }

    @Test("nightly: the reporter writes every format for everyone and each group; a person is refused before anything")
    func nightly() throws {
        let p = try Planners.make()
        defer { p.fixture.drop() }
        try p.calendar()
        _ = try p.perform("alice", CreateRelease(NewRelease(ref: try p.ref("CRM/A"), plan: "P", window: "W1")))
        _ = try p.perform("carol", CreateRelease(NewRelease(ref: try p.ref("HR/B"), plan: "P", window: "W1")))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nightly-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let zone = TimeZone(identifier: "Europe/Stockholm") ?? .current
        let job = NightlyJob(folder: folder, group: nil, horizonSeconds: 90 * 86_400, zone: zone)
        let summary = try #require(try job.run(on: p.target("reporter")))
        #expect(summary.unresolved == 1)
        #expect(summary.new == 1)
        #expect(summary.line.hasPrefix("relplan nightly: 1 conflict (1 new, 0 resolved since the last run)"))
        for name in ["conflicts.json", "conflicts.csv", "report.md", "report.html", "calendar.ics"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path))
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("CRM").appendingPathComponent(name).path))
        }
        #expect(try job.run(on: p.target("reporter"))?.new == 0)
        do {
            _ = try job.run(on: p.target("alice"))
            Issue.record("alice ran the nightly job")
        } catch {
            #expect(ErrorReport(error, verbose: false).status == .permissionDenied)
        }
        let unknown = NightlyJob(folder: folder, group: "NOPE", horizonSeconds: 86_400, zone: zone)
        #expect(throws: (any Error).self) { try unknown.run(on: p.target("reporter")) }
    }

    @Test("import: a file merged, then the same file changes nothing; a bad row refuses the whole file with its line")
    func importing() throws {
        let p = try Planners.make()
        defer { p.fixture.drop() }
        try p.calendar()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("good.csv")
        try "group,plan,release,window,priority\nCRM,P,R7,W1,2\nCRM,P,R8,W2,3\n".write(to: good, atomically: true, encoding: .utf8)
        let zone = TimeZone(identifier: "UTC") ?? .current
        var options = ImportOptions(defaultGroup: nil, timeZone: zone, progressInterval: 25_000)
        options.delimiter = nil
        let first = try p.perform("alice", ImportFile(file: good.path, options: options, zone: zone))
        #expect(first.counts.releasesCreated == 2)
        let again = try p.perform("alice", ImportFile(file: good.path, options: options, zone: zone))
        #expect(again.counts.releasesCreated == 0 && again.counts.releasesChanged == 0)
        let bad = folder.appendingPathComponent("bad.csv")
        try "group,plan,release,window,priority\nCRM,P,R9,W1,9\n".write(to: bad, atomically: true, encoding: .utf8)
        do {
            _ = try p.perform("alice", ImportFile(file: bad.path, options: options, zone: zone))
            Issue.record("a priority of 9 was imported")
        } catch {
            let report = ErrorReport(error, verbose: false)
            #expect(report.status == .dataError)
            #expect(report.message == "\(bad.path): 1 problem; nothing was imported")
            #expect(report.problems.count == 1)
            #expect(report.problems.first?.hasPrefix("\(bad.path):2:") == true)
        }
        #expect(p.refusal("bob", ImportFile(file: good.path, options: options, dryRun: true, zone: zone)) != nil)
    }

    @Test("schema: migrating a migrated database applies nothing; every migration is applied")
    func schema() throws {
        let p = try Planners.make()
        defer { p.fixture.drop() }
        var applied: [String] = []
        let result = try DatabaseTarget(conninfo: p.fixture.database.conninfo).perform(MigrateSchema { applied.append($0.fileName) })
        #expect(result.applied.isEmpty && applied.isEmpty)
        #expect(result.bundled > 0)
        let statuses = try DatabaseTarget(conninfo: p.fixture.database.conninfo).perform(SchemaStatus())
        #expect(statuses.count == result.bundled)
        #expect(statuses.allSatisfy { $0.state == .applied })
        #expect(SchemaStatus.listing(statuses).rows.count == statuses.count)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import Importing
import Logging
import Postgres
import ReleaseCore
import ReleaseStore
import Planning
import Reporting
import ServiceLifecycle

/// Who is asking: HTTP Basic (login and password with every request) or a browser session.
enum Caller: Sendable {
    case basic(login: String, password: String)
    case session(Session)

    var login: String {
        switch self {
        case .basic(let login, _): return login
        case .session(let session): return session.login
        }
    }

    var password: String? {
        if case .basic(_, let password) = self { return password }
        return nil
    }

    var session: Session? {
        if case .session(let session) = self { return session }
        return nil
    }
}

/// The request's parts a handler works with, off the event loops.
struct Call: Sendable {
    let query: Parameters
    /// The body's bytes as sent (a CSV may be cp1252).
    let data: Data
    let path: [String: String]

    init(query: Parameters, data: Data = Data(), path: [String: String]) {
        self.query = query
        self.data = data
        self.path = path
    }

    init(query: Parameters, body: String, path: [String: String]) {
        self.init(query: query, data: Data(body.utf8), path: path)
    }

    var body: String { String(decoding: data, as: UTF8.self) }

    /// The JSON body as `T` (`{}` when empty); a wrong shape is a usage error naming the field.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let text = body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "{}" : body
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch let DecodingError.keyNotFound(key, _) {
            throw Failure(.usage, "\"\(key.stringValue)\" is missing")
        } catch let DecodingError.typeMismatch(expected, context), let DecodingError.valueNotFound(expected, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw Failure(.usage, "\"\(field)\" must be \(Self.describe(expected))")
        } catch {
            throw Failure(.usage, "the body must be a JSON object")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is Bool.Type: return "true or false"
        default: return "of another type"
        }
    }

    /// `TZ` as the server was started with, else UTC: read once (reading the environment costs a
    /// copy of all of it, on every request that shows a time).
    static let processZoneName = ProcessInfo.processInfo.environment["TZ"].flatMap { $0.isEmpty ? nil : $0 } ?? "UTC"

    /// `?tz=`: the zone timestamps without an offset are read in (default: the server's TZ, else UTC).
    var zone: TimeZone {
        get throws {
            let name = query["tz"] ?? Self.processZoneName
            guard let zone = TimeZone(identifier: name.hasPrefix(":") ? String(name.dropFirst()) : name) else {
                throw Failure(.usage, "tz: unknown time zone '\(name)': use an IANA name such as Europe/Stockholm")
            }
            return zone
        }
    }

    func instant(_ name: String) throws -> Date? {
        guard let text = query[name] else { return nil }
        return try instant(text, name: name, kind: .usage)
    }

    /// `text` as a time (a date is its midnight) in `?tz=`; else a `kind` failure naming `name`.
    func instant(_ text: String, name: String, kind: FailureKind) throws -> Date {
        let zone = try zone
        if let instant = try? TimestampParser.instant(text, in: zone) { return instant }
        var parser = try TimestampParser(timeZone: zone)
        if let day = try? parser.day(from: text) { return Date(timeIntervalSince1970: Double(parser.startOfDay(day)) / 1_000_000) }
        throw Failure(kind, "\(name): expected a timestamp like 2027-03-14T18:00+01:00 or a date like 2027-03-14, got \"\(text)\"")
    }

    func ref() throws -> ReleaseRef {
        do { return try ReleaseRef(parsing: "\(path["group"] ?? "")/\(path["code"] ?? "")") } catch {
            throw Failure(.usage, error.description)
        }
    }

    func proposalID() throws -> Int64 {
        guard let text = path["id"], let id = Int64(text), id > 0 else {
            throw Failure(.notFound, "unknown proposal \(path["id"] ?? "")")
        }
        return id
    }
}

/// The request bodies, in the CLI's option names (snake_case).
struct MoveBody: Decodable {
    let window: String
    let if_version: Int?
    let override_freeze_reason: String?
}

struct BookBody: Decodable {
    let environment: String
    let start: String
    let end: String
    let confirm: Bool?
}

struct AdvanceBody: Decodable {
    let to: String?
    let if_version: Int?
}

/// `relplan release create GROUP CODE --plan P [--title] [--window] [--deploy-start --deploy-end] [--priority] [--deadline] [--depends-on]`.
struct CreateReleaseBody: Decodable {
    let group: String
    let code: String
    let plan: String
    let title: String?
    let window: String?
    let deploy_start: String?
    let deploy_end: String?
    let priority: Int?
    let deadline: String?
    let depends_on: [String]?
}

struct RejectBody: Decodable {
    let reason: String
}

struct ResolveBody: Decodable {
    let apply: Bool?
    let group: String?
    let budget_ms: Int?
}

struct Routes: Sendable {
    let state: ServerState
    static let sessionCookie = "relplan_session"
    static let loginCookie = "relplan_login"

    var secure: Bool { state.settings.secureCookies }

    /// Every route and its methods, for 405 answers (MethodCheck); `add(to:)` registers the same.
    static let table: [(String, [HTTPRequest.Method])] = [
        ("/healthz", [.get]), ("/metrics", [.get]), ("/openapi.yaml", [.get]), ("/static/:file", [.get]), ("/api/releases", [.get, .post]),
        ("/api/windows/:code", [.get]), ("/api/bookings/:id/confirm", [.post]),
        ("/api/releases/:group/:code", [.get]), ("/api/releases/:group/:code/move", [.post]), ("/api/releases/:group/:code/book", [.post]),
        ("/api/releases/:group/:code/advance", [.post]), ("/api/windows", [.get]), ("/api/environments", [.get]), ("/api/bookings", [.get]),
        ("/api/audit", [.get]), ("/api/conflicts", [.get]), ("/api/proposals", [.get]), ("/api/proposals/:id/accept", [.post]),
        ("/api/proposals/:id/reject", [.post]), ("/api/schedule/resolve", [.post]), ("/api/import", [.post]),
        ("/calendar/:file", [.get]), ("/events", [.get]), ("/login", [.get, .post]), ("/logout", [.post]), ("/", [.get]),
        ("/proposals/:id/accept", [.post]), ("/proposals/:id/reject", [.post]), ("/releases/:group/:code", [.get]),
        ("/windows/:code", [.get]), ("/conflicts", [.get]), ("/import", [.get, .post]), ("/import/run", [.post]),
    ]

    func add(to router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in await healthz() }
        router.get("/metrics") { _, _ in
            Reply(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8",
                  body: state.metrics.text(connections: state.pools.openConnections, sessions: state.sessions.count,
                                           subscribers: state.events.subscriberCount, listening: state.events.listening.load(ordering: .relaxed)))
                .response(secure: secure)
        }
        router.get("/openapi.yaml") { _, _ in
            Reply(status: .ok, contentType: "application/yaml; charset=utf-8", body: Assets.text("openapi.yaml") ?? "")
                .response(secure: secure)
        }
        router.get("/static/:file") { _, context in
            let file = context.parameters.get("file") ?? ""
            guard let text = file == "report.css" ? Assets.reportStylesheet : Assets.text(file), file.hasSuffix(".js") || file.hasSuffix(".css") else {
                return Reply.problem(.notFound, "not-found", "no such file").response(secure: secure)
            }
            var reply = Reply(status: .ok, contentType: file.hasSuffix(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8",
                              body: text)
            reply.headers.append(("Cache-Control", "max-age=300"))
            return reply.response(secure: secure)
        }

        router.get("/api/releases") { request, context in
            await api(request, context) { db, call in
                let status = try call.query.values["status"].map { text -> ReleaseStatus in
                    do { return try ReleaseStatus(parsing: text) } catch { throw Failure(.usage, "status: \(error)") }
                }
                let from = try call.instant("from"), to = try call.instant("to")
                var releases = try ListReleases(group: call.query["group"], window: call.query["window"], status: status).run(in: DatabaseSession(db))
                if from != nil || to != nil {
                    releases = releases.filter { r in
                        guard let start = r.deployStart, let end = r.deployEnd else { return false }
                        return (from.map { end > $0 } ?? true) && (to.map { start < $0 } ?? true)
                    }
                }
                return .json(ReleaseView.listing(releases).json)
            }
        }
        router.post("/api/releases") { request, context in
            await api(request, context, write: true) { db, call in try Self.createRelease(db, call) }
        }
        router.get("/api/windows/:code") { request, context in
            // `relplan window show CODE --format json`: the night's plan with go/no-go.
            await api(request, context) { db, call in .json(try ShowWindowNight(call.path["code"] ?? "").run(in: DatabaseSession(db)).json) }
        }
        router.post("/api/bookings/:id/confirm") { request, context in
            await api(request, context, write: true) { db, call in
                // `relplan book GROUP/CODE ENV --start --end --confirm` for a booking that exists: the same checks and words.
                guard let text = call.path["id"], let id = Int64(text), id > 0,
                      let booking = try Releases(db).bookings().first(where: { $0.id == id }) else {
                    throw Failure(.notFound, "unknown booking \(call.path["id"] ?? "")")
                }
                let ref: ReleaseRef
                do { ref = try ReleaseRef(parsing: booking.release) } catch { throw Failure(.notFound, "unknown booking \(id)") }
                let confirmed = try BookEnvironment(ref, environment: booking.environment, start: booking.start, end: booking.end,
                                                    confirm: true).run(in: DatabaseSession(db))
                return .json(.object([("booking", PlanViews.booking(confirmed))]))
            }
        }
        router.get("/api/releases/:group/:code") { request, context in
            await api(request, context) { db, call in .json(ReleaseView.json(try ShowRelease(try call.ref()).run(in: DatabaseSession(db)))) }
        }
        router.post("/api/releases/:group/:code/move") { request, context in
            await api(request, context, write: true) { db, call in
                let ref = try call.ref()
                let body = try call.decode(MoveBody.self)
                let window = body.window
                guard !window.isEmpty else { throw Failure(.usage, "\"window\" is missing") }
                let reason = try body.override_freeze_reason.map { text -> String in
                    do { return try TextRules.checked(text, as: .reason) } catch { throw Failure(.usage, "override_freeze_reason: \(error)") }
                }
                let warnings = try MoveRelease(ref, to: window, overrideFreezeReason: reason, expectedVersion: body.if_version)
                    .run(in: DatabaseSession(db))
                return .json(.object([("release", ReleaseView.json(try Releases(db).show(ref))), ("warnings", .strings(warnings))]))
            }
        }
        router.post("/api/releases/:group/:code/book") { request, context in
            await api(request, context, write: true) { db, call in
                // `relplan book GROUP/CODE ENV --start --end [--confirm]`; unreadable or reversed times are bad data.
                let ref = try call.ref()
                let body = try call.decode(BookBody.self)
                guard !body.environment.isEmpty else { throw Failure(.usage, "\"environment\" is missing") }
                let start = try call.instant(body.start, name: "start", kind: .invalid)
                let end = try call.instant(body.end, name: "end", kind: .invalid)
                guard end > start else { throw Failure(.invalid, "end must be after start") }
                let booking = try BookEnvironment(ref, environment: body.environment, start: start, end: end, confirm: body.confirm ?? false)
                    .run(in: DatabaseSession(db))
                return .json(.object([("booking", PlanViews.booking(booking))]))
            }
        }
        router.post("/api/releases/:group/:code/advance") { request, context in
            await api(request, context, write: true) { db, call in
                // `relplan release advance GROUP/CODE [--to S] [--if-version N]`; a refusal lists what is missing.
                let ref = try call.ref()
                let body = try call.decode(AdvanceBody.self)
                let target = try body.to.map { text -> ReleaseStatus in
                    do { return try ReleaseStatus(parsing: text) } catch { throw Failure(.usage, "to: \(error)") }
                }
                let step = try AdvanceRelease(ref, to: target, expectedVersion: body.if_version).run(in: DatabaseSession(db))
                return .json(.object([("from", .string(step.from.rawValue)), ("to", .string(step.to.rawValue)),
                                      ("release", ReleaseView.json(try Releases(db).show(ref)))]))
            }
        }
        router.get("/api/environments") { request, context in
            await api(request, context) { db, _ in .json(PlanViews.environments(try ListEnvironments().run(in: DatabaseSession(db))).json) }
        }
        router.get("/api/bookings") { request, context in
            await api(request, context) { db, call in
                .json(PlanViews.bookings(try Releases(db).bookings(environment: call.query["environment"])).json)
            }
        }
        router.get("/api/audit") { request, context in
            await api(request, context) { db, call in
                // `relplan audit --format json [--group] [--release] [--since] [--limit]`.
                let ref = try call.query["release"].map { text -> ReleaseRef in
                    do { return try ReleaseRef(parsing: text) } catch { throw Failure(.usage, "release: \(error)") }
                }
                let limit = try call.query["limit"].map { text -> Int in
                    guard let n = Int(text), n >= 1 else { throw Failure(.usage, "limit: expected a whole number of at least 1, got \"\(text)\"") }
                    return n
                } ?? 1000
                return .json(PlanViews.audit(try ReadAuditTrail(group: call.query["group"], release: ref, since: try call.instant("since"),
                                                                limit: limit).run(in: DatabaseSession(db))).json)
            }
        }
        router.get("/api/windows") { request, context in
            await api(request, context) { db, call in
                .json(PlanViews.windows(try ListWindows(from: try call.instant("from"), to: try call.instant("to")).run(in: DatabaseSession(db))).json)
            }
        }
        router.get("/api/conflicts") { request, context in
            // The body runs only once the caller's login has a connection of its own: `login` is who asks.
            let login = caller(request)?.login ?? ""
            let generation = state.events.generation
            return await api(request, context) { db, call in
                let group = call.query["group"], from = try call.instant("from"), to = try call.instant("to"), zone = try call.zone
                let key = ConflictCache.Key(login: login, group: group, from: from, to: to, zone: zone.identifier)
                let conflicts = try state.conflicts.conflicts(key, generation: generation) {
                    try ScheduleStore(db, deadlineZone: zone).conflicts(group: group, from: from, to: to)
                }
                return .json(try ScheduleViews.conflictsJSON(db, conflicts: conflicts, group: group).document)
            }
        }
        router.get("/api/proposals") { request, context in
            await api(request, context) { db, call in
                let all: Bool
                switch call.query.values["all"] {
                case nil, "false": all = false
                case "true": all = true
                case let other?: throw Failure(.usage, "all: expected true or false, got \"\(other)\"")
                }
                return .json(PlanViews.proposals(try ScheduleStore(db, deadlineZone: try call.zone)
                    .proposals(group: call.query["group"], status: all ? nil : "pending")).json)
            }
        }
        router.post("/api/proposals/:id/accept") { request, context in
            await api(request, context, write: true) { db, call in
                try Self.decide(db, call, accept: true, reason: nil)
            }
        }
        router.post("/api/proposals/:id/reject") { request, context in
            await api(request, context, write: true) { db, call in
                try Self.decide(db, call, accept: false, reason: try call.decode(RejectBody.self).reason)
            }
        }
        router.post("/api/schedule/resolve") { request, context in
            await api(request, context, write: true) { db, call in
                let body = try call.decode(ResolveBody.self)
                let budget = body.budget_ms.map { Double($0) / 1000 } ?? 2
                guard budget > 0, budget <= 30 else { throw Failure(.usage, "\"budget_ms\" must be between 1 and 30000") }
                let run = try ResolveConflicts(apply: body.apply ?? false, group: body.group, budgetSeconds: budget, zone: try call.zone)
                    .run(in: DatabaseSession(db))
                return .json(run.json)
            }
        }
        router.post("/api/import") { request, context in
            await api(request, context, write: true, bodyLimit: Self.importLimit) { db, call in try Self.importCSV(db, call) }
        }
        router.get("/calendar/:file") { request, context in
            let raw = context.parameters.get("file") ?? ""
            let file = raw.removingPercentEncoding ?? raw
            guard file.hasSuffix(".ics"), file.count > 4 else {
                return Reply.problem(.notFound, "not-found", "calendars are /calendar/GROUP.ics and /calendar/all.ics").response(secure: secure)
            }
            let group = String(file.dropLast(4))
            return await api(request, context) { db, call in
                Reply(status: .ok, contentType: "text/calendar; charset=utf-8",
                      body: try LiveReport.calendar(db, group: group == "all" ? nil : group, zone: try call.zone,
                                                    from: try call.instant("from"), to: try call.instant("to")))
            }
        }
        router.get("/events") { request, context in await events(request, context) }
        Pages(routes: self).add(to: router)
    }

    /// `relplan release create`: every problem with the body is listed at once (422); ownership and
    /// existence are the CLI's checks and words (403, 404, 409).
    static func createRelease(_ db: Connection, _ call: Call) throws -> Reply {
        let body = try call.decode(CreateReleaseBody.self)
        var problems: [String] = []
        func check<T>(_ field: String, _ make: () throws -> T) -> T? {
            do { return try make() } catch let failure as Failure { problems.append(failure.message) } catch { problems.append("\(field): \(error)") }
            return nil
        }
        let ref = check("code") { () throws -> ReleaseRef in
            do { return try ReleaseRef(parsing: "\(body.group)/\(body.code)") } catch { throw Failure(.invalid, "group/code: \(error)") }
        }
        if body.plan.isEmpty { problems.append("plan: the release needs a plan") }
        let title = check("title") { try TextRules.checked(body.title ?? "", as: .title) } ?? ""
        let priority = check("priority") { try Priority(body.priority ?? 3) }
        var deploy: (Date, Date)?
        switch (body.deploy_start, body.deploy_end) {
        case let (start?, end?):
            let s = check("deploy_start") { try call.instant(start, name: "deploy_start", kind: .invalid) }
            let e = check("deploy_end") { try call.instant(end, name: "deploy_end", kind: .invalid) }
            if let s, let e {
                if e <= s { problems.append("deploy_end must be after deploy_start") } else { deploy = (s, e) }
            }
        case (nil, nil): break
        default: problems.append("give both deploy_start and deploy_end, or neither")
        }
        let deadline = body.deadline.flatMap { text in
            check("deadline") { () throws -> CalendarDay in
                var parser = try TimestampParser(timeZone: try call.zone)
                do { return try parser.day(from: text) } catch { throw Failure(.invalid, "deadline: \(error) — expected a date like 2027-03-31") }
            }
        }
        let dependsOn = (body.depends_on ?? []).compactMap { text in
            check("depends_on") { () throws -> ReleaseRef in
                do { return try ReleaseRef(parsing: text) } catch { throw Failure(.invalid, "depends_on: \(error)") }
            }
        }
        guard problems.isEmpty, let ref, let priority else {
            return .problem(.unprocessableContent, "invalid", problems.count == 1 ? problems[0] : "\(problems.count) problems; nothing was created",
                            errors: problems)
        }
        let new = NewRelease(ref: ref, plan: body.plan, title: title, window: body.window.flatMap { $0.isEmpty ? nil : $0 }, deploy: deploy,
                             priority: priority, deadline: deadline, dependsOn: dependsOn)
        let warnings = try CreateRelease(new).run(in: DatabaseSession(db))
        var reply = Reply.json(.object([("release", ReleaseView.json(try Releases(db).show(ref))), ("warnings", .strings(warnings))]), status: .created)
        reply.headers.append(("Location", "/api/releases/\(PlanPages.segment(ref.group))/\(PlanPages.segment(ref.code))"))
        return reply
    }

    /// The largest CSV an import takes over HTTP (the CLI reads files of any size).
    static let importLimit = 64 << 20

    /// `relplan import - --format json [--dry-run] [--group G] [--on-error skip]`: the same importer, checks and messages.
    static func importCSV(_ db: Connection, _ call: Call) throws -> Reply {
        switch try runImport(db, call) {
        case .done(let output): return .json(output.json())
        case .refused(let detail, let errors): return .problem(.unprocessableContent, "invalid", detail, errors: errors)
        }
    }

    /// What an import did (or a dry run would do), or why nothing was imported with every problem listed.
    enum ImportAnswer {
        case done(ImportOutput)
        case refused(detail: String, errors: [String])
    }

    /// The import as the API and the import page run it.
    static func runImport(_ db: Connection, _ call: Call) throws -> ImportAnswer {
        let zone = try call.zone
        var options = ImportOptions(defaultGroup: call.query["group"], timeZone: zone, progressInterval: 25_000)
        switch call.query["delimiter"] {
        case nil: break
        case ",": options.delimiter = UInt8(ascii: ",")
        case ";": options.delimiter = UInt8(ascii: ";")
        case "tab": options.delimiter = 0x09
        case let other?: throw Failure(.usage, "delimiter: expected , or ; (or tab), got \"\(other)\"")
        }
        let mode: ImportErrorMode
        switch call.query["on_error"] ?? "abort" {
        case "abort": mode = .abort
        case "skip": mode = .skip
        case let other: throw Failure(.usage, "on_error: expected abort or skip, got \"\(other)\"")
        }
        let dryRun: Bool
        switch call.query["dry_run"] ?? "false" {
        case "true", "1": dryRun = true
        case "false", "0": dryRun = false
        case let other: throw Failure(.usage, "dry_run: expected true or false, got \"\(other)\"")
        }
        guard !call.data.isEmpty else { throw Failure(.usage, "the body is empty: send the CSV file as text/csv") }
        let input = try ImportInput(bytes: call.data, displayName: "upload.csv")
        defer { input.cleanUp() }
        var importer = Importer(db: db, identity: try Identity.current(db), input: input, options: options, mode: mode, dryRun: dryRun,
                                rejectsPath: nil, zone: zone)
        importer.showsProgress = false
        do {
            return .done(ImportOutput(outcome: try importer.run(), zone: zone))
        } catch let failure as ImportFailure {
            return Self.importRefused(failure.issues, omitted: 0, input)
        } catch let rejection as ImportRejection {
            return Self.importRefused(rejection.issues, omitted: rejection.omitted, input)
        }
    }

    /// 422 with every problem, as `relplan import` lists them on stderr.
    static func importRefused(_ issues: [ImportIssue], omitted: Int, _ input: ImportInput) -> ImportAnswer {
        .refused(detail: ImportOutput.refusal(issues, omitted: omitted, file: input.displayName),
                 errors: ImportOutput.problemLines(issues, omitted: omitted, rename: input.rename))
    }

    /// Accept or reject as the CLI does (`schedule accept`/`reject`), the outcome as JSON.
    static func decide(_ db: Connection, _ call: Call, accept: Bool, reason: String?) throws -> Reply {
        let id = try call.proposalID()
        let me = try Identity.current(db)
        let store = ScheduleStore(db, deadlineZone: try call.zone)
        let outcome: DecisionOutcome
        if accept {
            outcome = try store.accept(id, by: me)
        } else {
            let checked: String
            do { checked = try TextRules.checked(reason ?? "", as: .reason) } catch { throw Failure(.usage, "reason: \(error)") }
            outcome = try store.reject(id, reason: checked, by: me)
        }
        if let refusal = ScheduleViews.refusal(outcome, id: id, wanted: accept ? "accepted" : "rejected") { throw refusal }
        return .json(ScheduleViews.decisionJSON(outcome))
    }

    func healthz() async -> Response {
        let conninfo = state.settings.conninfo
        let logger = state.logger
        do {
            // Reachable at all: a connection attempt that PostgreSQL answers, even with "no such role", counts.
            let reachable: Bool = try await state.threads.runIfActive {
                do {
                    let connection = try Connection(conninfo: conninfo, applicationName: "relplan serve (health)", logger: logger)
                    connection.close()
                    return true
                } catch let error as PostgresError where PersonPools.isAuthenticationFailure(error) {
                    return true
                }
            }
            let listening = state.events.listening.load(ordering: .relaxed)
            return Reply.json(.object([("status", .string(reachable ? "ok" : "down")), ("database", .string("reachable")),
                                       ("listening", .bool(listening))])).response(secure: secure)
        } catch {
            return Reply.problem(.serviceUnavailable, "unavailable", "PostgreSQL is not reachable: \(Failure.classify(error)?.message ?? "\(error)")",
                                 headers: [("Retry-After", "5")]).response(secure: secure)
        }
    }

    // MARK: Authentication

    /// HTTP Basic first, else the session cookie; nil when neither (or an expired session).
    func caller(_ request: Request) -> Caller? {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("basic ") {
            let encoded = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
            guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
                  let colon = text.firstIndex(of: ":") else { return nil }
            let login = String(text[..<colon])
            guard !login.isEmpty else { return nil }
            return .basic(login: login, password: String(text[text.index(after: colon)...]))
        }
        if let id = request.cookies[Self.sessionCookie]?.value, let session = state.sessions.touch(id) {
            return .session(session)
        }
        return nil
    }

    /// Runs `body` as the caller, on one of their connections, off the event loops; every failure
    /// becomes problem+json with the CLI's words.
    func api(_ request: Request, _ context: BasicRequestContext, write: Bool = false, bodyLimit: Int = 1 << 16,
             _ body: @escaping @Sendable (Connection, Call) throws -> Reply) async -> Response {
        guard let caller = caller(request) else { return Reply.unauthorized.response(secure: secure) }
        var request = request
        if write {
            if let session = caller.session {
                guard let token = request.headers[HTTPField.Name("X-CSRF-Token")!], Token.equal(token, session.csrf) else {
                    return Reply.problem(.forbidden, "csrf", "a request with the session cookie needs the X-CSRF-Token header of the session")
                        .response(secure: secure)
                }
            }
            // A cross-site form cannot send these types, so a browser's cached Basic credentials cannot be replayed.
            let type = request.headers[.contentType]?.lowercased() ?? ""
            let accepted = bodyLimit > 1 << 16 ? ["text/csv"] : ["application/json"]
            if !accepted.contains(where: type.hasPrefix) {
                return Reply.problem(.unsupportedMediaType, "usage", "send the body as \(accepted.joined(separator: " or "))").response(secure: secure)
            }
        }
        let data: Data
        do {
            let buffer = try await request.collectBody(upTo: bodyLimit)
            data = Data(buffer.readableBytesView)
        } catch {
            return Reply.problem(.contentTooLarge, "usage", "the body is larger than \(bodyLimit) bytes").response(secure: secure)
        }
        var path: [String: String] = [:]
        // Path segments arrive percent-encoded (LÖN is L%C3%96N): decoded, as the query's values are.
        for name in ["group", "code", "id", "file"] { if let value = context.parameters.get(name) { path[name] = value.removingPercentEncoding ?? value } }
        let query = Parameters(request.uri.query)
        // No code, zone or date holds a control character; PostgreSQL would refuse a NUL anyway.
        if let bad = (query.values.map { ($0.key, $0.value) } + path.map { ($0.key, $0.value) })
            .first(where: { $0.1.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) } }) {
            return Reply.problem(.badRequest, "usage", "\(bad.0): control characters are not allowed").response(secure: secure)
        }
        let call = Call(query: query, data: data, path: path)
        let reply = await run(as: caller, call, body)
        if write { state.events.noteChange() }
        return reply.response(secure: secure)
    }

    /// The body as the caller, with failed sign-ins counted and slowed down.
    func run(as caller: Caller, _ call: Call, _ body: @escaping @Sendable (Connection, Call) throws -> Reply) async -> Reply {
        let login = caller.login
        if caller.password != nil {
            let delay = state.throttle.delay(for: login)
            if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }
        }
        do {
            let reply = try await state.pools.withConnection(login, password: caller.password) { db in
                do { return try body(db, call) } catch { throw error }
            }
            if caller.password != nil { state.throttle.succeeded(login) }
            return reply
        } catch SignInError.refused {
            state.throttle.failed(login)
            state.logger.notice("refused sign-in", metadata: ["login": "\(login)"])
            return .unauthorized
        } catch SignInError.sessionLost {
            if let session = caller.session { _ = state.sessions.remove(session.id) }
            return .unauthorized
        } catch {
            if let failure = Failure.classify(error) { return .failure(failure) }
            state.logger.error("request failed: \(error)")
            return .problem(.internalServerError, "internal", "internal error; the server's log has the details")
        }
    }

    // MARK: Live

    /// Server-Sent Events: `event: change` whenever the plan changed (sql/0020); the page re-fetches.
    func events(_ request: Request, _ context: BasicRequestContext) async -> Response {
        guard let caller = caller(request) else { return Reply.unauthorized.response(secure: secure) }
        // The person must be who they say: one round trip as them before the stream opens.
        let check = await run(as: caller, Call(query: Parameters(nil), body: "", path: [:])) { db, _ in
            _ = try db.query("SELECT 1")
            return Reply(status: .ok, contentType: "text/plain", body: "")
        }
        guard check.status == .ok else { return check.response(secure: secure) }
        let events = state.events
        var fields = HTTPFields()
        fields[.contentType] = "text/event-stream; charset=utf-8"
        SecurityHeaders.apply(&fields, secure: secure)
        return Response(status: .ok, headers: fields, body: ResponseBody { writer in
            let (id, stream) = events.subscribe()
            try await withGracefulShutdownHandler {
                for await frame in stream {
                    try await writer.write(ByteBuffer(string: frame))
                }
            } onGracefulShutdown: {
                events.unsubscribe(id)
            }
            events.unsubscribe(id)
            try await writer.finish(nil)
        })
    }
}

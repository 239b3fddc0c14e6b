import Foundation
import Postgres
import Testing
import TestSupport

/// `relplan serve` as a separate process against a real PostgreSQL, called as several people.
@Suite("The server's API, pages and feeds", .serialized)
struct ServerAPITests {
    /// CRM (alice plans, carol is a member) and HR (bob plans); dave is in no group. Windows of
    /// capacity 1; CRM/R1 (pinned) and HR/PAY-7 share one, so alice's resolve proposes a move for HR.
    private func setUp() throws -> PlanningFixture {
        let f = try PlanningFixture.make()
        func ok(_ arguments: String..., as who: String = "admin") throws {
            let result = try f.run(who, arguments)
            #expect(result.status == 0, "\(arguments): \(result)")
        }
        try ok("group", "create", "CRM", "--name", "CRM förvaltning")
        try ok("group", "create", "HR", "--name", "HR")
        try ok("member", "add", "CRM", f.login("alice"), "--role", "release-manager")
        try ok("member", "add", "HR", f.login("bob"), "--role", "release-manager")
        try ok("member", "add", "CRM", f.login("carol"), "--role", "member")
        try ok("window", "generate", "--prefix", "SW", "--rrule", "FREQ=WEEKLY;BYDAY=SA", "--start-time", "22:00",
               "--duration", "4h", "--from", "2030-03-01", "--until", "2030-03-31", "--capacity", "1", "--tz", "Europe/Stockholm")
        try ok("plan", "create", "CRM", "CRM-2030", "--title", "CRM roadmap", as: "alice")
        try ok("plan", "create", "HR", "PAY", "--title", "Payroll", as: "bob")
        try ok("release", "create", "CRM", "R1", "--plan", "CRM-2030", "--window", "SW-2030-03-09", "--title", "Våren <script>alert(1)</script>", as: "alice")
        try ok("release", "pin", "CRM/R1", as: "alice")
        try ok("release", "create", "HR", "PAY-7", "--plan", "PAY", "--window", "SW-2030-03-09", "--title", "Lön", as: "bob")
        // Passwords, so that HTTP Basic and the form have something for PostgreSQL to check.
        let admin = try f.database.connect()
        for name in ["alice", "bob", "carol", "dave"] {
            // sql's scripts/dev-db: members of relplan_password_login sign in with SCRAM, not trust.
            try admin.execute("ALTER ROLE \"\(f.login(name))\" PASSWORD '\(Self.password(name))'", simple: true)
            try admin.execute("GRANT relplan_password_login TO \"\(f.login(name))\"", simple: true)
        }
        return f
    }

    /// The CLI as `name`, with the password PostgreSQL now asks for.
    @discardableResult
    private func cli(_ f: PlanningFixture, _ name: String, _ arguments: String...) throws -> CLIResult {
        try CLI.run(arguments, database: f.database, user: f.login(name), environment: ["PGPASSWORD": Self.password(name)])
    }

    static func password(_ name: String) -> String { "pw-\(name)-Åäö" }

    private func auth(_ f: PlanningFixture, _ name: String) -> [String: String] {
        ["Authorization": ServerProcess.basic(f.login(name), Self.password(name))]
    }

    private func json(_ f: PlanningFixture, _ name: String) -> [String: String] {
        auth(f, name).merging(["Content-Type": "application/json"]) { $1 }
    }

    @Test("each person sees the shared calendar; no credentials is 401 with WWW-Authenticate; health and the document need none")
    func reads() throws {
        let f = try setUp()
        defer { f.drop() }
        let server = try ServerProcess(database: f.database)
        defer { server.stop() }

        let anonymous = try server.request("GET", "/api/releases")
        #expect(anonymous.status == 401, "\(anonymous)")
        #expect(anonymous.header("WWW-Authenticate")?.hasPrefix("Basic realm=\"relplan\"") == true)
        #expect(anonymous.header("Content-Type") == "application/problem+json")
        #expect(try server.request("GET", "/healthz").status == 200)
        let metrics = try server.request("GET", "/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("relplan_http_requests_total{status=\"4xx\"}")
                && metrics.body.contains("relplan_listening 1"), "\(metrics)")
        let document = try server.request("GET", "/openapi.yaml")
        #expect(document.status == 200 && document.body.hasPrefix("openapi: 3.1"), "\(document.status)")

        for name in ["alice", "bob", "carol", "dave"] {
            let list = try server.request("GET", "/api/releases", headers: auth(f, name))
            #expect(list.status == 200, "\(name): \(list)")
            let releases = (list.json?["releases"] as? [[String: Any]])?.compactMap { "\($0["group"] ?? "")/\($0["code"] ?? "")" }
            #expect(releases == ["CRM/R1", "HR/PAY-7"], "\(name): \(list.body)")
            // The body is the CLI's --format json, byte for byte.
            let listed = try cli(f, name, "release", "list", "--format", "json")
            #expect(list.body == listed.stdout, "\(name)")
        }
        let filtered = try server.request("GET", "/api/releases?group=HR&status=planned&from=2030-03-01&to=2030-04-01", headers: auth(f, "carol"))
        #expect((filtered.json?["releases"] as? [[String: Any]])?.count == 1, "\(filtered)")
        let badStatus = try server.request("GET", "/api/releases?status=nonsense", headers: auth(f, "carol"))
        #expect(badStatus.status == 400, "\(badStatus)")

        let one = try server.request("GET", "/api/releases/CRM/R1", headers: auth(f, "bob"))
        let shown = try cli(f, "bob", "release", "show", "CRM/R1", "--format", "json").stdout
        #expect(one.status == 200 && one.body == shown, "\(one)")
        let unknown = try server.request("GET", "/api/releases/CRM/NOPE", headers: auth(f, "bob"))
        #expect(unknown.status == 404 && (unknown.json?["detail"] as? String)?.contains("unknown release") == true, "\(unknown)")

        let windows = try server.request("GET", "/api/windows", headers: auth(f, "dave"))
        #expect((windows.json?["windows"] as? [[String: Any]])?.count == 5, "\(windows)")
        let conflicts = try server.request("GET", "/api/conflicts", headers: auth(f, "dave"))
        let types = (conflicts.json?["conflicts"] as? [[String: Any]])?.compactMap { $0["type"] as? String }
        #expect(types?.contains("window-capacity") == true, "\(conflicts)")

        let calendar = try server.request("GET", "/calendar/all.ics?to=2030-04-01", headers: auth(f, "dave"))
        #expect(calendar.status == 200 && calendar.header("Content-Type")?.hasPrefix("text/calendar") == true, "\(calendar)")
        #expect(calendar.body.hasPrefix("BEGIN:VCALENDAR") && calendar.body.contains("SW-2030-03-09"), "\(calendar.body.prefix(400))")
        let crm = try server.request("GET", "/calendar/CRM.ics?to=2030-04-01", headers: auth(f, "bob"))
        #expect(crm.status == 200 && crm.body.contains("CRM/R1"), "\(crm.body.prefix(300))")
        #expect(try server.request("GET", "/calendar/NOPE.ics", headers: auth(f, "bob")).status == 404)
        #expect(try server.request("GET", "/calendar/all.ics").status == 401)
        // The nightly job's calendar has the same events.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-serve-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(try cli(f, "reporter", "report", "nightly", "--out", out.path, "--horizon", "2000d").status == 0)
        let nightly = try String(contentsOf: out.appendingPathComponent("calendar.ics"), encoding: .utf8)
        func uids(_ text: String) -> Set<String> { Set(text.components(separatedBy: "\r\n").filter { $0.hasPrefix("UID:") }) }
        #expect(uids(nightly) == uids(calendar.body) && !uids(nightly).isEmpty)

        // Swedish codes in the path, percent-encoded as browsers and curl send them.
        #expect(try f.run("admin", ["group", "create", "LÖN", "--name", "Lön och personal"]).status == 0)
        #expect(try f.run("admin", ["member", "add", "LÖN", f.login("bob"), "--role", "release-manager"]).status == 0)
        #expect(try cli(f, "bob", "plan", "create", "LÖN", "ÅR", "--title", "Årsskiftet").status == 0)
        #expect(try cli(f, "bob", "release", "create", "LÖN", "Årsskifte", "--plan", "ÅR").status == 0)
        let swedish = try server.request("GET", "/api/releases/L%C3%96N/%C3%85rsskifte", headers: auth(f, "dave"))
        let shownSwedish = try cli(f, "dave", "release", "show", "LÖN/Årsskifte", "--format", "json").stdout
        #expect(swedish.status == 200 && swedish.body == shownSwedish, "\(swedish)")
        let lön = try server.request("GET", "/calendar/L%C3%96N.ics", headers: auth(f, "bob"))
        #expect(lön.status == 200 && lön.body.hasPrefix("BEGIN:VCALENDAR"), "\(lön)")
    }

    @Test("writes follow ownership as the CLI's (403, the same words); a stale write is 409; proposals by their owners only")
    func writes() throws {
        let f = try setUp()
        defer { f.drop() }
        let server = try ServerProcess(database: f.database)
        defer { server.stop() }

        // alice may not move HR's release: the CLI's words.
        let cliMove = try cli(f, "alice", "release", "move", "HR/PAY-7", "--window", "SW-2030-03-16")
        #expect(cliMove.status == 77, "\(cliMove)")
        let refused = try server.request("POST", "/api/releases/HR/PAY-7/move", headers: json(f, "alice"), body: #"{"window": "SW-2030-03-16"}"#)
        #expect(refused.status == 403, "\(refused)")
        #expect("relplan: \(refused.json?["detail"] as? String ?? "")\n" == cliMove.stderr, "\(refused.body) vs \(cliMove.stderr)")
        let member = try server.request("POST", "/api/releases/CRM/R1/move", headers: json(f, "carol"), body: #"{"window": "SW-2030-03-16"}"#)
        #expect(member.status == 403, "\(member)")

        // bob moves his own; a second move with the version he saw before is stale.
        let version = try server.request("GET", "/api/releases/HR/PAY-7", headers: auth(f, "bob")).json?["version"] as? Int
        let moved = try server.request("POST", "/api/releases/HR/PAY-7/move", headers: json(f, "bob"),
                                       body: #"{"window": "SW-2030-03-16", "if_version": \#(version ?? 0)}"#)
        #expect(moved.status == 200, "\(moved)")
        #expect((moved.json?["release"] as? [String: Any])?["window"] as? String == "SW-2030-03-16")
        let stale = try server.request("POST", "/api/releases/HR/PAY-7/move", headers: json(f, "bob"),
                                       body: #"{"window": "SW-2030-03-23", "if_version": \#(version ?? 0)}"#)
        #expect(stale.status == 409 && stale.header("Content-Type") == "application/problem+json", "\(stale)")
        let missing = try server.request("POST", "/api/releases/HR/PAY-7/move", headers: json(f, "bob"), body: #"{}"#)
        #expect(missing.status == 400, "\(missing)")
        let notJSON = try server.request("POST", "/api/releases/HR/PAY-7/move", headers: auth(f, "bob").merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 },
                                         body: "window=SW-2030-03-23")
        #expect(notJSON.status == 415, "\(notJSON)")
        let unknownWindow = try server.request("POST", "/api/releases/HR/PAY-7/move", headers: json(f, "bob"), body: #"{"window": "SW-1999"}"#)
        #expect(unknownWindow.status == 404, "\(unknownWindow)")

        // Back into alice's window, then alice resolves: HR's release becomes a proposal for HR.
        #expect(try server.request("POST", "/api/releases/HR/PAY-7/move", headers: json(f, "bob"), body: #"{"window": "SW-2030-03-09"}"#).status == 200)
        let preview = try server.request("POST", "/api/schedule/resolve", headers: json(f, "alice"), body: #"{"apply": false}"#)
        #expect(preview.status == 200, "\(preview)")
        let applied = try server.request("POST", "/api/schedule/resolve", headers: json(f, "alice"), body: #"{"apply": true}"#)
        #expect(applied.status == 200, "\(applied)")
        let proposals = try server.request("GET", "/api/proposals", headers: auth(f, "carol"))
        let list = proposals.json?["proposals"] as? [[String: Any]] ?? []
        #expect(list.count == 1 && list.first?["release"] as? String == "HR/PAY-7", "\(proposals)")
        let cliProposals = try cli(f, "carol", "schedule", "proposals", "--format", "json").stdout
        #expect(proposals.body == cliProposals)
        let id = list.first?["id"] as? Int ?? 0

        let cliAccept = try cli(f, "alice", "schedule", "accept", String(id))
        #expect(cliAccept.status == 77, "\(cliAccept)")
        let notOwner = try server.request("POST", "/api/proposals/\(id)/accept", headers: json(f, "alice"), body: "{}")
        #expect(notOwner.status == 403 && "relplan: \(notOwner.json?["detail"] as? String ?? "")\n" == cliAccept.stderr, "\(notOwner) vs \(cliAccept)")
        let accepted = try server.request("POST", "/api/proposals/\(id)/accept", headers: json(f, "bob"), body: "{}")
        #expect(accepted.status == 200 && accepted.json?["status"] as? String == "accepted", "\(accepted)")
        // Accepting again changes nothing and says so; rejecting what was accepted is a conflict.
        let again = try server.request("POST", "/api/proposals/\(id)/accept", headers: json(f, "bob"), body: "{}")
        #expect(again.status == 200 && again.json?["detail"] as? String == "proposal \(id) is accepted already", "\(again)")
        let rejectDecided = try server.request("POST", "/api/proposals/\(id)/reject", headers: json(f, "bob"), body: #"{"reason": "no"}"#)
        #expect(rejectDecided.status == 409, "\(rejectDecided)")
        #expect(try server.request("POST", "/api/proposals/999999/accept", headers: json(f, "bob"), body: "{}").status == 404)
        #expect(try server.request("POST", "/api/proposals/abc/accept", headers: json(f, "bob"), body: "{}").status == 404)
    }

    @Test("sign-in by form: session cookie flags, CSRF on every POST, sign-out invalidates; wrong passwords are 401 and slowed down")
    func sessions() throws {
        let f = try setUp()
        defer { f.drop() }
        let server = try ServerProcess(database: f.database)
        defer { server.stop() }

        let form = try server.request("GET", "/login")
        #expect(form.status == 200 && form.body.contains("<form method=\"post\" action=\"/login\">"), "\(form)")
        #expect(form.header("Content-Security-Policy")?.contains("frame-ancestors 'none'") == true)
        #expect(form.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
        #expect(form.header("X-Content-Type-Options") == "nosniff")
        #expect(!form.body.contains("<script>"), "no inline script")
        func loginToken(_ reply: HTTPReply) -> (cookie: String, token: String) {
            let cookie = reply.cookie("relplan_login")?.split(separator: ";").first.map(String.init) ?? ""
            let token = cookie.split(separator: "=", maxSplits: 1).last.map(String.init) ?? ""
            return (cookie, token)
        }
        func formBody(_ pairs: [(String, String)]) -> String {
            pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        }
        let formHeaders = ["Content-Type": "application/x-www-form-urlencoded"]

        // No token: refused.
        let forged = try server.request("POST", "/login", headers: formHeaders,
                                        body: formBody([("login", f.login("alice")), ("password", Self.password("alice"))]))
        #expect(forged.status == 403, "\(forged)")

        let (loginCookie, loginCSRF) = loginToken(form)
        let signedIn = try server.request("POST", "/login", headers: formHeaders.merging(["Cookie": loginCookie]) { $1 },
                                          body: formBody([("_csrf", loginCSRF), ("login", f.login("alice")), ("password", Self.password("alice"))]))
        #expect(signedIn.status == 303 && signedIn.header("Location") == "/", "\(signedIn)")
        let setCookie = signedIn.cookie("relplan_session") ?? ""
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && !setCookie.contains("Secure"), "\(setCookie)")
        let session = setCookie.split(separator: ";").first.map(String.init) ?? ""
        #expect(session.count > "relplan_session=".count + 40, "a long random id: \(session)")

        // The calendar page: the report's timeline, the proposals, live.js, the title as text.
        let page = try server.request("GET", "/?from=2030-03-01&to=2030-04-01", headers: ["Cookie": session])
        #expect(page.status == 200 && page.body.contains("<svg"), "\(page.status)")
        #expect(page.body.contains("Våren &lt;script&gt;") && !page.body.contains("<script>alert"), "a title with <script> is text")
        #expect(page.body.contains("<script src=\"/static/live.js\" defer></script>"))
        #expect(!page.body.contains("<h2>Pending proposals</h2>") && page.body.components(separatedBy: "id=\"proposals\"").count == 2,
                "one list of proposals, the one with the buttons, where the report had its own")
        let csrf = page.body.components(separatedBy: "name=\"_csrf\" value=\"").dropFirst().first?.split(separator: "\"").first.map(String.init) ?? ""
        #expect(!csrf.isEmpty)
        #expect(try server.request("GET", "/static/live.js").body.contains("EventSource"))

        // With the session cookie, an API write needs the session's CSRF header.
        let noHeader = try server.request("POST", "/api/releases/CRM/R1/move", headers: ["Cookie": session, "Content-Type": "application/json"],
                                          body: #"{"window": "SW-2030-03-16"}"#)
        #expect(noHeader.status == 403 && noHeader.json?["type"] as? String == "/problems/csrf", "\(noHeader)")
        let withHeader = try server.request("POST", "/api/releases/CRM/R1/move",
                                            headers: ["Cookie": session, "Content-Type": "application/json", "X-CSRF-Token": csrf],
                                            body: #"{"window": "SW-2030-03-09"}"#)
        #expect(withHeader.status == 200, "\(withHeader)")
        // A form POST without the token (a forged accept) is refused.
        let forgedAccept = try server.request("POST", "/proposals/1/accept", headers: formHeaders.merging(["Cookie": session]) { $1 }, body: "")
        #expect(forgedAccept.status == 403, "\(forgedAccept.status)")
        #expect(try server.request("GET", "/api/windows", headers: ["Cookie": session]).status == 200)

        // Sign-out ends the session: the same cookie is now nobody's.
        let out = try server.request("POST", "/logout", headers: formHeaders.merging(["Cookie": session]) { $1 }, body: formBody([("_csrf", csrf)]))
        #expect(out.status == 303 && out.header("Location") == "/login", "\(out)")
        #expect(try server.request("GET", "/api/windows", headers: ["Cookie": session]).status == 401)
        let afterOut = try server.request("GET", "/", headers: ["Cookie": session])
        #expect(afterOut.status == 303 && afterOut.header("Location") == "/login")

        // Wrong passwords: 401, and after a few each attempt waits.
        let wrong = ["Authorization": ServerProcess.basic(f.login("dave"), "wrong")]
        var times: [TimeInterval] = []
        for _ in 0..<5 {
            let started = Date()
            let reply = try server.request("GET", "/api/windows", headers: wrong)
            times.append(Date().timeIntervalSince(started))
            #expect(reply.status == 401, "\(reply)")
        }
        #expect(times[0] < 1 && times[4] >= 1.5, "\(times)")
        #expect(!server.log.contains("wrong") && !server.log.contains(Self.password("alice")), "no password in the log")
        #expect(try server.request("GET", "/api/windows", headers: auth(f, "carol")).status == 200, "another login is not slowed")
    }

    @Test("an import over HTTP: the dry run previews and writes nothing, bad data is 422 listing every problem as the CLI does")
    func importCSV() throws {
        let f = try setUp()
        defer { f.drop() }
        let server = try ServerProcess(database: f.database)
        defer { server.stop() }
        let csv = "group,plan,release,release_title,window\nCRM,CRM-2030,R9,Nästa,SW-2030-03-16\n"
        let headers = auth(f, "alice").merging(["Content-Type": "text/csv"]) { $1 }
        let dry = try server.request("POST", "/api/import?dry_run=true", headers: headers, body: csv)
        #expect(dry.status == 200 && dry.json?["dry_run"] as? Bool == true && dry.json?["created"] as? Int == 1, "\(dry)")
        #expect(try server.request("GET", "/api/releases/CRM/R9", headers: auth(f, "alice")).status == 404, "the dry run wrote nothing")
        let real = try server.request("POST", "/api/import", headers: headers, body: csv)
        #expect(real.status == 200 && real.json?["batch"] as? Int != nil, "\(real)")
        #expect(try server.request("GET", "/api/releases/CRM/R9", headers: auth(f, "alice")).status == 200)

        // Two problems, both listed, in the CLI's words (the file is named upload.csv here).
        let bad = "group,plan,release,window\nCRM,CRM-2030,R10,SW-1999\nHR,PAY,PAY-9,SW-2030-03-16\n"
        let refused = try server.request("POST", "/api/import", headers: headers, body: bad)
        #expect(refused.status == 422 && refused.header("Content-Type") == "application/problem+json", "\(refused)")
        let errors = refused.json?["errors"] as? [String] ?? []
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("upload.csv")
        try bad.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let cliImport = try CLI.run(["import", file.path], database: f.database, user: f.login("alice"),
                                    environment: ["PGPASSWORD": Self.password("alice")])
        #expect(cliImport.status == 65)
        let cliLines = cliImport.stderr.split(separator: "\n").map { $0.replacingOccurrences(of: file.path, with: "upload.csv") }
        #expect(errors.count == 2 && cliLines.dropLast() == errors[...], "\(errors) vs \(cliLines)")
        #expect(try server.request("POST", "/api/import", headers: json(f, "alice"), body: "{}").status == 415)
    }

    @Test("a change made through the CLI reaches an open /events stream as an event; SIGTERM stops the server gracefully")
    func live() throws {
        let f = try setUp()
        defer { f.drop() }
        let server = try ServerProcess(database: f.database)
        let connection = try RawConnection(port: server.port)
        connection.send("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(ServerProcess.basic(f.login("carol"), Self.password("carol")))\r\n\r\n")
        let opened = String(decoding: connection.read(deadline: Date().addingTimeInterval(10)) { String(decoding: $0, as: UTF8.self).contains("retry:") }, as: UTF8.self)
        #expect(opened.hasPrefix("HTTP/1.1 200") && opened.contains("text/event-stream"), "\(opened)")
        let started = Date()
        #expect(try cli(f, "bob", "release", "move", "HR/PAY-7", "--window", "SW-2030-03-16").status == 0)
        let event = String(decoding: connection.read(deadline: Date().addingTimeInterval(5)) { String(decoding: $0, as: UTF8.self).contains("event: change") }, as: UTF8.self)
        #expect(event.contains("event: change") && event.contains("release"), "\(event)")
        #expect(Date().timeIntervalSince(started) < 3, "within two seconds of the commit (and the CLI's own start)")
        #expect(try server.request("GET", "/events").status == 401)
        #expect(server.stop() == 0, "graceful shutdown with a stream open")
    }

    @Test("conflicts the server keeps between changes are never older than the plan: a move through the CLI, through psql and through the API each shows at once")
    func conflictsFollowChanges() throws {
        let f = try setUp()
        defer { f.drop() }
        let server = try ServerProcess(database: f.database)
        defer { server.stop() }
        func capacityConflicts(_ name: String) throws -> Int {
            let reply = try server.request("GET", "/api/conflicts", headers: auth(f, name))
            #expect(reply.status == 200, "\(reply)")
            return (reply.json?["conflicts"] as? [[String: Any]])?.filter { $0["type"] as? String == "window-capacity" }.count ?? -1
        }
        /// The plan-change notification reaches the server within milliseconds; two seconds is the live contract.
        func eventually(_ name: String, _ expected: Int) throws -> Int {
            let deadline = Date().addingTimeInterval(2)
            var seen = try capacityConflicts(name)
            while seen != expected && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
                seen = try capacityConflicts(name)
            }
            return seen
        }
        #expect(try capacityConflicts("alice") == 1)
        #expect(try capacityConflicts("alice") == 1, "asked again with nothing changed: the same answer")
        #expect(try capacityConflicts("carol") == 1)
        // Through psql, as an administrator: the cache hears of it through LISTEN/NOTIFY.
        let admin = try f.database.connect()
        try admin.execute("UPDATE service_window SET capacity = 2 WHERE code = 'SW-2030-03-09'", simple: true)
        #expect(try eventually("alice", 0) == 0)
        #expect(try eventually("carol", 0) == 0)
        try admin.execute("UPDATE service_window SET capacity = 1 WHERE code = 'SW-2030-03-09'", simple: true)
        #expect(try eventually("alice", 1) == 1)
        // Through the CLI, another process.
        #expect(try cli(f, "bob", "release", "move", "HR/PAY-7", "--window", "SW-2030-03-16").status == 0)
        #expect(try eventually("alice", 0) == 0)
        // Through this server: its author sees it in the very next answer, with no waiting at all.
        #expect(try capacityConflicts("bob") == 0)
        let moved = try server.request("POST", "/api/releases/HR/PAY-7/move", headers: json(f, "bob"), body: #"{"window": "SW-2030-03-09"}"#)
        #expect(moved.status == 200, "\(moved)")
        #expect(try capacityConflicts("bob") == 1)
    }

    @Test("environments, bookings and the audit trail as the CLI lists them; booking and advancing follow ownership (403, the CLI's words), taken is 409, bad times 422")
    func bookingsAndAdvance() throws {
        let f = try setUp()
        defer { f.drop() }
        #expect(try f.run("admin", ["env", "create", "TEST-INT", "--name", "Integrationstest", "--kind", "test", "--capacity", "1"]).status == 0)
        let server = try ServerProcess(database: f.database)
        defer { server.stop() }
        let start = "2030-03-04T08:00+01:00", end = "2030-03-06T17:00+01:00"
        func book(_ name: String, _ release: String, _ body: String) throws -> HTTPReply {
            try server.request("POST", "/api/releases/\(release)/book", headers: json(f, name), body: body)
        }
        let both = #"{"environment": "TEST-INT", "start": "\#(start)", "end": "\#(end)", "confirm": true}"#

        for path in ["/api/environments", "/api/bookings", "/api/audit"] {
            #expect(try server.request("GET", path).status == 401, "\(path)")
        }
        for path in ["/api/releases/CRM/R1/book", "/api/releases/CRM/R1/advance"] {
            let anonymous = try server.request("POST", path, headers: ["Content-Type": "application/json"], body: both)
            #expect(anonymous.status == 401 && anonymous.header("WWW-Authenticate") != nil, "\(path): \(anonymous)")
        }

        // Everyone sees the environments, byte for byte as `relplan env list --format json`.
        for name in ["alice", "dave"] {
            let environments = try server.request("GET", "/api/environments", headers: auth(f, name))
            let listed = try cli(f, name, "env", "list", "--format", "json").stdout
            #expect(environments.status == 200 && environments.body == listed, "\(environments)")
        }

        // alice may not book for HR, carol (a member) not even for CRM: the CLI's words.
        let cliRefused = try cli(f, "alice", "book", "HR/PAY-7", "TEST-INT", "--start", start, "--end", end, "--confirm")
        #expect(cliRefused.status == 77, "\(cliRefused)")
        let refused = try book("alice", "HR/PAY-7", both)
        #expect(refused.status == 403 && "relplan: \(refused.json?["detail"] as? String ?? "")\n" == cliRefused.stderr, "\(refused) vs \(cliRefused)")
        #expect(try book("carol", "CRM/R1", both).status == 403)

        // alice confirms TEST-INT for CRM/R1; bob confirming the same days is taken, in the CLI's words.
        let booked = try book("alice", "CRM/R1", both)
        let booking = booked.json?["booking"] as? [String: Any]
        #expect(booked.status == 200 && booking?["status"] as? String == "confirmed" && booking?["release"] as? String == "CRM/R1"
                && booking?["environment"] as? String == "TEST-INT", "\(booked)")
        let cliTaken = try cli(f, "bob", "book", "HR/PAY-7", "TEST-INT", "--start", start, "--end", end, "--confirm")
        #expect(cliTaken.status == 75 && cliTaken.stderr.contains("CRM/R1"), "\(cliTaken)")
        let taken = try book("bob", "HR/PAY-7", both)
        #expect(taken.status == 409 && taken.header("Content-Type") == "application/problem+json", "\(taken)")
        #expect("relplan: \(taken.json?["detail"] as? String ?? "")\n" == cliTaken.stderr, "\(taken.body) vs \(cliTaken.stderr)")
        // Tentatively is fine; bad times are bad data.
        let tentative = try book("bob", "HR/PAY-7", #"{"environment": "TEST-INT", "start": "\#(start)", "end": "\#(end)"}"#)
        #expect(tentative.status == 200 && (tentative.json?["booking"] as? [String: Any])?["status"] as? String == "tentative", "\(tentative)")
        let unreadable = try book("bob", "HR/PAY-7", #"{"environment": "TEST-INT", "start": "den fjärde", "end": "\#(end)"}"#)
        #expect(unreadable.status == 422 && (unreadable.json?["detail"] as? String)?.hasPrefix("start: expected a timestamp") == true, "\(unreadable)")
        let reversed = try book("bob", "HR/PAY-7", #"{"environment": "TEST-INT", "start": "\#(end)", "end": "\#(start)"}"#)
        #expect(reversed.status == 422, "\(reversed)")
        #expect(try book("bob", "HR/PAY-7", #"{"environment": "NOPE", "start": "\#(start)", "end": "\#(end)"}"#).status == 404)
        #expect(try book("bob", "HR/PAY-7", #"{"start": "\#(start)", "end": "\#(end)"}"#).status == 400)

        // Every person sees both bookings; by environment, and an unknown one is 404.
        let bookings = try server.request("GET", "/api/bookings?environment=TEST-INT", headers: auth(f, "dave"))
        let rows = (bookings.json?["bookings"] as? [[String: Any]])?.map { "\($0["release"] ?? "") \($0["status"] ?? "")" }
        #expect(bookings.status == 200 && rows == ["CRM/R1 confirmed", "HR/PAY-7 tentative"], "\(bookings)")
        #expect(try server.request("GET", "/api/bookings?environment=NOPE", headers: auth(f, "dave")).status == 404)
        let shown = try cli(f, "carol", "release", "show", "CRM/R1", "--format", "json").stdout
        let shownBookings = (try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: Any])?["bookings"] as? [[String: Any]]
        #expect(shownBookings?.first?["start"] as? String == booking?["start"] as? String && shownBookings?.count == 1, "\(shown)")

        // Advancing: HR's release is bob's, not alice's (the CLI's words); a skipped step is 422; a stale version 409.
        let cliAdvance = try cli(f, "alice", "release", "advance", "HR/PAY-7")
        #expect(cliAdvance.status == 77, "\(cliAdvance)")
        let notOwner = try server.request("POST", "/api/releases/HR/PAY-7/advance", headers: json(f, "alice"), body: "{}")
        #expect(notOwner.status == 403 && "relplan: \(notOwner.json?["detail"] as? String ?? "")\n" == cliAdvance.stderr, "\(notOwner) vs \(cliAdvance)")
        let version = try server.request("GET", "/api/releases/HR/PAY-7", headers: auth(f, "bob")).json?["version"] as? Int
        let advanced = try server.request("POST", "/api/releases/HR/PAY-7/advance", headers: json(f, "bob"), body: #"{"if_version": \#(version ?? 0)}"#)
        #expect(advanced.status == 200 && advanced.json?["from"] as? String == "planned" && advanced.json?["to"] as? String == "building"
                && (advanced.json?["release"] as? [String: Any])?["status"] as? String == "building", "\(advanced)")
        let stale = try server.request("POST", "/api/releases/HR/PAY-7/advance", headers: json(f, "bob"), body: #"{"if_version": \#(version ?? 0)}"#)
        #expect(stale.status == 409, "\(stale)")
        let cliSkip = try cli(f, "bob", "release", "advance", "HR/PAY-7", "--to", "closed")
        #expect(cliSkip.status == 65, "\(cliSkip)")
        let skip = try server.request("POST", "/api/releases/HR/PAY-7/advance", headers: json(f, "bob"), body: #"{"to": "closed"}"#)
        #expect(skip.status == 422 && "relplan: \(skip.json?["detail"] as? String ?? "")\n" == cliSkip.stderr, "\(skip) vs \(cliSkip)")
        #expect(try server.request("POST", "/api/releases/HR/PAY-7/advance", headers: json(f, "bob"), body: #"{"to": "nonsense"}"#).status == 400)

        // The audit trail, byte for byte as `relplan audit --format json`, with the same filters.
        for query in ["release=HR/PAY-7", "group=CRM&limit=3", "since=2000-01-01"] {
            let arguments = query.split(separator: "&").flatMap { pair -> [String] in
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                return ["--\(parts[0])", parts[1]]
            }
            let audit = try server.request("GET", "/api/audit?\(query)", headers: auth(f, "bob"))
            let listed = try CLI.run(["audit", "--format", "json"] + arguments, database: f.database, user: f.login("bob"),
                                     environment: ["PGPASSWORD": Self.password("bob")])
            #expect(audit.status == 200 && audit.body == listed.stdout && !((audit.json?["entries"] as? [Any]) ?? []).isEmpty,
                    "\(query): \(audit.body.prefix(600)) vs \(listed)")
        }
        #expect(try server.request("GET", "/api/audit?limit=0", headers: auth(f, "bob")).status == 400)
        #expect(try server.request("GET", "/api/audit?group=NOPE", headers: auth(f, "bob")).status == 404)
    }
}

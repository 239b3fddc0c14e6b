import Foundation
import Postgres
import Testing
import TestSupport

/// The release, window, conflicts and import pages, and the API's create and confirm, as several
/// people of two Swedish groups: EKONOMI (alice plans, carol views) and LÖN (bob plans); dave is in none.
@Suite("The server's plan pages and the writes they lead to", .serialized)
struct ServerPageTests {
    static let release = "EKONOMI/Årsbokslut"
    static let releasePath = "/releases/EKONOMI/%C3%85rsbokslut"
    static let window = "SW-2030-03-09"

    private func setUp() throws -> PlanningFixture {
        let f = try PlanningFixture.make()
        func ok(_ arguments: String..., as who: String = "admin") throws {
            let result = try f.run(who, arguments)
            #expect(result.status == 0, "\(arguments): \(result)")
        }
        try ok("group", "create", "EKONOMI", "--name", "Ekonomiförvaltningen")
        try ok("group", "create", "LÖN", "--name", "Lön och förmåner")
        try ok("member", "add", "EKONOMI", f.login("alice"), "--role", "release-manager")
        try ok("member", "add", "LÖN", f.login("bob"), "--role", "release-manager")
        try ok("member", "add", "EKONOMI", f.login("carol"), "--role", "viewer")
        try ok("env", "create", "TEST-INT", "--name", "Integrationstest", "--kind", "test", "--capacity", "1")
        try ok("window", "generate", "--prefix", "SW", "--rrule", "FREQ=WEEKLY;BYDAY=SA", "--start-time", "22:00",
               "--duration", "4h", "--from", "2030-03-01", "--until", "2030-03-31", "--capacity", "1", "--tz", "Europe/Stockholm")
        try ok("plan", "create", "EKONOMI", "BOKSLUT-2030", "--title", "Bokslut", as: "alice")
        try ok("plan", "create", "LÖN", "LÖN-2030", "--title", "Lönerna", as: "bob")
        try ok("release", "create", "LÖN", "Lönerevision", "--plan", "LÖN-2030", "--window", Self.window, "--title", "Löneöversyn", as: "bob")
        try ok("release", "create", "EKONOMI", "Årsbokslut", "--plan", "BOKSLUT-2030", "--window", Self.window,
               "--title", "Årsbokslut <script>alert(1)</script>", "--depends-on", "LÖN/Lönerevision", as: "alice")
        try ok("package", "add", Self.release, "kärna", as: "alice")
        try ok("unit", "add", Self.release, "kärna", "huvudbok", "--kind", "application", "--target", "srv-ekonomi-01", "--version", "4.2", as: "alice")
        try ok("book", Self.release, "TEST-INT", "--start", "2030-03-04T08:00+01:00", "--end", "2030-03-06T17:00+01:00", as: "alice")
        try ok("deviation", "add", Self.release, "--severity", "high", "--text", "Testmiljön saknar årets data", as: "alice")
        let admin = try f.database.connect()
        for name in ["alice", "bob", "carol", "dave"] {
            try admin.execute("ALTER ROLE \"\(f.login(name))\" PASSWORD '\(Self.password(name))'", simple: true)
            try admin.execute("GRANT relplan_password_login TO \"\(f.login(name))\"", simple: true)
        }
        return f
    }

    static func password(_ name: String) -> String { "pw-\(name)-Åäö" }

    private func auth(_ f: PlanningFixture, _ name: String) -> [String: String] {
        ["Authorization": ServerProcess.basic(f.login(name), Self.password(name))]
    }

    private func json(_ f: PlanningFixture, _ name: String) -> [String: String] {
        auth(f, name).merging(["Content-Type": "application/json"]) { $1 }
    }

    private func cli(_ f: PlanningFixture, _ name: String, _ arguments: String...) throws -> CLIResult {
        try CLI.run(arguments, database: f.database, user: f.login(name), environment: ["PGPASSWORD": Self.password(name)])
    }

    /// Signs in by the form; the session cookie and the CSRF token its pages carry.
    private func signIn(_ server: ServerProcess, _ f: PlanningFixture, _ name: String) throws -> (cookie: String, csrf: String) {
        let form = try server.request("GET", "/login")
        let loginCookie = form.cookie("relplan_login")?.split(separator: ";").first.map(String.init) ?? ""
        let token = loginCookie.split(separator: "=", maxSplits: 1).last.map(String.init) ?? ""
        let body = [("_csrf", token), ("login", f.login(name)), ("password", Self.password(name))]
            .map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        let signedIn = try server.request("POST", "/login", headers: ["Content-Type": "application/x-www-form-urlencoded", "Cookie": loginCookie], body: body)
        let cookie = signedIn.cookie("relplan_session")?.split(separator: ";").first.map(String.init) ?? ""
        let page = try server.request("GET", "/import", headers: ["Cookie": cookie])
        return (cookie, Self.field("_csrf", in: page.body) ?? "")
    }

    static func field(_ name: String, in html: String) -> String? {
        html.components(separatedBy: "name=\"\(name)\" value=\"").dropFirst().first?.split(separator: "\"", omittingEmptySubsequences: false).first.map(String.init)
    }

    /// Every page given is valid HTML to the W3C Nu checker.
    private func expectValid(_ pages: [String: String]) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-pages-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var files: [URL] = []
        for (name, html) in pages.sorted(by: { $0.key < $1.key }) {
            let file = folder.appendingPathComponent("\(name).html")
            try html.write(to: file, atomically: true, encoding: .utf8)
            files.append(file)
        }
        let errors = try NuHTMLChecker.errors(files)
        #expect(errors.isEmpty, "\(errors.joined(separator: "\n"))")
    }

    @Test("the release, window and conflicts pages as the owner, the other group's release manager, a viewer and an outsider; HTML escaped and valid")
    func pages() throws {
        let f = try setUp()
        defer { f.drop() }
        let server = try ServerProcess(database: f.database)
        defer { server.stop() }

        // Signed out: to the sign-in form.
        for path in [Self.releasePath, "/windows/\(Self.window)", "/conflicts", "/import"] {
            let reply = try server.request("GET", path)
            #expect(reply.status == 303 && reply.header("Location") == "/login", "\(path): \(reply.status)")
        }
        var valid: [String: String] = [:]
        for name in ["alice", "bob", "carol", "dave"] {
            let page = try server.request("GET", Self.releasePath, headers: auth(f, name))
            #expect(page.status == 200 && page.header("Content-Type") == "text/html; charset=utf-8", "\(name): \(page.status) \(page.body.prefix(400))")
            let csp = page.header("Content-Security-Policy") ?? ""
            #expect(csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"), "\(csp)")
            #expect(!page.body.contains("<script"), "no script at all on the release page")
            let html = page.body
            #expect(html.contains("Årsbokslut &lt;script&gt;alert(1)&lt;/script&gt;"), "\(name): the title is text")
            for text in ["kärna", "huvudbok", "srv-ekonomi-01", "TEST-INT", "tentative", "Testmiljön saknar årets data", "window-capacity",
                         "href=\"/windows/\(Self.window)\"", "href=\"/releases/L%C3%96N/L%C3%B6nerevision\"", "BOKSLUT-2030"] {
                #expect(html.contains(text), "\(name): \(text) on the release page")
            }
            #expect(html.contains("You plan this release") == (name == "alice"), "\(name): only the owner plans it")
            #expect(html.contains("Read-only for you: EKONOMI's managers") == (name != "alice"), "\(name)")

            let night = try server.request("GET", "/windows/\(Self.window)", headers: auth(f, name))
            #expect(night.status == 200, "\(name): \(night.status) \(night.body.prefix(400))")
            for text in ["2/1", "over capacity", "NO-GO", "href=\"/releases/EKONOMI/%C3%85rsbokslut\"", "Löneöversyn", "huvudbok", "TEST-INT"] {
                #expect(night.body.contains(text), "\(name): \(text) on the window page")
            }

            let conflicts = try server.request("GET", "/conflicts", headers: auth(f, name))
            #expect(conflicts.status == 200, "\(name): \(conflicts.status)")
            for text in ["window-capacity", "More releases are assigned to the service window than it has room for",
                         "href=\"/releases/L%C3%96N/L%C3%B6nerevision\"", "href=\"/windows/\(Self.window)\""] {
                #expect(conflicts.body.contains(text), "\(name): \(text) on the conflicts page")
            }
            if name == "alice" || name == "dave" {
                valid["release-\(name)"] = html
                valid["window-\(name)"] = night.body
                valid["conflicts-\(name)"] = conflicts.body
            }
        }
        // The conflicts by group: LÖN's include the capacity conflict, an unknown group is 404 as a page.
        let lön = try server.request("GET", "/conflicts?group=L%C3%96N", headers: auth(f, "bob"))
        #expect(lön.status == 200 && lön.body.contains("Conflicts: LÖN") && lön.body.contains("window-capacity"), "\(lön.status)")
        let unknown = try server.request("GET", "/conflicts?group=NOPE", headers: auth(f, "bob"))
        #expect(unknown.status == 404 && unknown.header("Content-Type") == "text/html; charset=utf-8", "\(unknown)")
        #expect(try server.request("GET", "/releases/EKONOMI/NOPE", headers: auth(f, "bob")).status == 404)
        #expect(try server.request("GET", "/windows/SW-1999", headers: auth(f, "bob")).status == 404)

        // The calendar links its releases and windows; with a session it shows the import form.
        let session = try signIn(server, f, "alice")
        let calendar = try server.request("GET", "/?from=2030-03-01&to=2030-04-01", headers: ["Cookie": session.cookie])
        #expect(calendar.status == 200 && calendar.body.contains("href=\"/releases/EKONOMI/%C3%85rsbokslut\"")
                && calendar.body.contains("href=\"/conflicts\""), "\(calendar.status)")
        // One shared environment's calendar: its lane and the releases that book it, no others.
        let lane = try server.request("GET", "/?from=2030-03-01&to=2030-04-01&environment=TEST-INT", headers: ["Cookie": session.cookie])
        #expect(lane.status == 200 && lane.body.contains("href=\"/releases/EKONOMI/%C3%85rsbokslut\"")
                && !lane.body.contains("href=\"/releases/L%C3%96N/L%C3%B6nerevision\"")
                && lane.body.contains("<option value=\"TEST-INT\" selected>"), "\(lane.status)")
        #expect(calendar.body.contains("href=\"/releases/L%C3%96N/L%C3%B6nerevision\""), "all environments: every release")
        let noLane = try server.request("GET", "/?environment=TEST-IN", headers: ["Cookie": session.cookie])
        #expect(noLane.status == 404 && noLane.body.contains("TEST-INT"), "unknown environment, with its did-you-mean: \(noLane.body.suffix(300))")
        valid["calendar-environment"] = lane.body
        let form = try server.request("GET", "/import", headers: ["Cookie": session.cookie])
        #expect(form.status == 200 && form.body.contains("enctype=\"multipart/form-data\"") && !session.csrf.isEmpty, "\(form.status)")
        valid["import-form"] = form.body
        valid["calendar"] = calendar.body
        let basicImport = try server.request("GET", "/import", headers: auth(f, "dave"))
        #expect(basicImport.status == 200 && !basicImport.body.contains("<form class=\"import\""), "no form without a session")
        try expectValid(valid)
    }

    @Test("the import page: the dry run lists every problem, the real import takes exactly the previewed file, CSRF and a changed file are 403")
    func importPage() throws {
        let f = try setUp()
        defer { f.drop() }
        let server = try ServerProcess(database: f.database)
        defer { server.stop() }
        let session = try signIn(server, f, "alice")
        let boundary = "----relplan-Åäö-test"
        func multipart(_ fields: [(String, String)], file: String?) -> String {
            var body = ""
            for (name, value) in fields {
                body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
            }
            if let file {
                body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bokslut.csv\"\r\nContent-Type: text/csv\r\n\r\n\(file)\r\n"
            }
            return body + "--\(boundary)--\r\n"
        }
        let headers = ["Cookie": session.cookie, "Content-Type": "multipart/form-data; boundary=\"\(boundary)\""]

        // Two problems: both listed, in the CLI's words; nothing imported.
        let bad = "group,plan,release,window\nEKONOMI,BOKSLUT-2030,Kvartal,SW-1999\nEKONOMI,BOKSLUT-2030,Halvår,SW-2030-13-01\n"
        let refused = try server.request("POST", "/import", headers: headers, body: multipart([("_csrf", session.csrf), ("csv", bad)], file: nil))
        #expect(refused.status == 422, "\(refused.status) \(refused.body.prefix(600))")
        let problems = refused.body.components(separatedBy: "<li>upload.csv:").count - 1
        #expect(problems == 2 && refused.body.contains("2 problems; nothing was imported"), "\(refused.body)")
        #expect(refused.body.contains("Halvår"), "the file is kept in the form to correct")

        // A good file, sent as a file: previewed, nothing written yet.
        let good = "group,plan,release,release_title,window\nEKONOMI,BOKSLUT-2030,Kvartal,Kvartalsbokslut för Q1 & Q2,SW-2030-03-16\n"
        let preview = try server.request("POST", "/import", headers: headers, body: multipart([("_csrf", session.csrf)], file: good))
        #expect(preview.status == 200 && preview.body.contains("dry run of upload.csv") && preview.body.contains("would create:")
                && preview.body.contains("EKONOMI/Kvartal &quot;Kvartalsbokslut för Q1 &amp; Q2&quot;"), "\(preview.status) \(preview.body)")
        #expect(try server.request("GET", "/api/releases/EKONOMI/Kvartal", headers: auth(f, "alice")).status == 404, "the dry run wrote nothing")
        let content = Self.field("content", in: preview.body) ?? ""
        let mac = Self.field("mac", in: preview.body) ?? ""
        #expect(Data(base64Encoded: content) == Data(good.utf8) && !mac.isEmpty)
        let runHeaders = ["Cookie": session.cookie, "Content-Type": "application/x-www-form-urlencoded"]
        func form(_ pairs: [(String, String)]) -> String {
            pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        }
        // Another file under the previewed one's seal, or no token: refused, nothing written.
        let other = Data(good.replacingOccurrences(of: "Kvartal,", with: "Annat,").utf8).base64EncodedString()
        let swapped = try server.request("POST", "/import/run", headers: runHeaders, body: form([("_csrf", session.csrf), ("content", other), ("mac", mac)]))
        #expect(swapped.status == 403, "\(swapped.status)")
        let forged = try server.request("POST", "/import/run", headers: runHeaders, body: form([("content", content), ("mac", mac)]))
        #expect(forged.status == 403, "\(forged.status)")
        #expect(try server.request("GET", "/api/releases/EKONOMI/Kvartal", headers: auth(f, "alice")).status == 404)
        let imported = try server.request("POST", "/import/run", headers: runHeaders, body: form([("_csrf", session.csrf), ("content", content), ("mac", mac)]))
        #expect(imported.status == 200 && imported.body.contains("imported upload.csv: 1 row, 1 release created"), "\(imported.status) \(imported.body)")
        #expect(try server.request("GET", "/api/releases/EKONOMI/Kvartal", headers: auth(f, "alice")).status == 200)

        // bob (LÖN) previewing EKONOMI's rows is refused as the CLI refuses him.
        let bobSession = try signIn(server, f, "bob")
        let bobs = try server.request("POST", "/import", headers: ["Cookie": bobSession.cookie, "Content-Type": "multipart/form-data; boundary=\(boundary)"],
                                      body: multipart([("_csrf", bobSession.csrf), ("csv", good.replacingOccurrences(of: "Kvartal,", with: "Bobs,"))], file: nil))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("upload.csv")
        try good.replacingOccurrences(of: "Kvartal,", with: "Bobs,").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let cliBob = try CLI.run(["import", file.path, "--dry-run"], database: f.database, user: f.login("bob"),
                                 environment: ["PGPASSWORD": Self.password("bob")])
        #expect(cliBob.status == 77 || cliBob.status == 65, "\(cliBob)")
        #expect(bobs.status == (cliBob.status == 77 ? 403 : 422), "\(bobs.status) vs the CLI's \(cliBob)")
        for line in cliBob.stderr.split(separator: "\n") {
            let words = line.replacingOccurrences(of: "relplan: ", with: "").replacingOccurrences(of: file.path, with: "upload.csv")
            let escaped = words.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
            #expect(bobs.body.contains(escaped), "the page says what the CLI says: \(words)\n\(bobs.body)")
        }
        // carol only views EKONOMI: refused the same way.
        let carolSession = try signIn(server, f, "carol")
        let carols = try server.request("POST", "/import", headers: ["Cookie": carolSession.cookie, "Content-Type": "multipart/form-data; boundary=\(boundary)"],
                                        body: multipart([("_csrf", carolSession.csrf), ("csv", good.replacingOccurrences(of: "Kvartal,", with: "Carols,"))], file: nil))
        #expect(carols.status == bobs.status, "\(carols.status) \(carols.body.prefix(600))")
        #expect(try server.request("GET", "/api/releases/EKONOMI/Carols", headers: auth(f, "alice")).status == 404)
        try expectValid(["refused": refused.body, "preview": preview.body, "imported": imported.body, "bobs": bobs.body])
    }

    @Test("POST /api/releases creates as the CLI does: 403 in its words for another group's and a viewer, 422 twice and listing every problem; bookings confirmed by id; a window's night as JSON")
    func createAndConfirm() throws {
        let f = try setUp()
        defer { f.drop() }
        let server = try ServerProcess(database: f.database)
        defer { server.stop() }
        let body = #"{"group": "EKONOMI", "code": "Månadsbokslut", "plan": "BOKSLUT-2030", "title": "Mars", "window": "SW-2030-03-23", "priority": 2, "deadline": "2030-03-31", "depends_on": ["LÖN/Lönerevision"]}"#

        #expect(try server.request("POST", "/api/releases", headers: ["Content-Type": "application/json"], body: body).status == 401)
        // bob plans LÖN, not EKONOMI; carol only views EKONOMI: both refused in the CLI's words.
        for name in ["bob", "carol"] {
            let cliRefused = try cli(f, name, "release", "create", "EKONOMI", "Månadsbokslut", "--plan", "BOKSLUT-2030", "--window", "SW-2030-03-23")
            #expect(cliRefused.status == 77, "\(cliRefused)")
            let refused = try server.request("POST", "/api/releases", headers: json(f, name), body: body)
            #expect(refused.status == 403 && "relplan: \(refused.json?["detail"] as? String ?? "")\n" == cliRefused.stderr, "\(refused) vs \(cliRefused)")
        }
        let created = try server.request("POST", "/api/releases", headers: json(f, "alice"), body: body)
        let release = created.json?["release"] as? [String: Any]
        #expect(created.status == 201 && release?["code"] as? String == "Månadsbokslut" && release?["depends_on"] as? [String] == ["LÖN/Lönerevision"]
                && release?["priority"] as? Int == 2 && release?["deadline"] as? String == "2030-03-31", "\(created)")
        #expect(created.header("Location") == "/api/releases/EKONOMI/M%C3%A5nadsbokslut", "\(created.header("Location") ?? "")")
        let shown = try cli(f, "dave", "release", "show", "EKONOMI/Månadsbokslut", "--format", "json")
        #expect(shown.status == 0 && shown.stdout.contains("Mars"), "\(shown)")
        let twice = try server.request("POST", "/api/releases", headers: json(f, "alice"), body: body)
        // An existing code is bad data to the CLI (exit 65): 422 with its words.
        let cliTwice = try cli(f, "alice", "release", "create", "EKONOMI", "Månadsbokslut", "--plan", "BOKSLUT-2030")
        #expect(cliTwice.status == 65, "\(cliTwice)")
        #expect(twice.status == 422 && "relplan: \(twice.json?["detail"] as? String ?? "")\n" == cliTwice.stderr, "\(twice) vs \(cliTwice)")
        // Every problem at once.
        let bad = #"{"group": "EKONOMI", "code": "Fel", "plan": "BOKSLUT-2030", "priority": 9, "deploy_start": "2030-03-10T10:00Z", "deploy_end": "2030-03-10T09:00Z", "deadline": "snart"}"#
        let invalid = try server.request("POST", "/api/releases", headers: json(f, "alice"), body: bad)
        let errors = invalid.json?["errors"] as? [String] ?? []
        #expect(invalid.status == 422 && errors.count == 3 && invalid.header("Content-Type") == "application/problem+json", "\(invalid)")
        #expect(errors.contains { $0.hasPrefix("priority:") } && errors.contains("deploy_end must be after deploy_start")
                && errors.contains { $0.hasPrefix("deadline:") }, "\(errors)")
        #expect(try server.request("POST", "/api/releases", headers: json(f, "alice"), body: #"{"group": "EKONOMI", "code": "X"}"#).status == 400)
        #expect(try server.request("POST", "/api/releases", headers: json(f, "alice"),
                                   body: #"{"group": "EKONOMI", "code": "X", "plan": "NOPE"}"#).status == 404)

        // The tentative booking alice made: bob may not confirm it (the CLI's words), alice may.
        let bookings = try server.request("GET", "/api/bookings", headers: auth(f, "dave")).json?["bookings"] as? [[String: Any]] ?? []
        let id = bookings.first { $0["release"] as? String == Self.release }?["id"] as? Int
        try #require(id != nil, "\(bookings)")
        let cliRefused = try cli(f, "bob", "book", Self.release, "TEST-INT", "--start", "2030-03-04T08:00+01:00", "--end", "2030-03-06T17:00+01:00", "--confirm")
        #expect(cliRefused.status == 77, "\(cliRefused)")
        let refused = try server.request("POST", "/api/bookings/\(id ?? 0)/confirm", headers: json(f, "bob"), body: "{}")
        #expect(refused.status == 403 && "relplan: \(refused.json?["detail"] as? String ?? "")\n" == cliRefused.stderr, "\(refused) vs \(cliRefused)")
        let confirmed = try server.request("POST", "/api/bookings/\(id ?? 0)/confirm", headers: json(f, "alice"), body: "{}")
        let booking = confirmed.json?["booking"] as? [String: Any]
        #expect(confirmed.status == 200 && booking?["status"] as? String == "confirmed" && booking?["id"] as? Int == id, "\(confirmed)")
        #expect(try server.request("POST", "/api/bookings/999999/confirm", headers: json(f, "alice"), body: "{}").status == 404)
        #expect(try server.request("POST", "/api/bookings/abc/confirm", headers: json(f, "alice"), body: "{}").status == 404)

        // A window's night, byte for byte as `relplan window show --format json`.
        let night = try server.request("GET", "/api/windows/\(Self.window)", headers: auth(f, "carol"))
        let listed = try cli(f, "carol", "window", "show", Self.window, "--format", "json")
        #expect(night.status == 200 && night.body == listed.stdout, "\(night.body.prefix(300)) vs \(listed.stdout.prefix(300))")
        #expect(try server.request("GET", "/api/windows/SW-1999", headers: auth(f, "carol")).status == 404)
    }
}

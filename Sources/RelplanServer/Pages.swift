import Foundation
import Hummingbird
import Postgres
import ReleaseCore
import ReleaseStore
import Planning
import Reporting
import Scheduling

/// Server-rendered pages that work without JavaScript: sign-in, the calendar (the nightly
/// report's page and SVG timeline, current), proposals with accept/reject for their owners.
struct Pages: Sendable {
    let routes: Routes
    var state: ServerState { routes.state }
    var secure: Bool { routes.secure }

    func add(to router: Router<BasicRequestContext>) {
        router.get("/login") { request, _ in
            loginPage(message: nil, status: .ok)
        }
        router.post("/login") { request, _ in await signIn(request) }
        router.post("/logout") { request, _ in await signOut(request) }
        router.get("/") { request, _ in await calendarPage(request) }
        router.post("/proposals/:id/accept") { request, context in await decide(request, context, accept: true) }
        router.post("/proposals/:id/reject") { request, context in await decide(request, context, accept: false) }
        PlanPages(pages: self).add(to: router)
    }

    // MARK: Sign-in

    /// The form, with a CSRF token bound to a short-lived cookie (double submit): a sign-in cannot be forged cross-site.
    func loginPage(message: String?, status: HTTPResponse.Status) -> Response {
        let token = Token.make()
        let body = """
            <main class="login">
            <h1>relplan</h1>
            <p>Sign in with your PostgreSQL login and password.</p>
            \(message.map { "<p class=\"error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
            <form method="post" action="/login">
            <input type="hidden" name="_csrf" value="\(token)">
            <label>Login <input name="login" autocomplete="username" required autofocus></label>
            <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
            <button type="submit">Sign in</button>
            </form>
            </main>
            """
        var reply = Reply.html(Self.document(title: "Sign in — relplan", body: body), status: status)
        reply.headers.append(("Set-Cookie", cookie(Routes.loginCookie, token, maxAge: 600)))
        return reply.response(secure: secure)
    }

    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        var text = "\(name)=\(value); Path=/; HttpOnly; SameSite=Strict"
        if let maxAge { text += "; Max-Age=\(maxAge)" }
        if secure { text += "; Secure" }
        return text
    }

    static func form(_ body: String) -> Parameters { Parameters(body) }

    func signIn(_ request: Request) async -> Response {
        var request = request
        let form = Self.form((try? await request.collectBody(upTo: 1 << 14)).map { String(buffer: $0) } ?? "")
        guard let token = form.values["_csrf"], let cookie = request.cookies[Routes.loginCookie]?.value, Token.equal(token, cookie) else {
            return Reply.problem(.forbidden, "csrf", "the sign-in form's token is missing or stale: open /login again").response(secure: secure)
        }
        let login = form.values["login"]?.trimmingCharacters(in: .whitespaces) ?? ""
        let password = form.values["password"] ?? ""
        guard !login.isEmpty, !password.isEmpty else { return loginPage(message: "Give your login and password.", status: .badRequest) }
        let delay = state.throttle.delay(for: login)
        if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }
        do {
            try await state.pools.signIn(login, password, session: true)
        } catch SignInError.refused {
            state.throttle.failed(login)
            state.logger.notice("refused sign-in", metadata: ["login": "\(login)"])
            return loginPage(message: "PostgreSQL refused that login and password.", status: .unauthorized)
        } catch {
            return loginPage(message: Failure.classify(error)?.message ?? "cannot sign in right now", status: .serviceUnavailable)
        }
        state.throttle.succeeded(login)
        let session = state.sessions.create(login: login)
        state.logger.info("signed in", metadata: ["login": "\(login)"])
        var reply = Reply.redirect("/")
        reply.headers.append(("Set-Cookie", self.cookie(Routes.sessionCookie, session.id)))
        reply.headers.append(("Set-Cookie", self.cookie(Routes.loginCookie, "", maxAge: 0)))
        return reply.response(secure: secure)
    }

    /// The session from the cookie and a matching `_csrf` form field, else the refusal to send.
    func formSession(_ request: inout Request) async -> (Session, Parameters)? {
        guard let id = request.cookies[Routes.sessionCookie]?.value, let session = state.sessions.touch(id) else { return nil }
        let form = Self.form((try? await request.collectBody(upTo: 1 << 14)).map { String(buffer: $0) } ?? "")
        guard let token = form.values["_csrf"], Token.equal(token, session.csrf) else { return nil }
        return (session, form)
    }

    func signOut(_ request: Request) async -> Response {
        var request = request
        guard let (session, _) = await formSession(&request) else {
            return Reply.problem(.forbidden, "csrf", "sign-out needs the session and its form token").response(secure: secure)
        }
        if state.sessions.remove(session.id) != nil { state.pools.endSession(session.login) }
        var reply = Reply.redirect("/login")
        reply.headers.append(("Set-Cookie", cookie(Routes.sessionCookie, "", maxAge: 0)))
        return reply.response(secure: secure)
    }

    // MARK: The calendar

    func calendarPage(_ request: Request) async -> Response {
        guard let caller = routes.caller(request) else { return Reply.redirect("/login").response(secure: secure) }
        let call = Call(query: Parameters(request.uri.query), body: "", path: [:])
        let csrf = caller.session?.csrf ?? ""
        let reply = await routes.run(as: caller, call) { db, call in
            let me = try Identity.current(db)
            let group = call.query["group"], environment = call.query["environment"]
            let renderer = try LiveReport.renderer(db, group: group, zone: try call.zone, from: try call.instant("from"), to: try call.instant("to"),
                                                   environment: environment)
            let groups = renderer.report.groups
            let environments = try SharedCalendar(db).environments().map(\.code)
            let proposals = try ScheduleStore(db, deadlineZone: try call.zone).proposals(group: group, status: "pending")
            // The releases the timeline shows, each linked to its page (the SVG's bars carry no links).
            let horizon = renderer.report.horizon
            let deploying = Set(renderer.report.deployments.map(\.release))
            let releases = try Releases(db).list(group: group).filter { r in
                guard let start = r.deployStart, let end = r.deployEnd else { return false }
                return end > horizon.start && start < horizon.end && (environment == nil || deploying.contains(r.ref))
            }
            let html: String
            do { html = try renderer.html() } catch { throw Failure(.invalid, "cannot render the calendar: \(error)") }
            return .html(Self.decorate(html, me: me, csrf: csrf, group: group, groups: groups, proposals: proposals,
                                       releases: releases, zone: try call.zone, environment: environment, environments: environments))
        }
        if reply.status == .unauthorized { return Reply.redirect("/login").response(secure: secure) }
        return (reply.contentType.hasPrefix("application/problem") ? Self.problemPage(reply) : reply).response(secure: secure)
    }

    /// The report's page with the server's bar (who, group filter, sign-out), the proposals, and live.js.
    static func decorate(_ html: String, me: Identity, csrf: String, group: String?, groups: [String], proposals: [StoredProposal],
                         releases: [ReleaseRecord] = [], zone: TimeZone = .gmt, environment: String? = nil, environments: [String] = []) -> String {
        func options(_ all: String, _ codes: [String], selected: String?) -> String {
            ([("", all)] + codes.map { ($0, $0) }).map { code, label in
                "<option value=\"\(HTML.escape(code))\"\(code == (selected ?? "") ? " selected" : "")>\(HTML.escape(label))</option>"
            }.joined()
        }
        var bar = """
            <nav class="relplan-bar" aria-label="relplan">
            <form method="get" action="/"><label>Group <select name="group">\(options("all groups", groups, selected: group))</select></label> \
            <label>Environment <select name="environment">\(options("all environments", environments, selected: environment))</select></label> \
            <button type="submit">Show</button></form>
            <a href="/conflicts\(group.map { "?group=" + PlanPages.formEncode($0) } ?? "")">Conflicts</a> <a href="/import">Import</a>
            <span>Signed in as <strong>\(HTML.escape(me.login))</strong></span>
            """
        if !csrf.isEmpty {
            bar += "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"_csrf\" value=\"\(csrf)\"><button type=\"submit\">Sign out</button></form>"
        }
        bar += "<span id=\"live-status\" aria-live=\"polite\"></span></nav>\n"
        var section = "<section class=\"relplan-proposals\" id=\"proposals\"><h2>Proposed moves</h2>\n"
        if proposals.isEmpty { section += "<p>No proposals wait for a decision.</p>\n" }
        else {
            section += "<table><thead><tr><th>#</th><th>Release</th><th>From</th><th>To</th><th>Why</th><th>By</th><th>Decision</th></tr></thead><tbody>\n"
            for p in proposals {
                var decision = "<td>waits for \(HTML.escape(p.group))</td>"
                if me.isPlanner(of: p.group) && !csrf.isEmpty {
                    decision = """
                        <td><form method="post" action="/proposals/\(p.id)/accept"><input type="hidden" name="_csrf" value="\(csrf)">\
                        <button type="submit" class="accept">Accept</button></form>\
                        <form method="post" action="/proposals/\(p.id)/reject"><input type="hidden" name="_csrf" value="\(csrf)">\
                        <input name="reason" required placeholder="why not" aria-label="Reason for rejecting \(p.id)">\
                        <button type="submit" class="reject">Reject</button></form></td>
                        """
                }
                section += "<tr><td>\(p.id)</td><td>\(PlanPages.releaseLink(p.release))</td><td>\(HTML.escape(p.from))</td><td>\(HTML.escape(p.to))</td>"
                    + "<td>\(HTML.escape(p.reason))</td><td>\(HTML.escape(p.proposedBy))</td>\(decision)</tr>\n"
            }
            section += "</tbody></table>\n"
        }
        section += "</section>\n"
        var releasesSection = "<section class=\"relplan-proposals relplan-releases\" id=\"releases\"><h2>Releases in view</h2>\n"
        releasesSection += PlanPages.table(["Release", "Title", "Window", "Deploys", "Status"], releases.map { r in
            PlanPages.row(PlanPages.releaseLink(r.ref), HTML.escape(r.title), PlanPages.windowLink(r.window),
                          "\(r.deployStart.map { Timestamps.local($0, in: zone) } ?? "—") – \(r.deployEnd.map { Timestamps.local($0, in: zone) } ?? "—")",
                          HTML.escape(r.status.rawValue))
        }, none: "No deployments in this range.")
        releasesSection += "</section>\n"
        var page = html
        if let body = page.range(of: "<body>") { page.insert(contentsOf: "\n" + bar, at: body.upperBound) }
        let script = "<link rel=\"stylesheet\" href=\"/static/relplan.css\">\n<script src=\"/static/live.js\" defer></script>\n"
        // The report's own list of pending proposals gives way to this one, which has the buttons
        // (the same proposals twice on one page read as two different things).
        var rest = releasesSection
        if let start = page.range(of: "<section class=\"proposals\">"),
           let end = page.range(of: "</section>", range: start.upperBound..<page.endIndex) {
            page.replaceSubrange(start.lowerBound..<end.upperBound, with: section)
        } else {
            rest = section + releasesSection
        }
        // Above the report's footer, so the page still ends with it.
        if let footer = page.range(of: "<footer>", options: .backwards) { page.insert(contentsOf: rest, at: footer.lowerBound) }
        else if let end = page.range(of: "</body>", options: .backwards) { page.insert(contentsOf: rest, at: end.lowerBound) }
        if let end = page.range(of: "</body>", options: .backwards) { page.insert(contentsOf: script, at: end.lowerBound) }
        return page
    }

    static func problemPage(_ problem: Reply) -> Reply {
        let detail = (try? JSONSerialization.jsonObject(with: Data(problem.body.utf8)) as? [String: Any])?["detail"] as? String ?? problem.body
        var reply = Reply.html(document(title: "\(problem.status.code) — relplan", body: """
            <main><h1>\(problem.status.code) \(HTML.escape(problem.status.reasonPhrase))</h1><p role="alert">\(HTML.escape(detail))</p>
            <p><a href="/">Back to the calendar</a></p></main>
            """), status: problem.status)
        reply.headers = problem.headers.filter { $0.0 != "Content-Type" }
        return reply
    }

    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(title))</title><link rel="stylesheet" href="/static/relplan.css"></head>
        <body>
        \(body)
        </body></html>
        """
    }

    // MARK: Decisions

    func decide(_ request: Request, _ context: BasicRequestContext, accept: Bool) async -> Response {
        var request = request
        guard let (session, form) = await formSession(&request) else {
            return Self.problemPage(.problem(.forbidden, "csrf", "this form needs your session and its token: reload the calendar and try again"))
                .response(secure: secure)
        }
        let call = Call(query: Parameters(nil), body: "", path: ["id": context.parameters.get("id") ?? ""])
        let reason = form.values["reason"]
        let reply = await routes.run(as: .session(session), call) { db, call in
            try Routes.decide(db, call, accept: accept, reason: reason)
        }
        if reply.status == .ok { return Reply.redirect("/#proposals").response(secure: secure) }
        return Self.problemPage(reply).response(secure: secure)
    }
}

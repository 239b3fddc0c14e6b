import Crypto
import Foundation
import Hummingbird
import Postgres
import ReleaseCore
import ReleaseStore
import Planning
import Reporting
import Scheduling

/// The plan's own pages, server-rendered and usable without JavaScript: a release, a window's
/// night with go/no-go, the conflicts explained, and the import with its dry run first. They use
/// the nightly report's stylesheet (`/static/report.css`, cut from its template) so they look like it.
struct PlanPages: Sendable {
    let pages: Pages
    var routes: Routes { pages.routes }
    var state: ServerState { routes.state }
    var secure: Bool { routes.secure }

    func add(to router: Router<BasicRequestContext>) {
        router.get("/releases/:group/:code") { request, context in
            await page(request, context) { db, call, me in try Self.releasePage(db, call, me) }
        }
        router.get("/windows/:code") { request, context in
            await page(request, context) { db, call, me in try Self.windowPage(db, call, me) }
        }
        router.get("/conflicts") { request, context in
            await page(request, context) { db, call, me in try Self.conflictsPage(db, call, me) }
        }
        router.get("/import") { request, context in
            await page(request, context) { _, _, me in Self.importForm(me, message: nil) }
        }
        router.post("/import") { request, context in await importPreview(request) }
        router.post("/import/run") { request, context in await importRun(request) }
    }

    /// A page as the caller: signed out goes to /login, a refusal becomes an HTML problem page.
    func page(_ request: Request, _ context: BasicRequestContext,
              _ body: @escaping @Sendable (Connection, Call, Viewer) throws -> Page) async -> Response {
        guard let caller = routes.caller(request) else { return Reply.redirect("/login").response(secure: secure) }
        var path: [String: String] = [:]
        for name in ["group", "code"] { if let value = context.parameters.get(name) { path[name] = value.removingPercentEncoding ?? value } }
        let call = Call(query: Parameters(request.uri.query), body: "", path: path)
        let csrf = caller.session?.csrf ?? ""
        let reply = await routes.run(as: caller, call) { db, call in
            let viewer = Viewer(identity: try Identity.current(db), csrf: csrf, zone: try call.zone)
            let page = try body(db, call, viewer)
            return .html(Self.document(page, viewer))
        }
        if reply.status == .unauthorized { return Reply.redirect("/login").response(secure: secure) }
        return (reply.contentType.hasPrefix("application/problem") ? Pages.problemPage(reply) : reply).response(secure: secure)
    }

    /// Who is looking, and what their forms need.
    struct Viewer: Sendable {
        let identity: Identity
        let csrf: String
        let zone: TimeZone

        func time(_ date: Date?) -> String { date.map { Timestamps.local($0, in: zone) } ?? "—" }
    }

    struct Page: Sendable {
        var title: String
        var body: String
        var status: HTTPResponse.Status = .ok
    }

    // MARK: Shell

    /// The report's look (its stylesheet) with the server's bar on top.
    static func document(_ page: Page, _ viewer: Viewer) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(page.title)) — relplan</title>
        <link rel="stylesheet" href="/static/report.css"><link rel="stylesheet" href="/static/relplan.css"></head>
        <body>
        \(bar(viewer))
        <main>
        \(page.body)
        </main>
        <footer>relplan serve · times in \(HTML.escape(viewer.zone.identifier))</footer>
        </body></html>
        """
    }

    static func bar(_ viewer: Viewer) -> String {
        var bar = """
            <nav class="relplan-bar" aria-label="relplan"><a href="/">Calendar</a> <a href="/conflicts">Conflicts</a> \
            <a href="/import">Import</a> <span>Signed in as <strong>\(HTML.escape(viewer.identity.login))</strong></span>
            """
        if !viewer.csrf.isEmpty {
            bar += "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"_csrf\" value=\"\(viewer.csrf)\"><button type=\"submit\">Sign out</button></form>"
        }
        return bar + "</nav>"
    }

    /// A path segment as a link needs it: LÖN/Årsskifte stay readable to the server, `/` and `?` cannot break out.
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#;")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A link to a release's page from "GROUP/CODE" (text only when it is not one).
    static func releaseLink(_ ref: String) -> String {
        guard let slash = ref.firstIndex(of: "/") else { return HTML.escape(ref) }
        let href = "/releases/\(segment(String(ref[..<slash])))/\(segment(String(ref[ref.index(after: slash)...])))"
        return "<a href=\"\(HTML.escape(href))\">\(HTML.escape(ref))</a>"
    }

    static func windowLink(_ code: String?) -> String {
        guard let code else { return "—" }
        return "<a href=\"/windows/\(HTML.escape(segment(code)))\">\(HTML.escape(code))</a>"
    }

    static func table(_ headers: [String], _ rows: [String], none: String = "None.") -> String {
        guard !rows.isEmpty else { return "<p class=\"none\">\(HTML.escape(none))</p>" }
        return "<div class=\"scroll\"><table><thead><tr>" + headers.map { "<th scope=\"col\">\(HTML.escape($0))</th>" }.joined()
            + "</tr></thead><tbody>\n" + rows.joined(separator: "\n") + "\n</tbody></table></div>"
    }

    static func row(_ cells: String...) -> String { "<tr>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>" }

    // MARK: A release

    static func releasePage(_ db: Connection, _ call: Call, _ viewer: Viewer) throws -> Page {
        let ref = try call.ref()
        let detail = try Releases(db).show(ref)
        let r = detail.release
        let conflicts = try ScheduleStore(db, deadlineZone: viewer.zone).conflicts(group: r.group).filter { $0.releases.contains(r.ref) }
        var html = "<header><h1>Release \(HTML.escape(r.ref)): <span class=\"text\">\(HTML.escape(r.title))</span></h1>\n"
        html += "<p class=\"meta\">Plan \(HTML.escape(r.plan))\(detail.model.map { " (model \(HTML.escape($0)))" } ?? "") · "
            + "status <strong class=\"status\">\(HTML.escape(r.status.rawValue))</strong>\(r.pinned ? ", pinned" : "") · "
            + "priority \(r.priority) · version \(r.version)</p>\n"
        html += viewer.identity.isPlanner(of: r.group)
            ? "<p class=\"meta owner\">You plan this release (\(HTML.escape(r.group))).</p>\n"
            : "<p class=\"meta\">Read-only for you: \(HTML.escape(r.group))'s managers and release managers change it.</p>\n"
        html += "</header>\n"

        html += "<section class=\"release-plan\"><h2>Deployment</h2>\n<table><tbody>\n"
        html += "<tr><th scope=\"row\">Window</th><td>\(windowLink(r.window))</td></tr>\n"
        html += "<tr><th scope=\"row\">Deploys</th><td class=\"when\">\(viewer.time(r.deployStart)) – \(viewer.time(r.deployEnd))</td></tr>\n"
        html += "<tr><th scope=\"row\">Implementer</th><td>\(HTML.escape(r.implementer ?? "unassigned"))</td></tr>\n"
        html += "<tr><th scope=\"row\">Deadline</th><td>\(HTML.escape(r.deadline ?? "—"))</td></tr>\n"
        html += "<tr><th scope=\"row\">Changed</th><td>\(viewer.time(r.updatedAt)) by \(HTML.escape(r.updatedBy))</td></tr>\n"
        html += "</tbody></table></section>\n"

        html += "<section class=\"dependencies\"><h2>Depends on <span class=\"count\">(\(detail.dependsOn.count))</span></h2>\n"
        html += detail.dependsOn.isEmpty ? "<p class=\"none\">None.</p>"
            : "<ul>" + detail.dependsOn.map { "<li>\(releaseLink($0))</li>" }.joined() + "</ul>"
        html += "</section>\n"

        let units = detail.packages.flatMap { p in p.units.map { (p.code, $0) } }
        html += "<section class=\"packages\"><h2>Packages and units <span class=\"count\">(\(detail.packages.count))</span></h2>\n"
        html += table(["Package", "Unit", "Kind", "Target", "Version"], units.map { p, u in
            row(HTML.escape(p), HTML.escape(u.code), HTML.escape(u.kind), HTML.escape(u.target), HTML.escape(u.version ?? "—"))
        } + detail.packages.filter(\.units.isEmpty).map { row(HTML.escape($0.code), "<span class=\"none\">no units</span>", "", "", "") })
        html += "</section>\n"

        html += "<section class=\"bookings\"><h2>Bookings <span class=\"count\">(\(detail.bookings.count))</span></h2>\n"
        html += table(["Environment", "From", "To", "Status"], detail.bookings.map { b in
            row(HTML.escape(b.environment), viewer.time(b.start), viewer.time(b.end), HTML.escape(b.status.rawValue))
        })
        html += "</section>\n"

        html += "<section class=\"criteria\"><h2>Criteria</h2>\n"
        html += table(["", "Criterion", "Phase", "Check"], detail.criteria.map { c in
            row(c.satisfied ? "✓" : "✗", HTML.escape(c.name), HTML.escape("\(c.activity.title) \(c.boundary.rawValue)"), HTML.escape(c.check.description))
        }, none: detail.model == nil ? "No release model, so no criteria." : "None.")
        html += "</section>\n"

        html += "<section class=\"deviations\"><h2>Deviations <span class=\"count\">(\(detail.deviations.count))</span></h2>\n"
        html += table(["#", "Severity", "What", "Recorded", "Handled"], detail.deviations.map { v in
            row(String(v.id), HTML.escape(v.severity.rawValue), "<span class=\"text\">\(HTML.escape(v.text))</span>",
                "\(viewer.time(v.recordedAt)) by \(HTML.escape(v.recordedBy))", v.resolution.map(HTML.escape) ?? "<strong>open</strong>")
        })
        html += "</section>\n"

        html += "<section class=\"conflicts\"><h2>Conflicts <span class=\"count\">(\(conflicts.count))</span></h2>\n"
        html += conflictTable(conflicts, viewer)
        html += "</section>\n"
        if let evaluation = detail.evaluation {
            html += "<section class=\"evaluation\"><h2>Evaluation</h2><p class=\"text\">\(HTML.escape(evaluation))</p></section>\n"
        }
        return Page(title: "\(r.ref) \(r.title)", body: html)
    }

    // MARK: A window's night

    static func windowPage(_ db: Connection, _ call: Call, _ viewer: Viewer) throws -> Page {
        let code = call.path["code"] ?? ""
        let night = try Releases(db).windowNight(code)
        let w = night.window
        let over = w.used > w.capacity
        var html = "<header><h1>Service window \(HTML.escape(w.code)): the night's plan</h1>\n"
        html += "<p class=\"meta\"><span class=\"when\">\(viewer.time(w.start)) – \(viewer.time(w.end))</span> · \(HTML.escape(w.kind.rawValue))</p>\n"
        html += "<ul class=\"counts\"><li class=\"\(over ? "new" : "open")\"><strong>\(w.used)/\(w.capacity)</strong> used\(over ? ", over capacity" : "")</li>"
        let go = night.entries.filter(\.isGo).count, noGo = night.entries.count - go
        // Red only for what needs someone: no-go releases, an over-full window.
        html += "<li class=\"\(go > 0 ? "resolved" : "open")\"><strong>\(go)</strong> go</li>"
            + "<li class=\"\(noGo > 0 ? "new" : "open")\"><strong>\(noGo)</strong> no-go</li></ul>\n"
        html += "</header>\n<section class=\"night\"><h2>Releases in deployment order <span class=\"count\">(\(night.entries.count))</span></h2>\n"
        html += table(["#", "Release", "Deploys", "Implementer", "Units", "Bookings", "Go/no-go", "Verdict"],
                      night.entries.enumerated().map { index, e in
            let r = e.detail.release
            let units = e.detail.packages.flatMap { p in p.units.map { u in
                "\(HTML.escape(p.code))/\(HTML.escape(u.code)) → \(HTML.escape(u.target))\(u.version.map { " " + HTML.escape($0) } ?? "")"
            } }
            let bookings = e.detail.bookings.map { "\(HTML.escape($0.environment)) \(viewer.time($0.start)) – \(viewer.time($0.end)) \(HTML.escape($0.status.rawValue))" }
            var checks = e.goNoGo.map { "\($0.satisfied ? "✓" : "✗") \(HTML.escape($0.name))" }
            if e.openHighDeviations > 0 { checks.append("✗ \(e.openHighDeviations) open high deviation(s)") }
            let verdict = e.isGo ? "<strong class=\"go\">GO</strong>" : "<strong class=\"severity-error no-go\">NO-GO</strong>"
            return "<tr class=\"\(e.isGo ? "go" : "no-go")\"><td class=\"num\">\(index + 1)</td><td>\(releaseLink(r.ref))<br><span class=\"text\">\(HTML.escape(r.title))</span>"
                + "<br>priority \(r.priority), \(HTML.escape(r.status.rawValue))</td><td class=\"when\">\(viewer.time(r.deployStart)) – \(viewer.time(r.deployEnd))</td>"
                + "<td>\(HTML.escape(r.implementer ?? "unassigned"))</td><td>\(lines(units))</td><td>\(lines(bookings))</td>"
                + "<td>\(checks.isEmpty ? "<span class=\"none\">no criteria</span>" : checks.joined(separator: "<br>"))</td><td>\(verdict)</td></tr>"
        }, none: "No releases in this window.")
        html += "\n<p class=\"note\">Go when every criterion before deploying holds (build &amp; test exit, deploy entry) and no high deviation is open.</p></section>\n"
        return Page(title: "Window \(w.code)", body: html)
    }

    static func lines(_ items: [String]) -> String { items.isEmpty ? "—" : items.joined(separator: "<br>") }

    // MARK: Conflicts

    static func conflictsPage(_ db: Connection, _ call: Call, _ viewer: Viewer) throws -> Page {
        let group = call.query["group"]
        if let group { _ = try Releases(db).list(group: group) }
        let conflicts = try ScheduleStore(db, deadlineZone: viewer.zone).conflicts(group: group, from: try call.instant("from"), to: try call.instant("to"))
        let errors = conflicts.filter { $0.severity == .error }.count
        var html = "<header><h1>Conflicts\(group.map { ": " + HTML.escape($0) } ?? "")</h1>\n"
        html += "<ul class=\"counts\"><li class=\"\(errors > 0 ? "new" : "open")\"><strong>\(errors)</strong> \(errors == 1 ? "error" : "errors")</li>"
            + "<li class=\"open\"><strong>\(conflicts.count - errors)</strong> \(conflicts.count - errors == 1 ? "warning" : "warnings")</li></ul></header>\n"
        html += "<section class=\"conflicts\"><h2>What conflicts, and why <span class=\"count\">(\(conflicts.count))</span></h2>\n"
        html += conflictTable(conflicts, viewer)
        html += "</section>\n<section class=\"explanations\"><h2>What each kind means</h2>\n<dl>\n"
        for type in ConflictType.allCases {
            html += "<dt>\(HTML.escape(type.rawValue)) <span class=\"severity-\(type.severity.rawValue)\">(\(type.severity.rawValue))</span></dt><dd>\(HTML.escape(explanation(type)))</dd>\n"
        }
        html += "</dl></section>\n"
        return Page(title: "Conflicts", body: html)
    }

    /// Each conflict with its message in the viewer's zone, its releases and window linked, and what its kind means.
    static func conflictTable(_ conflicts: [Conflict], _ viewer: Viewer) -> String {
        table(["Severity", "Type", "What", "Releases", "Where", "Why it matters"], conflicts.map { c in
            let resource: String
            switch c.resource {
            case let (kind, code)? where kind == "window": resource = "window " + windowLink(code)
            case let (kind, code)?: resource = "\(HTML.escape(kind)) \(HTML.escape(code))"
            case nil: resource = "—"
            }
            return "<tr class=\"conflict\"><td class=\"severity severity-\(c.severity.rawValue)\">\(c.severity.rawValue)</td><td class=\"type\">\(HTML.escape(c.type.rawValue))</td>"
                + "<td class=\"wrap\">\(HTML.escape(c.message(in: viewer.zone)))</td><td>\(c.releases.map(releaseLink).joined(separator: "<br>"))</td>"
                + "<td>\(resource)</td><td class=\"wrap\">\(HTML.escape(explanation(c.type)))</td></tr>"
        })
    }

    /// The conflict kinds in a release manager's words (Scheduling's ConflictType documents the rules).
    static func explanation(_ type: ConflictType) -> String {
        switch type {
        case .windowCapacity: "More releases are assigned to the service window than it has room for: move one to another window."
        case .environmentOverlap: "More releases hold the environment at the same time than its capacity; tentative bookings count too."
        case .targetCollision: "Two deployments change the same configuration item (or a part of it) at the same time."
        case .implementerBusy: "One person is to deploy two releases at the same time."
        case .freeze: "The deployment or booking falls in a freeze, when nothing may be deployed, and no override was recorded."
        case .dependencyOrder: "The release deploys before a release it depends on has finished, or that one is unscheduled or cancelled."
        case .outsideWindow: "The deployment does not lie inside its service window."
        case .untested: "The deployment starts before its testing ends, or an environment its model requires is not booked."
        case .deadline: "The deployment ends after the release's deadline."
        }
    }

    // MARK: Import

    static func importForm(_ viewer: Viewer, message: String?, csv: String = "", group: String = "") -> Page {
        var html = "<header><h1>Import releases from a CSV file</h1>\n"
        html += "<p class=\"meta\">The same importer, checks and words as <code>relplan import</code>. First a dry run shows what would change and every problem; nothing is written until you import.</p></header>\n"
        if let message { html += "<p class=\"error\" role=\"alert\">\(HTML.escape(message))</p>\n" }
        guard !viewer.csrf.isEmpty else {
            return Page(title: "Import", body: html + "<p class=\"none\">Sign in with the form (/login) to import from the browser; API clients POST to /api/import.</p>")
        }
        html += """
            <form class="import" method="post" action="/import" enctype="multipart/form-data">
            <input type="hidden" name="_csrf" value="\(viewer.csrf)">
            <p><label>CSV file <input type="file" name="file" accept=".csv,text/csv"></label></p>
            <p><label for="csv">or paste the CSV here</label><br><textarea id="csv" name="csv" rows="12" cols="100" spellcheck="false" placeholder="group,plan,release,release_title,window">\(HTML.escape(csv))</textarea></p>
            <p><label>Default group (for rows without one) <input name="group" value="\(HTML.escape(group))" size="12"></label></p>
            <p><button type="submit">Preview (dry run)</button></p>
            </form>
            """
        return Page(title: "Import", body: html)
    }

    /// The form's fields: multipart (a file, or the textarea) or urlencoded; the file's bytes as sent.
    struct ImportForm {
        var fields: [String: String] = [:]
        var file = Data()
    }

    static func readForm(_ request: inout Request, limit: Int) async throws -> ImportForm {
        let data = Data(try await request.collectBody(upTo: limit).readableBytesView)
        let type = request.headers[.contentType] ?? ""
        var form = ImportForm()
        if type.lowercased().hasPrefix("multipart/form-data") {
            guard let boundary = Multipart.boundary(type) else { throw Failure(.usage, "the form's boundary is missing") }
            for part in Multipart.parts(data, boundary: boundary) {
                if part.filename != nil { form.file = part.body } else { form.fields[part.name] = String(decoding: part.body, as: UTF8.self) }
            }
        } else {
            form.fields = Parameters(String(decoding: data, as: UTF8.self)).values
        }
        return form
    }

    /// A MAC of the previewed bytes keyed by the session's id (the HttpOnly cookie, which no page
    /// script reads): the real import takes exactly the file this session previewed.
    static func seal(_ data: Data, _ session: Session) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: Data("relplan import|\(session.id)".utf8)))
        return Data(mac).base64EncodedString()
    }

    func importPreview(_ request: Request) async -> Response {
        await importStep(request, real: false)
    }

    func importRun(_ request: Request) async -> Response {
        await importStep(request, real: true)
    }

    func importStep(_ request: Request, real: Bool) async -> Response {
        var request = request
        guard let id = request.cookies[Routes.sessionCookie]?.value, let session = state.sessions.touch(id) else {
            return Pages.problemPage(.problem(.forbidden, "csrf", "importing from the browser needs your session: sign in again")).response(secure: secure)
        }
        let form: ImportForm
        do {
            form = try await Self.readForm(&request, limit: Routes.importLimit * 2)
        } catch let failure as Failure {
            return Pages.problemPage(.failure(failure)).response(secure: secure)
        } catch {
            return Pages.problemPage(.problem(.contentTooLarge, "usage", "the file is larger than \(Routes.importLimit) bytes")).response(secure: secure)
        }
        guard let token = form.fields["_csrf"], Token.equal(token, session.csrf) else {
            return Pages.problemPage(.problem(.forbidden, "csrf", "this form needs your session and its token: open /import again")).response(secure: secure)
        }
        let group = form.fields["group"]?.trimmingCharacters(in: .whitespaces) ?? ""
        let bytes: Data
        if real {
            guard let carried = form.fields["content"].flatMap({ Data(base64Encoded: $0) }), let mac = form.fields["mac"],
                  Token.equal(mac, Self.seal(carried, session)) else {
                return Pages.problemPage(.problem(.forbidden, "csrf", "the file to import is not the one previewed: preview it again")).response(secure: secure)
            }
            bytes = carried
        } else {
            bytes = !form.file.isEmpty ? form.file : Data((form.fields["csv"] ?? "").utf8)
        }
        let query = Parameters(group.isEmpty ? (real ? nil : "dry_run=true") : "group=\(Self.formEncode(group))" + (real ? "" : "&dry_run=true"))
        let call = Call(query: query, data: bytes, path: [:])
        let csrf = session.csrf
        let seal = Self.seal(bytes, session)
        let reply = await routes.run(as: .session(session), call) { db, call in
            let viewer = Viewer(identity: try Identity.current(db), csrf: csrf, zone: try call.zone)
            guard !call.data.isEmpty else {
                return .html(Self.document(Self.importForm(viewer, message: "Choose a CSV file or paste one."), viewer), status: .badRequest)
            }
            let page = try Self.importResult(db, call, viewer, real: real, seal: seal, group: group)
            return .html(Self.document(page, viewer), status: page.status)
        }
        if reply.status == .unauthorized { return Reply.redirect("/login").response(secure: secure) }
        return (reply.contentType.hasPrefix("application/problem") ? Pages.problemPage(reply) : reply).response(secure: secure)
    }

    static func formEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// The dry run (with the button to import the same bytes) or the import's outcome, in the CLI's words.
    static func importResult(_ db: Connection, _ call: Call, _ viewer: Viewer, real: Bool, seal: String, group: String) throws -> Page {
        var html = "<header><h1>\(real ? "Import" : "Dry run of the import")</h1></header>\n"
        let output: ImportOutput
        switch try Routes.runImport(db, call) {
        case .refused(let detail, let errors):
            html += "<section class=\"problems\"><h2 class=\"severity-error\">\(HTML.escape(detail))</h2>\n"
            html += "<ol>" + errors.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ol>\n"
            html += "<p>Correct the file and preview it again.</p></section>\n"
            var again = importForm(viewer, message: nil, csv: String(decoding: call.data, as: UTF8.self), group: group)
            again.body = html + again.body.replacingOccurrences(of: "<h1>Import releases from a CSV file</h1>", with: "<h2>Try again</h2>")
            again.status = .unprocessableContent
            return again
        case .done(let done):
            output = done
        }
        html += "<section class=\"preview\"><h2>\(real ? "Done" : "What it would do")</h2>\n"
        html += "<pre class=\"import-outcome\">\(HTML.escape(output.text()))</pre>\n"
        let problems = output.outcome.warnings.map(\.description)
        if !problems.isEmpty { html += "<h3>Problems</h3><ol>" + problems.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ol>\n" }
        html += "</section>\n"
        if !real {
            html += """
                <form class="import-run" method="post" action="/import/run">
                <input type="hidden" name="_csrf" value="\(viewer.csrf)">
                <input type="hidden" name="content" value="\(call.data.base64EncodedString())">
                <input type="hidden" name="mac" value="\(HTML.escape(seal))">
                <input type="hidden" name="group" value="\(HTML.escape(group))">
                <p><button type="submit">Import this file</button> <a href="/import">Start again</a></p>
                </form>
                """
        } else {
            html += "<p><a href=\"/\">Back to the calendar</a> · <a href=\"/import\">Import another file</a></p>\n"
        }
        return Page(title: real ? "Imported" : "Import preview", body: html)
    }
}

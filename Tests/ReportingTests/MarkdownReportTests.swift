import Foundation
@testable import Reporting
import Testing

@Suite("report.md")
struct MarkdownReportTests {
    let markdown = try! ReportRenderer(ReportFixtures.report()).markdown()

    private func position(_ text: String, in markdown: String, sourceLocation: SourceLocation = #_sourceLocation) -> String.Index {
        guard let range = markdown.range(of: text) else {
            Issue.record("\"\(text)\" is not in the report", sourceLocation: sourceLocation)
            return markdown.endIndex
        }
        return range.lowerBound
    }

    @Test("a title with the scope and date, then the counts")
    func header() throws {
        #expect(markdown.hasPrefix("# Conflict report: all groups, 2027-03-10\n\n2 new · 2 open · 1 resolved\n"))
        let crm = try ReportRenderer(ReportFixtures.report(group: "CRM")).markdown()
        #expect(crm.hasPrefix("# Conflict report: CRM, 2027-03-10\n"))
    }

    @Test("new conflicts first, then open ones oldest first with their age, then resolved ones")
    func order() {
        let new = position("**window-capacity** (error) in window SW-2027-03-20", in: markdown)
        let newWarning = position("**deadline** (warning)", in: markdown)
        let oldest = position("**environment-overlap** (error) in environment TEST-INT", in: markdown)
        let younger = position("**freeze** (error)", in: markdown)
        let resolved = position("**target-collision** (error)", in: markdown)
        #expect(new < newWarning)
        #expect(newWarning < oldest)
        #expect(oldest < younger)
        #expect(younger < resolved)
        #expect(markdown.contains("CRM/R-2027.04, HR/PAY-8 — open for 6 days (since 2027-03-04 02:00)"))
        #expect(markdown.contains("— open for 2 days (since 2027-03-08 02:00)"))
        #expect(markdown.contains("— resolved 2027-03-10 02:00 after 9 days"))
    }

    @Test("windows show their load, times are local, freezes and proposals follow")
    func windowsFreezesProposals() {
        #expect(markdown.contains("- SW-2027-03-13, Sat 13 Mar 22:00–02:00: **3/4 used**. CRM/R-2027.03, HR/PAY-7, FIN/GL-12\n"))
        #expect(markdown.contains("- SW-2027-03-20, Sat 20 Mar 22:00–02:00: **3/2 used** (over capacity)."))
        // Across the change to summer time the window still ends at 04:00 on the wall clock.
        #expect(markdown.contains("- SW-2027-03-27, Sat 27 Mar 22:00–04:00: **1/3 used**. CRM/R-2027.05\n"))
        #expect(markdown.contains("- FRZ-EASTER, Fri 26 Mar 00:00 – Tue 30 Mar 00:00, all environments: Easter, no changes\n"))
        #expect(markdown.contains("- #12 CRM/R-2027.04: move-window from SW-2027-03-20 to SW-2027-04-03."))
        #expect(markdown.contains("- #13 HR/PAY-8"))
        #expect(position("## Pending proposals", in: markdown) < position("## Upcoming service windows", in: markdown))
        #expect(position("## Upcoming service windows", in: markdown) < position("## Freezes ahead", in: markdown))
    }

    @Test("a group's report lists only that group's proposals")
    func groupProposals() throws {
        let crm = try ReportRenderer(ReportFixtures.report(group: "CRM")).markdown()
        #expect(crm.contains("- #12 CRM/R-2027.04"))
        #expect(!crm.contains("#13"))
    }

    @Test("long lists are cut with a pointer to the complete files")
    func limits() throws {
        let report = ReportFixtures.report(windows: ReportFixtures.manyWindows(60))
        let text = try ReportRenderer(report, limits: ReportLimits(conflictsPerStatus: 1, windows: 10)).markdown()
        #expect(text.contains("- … and 1 more in conflicts.csv"))
        #expect(text.contains("- … and 54 more windows in calendar.ics"))
    }

    @Test("an empty report says so")
    func empty() throws {
        var report = ReportFixtures.report()
        report.conflicts = []
        report.proposals = []
        report.freezes = []
        report.windows = []
        let text = try ReportRenderer(report).markdown()
        #expect(text.contains("0 new · 0 open · 0 resolved"))
        #expect(text.contains("## New conflicts (0)\n\nNone.\n"))
        #expect(text.contains("## Upcoming service windows\n\nNone in the horizon.\n"))
    }

    @Test("text from the data cannot become Markdown syntax")
    func escaping() {
        #expect(MarkdownText.escape("a*b* [x](y) <b> `c` | d #1") == "a\\*b\\* \\[x\\](y) \\<b\\> \\`c\\` \\| d \\#1")
        #expect(MarkdownText.escape("HR_PAY _em_ x\ny") == "HR_PAY \\_em\\_ x y")
    }
}

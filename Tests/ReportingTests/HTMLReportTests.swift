import Foundation
import Reporting
import Testing
import TestSupport

@Suite("report.html")
struct HTMLReportTests {
    /// Parses the page with a strict XML parser (any unclosed tag or bad entity fails) and prints
    /// the parts the tests look at.
    static let inspector = #"""
    import json, sys
    import xml.etree.ElementTree as ET
    XHTML = "{http://www.w3.org/1999/xhtml}"
    SVG = "{http://www.w3.org/2000/svg}"
    try:
        root = ET.parse(sys.argv[1]).getroot()
    except ET.ParseError as error:
        print(f"not well-formed XML: {error}", file=sys.stderr)
        sys.exit(1)
    def title_of(element):
        title = element.find(SVG + "title")
        return title.text if title is not None else None
    svg = root.find(f".//{SVG}svg")
    lanes, conflicts, slots = [], [], []
    for group in svg.iter(SVG + "g"):
        classes = group.get("class", "").split()
        if "lane" in classes:
            lanes.append({"kind": classes[1], "code": group.get("data-code"),
                          "bars": len([r for r in group.findall(SVG + "rect") if "bar" in r.get("class", "").split()])})
    for rect in svg.iter(SVG + "rect"):
        classes = rect.get("class", "").split()
        if "bar" in classes and "conflict" in classes:
            conflicts.append({"stroke": rect.get("stroke"), "title": title_of(rect)})
        if "slot" in classes and "conflict" in classes:
            slots.append(title_of(rect))
    meta = [m.attrib for m in root.iter(XHTML + "meta")]
    style = "".join(s.text or "" for s in root.iter(XHTML + "style"))
    notes = [p.text for p in root.iter(XHTML + "p") if p.get("class") == "note"]
    legend = ["".join(li.itertext()) for ul in root.iter(XHTML + "ul") if ul.get("class") == "legend" for li in ul.findall(XHTML + "li")]
    print(json.dumps({"root": root.tag, "viewBox": svg.get("viewBox"), "width": svg.get("width"), "lanes": lanes,
                      "conflicts": conflicts, "slots": slots, "meta": meta, "style": style, "notes": notes,
                      "legend": legend, "text": "".join(root.itertext())}))
    """#

    static func inspect(_ html: String) throws -> [String: Any] {
        try #require(try PythonCheck.run(inspector, on: html, fileExtension: "html") as? [String: Any])
    }

    let html = try! ReportRenderer(ReportFixtures.report()).html()

    @Test("the page is well-formed XHTML with a DOCTYPE, viewport and print rules")
    func wellFormed() throws {
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\""))
        let page = try Self.inspect(html)
        #expect(page["root"] as? String == "{http://www.w3.org/1999/xhtml}html")
        let meta = try #require(page["meta"] as? [[String: String]])
        #expect(meta.contains { $0["name"] == "viewport" && $0["content"]?.contains("width=device-width") == true })
        #expect(meta.contains { $0["charset"] == "utf-8" })
        let style = try #require(page["style"] as? String)
        #expect(style.contains("@media print"))
        #expect(style.contains("overflow-x: auto"))
        #expect(page["width"] as? String == "100%")
        #expect((page["viewBox"] as? String)?.hasPrefix("0 0 1200 ") == true)
    }

    @Test("nothing is fetched from the network: no scripts, links, images or URLs but the namespaces")
    func selfContained() {
        let allowed: Set = ["http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg"]
        let pattern = /https?:\/\/[^"'\s)]*/
        for match in html.matches(of: pattern) {
            #expect(allowed.contains(String(match.output)), "external reference \(match.output)")
        }
        for forbidden in ["<script", "<link", "<img", "<iframe", "src=", "@import", "@font-face", "href="] {
            #expect(!html.contains(forbidden), "the page holds \(forbidden)")
        }
        for match in html.matches(of: /url\(([^)]*)\)/) {
            #expect(match.output.1.hasPrefix("#"), "url(\(match.output.1)) is not a reference inside the page")
        }
    }

    @Test("the timeline has a lane per window in the horizon and per environment")
    func lanes() throws {
        let page = try Self.inspect(html)
        let lanes = try #require(page["lanes"] as? [[String: Any]])
        #expect(lanes.map { "\($0["kind"] ?? "")/\($0["code"] ?? "")" } == [
            "window/SW-2027-03-13", "window/SW-2027-03-20", "window/SW-2027-03-27", "window/SW-2027-04-03",
            "environment/PROD", "environment/STAGE", "environment/TEST-INT",
        ])
        #expect(lanes.map { $0["bars"] as? Int } == [3, 3, 1, 0, 0, 2, 3])
        let legend = try #require(page["legend"] as? [String])
        #expect(Array(legend.prefix(3)) == ["group CRM", "group HR", "group FIN"])
    }

    @Test("the timeline marks the moment the report was made, in the report's zone, and only when the horizon holds it")
    func nowMarked() throws {
        #expect(html.contains("<g class=\"now\"><title>The report was made 2027-03-10 02:00</title>"), "02:00 in Stockholm")
        #expect(html.contains(">now 02:00</text>"))
        var later = ReportFixtures.report()
        later.horizon = ReportFixtures.interval("2027-03-11T00:00:00Z", "2027-04-07T00:00:00Z")
        #expect(!(try ReportRenderer(later).html()).contains("<g class=\"now\">"))
    }

    @Test("conflicting bars are outlined in red with a tooltip naming the releases and the message")
    func conflicts() throws {
        let page = try Self.inspect(html)
        let conflicts = try #require(page["conflicts"] as? [[String: Any]])
        #expect(conflicts.allSatisfy { ($0["stroke"] as? String)?.lowercased() == "#c00000" })
        let titles = conflicts.compactMap { $0["title"] as? String }
        // Three deployments in the over-full window, two bookings of TEST-INT, the deployment in the freeze.
        #expect(titles.count == 6)
        #expect(titles.contains { $0.contains("Conflict window-capacity (error) between CRM/R-2027.04, FIN/GL-13, HR/PAY-8: service window SW-2027-03-20 holds 3 releases, capacity 2") })
        #expect(titles.contains { $0.hasPrefix("HR/PAY-8 (HR): Lön 8\ntentative,") && $0.contains("Conflict environment-overlap (error) between CRM/R-2027.04, HR/PAY-8") })
        #expect(titles.contains { $0.hasPrefix("CRM/R-2027.05") && $0.contains("deploys during freeze FRZ-EASTER") })
        // The resolved target collision outlines nothing.
        #expect(!titles.contains { $0.contains("target-collision") })
        let slots = try #require(page["slots"] as? [String])
        #expect(slots == ["SW-2027-03-20: Sat 20 Mar 22:00–02:00, 3/2 used, over capacity"])
    }

    @Test("the page holds the digest: counts, conflicts by status, proposals, window load, freezes")
    func content() throws {
        let text = try #require(try Self.inspect(html)["text"] as? String)
        for expected in ["Conflict report: all groups, 2027-03-10", "New conflicts", "Open conflicts, oldest first",
                         "Resolved since the last run", "open for 6 days (since 2027-03-04 02:00)", "3/4 used", "3/2 used",
                         "move-window", "Easter, no changes", "Storage migration; STAGE offline"] {
            #expect(text.contains(expected), "missing \(expected)")
        }
        // Data is escaped, never markup: the title with & and <…> survives as text.
        #expect(html.contains("Kunder &amp; &lt;avtal&gt;, mars; &quot;stor&quot;"))
        #expect(!html.contains("<avtal>"))
    }

    @Test("four hundred windows stay usable: lanes are capped with a note, the page stays well-formed")
    func manyLanes() throws {
        let report = ReportFixtures.report(windows: ReportFixtures.manyWindows(400, everyHours: 1))
        let page = try Self.inspect(try ReportRenderer(report).html())
        let lanes = try #require(page["lanes"] as? [[String: Any]])
        let windowLanes = lanes.filter { $0["kind"] as? String == "window" }.compactMap { $0["code"] as? String }
        #expect(windowLanes.count == ReportLimits().windowLanes)
        // The over-full window (late in the list of 404) keeps its lane.
        #expect(windowLanes.contains("SW-2027-03-20"))
        #expect(lanes.filter { $0["kind"] as? String == "environment" }.count == 3)
        let notes = try #require(page["notes"] as? [String])
        #expect(notes.contains { $0.contains("120 of 404 service windows") && $0.contains("calendar.ics holds them all") })
    }
}

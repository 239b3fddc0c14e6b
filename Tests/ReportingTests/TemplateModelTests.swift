import Foundation
import Mustache
@testable import Reporting
import Testing

@Suite("template view models")
struct TemplateModelTests {
    /// Every stored field of every view model is reachable by name through `MustacheParent`
    /// (TemplateModels.swift), and an absent optional stays absent, so `{{#field}}` skips it.
    @Test("every view-model field reaches the templates")
    func fieldsReachable() {
        let report = ReportFixtures.report()
        let renderer = ReportRenderer(report)
        let page = HTMLPage(digest: ReportDigest(report, ordered: renderer.ordered, limits: ReportLimits(), escape: { $0 }),
                            timeline: Timeline(report, ordered: renderer.ordered, limits: ReportLimits()))
        var checked = Set<String>()
        check(page, checked: &checked)
        #expect(checked.count >= 15, "only \(checked.sorted()) were visited")
    }

    private func check(_ value: Any, checked: inout Set<String>) {
        if let array = value as? [Any] {
            for element in array { check(element, checked: &checked) }
            return
        }
        guard let parent = value as? MustacheParent else { return }
        checked.insert(String(describing: type(of: value)))
        for child in Mirror(reflecting: value).children {
            guard let label = child.label else { continue }
            let reached = parent.child(named: label)
            if let present = unwrap(child.value) {
                #expect(reached != nil, "\(type(of: value)).\(label) is missing from its MustacheParent conformance")
                check(present, checked: &checked)
            } else {
                #expect(reached == nil, "\(type(of: value)).\(label) is nil but reaches the template as a value")
            }
        }
    }

    private func unwrap(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first.map(\.value)
    }
}

import Foundation
import Reporting

/// The nightly report's files. Interim: the JSON document until the full renderers land.
enum ReportRenderer {
    static func files(for report: NightlyReport) -> [(String, Data)] {
        let document = ConflictFormats.document(report.conflicts.map(\.conflict), generatedAt: report.generatedAt)
        return [("conflicts.json", Data(document.serialized(pretty: true).utf8))]
    }
}

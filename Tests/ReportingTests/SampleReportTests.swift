import Foundation
import Reporting
import Testing

@Suite("sample report on disk")
struct SampleReportTests {
    /// Writes the fixture's files to `$TMPDIR/relplan-report-sample/` (and the CRM group's to
    /// `…/CRM/`), for `scripts/screenshot-report` and for a person to open.
    @Test("every file is written, under the names report nightly uses")
    func writeSample() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-report-sample")
        for (subfolder, group) in [("", nil), ("CRM", "CRM")] as [(String, String?)] {
            let target = subfolder.isEmpty ? folder : folder.appendingPathComponent(subfolder)
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            let files = try ReportRenderer(ReportFixtures.report(group: group)).files()
            #expect(files.map(\.name) == ReportRenderer.fileNames)
            for file in files {
                #expect(!file.contents.isEmpty)
                try file.contents.write(to: target.appendingPathComponent(file.name))
            }
        }
    }
}

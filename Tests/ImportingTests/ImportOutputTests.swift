import Foundation
import Testing
@testable import Importing

@Suite("COPY chunks, rejects and progress")
struct ImportOutputTests {
    func copyText(_ csv: String, options: ImportOptions = ImportOptions()) throws -> String {
        let reader = try ImportReader(source: ImportTest.source(csv), options: options)
        var bytes = [UInt8]()
        while let chunk = try reader.nextChunk() { bytes += chunk.bytes }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func everyColumnInOrderWithEscapesAndNulls() throws {
        let csv = ImportTest.fullHeader + "\n"
            + #"CRM,CRM-2027,,CHG-1,R-2027.03,"a"# + "\r\n" + #"b\c"# + "\n"
            + #"d",SW-1,2027-03-14 18:00+01:00,2027-03-14 22:30:15.5,3,2027-03-31,"HR/PAY-7|HR/X_Y| R-2 ",,,,,,,,"#
            + "\n"
        let columns = [
            "2", "0", "CRM", "CRM-2027", #"\N"#, "CHG-1", "R-2027.03", #"a\nb\\c\nd"#  /* CR LF stored as LF */, "SW-1",
            "2027-03-14T17:00:00Z", "2027-03-14T22:30:15.500000Z", "3", "2027-03-31",
            #"{"HR/PAY-7","HR/X_Y","CRM/R-2"}"#,
            #"\N"#, #"\N"#, #"\N"#, #"\N"#, #"\N"#, #"\N"#, #"\N"#, #"\N"#,
        ]
        #expect(CopyTextEncoder.columns.count == columns.count)
        #expect(try copyText(csv) == columns.joined(separator: "\t") + "\n")
    }

    @Test func repeatedReleaseCellsGoAsNull() throws {
        let csv = "group,plan,release,release_title,window,package,unit,unit_kind,target\n"
            + "CRM,P,R1,Title,SW-1,core,a,application,t1\n"
            + "CRM,P,R1,Title,SW-1,core,b,application,t2\n"  // repeats R1's cells
            + "CRM,P,R1,,,core,c,application,t3\n"  // does not: empty cells
            + "CRM,P,R2,Title,SW-1,core,a,application,t1\n"
        let lines = try copyText(csv).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        #expect(lines.map { $0.count } == [22, 22, 22, 22])
        #expect(lines.map { String($0[1]) } == ["0", "0", "0", "1"])  // the release's number
        #expect(lines.map { String($0[3]) } == ["P", #"\N"#, "P", "P"])  // plan
        #expect(lines.map { String($0[7]) } == ["Title", #"\N"#, #"\N"#, "Title"])  // release_title
        #expect(lines.map { String($0[6]) } == ["R1", "R1", "R1", "R2"])  // the key is always there
        #expect(lines.map { String($0[15]) } == ["a", "b", "c", "a"])
    }

    @Test func arrayElementsAreEscapedForTheArrayParserAndForCOPY() {
        var bytes = [UInt8](repeating: 0, count: 64)
        let cache = InstantTextCache()
        defer { cache.release() }
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int in
            let base = buffer.baseAddress!
            var writer = RowWriter(cursor: base, cache: cache)
            Array(#"a"b\c"#.utf8).withUnsafeBufferPointer { writer.arrayElement($0) }
            return writer.cursor - base
        }
        #expect(String(decoding: bytes.prefix(written), as: UTF8.self) == #"a\\"b\\\\c"#)
    }

    @Test func chunksHoldWholeRowsOfAboutTheAskedSize() throws {
        var csv = "group,plan,release,release_title\n"
        for number in 0..<5000 { csv += "CRM,P,R\(number),Title number \(number)\n" }
        let reader = try ImportReader(source: ImportTest.source(csv), options: ImportOptions(chunkSize: 16 * 1024))
        var chunks = [ImportChunk]()
        while let chunk = try reader.nextChunk() { chunks.append(chunk) }
        #expect(chunks.count > 5)
        #expect(chunks.reduce(0) { $0 + $1.rowCount } == 5000)
        for chunk in chunks {
            #expect(chunk.bytes.last == UInt8(ascii: "\n"))
            #expect(chunk.bytes.count < 16 * 1024 + 100)
            #expect(chunk.bytes.filter { $0 == UInt8(ascii: "\n") }.count == chunk.rowCount)
        }
        #expect(chunks.first?.firstLine == 2)
        #expect(chunks.last?.lastLine == 5001)
        #expect(reader.report.releases.count == 5000)
    }

    @Test func chunksAsAnAsyncSequence() async throws {
        let reader = try ImportReader(source: ImportTest.source("group,plan,release\nA,P,R1\nA,P,R2\nA,,R3\n"))
        var rows = 0
        for try await chunk in reader.chunks { rows += chunk.rowCount }
        #expect(rows == 2)
        #expect(reader.report.invalidRows == 1)
    }

    @Test func rejectsKeepTheRecordAndGiveTheReason() throws {
        let path = ImportTest.temporaryPath("rejects.csv")
        let csv = "group;plan;release;release_title;priority\r\n"
            + "CRM;P;R1;ok;2\r\n"
            + "CRM;P;R2;\"semi; colon\r\nand \"\"quotes\"\"\";9\r\n"
            + "CRM;;R3; padded ;\r\n"
            + "CRM;P;R4\r\n"
        let reader = try ImportReader(source: ImportTest.source(csv))
        let rejects = try RejectsWriter(path: path)
        reader.rejects = rejects
        let report = try reader.validate()
        try rejects.close()
        #expect(report.validRows == 1)
        #expect(rejects.rowCount == 3)
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written == "group;plan;release;release_title;priority;reason\r\n"
            + "CRM;P;R2;\"semi; colon\r\nand \"\"quotes\"\"\";9;line 3: priority: must be a whole number from 1 (highest) to 5 (lowest)\r\n"
            + "CRM;;R3;\" padded \";;line 5: plan: is required\r\n"
            + "CRM;P;R4;;;line 6: row: expected 5 columns, got 3\r\n")
        // The fixed rejects read back: the reason column is ignored.
        let again = try ImportTest.rows(written.replacingOccurrences(of: ";9;", with: ";1;"))
        #expect(again.rows.map(\.release) == ["R2", "R4"])
    }

    @Test func progressIsReportedEveryNRowsAndAtTheEnd() throws {
        var csv = "group,plan,release\n"
        for number in 0..<250 { csv += "CRM,P,R\(number)\n" }
        let reader = try ImportReader(source: ImportTest.source(csv), options: ImportOptions(progressInterval: 100))
        var seen = [ImportProgress]()
        reader.onProgress = { seen.append($0) }
        _ = try reader.validate()
        #expect(seen.map(\.rowsRead) == [100, 200, 250])
        #expect(seen.last?.bytesRead == csv.utf8.count)
        #expect(seen.last?.totalBytes == csv.utf8.count)
        #expect(seen.last?.fraction == 1)
    }

    @Test func aLargeFileIsStreamedFromDisk() throws {
        let path = ImportTest.temporaryPath("large.csv")
        var csv = ImportTest.fullHeader + "\n"
        for number in 0..<20_000 {
            csv += "CRM,CRM-2027,Roadmap,CHG-1,R-\(number / 4),Release \(number / 4),SW-1,2027-03-14 18:00,"
                + "2027-03-14 22:00,2,2027-03-31,,core,u\(number),application,srv-1,1.0,TEST,2027-03-01 08:00,2027-03-02 08:00\n"
        }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try ImportReader(source: .file(path), options: ImportOptions(readSize: 8192))
        let report = try reader.readChunks { _ in }
        #expect(report.messages == [])
        #expect(report.validRows == 20_000)
        #expect(report.releases.count == 5000)
        #expect(report.releases.last == ReleaseSummary(
            key: ReleaseKey(group: "CRM", release: "R-4999"), firstLine: 19_998, rowCount: 4, hasInvalidRow: false))
    }
}

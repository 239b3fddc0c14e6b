import Foundation
import Testing
@testable import Importing

@Suite("CSV reader")
struct CSVReaderTests {
    struct Record: Equatable, CustomStringConvertible {
        var line: Int
        var fields: [String]
        var description: String { "\(line): \(fields)" }
    }

    func records(_ bytes: [UInt8], bufferSize: Int = 1 << 20, encoding: ImportEncoding = .utf8) throws -> [Record] {
        let reader = try CSVReader(source: .bytes(bytes, name: "t.csv"), encoding: encoding, bufferSize: bufferSize)
        var out = [Record]()
        while try reader.next() { out.append(Record(line: reader.line, fields: reader.fields)) }
        return out
    }

    func records(_ text: String, bufferSize: Int = 1 << 20) throws -> [Record] {
        try records(Array(text.utf8), bufferSize: bufferSize)
    }

    @Test func quotingDelimitersDoubledQuotesAndLineBreaks() throws {
        let text = "a,b,c\n1,\"x,y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",z\n3,,\"\"\n"
        #expect(try records(text) == [
            Record(line: 1, fields: ["a", "b", "c"]),
            Record(line: 2, fields: ["1", "x,y", "say \"hi\""]),
            Record(line: 3, fields: ["2", "two\nlines", "z"]),
            Record(line: 5, fields: ["3", "", ""]),
        ])
    }

    @Test func lineEndsCRLFAndCRAndMissingLastLineBreak() throws {
        #expect(try records("a;b\r\n1;\"x\r\ny\"\r\n2;z") == [
            Record(line: 1, fields: ["a", "b"]),
            Record(line: 2, fields: ["1", "x\r\ny"]),
            Record(line: 4, fields: ["2", "z"]),
        ])
        #expect(try records("a,b\r1,2\r3,4\r") == [
            Record(line: 1, fields: ["a", "b"]), Record(line: 2, fields: ["1", "2"]), Record(line: 3, fields: ["3", "4"]),
        ])
    }

    @Test func blankLinesAreSkippedButCounted() throws {
        #expect(try records("a,b\n\n1,2\n,\n\r\n3,4\n\n") == [
            Record(line: 1, fields: ["a", "b"]), Record(line: 3, fields: ["1", "2"]), Record(line: 6, fields: ["3", "4"]),
        ])
    }

    @Test func delimiterIsDetectedFromTheHeaderOnly() throws {
        #expect(try CSVReader(source: .bytes(Array("a;b;c\n1,5;2;3\n".utf8), name: "t")).delimiter == UInt8(ascii: ";"))
        #expect(try CSVReader(source: .bytes(Array("\"a;b\",c\n".utf8), name: "t")).delimiter == UInt8(ascii: ","))
        #expect(try CSVReader(source: .bytes(Array("a\tb\n".utf8), name: "t")).delimiter == 0x09)
        #expect(try CSVReader(source: .bytes(Array("single\n".utf8), name: "t")).delimiter == UInt8(ascii: ","))
        let given = try CSVReader(source: .bytes(Array("a;b,c\n".utf8), name: "t"), delimiter: UInt8(ascii: ","))
        #expect(given.delimiter == UInt8(ascii: ","))
    }

    @Test func byteOrderMarkIsSkipped() throws {
        #expect(try records([0xEF, 0xBB, 0xBF] + Array("group,plan\nA,B\n".utf8)) == [
            Record(line: 1, fields: ["group", "plan"]), Record(line: 2, fields: ["A", "B"]),
        ])
    }

    @Test func everyChunkBoundaryGivesTheSameRecords() throws {
        let text = "\u{FEFF}h1;h2;h3\r\n\"a;\"\"b\"\"\r\nc\";d;\r\n\r\nx;\"\";\"y\ny\"\r\nlast;ä€;z"
        let expected = try records(text)
        #expect(expected.count == 4)
        for size in 1...40 {
            #expect(try records(text, bufferSize: size) == expected, "buffer size \(size)")
        }
    }

    @Test func aTenMegabyteFieldIsRead() throws {
        var bytes = Array("a,b\n1,\"".utf8)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: 10 * 1024 * 1024))
        bytes.append(contentsOf: Array("\"\n2,after\n".utf8))
        let reader = try CSVReader(source: .bytes(bytes, name: "big.csv"), bufferSize: 64 * 1024)
        #expect(try reader.next())
        #expect(try reader.next())
        #expect(reader.fieldBytes(1).count == 10 * 1024 * 1024)
        #expect(try reader.next())
        #expect(reader.line == 3)
        #expect(reader.fields == ["2", "after"])
        #expect(try !reader.next())
    }

    @Test func structuralProblemsAreReportedPerRecord() throws {
        let reader = try CSVReader(source: .bytes(Array("a,b\n\"x\"y,2\n3,\"open\nmore".utf8), name: "t"))
        #expect(try reader.next())
        #expect(try reader.next())
        #expect(reader.problems == [CSVRecordProblem(kind: .textAfterClosingQuote, field: 0, line: 2)])
        #expect(reader.fields == ["xy", "2"])
        #expect(try reader.next())
        #expect(reader.problems == [CSVRecordProblem(kind: .unclosedQuote(openedOnLine: 3), field: 1, line: 3)])
        #expect(!reader.endsWithLineBreak)
        #expect(try !reader.next())
    }

    @Test func windows1252IsConvertedOnRequest() throws {
        let bytes: [UInt8] = Array("a,b\n".utf8) + [0x4D, 0xE4, 0x72, 0x74, 0x61, 0x2C, 0x80, 0x93, 0x78, 0x94, 0x0A]
        #expect(try records(bytes, encoding: .windows1252)[1].fields == ["Märta", "€“x”"])
        for size in [1, 2, 3, 5] {
            #expect(try records(bytes, bufferSize: size, encoding: .windows1252)[1].fields == ["Märta", "€“x”"])
        }
    }

    @Test func utf8SplitAcrossChunksIsValid() throws {
        let text = "a\nåäö€😀\n"
        for size in 1...12 {
            #expect(try records(text, bufferSize: size)[1].fields == ["åäö€😀"])
        }
    }

    @Test func aFileIsReadInChunksFromDisk() throws {
        let path = ImportTest.temporaryPath("chunks.csv")
        var text = "n,square\n"
        for number in 0..<20_000 { text += "\(number),\"\(number * number)\"\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try CSVReader(source: .file(path), bufferSize: 4096)
        #expect(reader.totalBytes == text.utf8.count)
        var count = 0
        var lastLine = 0
        while try reader.next() {
            count += 1
            lastLine = reader.line
        }
        #expect(count == 20_001)
        #expect(lastLine == 20_001)
        #expect(reader.bytesRead == text.utf8.count)
    }

    @Test func aMissingFileIsNamed() {
        #expect(throws: ImportFailure.self) { try CSVReader(source: .file("/nonexistent/x.csv")) }
        do {
            _ = try CSVReader(source: .file("/nonexistent/x.csv"))
        } catch {
            #expect(error.description == "/nonexistent/x.csv:1: file: cannot open: No such file or directory")
        }
    }
}

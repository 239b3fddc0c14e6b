import Foundation
import SeededRandom
import Testing
@testable import Importing

/// Mutates a valid file at random (seeded, so failures repeat) and checks that the importer
/// never crashes and always ends in rows or clean, well-formed errors, whatever the chunk
/// boundaries.
@Suite("Importer fuzzing")
struct ImportFuzzTests {
    static let example: [UInt8] = Array((
        "\u{FEFF}group;plan;plan_title;release;release_title;deploy_start;deploy_end;priority;deadline;depends_on;"
            + "package;unit;unit_kind;target;environment;env_start;env_end\r\n"
            + "CRM;CRM-2027;\"Roadmap; 2027\";R-2027.03;\"March \"\"big\"\"\r\nrelease\";2027-03-14 18:00;2027-03-14 22:00;2;"
            + "2027-03-31;HR/PAY-7|R-2027.02;core;crm-api;application;srv-crm-01;TEST-INT;2027-03-01 08:00;2027-03-05 17:00\r\n"
            + "CRM;CRM-2027;;R-2027.03;;;;;;;core;crm-db;database;db-01;;;\r\n"
            + "HR;PAY;Lön;PAY-7;Löneuppdatering;2027-03-07T06:00+01:00;2027-03-07T08:00+01:00;1;;;;;;;;;\r\n"
            + "\r\n"
            + "HR;PAY;Lön;PAY-8;Åtta;2027-04-07 06:00;2027-04-07 07:30;5;2027-04-30;HR/PAY-7;docs;guide;documentation;wiki;STAGE;2027-04-01 08:00;2027-04-02 08:00\r\n"
    ).utf8)

    @Test func mutatedFilesEndInRowsOrCleanErrors() throws {
        var random = SeededGenerator(seed: 0x5EED_2027)
        let readSizes = [1, 2, 3, 7, 31, 4096]
        for round in 0..<3000 {
            let bytes = mutate(Self.example, &random)
            let lineCount = Self.lineCount(bytes)
            let small = readSizes[Int.random(in: 0..<readSizes.count, using: &random)]
            let first = run(bytes, readSize: small, lineCount: lineCount, round: round)
            let second = run(bytes, readSize: 1 << 20, lineCount: lineCount, round: round)
            #expect(first == second, "round \(round): chunk boundaries changed the result")
        }
    }

    /// What a run ended in, comparable across read sizes.
    enum Outcome: Equatable {
        case failed([String])
        case read(messages: [String], validRows: Int, copyBytes: [UInt8])
    }

    func run(_ bytes: [UInt8], readSize: Int, lineCount: Int, round: Int) -> Outcome {
        do {
            let reader = try ImportReader(
                source: .bytes(bytes, name: "fuzz.csv"), options: ImportOptions(chunkSize: 512, readSize: readSize))
            var copy = [UInt8]()
            var rowsInChunks = 0
            while let chunk = try reader.nextChunk() {
                copy += chunk.bytes
                rowsInChunks += chunk.rowCount
                // Every row is one line of exactly 22 columns: tabs and line breaks in values are escaped.
                for line in chunk.bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
                    #expect(line.filter { $0 == 0x09 }.count == 21, "round \(round)")
                }
            }
            let report = reader.report
            #expect(report.validRows == rowsInChunks, "round \(round)")
            #expect(report.validRows + report.invalidRows == report.rowsRead, "round \(round)")
            for issue in report.issues { check(issue, lineCount: lineCount, round: round) }
            return .read(messages: report.messages, validRows: report.validRows, copyBytes: copy)
        } catch {
            #expect(!error.issues.isEmpty, "round \(round)")
            for issue in error.issues { check(issue, lineCount: lineCount, round: round) }
            return .failed(error.issues.map(\.description))
        }
    }

    func check(_ issue: ImportIssue, lineCount: Int, round: Int) {
        #expect(issue.file == "fuzz.csv")
        #expect((1...lineCount).contains(issue.line), "round \(round): line \(issue.line) of \(lineCount)")
        #expect(!issue.field.isEmpty && !issue.message.isEmpty, "round \(round)")
        #expect(issue.description.hasPrefix("fuzz.csv:\(issue.line): \(issue.field): "))
    }

    /// Lines as the reader counts them: LF, CRLF and a lone CR each end one.
    static func lineCount(_ bytes: [UInt8]) -> Int {
        var count = 1
        for (index, byte) in bytes.enumerated() {
            if byte == 0x0A || byte == 0x0D && (index + 1 == bytes.count || bytes[index + 1] != 0x0A) { count += 1 }
        }
        return count
    }

    func mutate(_ original: [UInt8], _ random: inout SeededGenerator) -> [UInt8] {
        var bytes = original
        let specials: [UInt8] = [0x22, 0x3B, 0x2C, 0x0A, 0x0D, 0x00, 0xC3, 0xE4, 0x80, 0xFF, 0x7C, 0x2F, 0x20]
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            guard !bytes.isEmpty else { break }
            let position = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<7, using: &random) {
            case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)  // flip a byte
            case 1: bytes.removeSubrange(position...)  // truncate
            case 2: bytes.insert(specials[Int.random(in: 0..<specials.count, using: &random)], at: position)
            case 3: bytes.remove(at: position)
            case 4: bytes.insert(contentsOf: [0x22, 0x22], at: position)
            case 5:  // duplicate a stretch, as a bad copy-paste would
                let end = min(bytes.count, position + Int.random(in: 1...80, using: &random))
                bytes.insert(contentsOf: Array(bytes[position..<end]), at: position)
            default: bytes[position] = [0x22, 0x3B, 0x0A][Int.random(in: 0..<3, using: &random)]
            }
        }
        return bytes
    }
}

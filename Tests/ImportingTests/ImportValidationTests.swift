import Foundation
import Testing
@testable import Importing
import ReleaseCore

/// One test per problem a file can have, each asserting the exact message and line.
@Suite("Import file problems")
struct ImportValidationTests {
    let header = "group,plan,release,release_title,deploy_start,deploy_end,priority"

    @Test func unclosedQuote() throws {
        let text = "\(header)\nCRM,P,R1,ok,,,\nCRM,P,R2,,,,\"3\nCRM,P,R3,x,,,\n"
        #expect(try ImportTest.messages(text) == [
            #"releases.csv:3: priority: the quote opened on line 3 is never closed, so the rest of the file is inside it (got "3\nCRM,P,R3,x,,,\n")"#,
        ])
    }

    @Test func textAfterAClosingQuote() throws {
        #expect(try ImportTest.messages("\(header)\nCRM,P,R1,\"March\" release,,,\n") == [
            #"releases.csv:2: release_title: text after the closing quote; inside a quoted field write a quote twice ("") (got "March release")"#,
        ])
    }

    @Test func wrongColumnCount() throws {
        let text = "\(header)\nCRM,P,R1,ok,,,\nCRM,P,R2,too few\nCRM,P,R3,x,,,,extra\nCRM,P,R4,x,,,,\n"
        #expect(try ImportTest.messages(text) == [
            "releases.csv:3: row: expected 7 columns, got 4",
            "releases.csv:4: row: expected 7 columns, got 8",
            "releases.csv:5: row: expected 7 columns, got 8",
        ])
    }

    @Test func unnamedTrailingColumnsMayBeMissingOrEmpty() throws {
        let text = "group;plan;release;;\nCRM;P;R1;;\nCRM;P;R2\nCRM;P;R3;\nCRM;P;R4;;x\n"
        #expect(try ImportTest.messages(text) == [
            #"releases.csv:5: row: column 5 has no name in the header, so it must be empty (got "x")"#,
        ])
    }

    @Test func missingRequiredFields() throws {
        let text = "\(header)\nCRM,,R1,,,,\n,P,R2,,,,\nCRM,P, ,,,,\n"
        #expect(try ImportTest.messages(text) == [
            #"releases.csv:2: plan: is required (got "")"#,
            #"releases.csv:3: group: is required unless a default group is given (got "")"#,
            #"releases.csv:4: release: is required (got "")"#,
        ])
        let withDefault = try ImportTest.rows("\(header)\n,P,R2,,,,\n", options: ImportOptions(defaultGroup: "HR"))
        #expect(withDefault.rows.map(\.group) == ["HR"])
    }

    @Test func targetLongerThanTheDatabaseAllows() throws {
        let header = "group,plan,release,package,unit,unit_kind,target"
        let long = String(repeating: "å", count: 201)  // 402 bytes, 201 characters
        let fits = String(repeating: "å", count: 200)
        #expect(try ImportTest.messages("\(header)\nCRM,P,R1,core,api,application,\(fits)\n").isEmpty)
        let messages = try ImportTest.messages("\(header)\nCRM,P,R1,core,api,application,\(long)\n")
        #expect(messages.count == 1)
        #expect(messages.first?.hasPrefix("releases.csv:2: target: a target is at most 200 characters long (got \"ååå") == true)
    }

    @Test func timestampThatDoesNotParse() throws {
        let text = "\(header)\nCRM,P,R1,,14/03/2027 18:00,2027-03-14 20:00,\nCRM,P,R2,,2027-02-30 18:00,2027-03-14 20:00,\n"
        #expect(try ImportTest.messages(text) == [
            #"releases.csv:2: deploy_start: not a timestamp; expected YYYY-MM-DD HH:MM[:SS] or YYYY-MM-DDTHH:MM[:SS], optionally followed by Z or ±HH:MM (got "14/03/2027 18:00")"#,
            #"releases.csv:3: deploy_start: day 30 does not exist in February 2027 (it has 28 days) (got "2027-02-30 18:00")"#,
        ])
    }

    @Test func endBeforeStartAndHalfRanges() throws {
        let text = """
            \(header)
            CRM,P,R1,,2027-03-14 18:00,2027-03-14 17:00,
            CRM,P,R2,,2027-03-14 18:00,2027-03-14 18:00,
            CRM,P,R3,,2027-03-14 18:00,,
            CRM,P,R4,,,2027-03-14 18:00,

            """
        #expect(try ImportTest.messages(text) == [
            #"releases.csv:2: deploy_end: must be after deploy_start "2027-03-14 18:00" (got "2027-03-14 17:00")"#,
            #"releases.csv:3: deploy_end: must be after deploy_start "2027-03-14 18:00" (got "2027-03-14 18:00")"#,
            #"releases.csv:4: deploy_end: is required when deploy_start is given (got "")"#,
            #"releases.csv:5: deploy_start: is required when deploy_end is given (got "")"#,
        ])
    }

    @Test func priorityOutsideOneToFive() throws {
        // "05" too: the importer keeps the CLI's rule (ReleaseCore's Priority), one digit.
        let text = "\(header)\nCRM,P,R1,,,,0\nCRM,P,R2,,,,6\nCRM,P,R3,,,,high\nCRM,P,R4,,,,5\nCRM,P,R5,,,,05\n"
        let message = "must be a whole number from 1 (highest) to 5 (lowest)"
        #expect(try ImportTest.messages(text) == [
            #"releases.csv:2: priority: \#(message) (got "0")"#,
            #"releases.csv:3: priority: \#(message) (got "6")"#,
            #"releases.csv:4: priority: \#(message) (got "high")"#,
            #"releases.csv:6: priority: \#(message) (got "05")"#,
        ])
        #expect(throws: InvalidPriority.self) { try Priority(parsing: "05") }
    }

    @Test func conflictingReleaseValuesAcrossRows() throws {
        let text = """
            group,plan,release,release_title,window,priority,package,unit,unit_kind,target
            CRM,P,R1,March release,SW-1,2,core,api,application,srv-1
            CRM,P,R1,,,,core,db,database,srv-2
            HR,P,R1,April release,SW-2,3,,,,
            CRM,P,R1,April release,SW-1,3,core,api,application,srv-9
            CRM,Q,R1,March release,,,,,,

            """
        #expect(try ImportTest.messages(text) == [
            #"releases.csv:5: release_title: differs from line 2 for release CRM/R1 (got "April release")"#,
            #"releases.csv:5: priority: differs from line 2 for release CRM/R1 (got "3")"#,
            #"releases.csv:6: plan: differs from line 2 for release CRM/R1 (got "Q")"#,
        ])
        let report = try ImportTest.rows(text).report
        #expect(report.releases == [
            ReleaseSummary(key: ReleaseKey(group: "CRM", release: "R1"), firstLine: 2, rowCount: 4, hasInvalidRow: true),
            ReleaseSummary(key: ReleaseKey(group: "HR", release: "R1"), firstLine: 4, rowCount: 1, hasInvalidRow: false),
        ])
        #expect(report.invalidReleases == [ReleaseKey(group: "CRM", release: "R1")])
    }

    @Test func sameValuesWrittenDifferentlyDoNotConflict() throws {
        let text = """
            group,plan,release,deploy_start,deploy_end,depends_on
            CRM,P,R1,2027-03-14 18:00,2027-03-14T20:00,HR/A|HR/B
            CRM,P,R1,2027-03-14T18:00:00,2027-03-14 20:00Z,HR/B | HR/A

            """
        let result = try ImportTest.rows(text)
        #expect(result.report.messages == [])
        #expect(result.rows.count == 2)
    }

    @Test func aFileCutOffMidRow() throws {
        let text = "\(header)\nCRM,P,R1,ok,,,\nCRM,P,R2,cut"
        #expect(try ImportTest.messages(text) == [
            "releases.csv:3: row: the file ends in the middle of this row: expected 7 columns, got 4 (is the file cut off?)",
        ])
        // A last row without a line break is fine when it is whole.
        #expect(try ImportTest.messages("\(header)\nCRM,P,R1,ok,,,") == [])
    }

    @Test func anEmptyFile() {
        #expect(ImportTest.failure("") == [
            "releases.csv:1: file: the file is empty; expected a header line such as group,plan,release,...",
        ])
        #expect(ImportTest.failure("\u{FEFF}\r\n\r\n") == [
            "releases.csv:1: file: the file is empty; expected a header line such as group,plan,release,...",
        ])
    }

    @Test func aHeaderOnly() {
        #expect(ImportTest.failure("\(header)\r\n") == ["releases.csv:1: file: the file has a header but no rows"])
        #expect(ImportTest.failure("\n\(header)\n\n") == ["releases.csv:2: file: the file has a header but no rows"])
    }

    @Test func aTenMegabyteField() throws {
        var bytes = Array("\(header)\nCRM,P,R1,\"".utf8)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "t"), count: 10 * 1024 * 1024))
        bytes.append(contentsOf: Array("\",,,\nCRM,P,R2,short,,,2\n".utf8))
        let result = try ImportTest.rows(.bytes(bytes, name: "big.csv"))
        // Read whole, and refused by the text limit (README "Text limits"), not by the reader.
        #expect(result.report.messages == [
            "big.csv:2: release_title: a title is at most 200 characters long (this one has 10485760) (got \"\(String(repeating: "t", count: 60))…\")",
        ])
        #expect(result.rows.count == 1)
        #expect(result.rows[0].line == 3)

        let reader = try ImportReader(source: .bytes(bytes, name: "big.csv"))
        var total = 0
        while let chunk = try reader.nextChunk() { total += chunk.bytes.count }
        #expect(total > 0 && total < 1024)  // only R2's row is encoded for COPY: the 10 MB title never reaches the database
    }

    @Test func nulBytes() throws {
        let bytes = Array("\(header)\nCRM,P,R1,ok,,,\nCRM,P,R2,a".utf8) + [0] + Array("b,,,\n".utf8)
        let result = try ImportTest.rows(.bytes(bytes, name: "releases.csv"))
        #expect(result.report.messages == [
            #"releases.csv:3: release_title: contains a NUL byte (0x00); the file may be damaged (got "a\0b")"#,
        ])
        #expect(result.rows.map(\.release) == ["R1"])
    }

    @Test func invalidUTF8() {
        let bytes = Array("\(header)\nCRM,P,R1,ok,,,\nCRM,P,R2,\"two\nlines ".utf8) + [0x81, 0x41] + Array("\",,,\n".utf8)
        #expect(ImportTest.failure(.bytes(bytes, name: "releases.csv")) == [
            #"releases.csv:4: release_title: not UTF-8: byte 0x81 does not belong to a UTF-8 character; save the file as UTF-8 (got "two\nlines \x81A")"#,
        ])
    }

    @Test func windows1252IsRefused() {
        let bytes = Array("\(header)\nCRM,P,R1,ok,,,\nCRM,P,R2,M".utf8) + [0xE4, 0x72, 0x7A] + Array(",,,\n".utf8)
        #expect(ImportTest.failure(.bytes(bytes, name: "releases.csv")) == [
            #"releases.csv:3: release_title: not UTF-8: the file looks like Windows-1252 (byte 0xE4 would be "ä" there); save it as UTF-8 (in Excel: "CSV UTF-8") or import it with --encoding cp1252 (got "M\xE4rz")"#,
        ])
    }

    @Test func windows1252IsConvertedWhenAsked() throws {
        let bytes = Array("group;plan;release;releaserubrik\nCRM;P;R1;M".utf8) + [0xE4, 0x72, 0x7A, 0x20, 0x96, 0x20, 0x80, 0x0A]
        let result = try ImportTest.rows(.bytes(bytes, name: "ansi.csv"), options: ImportOptions(encoding: .windows1252))
        #expect(result.rows.map(\.releaseTitle) == ["März – €"])
        let viaMapping = try ImportTest.rows(
            .bytes(bytes, name: "ansi.csv"), options: ImportOptions(mapping: ImportMapping(encoding: .windows1252)))
        #expect(viaMapping.rows.map(\.releaseTitle) == ["März – €"])
    }

    @Test func aPNGFile() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52]
        #expect(ImportTest.failure(.bytes(png + Array(repeating: 0, count: 100), name: "logo.png")) == [
            "logo.png:1: file: not a CSV file: this looks like a PNG image",
        ])
        let xlsx: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0x14, count: 40)
        #expect(ImportTest.failure(.bytes(xlsx, name: "plan.xlsx")) == [
            "plan.xlsx:1: file: not a CSV file: this looks like a ZIP archive (an Excel .xlsx or OpenDocument workbook is one): export the sheet as CSV",
        ])
    }

    @Test func excelStyleFileWithSwedishHeaders() throws {
        // BOM, CRLF, semicolons, Swedish headers, a quoted title with a semicolon and a line
        // break: the lines after it must still be numbered right.
        let text = "\u{FEFF}Förvaltningsgrupp;Releaseplan;Release;Releaserubrik;Driftsättning_start;Driftsättning_slut;Prioritet;Senast;Beroende_av;Miljö;Miljö_start;Miljö_slut\r\n"
            + "CRM;CRM-2027;R-2027.03;\"Mars; del 1\r\nmed rader\";2027-03-14 18:00;2027-03-14 22:00;2;2027-03-31;HR/PAY-7|R-2027.02;TEST-INT;2027-03-01 08:00;2027-03-05 17:00\r\n"
            + "CRM;CRM-2027;R-2027.04;April;2027-04-11 18:00;2027-04-11 17:00;9;;;;;\r\n"
        let stockholm = TimeZone(identifier: "Europe/Stockholm")!
        let result = try ImportTest.rows(text, options: ImportOptions(timeZone: stockholm))
        #expect(result.report.messages == [
            #"releases.csv:4: Driftsättning_slut: must be after Driftsättning_start "2027-04-11 18:00" (got "2027-04-11 17:00")"#,
            #"releases.csv:4: Prioritet: must be a whole number from 1 (highest) to 5 (lowest) (got "9")"#,
        ])
        let row = try #require(result.rows.first)
        #expect(row.line == 2)
        #expect(row.releaseTitle == "Mars; del 1\nmed rader")  // CR LF stored as LF
        #expect(row.deployStart == Date(timeIntervalSince1970: 1_805_043_600))  // 2027-03-14T17:00:00Z
        #expect(row.deadline?.text == "2027-03-31")
        #expect(row.deadline?.end == Date(timeIntervalSince1970: 1_806_530_400))  // 2027-04-01T00:00+02:00
        #expect(row.dependsOn == [ReleaseKey(group: "HR", release: "PAY-7"), ReleaseKey(group: "CRM", release: "R-2027.02")])
        #expect(row.environment == "TEST-INT")
    }

    @Test func headersInDecomposedUnicodeAndOddSpacing() throws {
        let text = " GROUP ;Releaseplan;release;Ma\u{030A}l;Unit;Unit-Kind;Releasepaket\nCRM;P;R1;srv-1;api;application;core\n"
        let result = try ImportTest.rows(text)
        #expect(result.report.messages == [])
        #expect(result.rows.first?.target == "srv-1")
        #expect(result.rows.first?.plan == "P")
    }

    @Test func unknownDuplicateAndMissingColumns() {
        let text = "group,plan,relase_title,Assignee,release_title,releaserubrik,,x\nCRM,P,t,a,t,t,,\n"
        #expect(ImportTest.failure(text) == [
            #"releases.csv:1: header: unknown column (did you mean release_title?); map it to a field or list it under ignore: in a mapping file (got "relase_title")"#,
            #"releases.csv:1: header: unknown column; map it to a field or list it under ignore: in a mapping file (got "Assignee")"#,
            #"releases.csv:1: header: columns 5 (release_title) and 6 (releaserubrik) both give release_title (got "releaserubrik")"#,
            "releases.csv:1: header: column 7 has no name; name it or delete the column",
            #"releases.csv:1: header: unknown column; map it to a field or list it under ignore: in a mapping file (got "x")"#,
            "releases.csv:1: header: missing column release",
        ])
        #expect(ImportTest.failure("plan,release\nP,R\n") == [
            "releases.csv:1: header: missing column group (förvaltningsgrupp); or give a default group",
        ])
    }

    @Test func unitAndBookingRules() throws {
        let text = """
            group,plan,release,package,unit,unit_kind,target,version,environment,env_start,env_end
            CRM,P,R1,,api,application,srv-1,,,,
            CRM,P,R2,core,,application,,1.0,,,
            CRM,P,R3,core,api,,,,,,
            CRM,P,R4,,,,,,TEST,2027-03-01 08:00,
            CRM,P,R5,,,,,,,2027-03-01 08:00,2027-03-01 09:00
            CRM,P,R6,,,,,,TEST,2027-03-01 08:00,2027-03-01 07:00

            """
        #expect(try ImportTest.messages(text) == [
            #"releases.csv:2: package: is required when unit, unit_kind and target are given (got "")"#,
            #"releases.csv:3: unit: is required when unit_kind and version are given (got "")"#,
            #"releases.csv:4: unit_kind: is required for unit api (got "")"#,
            #"releases.csv:4: target: is required for unit api (got "")"#,
            #"releases.csv:5: env_end: is required for a booking of environment TEST (got "")"#,
            #"releases.csv:6: environment: is required when env_start and env_end are given (got "")"#,
            #"releases.csv:7: env_end: must be after env_start "2027-03-01 08:00" (got "2027-03-01 07:00")"#,
        ])
    }

    @Test func codesAndDependencies() throws {
        let text = """
            group,plan,release,depends_on,window
            CRM,P,R 1,,
            CRM,P,R/1,,
            CRM,-P,R1,,
            CRM,P,R2,HR/,
            CRM,P,R3,CRM/R3,
            CRM,P,R4,HR/PAY-7||R-2027.02,SW-2027-03-41

            """
        let options = ImportOptions(knownCodes: KnownCodes(windows: ["SW-2027-03-14", "SW-2027-03-28"]))
        let result = try ImportTest.rows(text, options: options)
        #expect(result.report.messages == [
            #"releases.csv:2: release: a code may hold only letters, digits, "-", "_" and "." (not ' ') (got "R 1")"#,
            #"releases.csv:3: release: a code may hold only letters, digits, "-", "_" and "." (not '/') (got "R/1")"#,
            #"releases.csv:4: plan: a code must start with a letter or a digit (got "-P")"#,
            #"releases.csv:5: depends_on: expected releases as GROUP/CODE separated by "|", e.g. HR/PAY-7|CRM/R-2027.02 (got "HR/")"#,
            #"releases.csv:6: depends_on: a release cannot depend on itself (got "CRM/R3")"#,
            #"releases.csv:7: window: unknown service window (did you mean SW-2027-03-14?) (got "SW-2027-03-41")"#,
        ])
    }

    @Test func issuesAreCappedAndCounted() throws {
        var text = "\(header)\n"
        for number in 0..<25 { text += "CRM,P,R\(number),,,,9\n" }
        let report = try ImportTest.rows(text, options: ImportOptions(maximumIssues: 10)).report
        #expect(report.issues.count == 10)
        #expect(report.omittedIssueCount == 15)
        #expect(report.invalidRows == 25)
        #expect(report.messages.last == "... and 15 more problems not shown")
    }

    @Test func typedRowsCarryEveryField() throws {
        let text = ImportTest.fullHeader + "\n"
            + "CRM,CRM-2027,Roadmap,CHG-1234,R-2027.03,March,SW-2027-03-14,2027-03-14 18:00,2027-03-14 22:00,2,2027-03-31,HR/PAY-7,core,crm-api,application,srv-crm-01,4.2.0,TEST-INT,2027-03-01 08:00,2027-03-05 17:00\n"
        let row = try #require(try ImportTest.rows(text).rows.first)
        #expect(row == ImportRow(
            line: 2, group: "CRM", plan: "CRM-2027", planTitle: "Roadmap", changeRef: "CHG-1234", release: "R-2027.03",
            releaseTitle: "March", window: "SW-2027-03-14",
            deployStart: Date(timeIntervalSince1970: 1_805_047_200), deployEnd: Date(timeIntervalSince1970: 1_805_061_600),
            priority: 2,
            deadline: ImportDeadline(day: CalendarDay(year: 2027, month: 3, day: 31)!, end: Date(timeIntervalSince1970: 1_806_537_600)),
            dependsOn: [ReleaseKey(group: "HR", release: "PAY-7")], package: "core", unit: "crm-api",
            unitKind: "application", target: "srv-crm-01", version: "4.2.0", environment: "TEST-INT",
            envStart: Date(timeIntervalSince1970: 1_803_888_000), envEnd: Date(timeIntervalSince1970: 1_804_266_000)))
    }
}

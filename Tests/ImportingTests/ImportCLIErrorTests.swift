import Foundation
import Testing
import TestSupport

/// Every way an import file can be wrong, through the binary: each problem is listed as
/// `FILE:LINE: field: what is wrong (got "...")`, the exit code is 65, and nothing is written.
@Suite("Import refusals through the CLI")
struct ImportCLIErrorTests {
    static let header = "group,plan,release,window,package,unit,unit_kind,target,version,environment,env_start,env_end,depends_on\n"
    static let goodRow = "CRM,CRM-Q,R-1,SW-2027-05-01,core,crm-api,application,crm-api,4.2.0,TEST-INT,2027-04-26 08:00,2027-04-27 17:00,\n"

    /// Imports `file` as `person` and checks the refusal: exit 65, every expected line on stderr,
    /// the closing summary, and not one row written anywhere (audit trail included).
    private func expectRefused(
        _ bytes: [UInt8], as person: String = "alice", name: String = "export.csv", arguments: [String] = [],
        lines expected: [(String) -> String], problems: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        let path = try ImportCLIFixture.file(name, bytes)
        let before = try f.footprint()
        let result = try f.run(person, ["import", path, "--tz", "Europe/Stockholm"] + arguments)
        #expect(result.status == 65, "\(result)", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        for line in expected.map({ $0(path) }) {
            #expect(lines.contains(line), "expected \(line) in\n\(result.stderr)", sourceLocation: sourceLocation)
        }
        if let problems {
            let noun = problems == 1 ? "problem" : "problems"
            #expect(lines.last == "relplan: \(path): \(problems) \(noun); nothing was imported", "\(result)", sourceLocation: sourceLocation)
        }
        #expect(try f.footprint() == before, "the refused import wrote something", sourceLocation: sourceLocation)
    }

    private func expectRefused(
        _ text: String, as person: String = "alice", arguments: [String] = [], lines expected: [(String) -> String],
        problems: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try expectRefused(Array(text.utf8), as: person, arguments: arguments, lines: expected, problems: problems,
                          sourceLocation: sourceLocation)
    }

    @Test("a title, change reference or version too long or holding control characters: the line, the field and the limit")
    func textRules() throws {
        let header = "group,plan,plan_title,change_ref,release,release_title,window,package,unit,unit_kind,target,version\n"
        func row(_ release: String, planTitle: String = "Plan", changeRef: String = "CHG-1", title: String = "T", version: String = "1.0") -> String {
            "CRM,CRM-Q,\"\(planTitle)\",\(changeRef),\(release),\"\(title)\",SW-2027-05-01,core,crm-api,application,crm-api,\(version)\n"
        }
        let file = header + row("R-1", title: String(repeating: "x", count: 201)) + row("R-2", title: "red \u{1B}[31m")
            + row("R-3", changeRef: String(repeating: "C", count: 65)) + row("R-4", version: "1.0\u{07}")
            + row("R-5", title: "a\tb") + row("R-6", title: "two\r\nlines") + row("R-7", title: String(repeating: "é", count: 200))
        try expectRefused(file, lines: [
            { "\($0):2: release_title: a title is at most 200 characters long (this one has 201) (got \"\(String(repeating: "x", count: 60))…\")" },
            { "\($0):3: release_title: a title may not hold control characters other than line breaks: U+001B (escape) at character 5 (got \"red \\x1B[31m\")" },
            { "\($0):4: change_ref: a change reference is at most 64 characters long (this one has 65) (got \"\(String(repeating: "C", count: 60))…\")" },
            { "\($0):6: release_title: a title may not hold control characters other than line breaks: U+0009 (tab) at character 2 (got \"a\\tb\")" },
        ], problems: 5)
    }

    @Test("an unknown group is refused with the nearest code")
    func unknownGroup() throws {
        try expectRefused(Self.header + Self.goodRow + Self.goodRow.replacingOccurrences(of: "CRM,CRM-Q,R-1", with: "CRN,CRM-Q,R-2"),
                          lines: [{ "\($0):3: group: unknown group (did you mean CRM?) (got \"CRN\")" }], problems: 1)
    }

    @Test("an unknown service window is refused with the nearest code")
    func unknownWindow() throws {
        try expectRefused(Self.header + Self.goodRow.replacingOccurrences(of: "SW-2027-05-01", with: "SW-2027-05-10"),
                          lines: [{ "\($0):2: window: unknown service window (did you mean SW-2027-05-01?) (got \"SW-2027-05-10\")" }],
                          problems: 1)
    }

    @Test("an unknown environment is refused with the nearest code")
    func unknownEnvironment() throws {
        try expectRefused(Self.header + Self.goodRow.replacingOccurrences(of: "TEST-INT", with: "TEST-IMT"),
                          lines: [{ "\($0):2: environment: unknown environment (did you mean TEST-INT?) (got \"TEST-IMT\")" }],
                          problems: 1)
    }

    @Test("a dependency that is neither in the database nor in the file is refused with the nearest release")
    func unknownDependency() throws {
        let rows = Self.header + Self.goodRow
            + "CRM,CRM-Q,R-2,SW-2027-05-08,,,,,,,,,CRM/R-1\n"
            + "CRM,CRM-Q,R-3,SW-2027-05-08,,,,,,,,,CRM/R-2|WEB/SHOP-21\n"
        try expectRefused(rows, lines: [
            { "\($0):4: depends_on: unknown release WEB/SHOP-21: it is neither in the database nor in the file (did you mean WEB/SHOP-12?) (got \"WEB/SHOP-21\")" },
        ], problems: 1)
    }

    @Test("a group the importer may not write is refused, saying why")
    func groupNotWritable() throws {
        let rows = Self.header + Self.goodRow + "HR,PAY,PAY-9,SW-2027-05-08,,,,,,,,,\n" + "HR,PAY,PAY-10,SW-2027-05-08,,,,,,,,,\n"
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        let path = try ImportCLIFixture.file("hr.csv", rows)
        let before = try f.footprint()
        let result = try f.run("alice", "import", path)
        let login = f.planning.login("alice")
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains(
            "\(path):3: group: \(login) may not write group HR: \(login) is not a manager or release-manager of HR (got \"HR\")"),
                "\(result)")
        #expect(!result.stderr.contains("\(path):4:"), "one problem per group, at its first line: \(result)")
        #expect(try f.footprint() == before)
        // A member of CRM may change content but not plans and releases: the import needs a planner.
        let member = try f.run("carol", "import", path)
        #expect(member.stderr.contains("\(f.planning.login("carol")) is not a manager or release-manager of CRM"), "\(member)")
        #expect(try f.footprint() == before)
    }

    @Test("a unit described differently on two rows is refused, naming both lines")
    func conflictingUnitRows() throws {
        let rows = Self.header + Self.goodRow
            + "CRM,CRM-Q,R-1,SW-2027-05-01,core,crm-db,database,crm-db,1.0,,,,\n"
            + Self.goodRow.replacingOccurrences(of: "4.2.0", with: "4.3.0")
        try expectRefused(rows, lines: [
            { "\($0):4: version: differs from line 2 (\"4.2.0\") for unit core/crm-api of CRM/R-1 (got \"4.3.0\")" },
        ], problems: 1)
    }

    @Test("a release that exists under another plan is refused, not moved")
    func releaseInAnotherPlan() throws {
        let rows = "group,plan,release,window\nWEB,SHOP-2027,SHOP-12,SW-2027-04-17\n"
        try expectRefused(rows, as: "erik", lines: [
            { "\($0):2: plan: release WEB/SHOP-12 exists in plan SHOP; an import does not move releases between plans (give plan SHOP, or create the release under a new code) (got \"SHOP-2027\")" },
        ], problems: 1)
    }

    @Test("a file cut off in the middle of a row is refused")
    func cutOffMidRow() throws {
        let text = Self.header + Self.goodRow + "CRM,CRM-Q,R-2,SW-2027-05-08,co"
        try expectRefused(text, lines: [
            { "\($0):3: row: the file ends in the middle of this row: expected 13 columns, got 5 (is the file cut off?)" },
        ], problems: 1)
    }

    @Test("an empty file is refused")
    func emptyFile() throws {
        try expectRefused([], lines: [
            { "\($0):1: file: the file is empty; expected a header line such as group,plan,release,..." },
        ], problems: 1)
    }

    @Test("NUL bytes are refused at their line")
    func nulBytes() throws {
        var bytes = Array((Self.header + Self.goodRow).utf8)
        bytes += Array("CRM,CRM-Q,R-2,SW-2027-05-08,core,crm".utf8) + [0] + Array("-api,application,crm-api,1,,,,\n".utf8)
        let f = try ImportCLIFixture.make()
        defer { f.drop() }
        let path = try ImportCLIFixture.file("nul.csv", bytes)
        let before = try f.footprint()
        let result = try f.run("alice", "import", path)
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("\(path):3: unit: contains a NUL byte (0x00); the file may be damaged"), "\(result)")
        #expect(try f.footprint() == before)
    }

    @Test("bytes that are not UTF-8 are refused, naming Windows-1252 when it looks like it")
    func invalidUTF8() throws {
        var bytes = Array((Self.header + Self.goodRow).utf8)
        bytes += Array("CRM,CRM-Q,R-2,SW-2027-05-08,core,crm-api,application,crm-api,1,,,,\n".utf8)
        bytes += Array("CRM,CRM-Q,R-3,SW-2027-05-08,core,l".utf8) + [0xF6] + Array("n,application,crm-api,1,,,,\n".utf8)
        try expectRefused(bytes, lines: [
            { "\($0):4: unit: not UTF-8: the file looks like Windows-1252 (byte 0xF6 would be \"ö\" there); save it as UTF-8 (in Excel: \"CSV UTF-8\") or import it with --encoding cp1252 (got \"l\\xF6n\")" },
        ], problems: 1)
    }

    @Test("a PNG is refused as not a CSV file")
    func png() throws {
        let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1]
        try expectRefused(bytes, name: "plan.png", lines: [{ "\($0):1: file: not a CSV file: this looks like a PNG image" }],
                          problems: 1)
    }

    @Test("every problem of a file is listed at once, the file's and the database's, in line order")
    func everyProblemListed() throws {
        let rows = Self.header + Self.goodRow
            + "CRM,CRM-Q,R-2,SW-2027-05-08,,,,,,,,,CRM/R-9\n"
            + "CRM,CRM-Q,R-3,SW-2027-13-08,,,,,,,,,\n"
        try expectRefused(rows, lines: [
            { "\($0):3: depends_on: unknown release CRM/R-9: it is neither in the database nor in the file (did you mean CRM/R-1?) (got \"CRM/R-9\")" },
            { "\($0):4: window: unknown service window (did you mean SW-2027-05-08?) (got \"SW-2027-13-08\")" },
        ], problems: 2)
    }
}

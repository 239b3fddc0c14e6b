import Foundation
import Testing
@testable import Importing

@Suite("Mapping files")
struct ImportMappingTests {
    @Test func aJiraExportIsReadThroughAMapping() throws {
        let yaml = """
            columns:
              Summary: release_title
              "Fix Version": release
              Team: group
              Project: releaseplan
              Start: deploy_start
              End: Driftsättning_slut
            ignore: [Assignee, Sprint]
            timestamp_format: "dd/MM/yyyy HH:mm"
            date_format: dd/MM/yyyy
            delimiter: ";"

            """
        let path = ImportTest.temporaryPath("jira.yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let mapping = try ImportMapping.load(path: path)
        #expect(mapping.columns["fix_version"] == .release)
        #expect(mapping.ignored == ["assignee", "sprint"])
        #expect(mapping.delimiter == UInt8(ascii: ";"))

        let csv = """
            Team;Project;Fix Version;Summary;Assignee;Sprint;Start;End;Senast
            CRM;CRM-2027;R-2027.03;March, with a comma;anna;S1;14/03/2027 18:00;14/03/2027 22:00;31/03/2027
            CRM;CRM-2027;R-2027.04;April;bo;S2;2027-04-11 18:00;11/04/2027 17:00;

            """
        let result = try ImportTest.rows(ImportTest.source(csv, name: "jira.csv"), options: ImportOptions(mapping: mapping))
        #expect(result.rows.count == 1)
        #expect(result.rows.first?.releaseTitle == "March, with a comma")
        #expect(result.rows.first?.deployStart == Date(timeIntervalSince1970: 1_805_047_200))
        #expect(result.rows.first?.deadline?.text == "2027-03-31")
        #expect(result.report.messages == [
            #"jira.csv:3: End: must be after Start "2027-04-11 18:00" (got "11/04/2027 17:00")"#,
        ])
    }

    @Test func mappingProblemsCarryLineNumbers() {
        let yaml = """
            columns:
              Summary: relase_title
              Team: group
            ignore: Assignee
            timestamp_format: "HH:mm"
            delimiter: "|"
            encodng: utf-8
            encoding: ebcdic

            """
        do {
            _ = try ImportMapping.parse(yaml: yaml, fileName: "map.yaml")
            Issue.record("expected the mapping to be refused")
        } catch {
            #expect(error.issues.map(\.description) == [
                #"map.yaml:2: columns.Summary: unknown field (did you mean release_title?) (got "relase_title")"#,
                #"map.yaml:5: timestamp_format: has no month (MM) (got "HH:mm")"#,
                #"map.yaml:6: delimiter: expected ",", ";" or tab (got "|")"#,
                "map.yaml:7: encodng: unknown key (did you mean encoding?); known keys: columns, ignore, "
                    + "timestamp_format, timestamp_formats, date_format, date_formats, delimiter, encoding",
                #"map.yaml:8: encoding: expected utf-8 or windows-1252 (got "ebcdic")"#,
            ])
        }
    }

    @Test func yamlSyntaxErrorsNameTheLine() {
        do {
            _ = try ImportMapping.parse(yaml: "columns:\n  Summary: release_title\nignore: [a, b\n", fileName: "map.yaml")
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.issues.count == 1)
            #expect(error.issues[0].description.hasPrefix("map.yaml:4: yaml: not valid YAML: "))
        }
    }

    @Test func anEmptyMappingMapsNothing() throws {
        #expect(try ImportMapping.parse(yaml: "", fileName: "m.yaml") == ImportMapping())
        #expect(try ImportMapping.parse(yaml: "# nothing yet\n", fileName: "m.yaml") == ImportMapping())
    }

    @Test func theMappingWinsOverBuiltInNamesAndIgnoresColumns() throws {
        let mapping = try ImportMapping.parse(
            yaml: "columns:\n  Release: release_title\n  Key: release\nignore: [Notes]\n", fileName: "m.yaml")
        let csv = "group,plan,Key,Release,Notes,reason\nCRM,P,R1,The title,anything,old reason\n"
        let rows = try ImportTest.rows(csv, options: ImportOptions(mapping: mapping)).rows
        #expect(rows.map(\.release) == ["R1"])
        #expect(rows.map(\.releaseTitle) == ["The title"])
    }

    @Test func theMappingsDelimiterOverridesDetection() throws {
        let mapping = ImportMapping(delimiter: UInt8(ascii: ";"))
        let rows = try ImportTest.rows("group;plan;release;release_title\nCRM;P;R1;a,b\n", options: ImportOptions(mapping: mapping)).rows
        #expect(rows.first?.releaseTitle == "a,b")
    }
}

import Foundation
import ReleaseCore
import Testing
@testable import Importing

private let standardModel = """
    # A release model for the monthly releases of one application.
    code: STANDARD
    name: Standard release
    version: "2.1"
    description: >
      Monthly release of one application, tested in TEST-INT
      and deployed in a regular service window.
    phases:
      plan:
        exit:
          - name: scope-agreed
            description: Scope agreed with the business owner
      build-and-test:
        entry:
          - name: build-env-booked
        exit:
          - name: tests-finished
            check: test-booking-finished
          - name: units-versioned
            check: all-units-versioned
          - name: cab-approved
            check: manual
            description: The change advisory board approved the deployment
      deploy:
        exit:
          - name: smoke-tested
      evaluate-and-close:
        exit:
          - name: no-high-deviations
            check: no-open-high-deviations
    environments:
      - environment: TEST-INT
        duration: 3d
      - environment: PREPROD
        duration: PT4H
    roles:
      - name: release-manager
        description: Owns the plan and advances the release
      - name: implementer
        description: Carries out the deployment
    versioning: semver
    documentation:
      - Release notes
      - Installation guide
      - Operations handover
    """

private func problems(_ text: String) -> [String] {
    do {
        _ = try ReleaseModelFile.parse(text, file: "model.yaml")
        return []
    } catch {
        return error.description.split(separator: "\n").map(String.init)
    }
}

@Suite("Release model files")
struct ReleaseModelFileTests {
    @Test("A full model parses into every field")
    func parsesStandardModel() throws {
        let model = try ReleaseModelFile.parse(standardModel, file: "standard-release.yaml")
        #expect(model.code == "STANDARD")
        #expect(model.name == "Standard release")
        #expect(model.version == "2.1")
        #expect(model.description == "Monthly release of one application, tested in TEST-INT and deployed in a regular service window.\n")
        #expect(model.phases.plan.exit == [.init(name: "scope-agreed", description: "Scope agreed with the business owner")])
        #expect(model.phases.buildAndTest.entry.map(\.name) == ["build-env-booked"])
        #expect(model.phases.buildAndTest.exit.map(\.check) == [
            .automatic(.testBookingFinished), .automatic(.allUnitsVersioned), .manual,
        ])
        #expect(model.phases.deploy.exit.map(\.name) == ["smoke-tested"])
        #expect(model.phases.evaluateAndClose.exit == [.init(name: "no-high-deviations", check: .automatic(.noOpenHighDeviations))])
        #expect(model.environments == [
            .init(environment: "TEST-INT", durationSeconds: 259_200), .init(environment: "PREPROD", durationSeconds: 14_400),
        ])
        #expect(model.roles.map(\.name) == ["release-manager", "implementer"])
        #expect(model.versioning == .semver)
        #expect(model.documentation == ["Release notes", "Installation guide", "Operations handover"])
    }

    @Test("A minimal model needs only code, name and version; versioning may be a pattern")
    func minimal() throws {
        let model = try ReleaseModelFile.parse("""
            code: HOTFIX
            name: Hotfix
            version: 1
            phases:
              deploy:
            versioning:
              pattern: 'HF-\\d+'
            """, file: "m.yaml")
        #expect(model.version == "1")
        #expect(model.phases == ReleaseModel.Phases())
        #expect(model.versioning == .pattern(#"HF-\d+"#))
        #expect(model.environments.isEmpty && model.roles.isEmpty && model.documentation.isEmpty)
    }

    @Test("Every problem is reported with FILE:LINE:COL, in file order")
    func manyProblems() {
        let text = """
            code: STANDARD
            name: Standard release
            version: "2.1"
            phases:
              plan:
                exit:
                  - name: scope-agreed
                    chek: manual
              build-and-tst:
                exit: []
              deploy:
                exit:
                  - name: smoke-tested
                    check: automatic
                  - description: no name
            environments:
              - environment: TEST-INT
                duration: 3
              - environment: PREPROD
            enviroments: []
            versioning: semvr
            """
        #expect(problems(text) == [
            "model.yaml:8:9: unknown key 'chek' in phases.plan.exit[0] (did you mean check?)",
            "model.yaml:9:3: unknown key 'build-and-tst' in phases (did you mean build-and-test?)",
            "model.yaml:14:16: unknown criterion check 'automatic': use one of manual, test-booking-finished, no-open-high-deviations, all-units-versioned",
            "model.yaml:15:9: missing key 'name' in phases.deploy.exit[1]",
            "model.yaml:18:15: duration '3': '3' has no unit (w, d, h, m or s); write e.g. 4h, 90m, 3d, 4h30m or PT4H",
            "model.yaml:19:5: missing key 'duration' in environments[1]",
            "model.yaml:20:1: unknown key 'enviroments' (did you mean environments?)",
            "model.yaml:21:13: unknown versioning rule 'semvr' (did you mean semver?): use semver, calver or a mapping {pattern: REGEX}",
        ])
    }

    @Test("The model's own rules are reported at the value's position")
    func validationIssuesHavePositions() {
        let text = """
            code: STANDARD release
            name: Standard
            version: "1"
            phases:
              plan:
                entry:
                  - name: early
                exit:
                  - name: done
              deploy:
                exit:
                  - name: done
            environments:
              - environment: TEST-INT
                duration: 1d
              - environment: TEST-INT
                duration: 2d
            roles:
              - name: Release Manager
            versioning:
              pattern: "R-(\\\\d+"
            documentation:
              - Notes
              - Notes
            """
        let lines = problems(text)
        #expect(lines.count == 7)
        #expect(lines[0] == "model.yaml:1:7: code: model code 'STANDARD release' contains ' '; only letters, digits, '-', '_' and '.' are allowed")
        #expect(lines[1] == "model.yaml:7:7: phases.plan.entry: plan has no entry criteria: every release starts planned")
        #expect(lines[2] == "model.yaml:12:15: phases.deploy.exit[0].name: criterion name 'done' is already used at phases.plan.exit[0]")
        #expect(lines[3] == "model.yaml:16:18: environments[1].environment: environment 'TEST-INT' is already required at environments[0]")
        #expect(lines[4].hasPrefix("model.yaml:19:11: roles[0].name: role code 'Release Manager' contains ' '"))
        #expect(lines[5].hasPrefix("model.yaml:21:12: versioning.pattern: pattern does not compile: "))
        #expect(lines[6] == "model.yaml:24:5: documentation[1]: documentation item 'Notes' is already listed at documentation[0]")
    }

    @Test("Wrong shapes and missing required keys")
    func shapes() {
        #expect(problems("- a\n- b\n") == ["model.yaml:1:1: expected a mapping (key: value lines), found a list"])
        #expect(problems("code: X\n") == [
            "model.yaml:1:1: missing key 'name'",
            "model.yaml:1:1: missing key 'version'",
        ])
        #expect(problems("code: X\nname: [a, b]\nversion: ''\nroles: some\n") == [
            "model.yaml:2:7: expected text at name, found a list",
            "model.yaml:3:10: version: must not be empty",
            "model.yaml:4:8: expected a list (lines starting with '- ') at roles, found 'some'",
        ])
        #expect(problems("code: X\nname: N\nversion: 1\nphases:\n  plan:\n    exit:\n      - scope-agreed\n") == [
            "model.yaml:7:9: expected a mapping (key: value lines) in phases.plan.exit[0], found 'scope-agreed'",
        ])
        #expect(problems("code: X\nname: N\nversion: ~\n") == ["model.yaml:3:10: version: must not be empty"])
    }

    @Test("YAML syntax errors and duplicate keys carry their position")
    func syntax() {
        let broken = problems("code: X\nname: [unclosed\nversion: 1\n")
        #expect(broken.count == 1)
        #expect(broken[0].hasPrefix("model.yaml:") && broken[0].contains("YAML syntax"))
        #expect(problems("code: X\nname: N\ncode: Y\nversion: 1\n") == ["model.yaml:1:1: duplicate key 'code' in one mapping"])
        #expect(problems("") == ["model.yaml:1:1: the file is empty; a release model needs at least code, name and version"])
    }

    @Test("Unknown keys without a near match list the known ones")
    func unknownKeyList() {
        #expect(problems("code: X\nname: N\nversion: 1\nroles:\n  - name: a\n    colour: red\n") == [
            "model.yaml:6:5: unknown key 'colour' in roles[0]; known keys in roles[0]: name, description",
        ])
    }

    @Test("load reads a file and names it in messages; a missing file is unreadable")
    func load() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("standard-release.yaml").path
        try Data(("\u{FEFF}" + standardModel).utf8).write(to: URL(fileURLWithPath: path))
        #expect(try ReleaseModelFile.load(path: path).code == "STANDARD")
        #expect {
            try ReleaseModelFile.load(path: path + ".missing")
        } throws: { error in
            guard let error = error as? ReleaseModelFileError, case .unreadable(let file, _) = error else { return false }
            return file == path + ".missing"
        }
    }
}

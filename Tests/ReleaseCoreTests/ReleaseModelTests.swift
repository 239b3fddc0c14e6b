import Foundation
import Testing
@testable import ReleaseCore

private func validModel() -> ReleaseModel {
    ReleaseModel(
        code: "STANDARD",
        name: "Standard release",
        version: "2.1",
        description: "Monthly release of one application",
        phases: .init(
            plan: .init(exit: [.init(name: "scope-agreed")]),
            buildAndTest: .init(exit: [
                .init(name: "tests-finished", check: .automatic(.testBookingFinished)),
                .init(name: "units-versioned", check: .automatic(.allUnitsVersioned)),
            ]),
            deploy: .init(exit: [.init(name: "smoke-tested")]),
            evaluateAndClose: .init(exit: [.init(name: "no-high-deviations", check: .automatic(.noOpenHighDeviations))])
        ),
        environments: [
            .init(environment: "TEST-INT", durationSeconds: 3 * 86_400),
            .init(environment: "PREPROD", durationSeconds: 4 * 3_600),
        ],
        roles: [.init(name: "release-manager", description: "Owns the plan"), .init(name: "implementer")],
        versioning: .semver,
        documentation: ["Release notes", "Installation guide"]
    )
}

@Suite("Release models")
struct ReleaseModelTests {
    @Test("A valid model has no issues")
    func valid() throws {
        #expect(validModel().validationIssues().isEmpty)
        try validModel().validate()
    }

    @Test("Every problem is reported with its path, in file order")
    func issues() {
        var model = validModel()
        model.code = "bad code"
        model.name = "  "
        model.phases.plan.entry = [.init(name: "too-early")]
        model.phases.deploy.exit.append(.init(name: "scope-agreed"))
        model.phases.deploy.entry = [.init(name: "")]
        model.environments.append(.init(environment: "TEST-INT", durationSeconds: 0))
        model.roles.append(.init(name: "implementer"))
        model.versioning = .pattern("R-(\\d+")
        model.documentation.append("Release notes")
        model.documentation.append(" ")

        let issues = model.validationIssues()
        #expect(issues.map(\.path.description) == [
            "code",
            "name",
            "phases.plan.entry",
            "phases.deploy.entry[0].name",
            "phases.deploy.exit[1].name",
            "environments[2].environment",
            "environments[2].duration",
            "roles[2].name",
            "versioning.pattern",
            "documentation[2]",
            "documentation[3]",
        ])
        #expect(issues[4].message == "criterion name 'scope-agreed' is already used at phases.plan.exit[0]")
        #expect(issues[5].message == "environment 'TEST-INT' is already required at environments[0]")
        #expect(issues[8].message.hasPrefix("pattern does not compile: "))
        #expect(throws: InvalidReleaseModel.self) { try model.validate() }
        #expect {
            try model.validate()
        } throws: { error in
            "\(error)".hasPrefix("release model 'bad code' is not valid:\n  - code: model code 'bad code' contains ' '")
        }
    }

    @Test("Satisfied criteria: ticked manual ones and passing automatic ones, never ticked automatic ones")
    func satisfied() {
        let model = validModel()
        let facts = AutomaticCheckFacts(testBookingsFinished: true, openHighDeviations: 1, unitsWithoutValidVersion: 0)
        let satisfied = model.satisfiedCriteria(ticked: ["scope-agreed", "no-high-deviations", "unknown"], automatic: facts)
        #expect(satisfied == ["scope-agreed", "tests-finished", "units-versioned"])
        let none = AutomaticCheckFacts(testBookingsFinished: false, openHighDeviations: 0, unitsWithoutValidVersion: 2)
        #expect(model.satisfiedCriteria(ticked: [], automatic: none) == ["no-high-deviations"])
    }

    @Test("Only existing manual criteria can be ticked")
    func tickable() throws {
        let model = validModel()
        #expect(try model.tickableCriterion(named: "smoke-tested").name == "smoke-tested")
        #expect(throws: CriterionLookupError(model: "STANDARD", name: "tests-finished", reason: .automatic(.testBookingFinished))) {
            try model.tickableCriterion(named: "tests-finished")
        }
        #expect {
            try model.tickableCriterion(named: "smoke-test")
        } throws: { error in
            "\(error)" == "release model STANDARD has no criterion 'smoke-test'; its criteria are scope-agreed, tests-finished, units-versioned, smoke-tested, no-high-deviations"
        }
    }

    @Test("JSON round trip keeps every field, with the file's key names")
    func codable() throws {
        var model = validModel()
        model.versioning = .pattern("^R-\\d{4}$")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(model)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"build-and-test\""))
        #expect(text.contains("\"check\":\"test-booking-finished\""))
        #expect(text.contains("\"duration_seconds\":259200"))
        #expect(text.contains("\"versioning\":{\"pattern\":\"^R-\\\\d{4}$\"}"))
        #expect(try JSONDecoder().decode(ReleaseModel.self, from: data) == model)
        model.versioning = .calver
        #expect(try JSONDecoder().decode(ReleaseModel.self, from: encoder.encode(model)) == model)
        model.versioning = nil
        #expect(try JSONDecoder().decode(ReleaseModel.self, from: encoder.encode(model)) == model)
    }

    @Test("Criterion checks parse from their words")
    func checks() throws {
        #expect(try CriterionCheck(parsing: "manual") == .manual)
        #expect(try CriterionCheck(parsing: "all-units-versioned") == .automatic(.allUnitsVersioned))
        #expect {
            try CriterionCheck(parsing: "test-bookings-finished")
        } throws: { error in
            "\(error)" == "unknown criterion check 'test-bookings-finished' (did you mean test-booking-finished?): use one of manual, test-booking-finished, no-open-high-deviations, all-units-versioned"
        }
    }

    @Test("Model paths print as in a file")
    func paths() {
        let path: ModelPath = ["phases", "deploy", "exit", 1, "name"]
        #expect(path.description == "phases.deploy.exit[1].name")
        #expect(path.parent?.description == "phases.deploy.exit[1]")
        #expect(ModelPath([]).parent == nil)
    }
}

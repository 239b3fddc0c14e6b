import ArgumentParser
import Foundation
import Importing
import ReleaseCore
import Planning
import Reporting

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Release plans: one change, or a project or maintenance plan, owned by a group.",
        subcommands: [Create.self, List.self, Show.self, Stakeholder.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a release plan (the group's manager or release-manager).",
            discussion: """
                With --model the plan uses the model's current version for good: later changes to the \
                model make a new version and leave this plan as it is.

                Example:
                  relplan plan create CRM CRM-2027 --title "CRM roadmap 2027" \\
                      --change-ref CHG-1234 --model standard
                """)
        @Argument(help: "Group code.") var group: String
        @Argument(help: "Plan code.") var code: String
        @Option(help: "What the plan is for.") var title: String
        @Option(help: "The change-management reference, e.g. CHG-1234.") var changeRef: String?
        @Option(help: "Release model to plan with: the group's own of that code, else the shared one.") var model: String?
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let code = try Parse.code(.plan, code)
            let title = try checkedText(title, .title, option: "--title")
            let changeRef = try checkedTextIfGiven(changeRef, .changeRef, option: "--change-ref")
            try connection.perform(CreatePlan(group: group, code: code, title: title, changeRef: changeRef, model: model))
            print("created plan \(group)/\(code)\(model.map { " from model \($0)" } ?? "")")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List release plans.", discussion: "Example:\n  relplan plan list --group CRM")
        @Option(help: "Only this group's plans.") var group: String?
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            output.print(ListPlans.listing(try connection.perform(ListPlans(group: group))), zone: .current)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a plan with its stakeholders and releases.", discussion: "Example:\n  relplan plan show CRM/CRM-2027")
        @Argument(help: "GROUP/PLAN.") var plan: String
        @OptionGroup var time: ZoneOption
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let ref = try Parse.ref(plan)
            let zone = try time.zone
            let shown = try connection.perform(ShowPlan(ref))
            switch output.format {
            case .json:
                if let json = shown.json { print(json.serialized(pretty: true)) }
            case .csv:
                print(ReleaseView.listing(shown.releases).render(.csv, zone: zone, csv: output.csv), terminator: "")
            case .table:
                print(shown.text(zone: zone), terminator: "")
            }
        }
    }

    struct Stakeholder: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The people a plan is drawn up with.", subcommands: [Add.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a stakeholder to a plan.",
                discussion: "Example:\n  relplan plan stakeholder add CRM/CRM-2027 \"Sales operations\" \\\n      --role business-owner")
            @Argument(help: "GROUP/PLAN.") var plan: String
            @Argument(help: "Who: a person, a team, a customer.") var name: String
            @Option(help: "Their part in the plan, e.g. business-owner, supplier, service-desk.") var role: String
            @OptionGroup var connection: ConnectionOptions

            func run() throws {
                let ref = try Parse.ref(plan)
                let name = try checkedText(name, .name, option: "<name>")
                let role = try checkedText(role, .name, option: "--role")
                try connection.perform(AddStakeholder(ref, name: name, role: role))
                print("\(name) is \(role) of \(ref)")
            }
        }
    }
}

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Release models: templates for recurring releases of the same kind.",
        subcommands: [Create.self, List.self, Show.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a YAML release model and store it (a changed file becomes a new version).",
            discussion: """
                Shared models (no --group) are for admins; a group's own for its planners. A group's own \
                model of a code is what its plans get by that code (`plan create --model`); other groups keep \
                getting the shared one. The database numbers the versions, per owner and code. Errors name the \
                line and column.

                Example:
                  relplan model create --file examples/models/standard.yaml
                """)
        @Option(help: "The model's YAML file.", completion: .file(extensions: ["yaml", "yml"])) var file: String
        @Option(help: "Keep the model to this group (default: shared).") var group: String?
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let store = try StoreModel(file: file, group: group)
            print(StoreModel.summary(code: store.model.code, try connection.perform(store)))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List release models (latest versions).", discussion: "Example:\n  relplan model list")
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            output.print(ListModels.listing(try connection.perform(ListModels())), zone: .current)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a release model.", discussion: "Example:\n  relplan model show standard --version 1")
        @Argument(help: "Model code.") var code: String
        @Option(help: "A specific version (default: the latest).") var version: Int?
        @Option(help: "As this group sees it: its own model of the code, else the shared one.") var group: String?
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let record = try connection.perform(ShowModel(code, version: version, group: group))
            if output.format == .table { print(ShowModel.text(record), terminator: "") } else { print(try ShowModel.json(record)) }
        }
    }
}

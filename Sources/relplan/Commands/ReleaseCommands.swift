import ArgumentParser
import Foundation
import ReleaseCore
import Planning
import Reporting

struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Releases: what is tested and deployed at the same time.",
        subcommands: [Create.self, List.self, Show.self, Move.self, Advance.self, Check.self, Evaluate.self, Pin.self, Assign.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a release in a plan (the group's manager or release-manager).",
            discussion: """
                Without --deploy-start/--deploy-end the deployment takes the whole window.

                Example:
                  relplan release create CRM R-2027.03 --plan CRM-2027 \\
                      --title "March release" --window SW-2027-03-13 --priority 2 \\
                      --deadline 2027-03-31 --depends-on HR/PAY-7
                """)
        @Argument(help: "Group code.") var group: String
        @Argument(help: "Release code, unique in the group.") var code: String
        @Option(help: "The plan it belongs to.") var plan: String
        @Option(help: "What it is.") var title = ""
        @Option(help: "Service window to deploy in.") var window: String?
        @Option(help: "Deployment start.") var deployStart: String?
        @Option(help: "Deployment end.") var deployEnd: String?
        @Option(help: "1 (highest) to 5 (lowest).") var priority = 3
        @Option(help: "Last day the deployment may end (a date).") var deadline: String?
        @Option(parsing: .upToNextOption, help: "Releases (GROUP/CODE) that must be deployed first.") var dependsOn: [String] = []
        @OptionGroup var time: ZoneOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let ref = try Parse.ref("\(group)/\(code)")
            var deploy: (Date, Date)?
            switch (deployStart, deployEnd) {
            case let (start?, end?):
                deploy = (try time.instant(start, option: "--deploy-start"), try time.instant(end, option: "--deploy-end"))
                if let d = deploy, d.1 <= d.0 { throw CLIError(.usage, "--deploy-end must be after --deploy-start") }
            case (nil, nil): break
            default: throw CLIError(.usage, "give both --deploy-start and --deploy-end, or neither")
            }
            let create = CreateRelease(
                ref: ref, plan: plan, title: try checkedText(title, .title, option: "--title"), window: window, deploy: deploy, priority: try Parse.priority(priority),
                deadline: try deadline.map { try time.day($0, option: "--deadline") }, dependsOn: try dependsOn.map(Parse.ref))
            let warnings = try connection.perform(create)
            print("created release \(ref) in plan \(plan)\(window.map { " (window \($0))" } ?? "")")
            warnings.forEach(warn)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List releases in deployment order.", discussion: "Example:\n  relplan release list --group CRM --format json")
        @Option(help: "Only this group's releases.") var group: String?
        @Option(help: "Only releases in this window.") var window: String?
        @Option(help: "Only releases with this status.") var status: ReleaseStatus?
        @OptionGroup var time: ZoneOption
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let zone = try time.zone
            output.print(ReleaseView.listing(try connection.perform(ListReleases(group: group, window: window, status: status))), zone: zone)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a release with its dependencies, packages, units, bookings, criteria and deviations.",
            discussion: "Example:\n  relplan release show CRM/R-2027.03 --format json")
        @Argument(help: "GROUP/CODE.") var release: String
        @OptionGroup var time: ZoneOption
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let ref = try Parse.ref(release)
            let zone = try time.zone
            let detail = try connection.perform(ShowRelease(ref))
            switch output.format {
            case .json: print(ReleaseView.json(detail).serialized(pretty: true))
            case .csv: print(ReleaseView.listing([detail.release]).render(.csv, zone: zone, csv: output.csv), terminator: "")
            case .table: print(ReleaseView.text(detail, zone: zone), terminator: "")
            }
        }
    }

    struct Move: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a release to another service window.",
            discussion: """
                The deployment keeps its offset from the window's start and its duration. Moving into a \
                full window is allowed (a warning, and a window-capacity conflict for the scheduler). \
                An admin may override the freezes the new deployment falls in, with a recorded reason.

                Examples:
                  relplan release move CRM/R-2027.03 --window SW-2027-03-20
                  relplan release move CRM/R-2027.12 --window SW-2027-12-22 \\
                      --override-freeze --reason "Legal deadline"
                """)
        @Argument(help: "GROUP/CODE.") var release: String
        @Option(help: "The window to move to.") var window: String
        @Flag(help: "Override the freezes the deployment falls in (admins; needs --reason).") var overrideFreeze = false
        @Option(help: "Why the freeze is overridden.") var reason: String?
        @Option(help: "Refuse if the release changed since you saw this version (release show).") var ifVersion: Int?
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let ref = try Parse.ref(release)
            if overrideFreeze && (reason ?? "").isEmpty { throw CLIError(.usage, "--override-freeze needs --reason") }
            let reason = overrideFreeze ? try checkedTextIfGiven(reason, .reason, option: "--reason") : nil
            let warnings = try connection.perform(MoveRelease(ref, to: window, overrideFreezeReason: reason, expectedVersion: ifVersion))
            print("moved \(ref) to \(window)")
            warnings.forEach(warn)
        }
    }

    struct Advance: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a release one step along its lifecycle, checking its model's criteria.",
            discussion: """
                planned → building → testing → ready → deploying → deployed → evaluating → closed; \
                --to cancelled from any open state. A refusal lists what is missing.

                Examples:
                  relplan release advance CRM/R-2027.03
                  relplan release advance CRM/R-2027.03 --to cancelled
                """)
        @Argument(help: "GROUP/CODE.") var release: String
        @Option(help: "The status to go to (default: the next one).") var to: ReleaseStatus?
        @Option(help: "Refuse if the release changed since you saw this version.") var ifVersion: Int?
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let ref = try Parse.ref(release)
            let step = try connection.perform(AdvanceRelease(ref, to: to, expectedVersion: ifVersion))
            print("\(ref): \(step.from.rawValue) → \(step.to.rawValue)")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tick a manual criterion of the release's model.",
            discussion: "Example:\n  relplan release check CRM/R-2027.03 \"CAB approved\"")
        @Argument(help: "GROUP/CODE.") var release: String
        @Argument(help: "The criterion's name, as in the model.") var criterion: String
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let ref = try Parse.ref(release)
            try connection.perform(CheckCriterion(ref, criterion: criterion))
            print("\(ref): [x] \(criterion)")
        }
    }

    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the evaluation: what went well, what to change next time. Needed before closing.",
            discussion: "Example:\n  relplan release evaluate CRM/R-2027.03 \\\n      --text \"Smooth; book TEST-INT a week earlier next time\"")
        @Argument(help: "GROUP/CODE.") var release: String
        @Option(help: "The evaluation.") var text: String
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let ref = try Parse.ref(release)
            let text = try checkedText(text, .evaluation, option: "--text")
            try connection.perform(EvaluateRelease(ref, text: text))
            print("recorded the evaluation of \(ref)")
        }
    }

    struct Pin: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pin a release so the scheduler never moves it (--off to unpin).",
            discussion: "Example:\n  relplan release pin CRM/R-2027.03")
        @Argument(help: "GROUP/CODE.") var release: String
        @Flag(help: "Unpin instead.") var off = false
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let ref = try Parse.ref(release)
            try connection.perform(PinRelease(ref, pinned: !off))
            print(off ? "unpinned \(ref)" : "pinned \(ref): the scheduler will not move it")
        }
    }

    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Name the person who carries out the deployment (one person cannot deploy two releases at once).",
            discussion: "Example:\n  relplan release assign CRM/R-2027.03 --implementer carol")
        @Argument(help: "GROUP/CODE.") var release: String
        @Option(help: "The implementer's login or name.") var implementer: String
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let ref = try Parse.ref(release)
            let implementer = try checkedText(implementer, .name, option: "--implementer")
            try connection.perform(AssignImplementer(ref, implementer: implementer))
            print("\(implementer) deploys \(ref)")
        }
    }
}

struct PackageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package", abstract: "Release packages: units built to be deployed together.", subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a package to a release.", discussion: "Example:\n  relplan package add CRM/R-2027.03 core")
        @Argument(help: "GROUP/RELEASE.") var release: String
        @Argument(help: "Package code.") var code: String
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let ref = try Parse.ref(release)
            try connection.perform(AddPackage(ref, code: code))
            print("added package \(code) to \(ref)")
        }
    }
}

struct UnitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unit", abstract: "Release units: the smallest parts, each changing one configuration item.", subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a unit to a package of a release.",
            discussion: """
                Kinds: server, application, update, virtual-server, database, network, documentation, training, \
                routine, agreement.

                Example:
                  relplan unit add CRM/R-2027.03 core crm-api --kind application \\
                      --target srv-crm-01 --version 4.2.0
                """)
        @Argument(help: "GROUP/RELEASE.") var release: String
        @Argument(help: "Package code.") var package: String
        @Argument(help: "Unit code.") var code: String
        @Option(help: "What kind of unit.") var kind: UnitKind
        @Option(help: "The configuration item it changes.") var target: String
        @Option(help: "The version it brings.") var version: String?
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let ref = try Parse.ref(release)
            let version = try checkedTextIfGiven(version, .version, option: "--version")
            try connection.perform(AddUnit(ref, package: package, code: code, kind: kind, target: target, version: version))
            print("added unit \(package)/\(code) (\(kind.rawValue) → \(target)) to \(ref)")
        }
    }
}

struct BookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "book", abstract: "Book an environment for a release: tentative, or --confirm.",
        discussion: """
            Confirming beyond the environment's capacity is refused with the releases that hold it (exit 75).

            Example:
              relplan book CRM/R-2027.03 TEST-INT --start "2027-03-01 08:00" \\
                  --end "2027-03-05 17:00" --confirm
            """)
    @Argument(help: "GROUP/RELEASE.") var release: String
    @Argument(help: "Environment code.") var environment: String
    @Option(help: "From when.") var start: String
    @Option(help: "Until when.") var end: String
    @Flag(help: "Confirm the booking (default: tentative).") var confirm = false
    @OptionGroup var time: ZoneOption
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let ref = try Parse.ref(release)
        let start = try time.instant(self.start, option: "--start")
        let end = try time.instant(self.end, option: "--end")
        guard end > start else { throw CLIError(.usage, "--end must be after --start") }
        let zone = try time.zone
        let booking = try connection.perform(BookEnvironment(ref, environment: environment, start: start, end: end, confirm: confirm))
        print("booked \(environment) for \(ref): \(Timestamps.local(start, in: zone)) – \(Timestamps.local(end, in: zone)) (\(booking.status.rawValue))")
    }
}

struct DeviationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deviation", abstract: "Deviations: what went differently than planned, recorded and handled.",
        subcommands: [Add.self, Handle.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a deviation. Open deviations block closing the release.",
            discussion: "Example:\n  relplan deviation add CRM/R-2027.03 --severity high \\\n      --text \"Rollback of crm-api needed\"")
        @Argument(help: "GROUP/RELEASE.") var release: String
        @Option(help: "low, medium or high.") var severity: DeviationSeverity
        @Option(help: "What happened.") var text: String
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let ref = try Parse.ref(release)
            let text = try checkedText(text, .description, option: "--text")
            let id = try connection.perform(RecordDeviation(ref, severity: severity, text: text))
            print("recorded deviation \(id) (\(severity.rawValue)) for \(ref)")
        }
    }

    struct Handle: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a deviation with how it was handled.",
            discussion: "Example:\n  relplan deviation handle 12 --resolution \"Rolled back, fixed in 4.2.1\"")
        @Argument(help: "Deviation id.") var id: Int64
        @Option(help: "How it was handled.") var resolution: String
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let resolution = try checkedText(resolution, .description, option: "--resolution")
            try connection.perform(HandleDeviation(id: id, resolution: resolution))
            print("deviation \(id) handled")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deviations.", discussion: "Example:\n  relplan deviation list --open")
        @Option(help: "Only this group's.") var group: String?
        @Flag(help: "Only those not yet handled.") var open = false
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            output.print(ListDeviations.listing(try connection.perform(ListDeviations(group: group, openOnly: open))), zone: .current)
        }
    }
}

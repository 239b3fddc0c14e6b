import ArgumentParser
import Foundation
import ReleaseCore
import ReleaseStore
import Reporting
import Scheduling

struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "Find every conflict between releases: windows, environments, targets, people, freezes, order.",
        discussion: """
            Types: window-capacity, environment-overlap, target-collision, implementer-busy, freeze, \
            outside-window, dependency-order, untested, deadline. Reads one consistent snapshot \
            (read-only, repeatable read), so it runs on a standby too.

            Examples:
              relplan conflicts
              relplan conflicts --group HR --format json
              relplan conflicts --exit-code    # exit 1 when there are conflicts
            """)
    @Option(help: "Only conflicts that involve this group.") var group: String?
    @Option(help: "Only conflicts of deployments after this date.") var from: String?
    @Option(help: "Only conflicts of deployments before this date.") var to: String?
    @Flag(help: "Exit 1 when there are conflicts.") var exitCode = false
    @OptionGroup var time: ZoneOption
    @OptionGroup var output: FormatOption
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let zone = try time.zone
        let from = try from.map { try time.instant($0, option: "--from") }
        let to = try to.map { try time.instant($0, option: "--to") }
        var found = 0
        try connection.run { db in
            let conflicts = try ScheduleStore(db, deadlineZone: zone).conflicts(group: group, from: from, to: to)
            found = conflicts.count
            switch output.format {
            case .json:
                // Against the last nightly run: new, open and resolved (null before the first run).
                let standing = try ReportStore().standing(of: conflicts, group: group, db)
                print(ConflictFormats.withStanding(ConflictFormats.document(conflicts, generatedAt: Date()),
                                                   new: standing?.new, open: standing?.open, resolved: standing?.resolved)
                        .serialized(pretty: true))
            case .csv: print(ConflictFormats.csv(conflicts, dialect: output.csv), terminator: "")
            case .table: print(ConflictFormats.table(conflicts, zone: zone), terminator: "")
            }
        }
        if exitCode && found > 0 { throw ExitCode(ExitStatus.conflictsFound.rawValue) }
    }
}

struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Resolve conflicts across the whole portfolio, and decide on proposed moves.",
        subcommands: [Resolve.self, Proposals.self, Accept.self, Reject.self])

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Propose moves that make conflicts disappear; --apply makes those of your own groups' releases.",
            discussion: """
                The objective is compared priority by priority (1 first): fewest releases left in conflict, \
                then least delay. Components small enough are solved exactly (branch and bound), others \
                greedily; the output says which. Releases deploying or later, and pinned ones, never move; \
                nothing moves into a freeze, past its deadline, before its dependencies, or before its tests.

                With --apply, in one transaction: moves of releases your groups own are made; moves of other \
                groups' releases are stored as proposals for them (schedule proposals). If anything changed \
                since the proposals were computed, nothing moves and it exits 75.

                Examples:
                  relplan schedule resolve
                  relplan schedule resolve --apply --format json
                """)
        @Option(help: "Only show proposals for this group's releases.") var group: String?
        @Flag(help: "Make the moves (your groups) and store proposals (other groups).") var apply = false
        @Option(help: "Seconds the exact search may spend per component before falling back to greedy.") var budget: Double = 2
        @OptionGroup var time: ZoneOption
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let zone = try time.zone
            try connection.runAsPerson { db, me in
                let store = ScheduleStore(db, deadlineZone: zone)
                let portfolio = try store.portfolio()
                var options = ResolverOptions()
                options.exactBudget = .milliseconds(Int(budget * 1000))
                var resolution = Resolver(options: options).resolve(portfolio.snapshot)
                var applied: Set<String> = []
                var proposalIDs: [String: Int64] = [:]
                if apply {
                    let outcome = try store.apply(resolution, computedFrom: portfolio, by: me)
                    applied = Set(outcome.applied)
                    for (release, id) in outcome.proposed { proposalIDs[release] = id }
                }
                if let group {
                    resolution.proposals = resolution.proposals.filter { $0.release.hasPrefix(group + "/") }
                    resolution.unresolved = resolution.unresolved.filter { $0.release.hasPrefix(group + "/") }
                }
                switch output.format {
                case .json: print(ConflictFormats.resolutionJSON(resolution, proposalIDs: proposalIDs, applied: applied).serialized(pretty: true))
                case .csv: print(ConflictFormats.resolutionCSV(resolution, dialect: output.csv), terminator: "")
                case .table:
                    print(ConflictFormats.resolutionText(resolution, zone: zone), terminator: "")
                    if apply {
                        print("\napplied \(applied.count) move\(applied.count == 1 ? "" : "s"); stored \(proposalIDs.count) proposal\(proposalIDs.count == 1 ? "" : "s") for other groups")
                        for (release, id) in proposalIDs.sorted(by: { $0.value < $1.value }) {
                            print("  proposal \(id) for \(release): its group accepts with `relplan schedule accept \(id)`")
                        }
                    }
                }
            }
        }
    }

    struct Proposals: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Moves proposed for releases, waiting for their groups to accept or reject.",
            discussion: "Example:\n  relplan schedule proposals --group HR")
        @Option(help: "Only this group's.") var group: String?
        @Flag(help: "Include decided ones.") var all = false
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            try connection.run { db in
                let proposals = try ScheduleStore(db, deadlineZone: .current).proposals(group: group, status: all ? nil : "pending")
                let listing = Listing(noun: "proposals", columns: ["id", "release", "action", "from", "to", "reason", "status"],
                                      rows: proposals.map {
                                          [.int(Int($0.id)), .text($0.release), .text($0.action), .text($0.from), .text($0.to),
                                           .text($0.reason), .text($0.status)]
                                      }) { _ in
                    TextTable(headers: ["ID", "RELEASE", "FROM", "TO", "STATUS", "BY"], rows: proposals.map {
                        [String($0.id), $0.release, $0.from, $0.to, $0.status, $0.proposedBy]
                    })
                }
                output.print(listing, zone: .current)
            }
        }
    }

    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept a proposed move of one of your group's releases: the move is made now.",
            discussion: "Example:\n  relplan schedule accept 12")
        @Argument(help: "Proposal id.") var id: Int64
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            try connection.runAsPerson { db, me in
                let proposal = try ScheduleStore(db, deadlineZone: .current).accept(id, by: me)
                print("accepted proposal \(id): \(proposal.release) moved from \(proposal.from) to \(proposal.to)")
            }
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reject a proposed move, saying why.",
            discussion: "Example:\n  relplan schedule reject 12 \\\n      --reason \"The supplier is only available that night\"")
        @Argument(help: "Proposal id.") var id: Int64
        @Option(help: "Why not.") var reason: String
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            try connection.runAsPerson { db, me in
                try ScheduleStore(db, deadlineZone: .current).reject(id, reason: try checkedText(reason, .reason, option: "--reason"), by: me)
                print("rejected proposal \(id)")
            }
        }
    }
}

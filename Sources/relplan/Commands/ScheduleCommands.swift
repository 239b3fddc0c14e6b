import ArgumentParser
import Foundation
import ReleaseCore
import Planning
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
        // JSON stands against the last nightly run: new, open and resolved (null before the first run).
        let found = try connection.perform(FindConflicts(group: group, from: from, to: to, zone: zone, standing: output.format == .json))
        switch output.format {
        case .json: print(found.document().serialized(pretty: true))
        case .csv: print(ConflictFormats.csv(found.conflicts, dialect: output.csv), terminator: "")
        case .table: print(ConflictFormats.table(found.conflicts, zone: zone), terminator: "")
        }
        if exitCode && !found.conflicts.isEmpty { throw ExitCode(ExitStatus.conflictsFound.rawValue) }
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
                then least delay (a move earlier counts half). A deployment outside its window that fits \
                in it is re-timed there (retime) before another window is tried. Components small enough are solved exactly (branch and bound), others \
                greedily; the output says which. Releases deploying or later, and pinned ones, never move; \
                nothing moves into a freeze, past its deadline, before its dependencies, or before its tests.

                With --apply, in one transaction under the scheduler's lock: moves of your groups' releases that \
                keep every rule now are made; moves of other groups' releases are stored as proposals for them; \
                your moves that need one of theirs first are stored approved and are carried out by the \
                database when what they wait on is accepted (schedule proposals shows the chains). It exits 75 \
                (retry) only when another scheduler run holds the lock too long.

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
            let run = try connection.perform(ResolveConflicts(apply: apply, group: group, budgetSeconds: budget, zone: zone))
            switch output.format {
            case .json: print(run.json.serialized(pretty: true))
            case .csv: print(ConflictFormats.resolutionCSV(run.resolution, dialect: output.csv), terminator: "")
            case .table:
                print(ConflictFormats.resolutionText(run.resolution, zone: zone), terminator: "")
                if let outcome = run.outcome { print(ResolveConflicts.summary(outcome), terminator: "") }
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
            output.print(PlanViews.proposals(try connection.perform(ListProposals(group: group, all: all))), zone: .current)
        }
    }

    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept a proposed move of one of your group's releases.",
            discussion: """
                If the move keeps every rule now it is made at once, and so is every approved move that waited \
                only on it (in this transaction). If it needs another move of its plan first, it is approved and \
                waits on it. If the portfolio changed so that it can no longer be made, it is marked stale \
                (exit 65) and you run `relplan schedule resolve --apply` again.

                Example:
                  relplan schedule accept 12
                """)
        @Argument(help: "Proposal id.") var id: Int64
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            // Stale is bad data (exit 65), as it always was for the CLI.
            print(AcceptProposal.summary(try connection.perform(AcceptProposal(id)), id: id), terminator: "")
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
            let reason = try checkedText(reason, .reason, option: "--reason")
            print(RejectProposal.summary(try connection.perform(RejectProposal(id, reason: reason)), id: id), terminator: "")
        }
    }
}

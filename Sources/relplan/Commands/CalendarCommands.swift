import ArgumentParser
import Foundation
import ReleaseCore
import Planning
import Reporting

struct EnvironmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env", abstract: "Environments (dev, test, staging, preprod, prod), some shared between groups.",
        subcommands: [Create.self, List.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an environment (admins).",
            discussion: "Capacity is how many releases may use it at once.\n\nExample:\n  relplan env create TEST-INT --name \"Integration test\" --kind test --capacity 1")
        @Argument(help: "Environment code.") var code: String
        @Option(help: "A name people recognise.") var name: String
        @Option(help: "dev, test, staging, preprod or prod.") var kind: EnvironmentKind = .test
        @Option(help: "How many releases may use it at once.") var capacity = 1
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            guard capacity >= 1 else { throw ValidationError("--capacity must be at least 1 (got \(capacity))") }
        }

        func run() throws {
            let code = try Parse.code(.environment, code)
            let name = try checkedText(name, .name, option: "--name")
            try connection.perform(CreateEnvironment(code: code, name: name, kind: kind, capacity: capacity))
            print("created environment \(code) (\(kind.rawValue), capacity \(capacity))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List environments.", discussion: "Example:\n  relplan env list")
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            output.print(PlanViews.environments(try connection.perform(ListEnvironments())), zone: .current)
        }
    }
}

struct WindowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "window", abstract: "Service windows: predetermined slots for changes, agreed with the business.",
        subcommands: [Create.self, Generate.self, List.self, Show.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create one service window (admins).",
            discussion: "Example:\n  relplan window create SW-2027-03-14 --start \"2027-03-14 18:00\" \\\n      --end \"2027-03-14 23:00\" --capacity 3 --tz Europe/Stockholm")
        @Argument(help: "Window code.") var code: String
        @Option(help: "When it opens.") var start: String
        @Option(help: "When it closes.") var end: String
        @Option(help: "How many releases fit.") var capacity = 1
        @Option(help: "regular or extra.") var kind: WindowKind = .regular
        @OptionGroup var time: ZoneOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let code = try Parse.code(.window, code)
            let start = try time.instant(start, option: "--start"), end = try time.instant(end, option: "--end")
            guard end > start else { throw CLIError(.usage, "--end must be after --start") }
            guard capacity >= 1 else { throw CLIError(.usage, "--capacity must be at least 1 (got \(capacity))") }
            try connection.perform(CreateWindow(code: code, start: start, end: end, capacity: capacity, kind: kind))
            print("created service window \(code) (\(Timestamps.local(start, in: try time.zone)) – \(Timestamps.local(end, in: try time.zone)), capacity \(capacity))")
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a series of windows from a recurrence rule (admins); running it again adds only what is missing.",
            discussion: """
                RFC 5545 semantics with --from at --start-time as DTSTART: FREQ=WEEKLY|MONTHLY, INTERVAL, \
                BYDAY with ordinals (2TU second Tuesday, -1SU last Sunday), COUNT, UNTIL. Weeks start on \
                Monday. Times are wall-clock in --tz: a 22:00 window of 4h on the night the clocks change \
                still ends at 02:00 local time. Codes are PREFIX-YYYY-MM-DD.

                Examples:
                  relplan window generate --prefix SW --rrule "FREQ=WEEKLY;BYDAY=SA" \\
                      --start-time 22:00 --duration 4h --from 2027-01-01 --until 2027-03-31 \\
                      --capacity 3 --tz Europe/Stockholm
                  relplan window generate --prefix PATCH --rrule "FREQ=MONTHLY;BYDAY=2TU" \\
                      --start-time 19:00 --duration 3h --from 2027-01-01 --until 2027-12-31
                """)
        @Option(help: "Code prefix: windows are PREFIX-YYYY-MM-DD.") var prefix: String
        @Option(help: "Recurrence rule, e.g. FREQ=WEEKLY;BYDAY=SA.") var rrule: String
        @Option(help: "Wall-clock start, HH:MM.") var startTime: String
        @Option(help: "Length, e.g. 4h, 90m, 4h30m, PT4H.") var duration: String
        @Option(help: "First day (inclusive).") var from: String
        @Option(help: "Last day (inclusive).") var until: String
        @Option(help: "How many releases fit in each.") var capacity = 1
        @Option(help: "regular or extra.") var kind: WindowKind = .regular
        @Flag(help: "Show what would be created, create nothing.") var dryRun = false
        @OptionGroup var time: ZoneOption
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let zone = try time.zone
            let generate = try GenerateWindows(
                prefix: prefix, rule: rrule, startTime: startTime, duration: duration, timeZone: zone,
                from: try time.day(from, option: "--from"), until: try time.day(until, option: "--until"),
                capacity: capacity, kind: kind)
            if dryRun {
                output.print(generate.preview, zone: zone)
                return
            }
            let result = try connection.perform(generate)
            if output.format == .table {
                print("created \(result.created.count) service windows, \(result.existing.count) already existed")
            } else {
                output.print(generate.listing(created: Set(result.created)), zone: zone)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List service windows with how full they are.", discussion: "Example:\n  relplan window list --from 2027-03-01 --to 2027-04-01")
        @Option(help: "Windows that end after this.") var from: String?
        @Option(help: "Windows that start before this.") var to: String?
        @OptionGroup var time: ZoneOption
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let zone = try time.zone
            let from = try from.map { try time.instant($0, option: "--from") }
            let to = try to.map { try time.instant($0, option: "--to") }
            output.print(PlanViews.windows(try connection.perform(ListWindows(from: from, to: to))), zone: zone)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The window's own plan for the night: releases in deployment order, units, implementers, bookings, go/no-go.",
            discussion: "Example:\n  relplan window show SW-2027-03-14")
        @Argument(help: "Window code.") var code: String
        @OptionGroup var time: ZoneOption
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let zone = try time.zone
            let night = try connection.perform(ShowWindowNight(code))
            switch output.format {
            case .json: print(night.json.serialized(pretty: true))
            case .csv: print(night.releaseListing.render(.csv, zone: zone, csv: output.csv), terminator: "")
            case .table: print(night.text(zone: zone), terminator: "")
            }
        }
    }
}

struct FreezeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freeze", abstract: "Periods when nothing may be deployed, globally or in one environment.",
        subcommands: [Create.self, List.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a freeze (admins).",
            discussion: "Example:\n  relplan freeze create YEAR-END --start 2027-12-20 --end 2028-01-07 \\\n      --reason \"Year-end closing\"")
        @Argument(help: "Freeze code.") var code: String
        @Option(help: "When it begins.") var start: String
        @Option(help: "When it ends.") var end: String
        @Option(help: "Why nothing may change then.") var reason: String
        @Option(help: "Only this environment (default: everything).") var env: String?
        @OptionGroup var time: ZoneOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let code = try Parse.code(.freeze, code)
            let start = try time.instant(self.start, option: "--start")
            let end = try time.instant(self.end, option: "--end")
            guard end > start else { throw CLIError(.usage, "--end must be after --start") }
            let reason = try checkedText(reason, .reason, option: "--reason")
            try connection.perform(CreateFreeze(code: code, start: start, end: end, reason: reason, environment: env))
            print("created freeze \(code)\(env.map { " for \($0)" } ?? "")")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List freezes.", discussion: "Example:\n  relplan freeze list")
        @OptionGroup var time: ZoneOption
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let zone = try time.zone
            output.print(ListFreezes.listing(try connection.perform(ListFreezes())), zone: zone)
        }
    }
}

struct TargetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "target", abstract: "Configuration items that release units change, and which is part of which.",
        subcommands: [Link.self, List.self])

    struct Link: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that one configuration item is part of another: changing either collides with changing the other.",
            discussion: "Example:\n  relplan target link crm-api --part-of srv-crm-01")
        @Argument(help: "The item inside.") var child: String
        @Option(help: "The item it is part of.") var partOf: String
        @Option(help: "The group that registers items not yet known (default: the one group you plan for; for an admin, none: the admins').")
        var group: String?
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            try connection.perform(LinkTarget(child, partOf: partOf, group: group))
            print("\(child) is part of \(partOf)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List configuration items.", discussion: "Example:\n  relplan target list")
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            output.print(ListTargets.listing(try connection.perform(ListTargets())), zone: .current)
        }
    }
}

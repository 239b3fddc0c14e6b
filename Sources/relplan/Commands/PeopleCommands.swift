import ArgumentParser
import Foundation
import ReleaseCore
import Planning
import Reporting

struct GroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Management groups: the owners of release plans.",
        subcommands: [Create.self, List.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a management group (admins).",
            discussion: "Example:\n  relplan group create CRM --name \"CRM förvaltning\"")
        @Argument(help: "Group code, e.g. CRM or HR-PAY.") var code: String
        @Option(help: "The group's name.") var name: String
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let code = try Parse.code(.group, code)
            let name = try checkedText(name, .name, option: "--name")
            try connection.perform(CreateGroup(code: code, name: name))
            print("created group \(code)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List groups.", discussion: "Example:\n  relplan group list --format json")
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            output.print(ListGroups.listing(try connection.perform(ListGroups())), zone: .current)
        }
    }
}

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "PostgreSQL login roles for the people who use relplan.",
        subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a login role and let it use relplan (admins).",
            discussion: """
                The password is read from a file (never from the command line, where ps would show it); \
                without one, the site's pg_hba.conf must let the person in another way (peer, certificate).

                --reporter makes the login the nightly job's: only relplan_reporter's logins record the \
                conflict history, report runs and calendar sequences (`relplan report nightly`); everyone \
                reads them. Give it to the login the cron job or systemd timer runs as, not to a person.

                Examples:
                  relplan user create alice --password-file /run/secrets/alice
                  relplan user create relplan-nightly --reporter
                """)
        @Argument(help: "Login name (lower case).") var login: String
        @Option(help: "A file whose first line is the password.", completion: .file()) var passwordFile: String?
        @Flag(help: "Also make the person a relplan admin.") var admin = false
        @Flag(help: "Also let the login record the nightly report's history (relplan_reporter).") var reporter = false
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let create = try passwordFile.map { file throws(Failure) in
                try CreateUser(login: login, passwordFile: file, admin: admin, reporter: reporter)
            } ?? CreateUser(login: login, password: nil, admin: admin, reporter: reporter)
            try connection.perform(create)
            let roles = (admin ? ["admin"] : []) + (reporter ? ["reporter"] : [])
            print("created user \(login)\(roles.isEmpty ? "" : " (\(roles.joined(separator: ", ")))")")
        }
    }
}

struct MemberCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member", abstract: "Who is in a group, and with which role.",
        subcommands: [Add.self, Remove.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a person to a group, or change their role (admins, or a manager of the group).",
            discussion: "Roles: manager, release-manager, member, viewer.\n\nExample:\n  relplan member add CRM alice --role release-manager")
        @Argument(help: "Group code.") var group: String
        @Argument(help: "Login name.") var login: String
        @Option(help: "manager, release-manager, member or viewer.") var role: MemberRole
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            try connection.perform(AddMember(group: group, login: login, role: role))
            print("\(login) is \(role.rawValue) of \(group)")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a person from a group.", discussion: "Example:\n  relplan member remove CRM alice")
        @Argument(help: "Group code.") var group: String
        @Argument(help: "Login name.") var login: String
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            try connection.perform(RemoveMember(group: group, login: login))
            print("removed \(login) from \(group)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a group's members.", discussion: "Example:\n  relplan member list CRM")
        @Argument(help: "Group code.") var group: String
        @OptionGroup var output: FormatOption
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            output.print(ListMembers.listing(try connection.perform(ListMembers(group: group))), zone: .current)
        }
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Who changed what and when, as the database recorded it.",
        discussion: "Example:\n  relplan audit --release CRM/R-2027.03 --since 2027-03-01")
    @Option(help: "Only this group's rows.") var group: String?
    @Option(help: "Only this release and what hangs under it (GROUP/CODE).") var release: String?
    @Option(help: "Only changes at or after this time.") var since: String?
    @Option(help: "At most this many entries (newest).") var limit = 1000
    @OptionGroup var time: ZoneOption
    @OptionGroup var output: FormatOption
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let ref = try release.map(Parse.ref)
        let since = try since.map { try time.instant($0, option: "--since") }
        let zone = try time.zone
        let entries = try connection.perform(ReadAuditTrail(group: group, release: ref, since: since, limit: limit))
        let table = output.format == .table
        output.print(PlanViews.audit(entries, rowKey: table ? { ReadAuditTrail.shortened($0) } : { $0 }), zone: zone)
    }
}

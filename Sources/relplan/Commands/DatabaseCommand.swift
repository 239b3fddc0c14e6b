import ArgumentParser
import Foundation
import Planning
import Reporting

struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Create and upgrade the relplan schema.",
        subcommands: [Migrate.self, Status.self]
    )

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply the migrations the database does not have yet.",
            discussion: """
                Each file of sql/ runs in its own transaction and is recorded with its checksum in \
                schema_migrations. Running it twice is harmless; two runs at once wait for each other. \
                Run it as the database owner.

                Example:
                  relplan db migrate --database-url postgresql://owner@db.example.org/relplan
                """
        )

        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let migrated = try connection.perform(MigrateSchema { migration in print("applied \(migration.fileName)") })
            if migrated.applied.isEmpty {
                print("nothing to apply: all \(migrated.bundled) migrations are in place")
            } else {
                print("\(migrated.applied.count) migration\(migrated.applied.count == 1 ? "" : "s") applied")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List applied and pending migrations.",
            discussion: "Example:\n  relplan db status --format json"
        )

        @OptionGroup var connection: ConnectionOptions
        @Option(help: "table, json or csv.") var format: OutputFormat = .table

        func run() throws {
            let statuses = try connection.perform(SchemaStatus())
            print(SchemaStatus.listing(statuses).render(format), terminator: "")
            if let changed = statuses.first(where: { $0.state == .changed }) {
                throw CLIError(.dataError, "sql/\(changed.migration.fileName) was changed after it was applied")
            }
        }
    }
}

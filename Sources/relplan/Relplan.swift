import ArgumentParser

@main
struct Relplan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relplan",
        abstract: "Plan releases for several management groups in one shared PostgreSQL database.",
        discussion: """
            Connects as you, with libpq's own rules (PGHOST, PGPORT, PGUSER, PGDATABASE, PGSERVICE,
            ~/.pgpass) or --database-url / RELPLAN_DATABASE_URL. What you may change is decided by
            the database itself: the row-level security policies of your groups.

            Exit codes: 0 ok; 1 conflicts found (with --exit-code); 64 usage; 65 bad input data;
            69 database unreachable; 75 temporary failure, safe to retry; 77 permission denied.
            """,
        subcommands: [DatabaseCommand.self]
    )
}

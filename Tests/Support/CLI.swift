import Foundation
import Postgres

/// Runs the built `relplan` binary, as a person would from a shell.
public struct CLIResult: Sendable, CustomStringConvertible {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    public var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
}

public enum CLI {
    /// `scripts/test` exports RELPLAN_BIN; otherwise the debug build next to the test bundle.
    public static var binary: String {
        if let path = ProcessInfo.processInfo.environment["RELPLAN_BIN"] { return path }
        let bundle = Bundle.main.bundleURL.deletingLastPathComponent()
        return bundle.appendingPathComponent("relplan").path
    }

    /// Runs `relplan ARGS` against `database`, connected as `user` (trust auth on the test cluster).
    @discardableResult
    public static func run(_ arguments: [String], database: TestDatabase, user: String? = nil, stdin: String? = nil,
                           environment extra: [String: String] = [:]) throws -> CLIResult {
        var environment = extra
        environment["RELPLAN_DATABASE_URL"] = database.conninfo + (user.map { " user=\($0)" } ?? "")
        return try run(arguments, stdin: stdin, environment: environment)
    }

    /// Runs `relplan ARGS` with no database given (help texts, usage errors), `extra` added to
    /// the environment.
    @discardableResult
    public static func run(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:]) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TZ"] = environment["RELPLAN_TEST_TZ"] ?? "UTC"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes before waiting, so a chatty process never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errorData = Data()
        group.enter()
        DispatchQueue.global().async {
            errorData = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
                         stderr: String(decoding: errorData, as: UTF8.self))
    }
}

/// A migrated database with an admin, the nightly job's login and named people, for CLI and store tests.
public struct PlanningFixture: Sendable {
    public let database: TestDatabase
    /// Login role names, unique per test: `admin`, `reporter` (the nightly job's login, in no
    /// group: relplan_reporter, sql/0019), and whatever `people` asked for.
    public let logins: [String: String]

    public static func make(people: [String] = ["alice", "bob", "carol", "dave"]) throws -> PlanningFixture {
        let database = try TestDatabase.migrated()
        let admin = try database.connect()
        var logins: [String: String] = [:]
        for name in ["admin", "reporter"] + people {
            let login = TestDatabase.uniqueRoleName(name)
            try admin.execute("SELECT relplan_create_user($1, NULL)", [login])
            logins[name] = login
        }
        try admin.execute("SELECT relplan_grant_admin($1)", [logins["admin"] ?? ""])
        try admin.execute("SELECT relplan_grant_reporter($1)", [logins["reporter"] ?? ""])
        return PlanningFixture(database: database, logins: logins)
    }

    public func login(_ name: String) -> String { logins[name] ?? name }

    /// Runs relplan as one of the fixture's people ("admin", "alice", …).
    @discardableResult
    public func run(_ name: String, _ arguments: String...) throws -> CLIResult {
        try CLI.run(arguments, database: database, user: login(name))
    }

    @discardableResult
    public func run(_ name: String, _ arguments: [String]) throws -> CLIResult {
        try CLI.run(arguments, database: database, user: login(name))
    }

    public func drop() {
        database.drop()
        guard let admin = try? TestDatabase.adminConnection() else { return }
        for login in logins.values {
            _ = try? admin.execute("DROP ROLE IF EXISTS \"\(login)\"", simple: true)
        }
    }
}

extension PlanningFixture {
    /// A window CROWDED (capacity 1, 4 hours) at `base` and W1…W6 (capacity 1) a week apart after
    /// it: what the scheduler empties a crowded window into.
    public func addCrowdedWindows(at base: Date, _ admin: Connection) throws {
        try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ('CROWDED', $1, $2, 1)",
                          [base, base.addingTimeInterval(4 * 3600)])
        for week in 1...6 {
            let start = base.addingTimeInterval(Double(week) * 7 * 86_400)
            try admin.execute("INSERT INTO service_window (code, starts_at, ends_at, capacity) VALUES ($1, $2, $3, 1)",
                              ["W\(week)", start, start.addingTimeInterval(4 * 3600)])
        }
    }
}

import Foundation
import ReleaseCore
import ReleaseStore
import Reporting

// The shared calendar's use cases: environments, service windows, freezes and configuration items.

/// `env create` (admins).
public struct CreateEnvironment: UseCase {
    public let code: String
    public let name: String
    public let kind: EnvironmentKind
    public let capacity: Int

    public init(code: String, name: String, kind: EnvironmentKind, capacity: Int) {
        self.code = code
        self.name = name
        self.kind = kind
        self.capacity = capacity
    }

    public func run(in session: DatabaseSession) throws {
        try SharedCalendar(session.db).createEnvironment(code: code, name: name, kind: kind, capacity: capacity, by: try session.person())
    }
}

/// `env list`.
public struct ListEnvironments: UseCase {
    public init() {}

    public func run(in session: DatabaseSession) throws -> [EnvironmentRecord] {
        try SharedCalendar(session.db).environments()
    }
}

/// `window create` (admins).
public struct CreateWindow: UseCase {
    public let window: NewWindow
    public let capacity: Int
    public let kind: WindowKind

    public init(_ window: NewWindow, capacity: Int, kind: WindowKind) {
        self.window = window
        self.capacity = capacity
        self.kind = kind
    }

    public init(code: String, start: Date, end: Date, capacity: Int, kind: WindowKind) {
        self.init(NewWindow(code: code, start: start, end: end), capacity: capacity, kind: kind)
    }

    public func run(in session: DatabaseSession) throws {
        try SharedCalendar(session.db).createWindow(window, capacity: capacity, kind: kind, by: try session.person())
    }
}

/// `window generate` (admins): the windows of a series that are missing; the answer says which
/// were created and which existed already.
public struct GenerateWindows: UseCase {
    public let windows: [GeneratedWindow]
    public let capacity: Int
    public let kind: WindowKind

    public init(_ windows: [GeneratedWindow], capacity: Int, kind: WindowKind) {
        self.windows = windows
        self.capacity = capacity
        self.kind = kind
    }

    /// Expands the series as the person wrote it, before any connection: a bad rule, time, duration
    /// or capacity is a usage error that names what is wrong.
    public init(
        prefix: String, rule: String, startTime: String, duration: String, timeZone: TimeZone,
        from: CalendarDay, until: CalendarDay, capacity: Int, kind: WindowKind
    ) throws(Failure) {
        do {
            let series = WindowSeries(
                prefix: prefix, rule: try RecurrenceRule(parsing: rule), startTime: try TimeOfDay(parsing: startTime),
                durationSeconds: try Durations.seconds(in: duration), timeZone: timeZone, from: from, until: until)
            self.windows = try series.windows()
        } catch {
            throw Failure(.usage, "\(error)")
        }
        guard capacity >= 1 else { throw Failure(.usage, "--capacity must be at least 1 (got \(capacity))") }
        self.capacity = capacity
        self.kind = kind
    }

    public func run(in session: DatabaseSession) throws -> (created: [String], existing: [String]) {
        try SharedCalendar(session.db).generateWindows(
            windows.map { NewWindow(code: $0.code, start: $0.start, end: $0.end) }, capacity: capacity, kind: kind, by: try session.person())
    }

    /// The listing `window generate` prints (`--dry-run`, json, csv): each window and whether it was
    /// (or would be) created.
    public func listing(created: Set<String>) -> Listing {
        Listing(noun: "windows", columns: ["code", "start", "end", "capacity", "kind", "created"], rows: windows.map {
            [.text($0.code), .timestamp($0.start), .timestamp($0.end), .int(capacity), .text(kind.rawValue), .bool(created.contains($0.code))]
        })
    }

    /// `--dry-run`: every window of the series, as if all were created.
    public var preview: Listing { listing(created: Set(windows.map(\.code))) }
}

/// `window list`: windows with how full they are.
public struct ListWindows: UseCase {
    public let from: Date?
    public let to: Date?

    public init(from: Date? = nil, to: Date? = nil) {
        self.from = from
        self.to = to
    }

    public func run(in session: DatabaseSession) throws -> [WindowRecord] {
        try SharedCalendar(session.db).windows(from: from, to: to)
    }
}

/// `freeze create` (admins).
public struct CreateFreeze: UseCase {
    public let code: String
    public let start: Date
    public let end: Date
    public let reason: String
    public let environment: String?

    public init(code: String, start: Date, end: Date, reason: String, environment: String?) {
        self.code = code
        self.start = start
        self.end = end
        self.reason = reason
        self.environment = environment
    }

    public func run(in session: DatabaseSession) throws {
        try SharedCalendar(session.db).createFreeze(code: code, start: start, end: end, reason: reason, environment: environment,
                                                    by: try session.person())
    }
}

/// `freeze list`.
public struct ListFreezes: UseCase {
    public init() {}

    public func run(in session: DatabaseSession) throws -> [FreezeRecord] {
        try SharedCalendar(session.db).freezes()
    }

    public static func listing(_ freezes: [FreezeRecord]) -> Listing {
        Listing(noun: "freezes", columns: ["code", "start", "end", "environment", "reason"], rows: freezes.map { f -> [Cell] in
            [.text(f.code), .timestamp(f.start), .timestamp(f.end), .text(f.environment), .text(f.reason)]
        })
    }
}

/// `target link`: one configuration item is part of another.
public struct LinkTarget: UseCase {
    public let child: String
    public let parent: String
    public let group: String?

    public init(_ child: String, partOf parent: String, group: String? = nil) {
        self.child = child
        self.parent = parent
        self.group = group
    }

    public func run(in session: DatabaseSession) throws {
        try SharedCalendar(session.db).linkTarget(child, partOf: parent, group: group)
    }
}

/// `target list`.
public struct ListTargets: UseCase {
    public init() {}

    public func run(in session: DatabaseSession) throws -> [(code: String, partOf: String?)] {
        try SharedCalendar(session.db).targets()
    }

    public static func listing(_ targets: [(code: String, partOf: String?)]) -> Listing {
        Listing(noun: "targets", columns: ["code", "part_of"], rows: targets.map { t -> [Cell] in [.text(t.code), .text(t.partOf)] })
    }
}

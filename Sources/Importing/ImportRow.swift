import Foundation
import ReleaseCore

/// A release named within its group, printed `GROUP/CODE`.
public struct ReleaseKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var group: String
    public var release: String

    public init(group: String, release: String) {
        self.group = group
        self.release = release
    }

    public var description: String { ReleaseRef.text(group: group, code: release) }

    public static func < (lhs: ReleaseKey, rhs: ReleaseKey) -> Bool {
        (lhs.group, lhs.release) < (rhs.group, rhs.release)
    }
}

/// A deadline: the last day on which the deployment may end, in the import's zone.
public struct ImportDeadline: Sendable, Hashable {
    public var day: CalendarDay
    /// The first instant after the deadline day: deployments must end by then.
    public var end: Date

    /// `YYYY-MM-DD`.
    public var text: String { day.description }
}

/// One valid row of an import file, typed.
///
/// Empty cells are nil (or an empty list); they mean "not given", so rows of the same release
/// may each give part of it.
public struct ImportRow: Sendable, Hashable {
    /// The line on which the row starts.
    public var line: Int
    public var group: String
    public var plan: String
    public var planTitle: String?
    public var changeRef: String?
    public var release: String
    public var releaseTitle: String?
    public var window: String?
    public var deployStart: Date?
    public var deployEnd: Date?
    public var priority: Int?
    public var deadline: ImportDeadline?
    public var dependsOn: [ReleaseKey]
    public var package: String?
    public var unit: String?
    public var unitKind: String?
    public var target: String?
    public var version: String?
    public var environment: String?
    public var envStart: Date?
    public var envEnd: Date?

    public var releaseKey: ReleaseKey { ReleaseKey(group: group, release: release) }
}

/// What a run learnt about one release: where it first appears and whether any of its rows
/// was bad. With `--on-error skip` a release with a bad row is skipped whole, since its good
/// rows alone would describe it wrongly.
public struct ReleaseSummary: Sendable, Hashable {
    public var key: ReleaseKey
    public var firstLine: Int
    public var rowCount: Int
    public var hasInvalidRow: Bool
}

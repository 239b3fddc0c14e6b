import Foundation
import Postgres
import ReleaseCore

/// A release as an import file names it, `GROUP/CODE`.
public struct StagedRelease: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var group: String
    public var code: String

    public init(group: String, code: String) {
        self.group = group
        self.code = code
    }

    public var description: String { ReleaseRef.text(group: group, code: code) }

    public static func < (lhs: StagedRelease, rhs: StagedRelease) -> Bool {
        (lhs.group, lhs.code) < (rhs.group, rhs.code)
    }
}

/// A problem in an import file that only the database can see: a dependency on a release that
/// exists nowhere, a group the importer may not write, a unit described two ways, a release that
/// lives in another plan.
public struct StagedIssue: Sendable, Hashable {
    /// What `--on-error skip` leaves out because of the problem.
    public enum Scope: Sendable, Hashable {
        case release(StagedRelease)
        /// Every release of the group (a group the importer may not write).
        case group(String)
    }

    /// The file line the problem is reported on.
    public var line: Int
    /// The field as the import format names it (`group`, `plan`, `depends_on`, `unit_kind`, `target`, `version`).
    public var field: String
    public var message: String
    /// The offending value, when there is one.
    public var got: String?
    public var scope: Scope

    public init(line: Int, field: String, message: String, got: String?, scope: Scope) {
        self.line = line
        self.field = field
        self.message = message
        self.got = got
        self.scope = scope
    }
}

/// The codes an import file may refer to, for "did you mean" while the file is read.
public struct ImportCodes: Sendable {
    public var groups: Set<String>
    public var windows: Set<String>
    public var environments: Set<String>
}

/// What a merge did, counted by release (and plan).
public struct ImportCounts: Sendable, Equatable {
    public var releasesCreated = 0
    public var releasesChanged = 0
    public var releasesUnchanged = 0
    public var plansCreated = 0
    public var plansChanged = 0
    /// The groups of every release in the merge, sorted.
    public var groupIDs: [Int] = []

    public init() {}

    /// False when the database is exactly as it was before the merge.
    public var changedAnything: Bool { releasesCreated + releasesChanged + plansCreated + plansChanged > 0 }
}

/// A value shown in a dry run's "from → to".
public enum PreviewValue: Sendable, Hashable {
    case text(String)
    case instant(Date)
    case range(Date, Date)
}

/// One difference a merge makes to an existing release, or one fact about a new one.
public struct FieldChange: Sendable, Hashable {
    /// `window`, `title`, `unit core/crm-api`, `booking TEST-INT`, `depends_on`...
    public var field: String
    public var from: PreviewValue?
    public var to: PreviewValue?

    public init(field: String, from: PreviewValue?, to: PreviewValue?) {
        self.field = field
        self.from = from
        self.to = to
    }
}

/// What a merge would do to one release of the file.
public struct ReleasePreview: Sendable, Hashable {
    public enum State: String, Sendable {
        case created, changed, unchanged
    }

    public var release: StagedRelease
    public var state: State
    /// For a changed release, each difference; for a created one, what it is made of.
    public var changes: [FieldChange]
}

import Foundation
import ReleaseCore
import ReleaseStore
import Reporting

// The release use cases: creating, listing and showing releases, moving one to another window,
// advancing it along its lifecycle, its content (packages, units), its bookings and deviations.

/// `release create`: a release in a plan; the answer is the store's warnings (a full window…).
public struct CreateRelease: UseCase {
    public let release: NewRelease

    public init(_ release: NewRelease) {
        self.release = release
    }

    public init(ref: ReleaseRef, plan: String, title: String = "", window: String? = nil, deploy: (start: Date, end: Date)? = nil,
                priority: Priority = .default, deadline: CalendarDay? = nil, dependsOn: [ReleaseRef] = []) {
        self.init(NewRelease(ref: ref, plan: plan, title: title, window: window, deploy: deploy, priority: priority, deadline: deadline,
                             dependsOn: dependsOn))
    }

    public func run(in session: DatabaseSession) throws -> [String] {
        try Releases(session.db).create(release, by: try session.person())
    }
}

/// `release list`: releases in deployment order, filtered as asked.
public struct ListReleases: UseCase {
    public let group: String?
    public let window: String?
    public let status: ReleaseStatus?

    public init(group: String? = nil, window: String? = nil, status: ReleaseStatus? = nil) {
        self.group = group
        self.window = window
        self.status = status
    }

    public func run(in session: DatabaseSession) throws -> [ReleaseRecord] {
        try Releases(session.db).list(group: group, window: window, status: status)
    }
}

/// `release show`: a release with its dependencies, packages, units, bookings, criteria and deviations.
public struct ShowRelease: UseCase {
    public let ref: ReleaseRef

    public init(_ ref: ReleaseRef) {
        self.ref = ref
    }

    public func run(in session: DatabaseSession) throws -> ReleaseDetail {
        try Releases(session.db).show(ref)
    }
}

/// `release move`: into another window, keeping the deployment's offset and duration; the answer
/// is the warnings that did not stop it. An admin's freeze override carries its reason.
public struct MoveRelease: UseCase {
    public let ref: ReleaseRef
    public let window: String
    public let overrideFreezeReason: String?
    public let expectedVersion: Int?

    public init(_ ref: ReleaseRef, to window: String, overrideFreezeReason: String? = nil, expectedVersion: Int? = nil) {
        self.ref = ref
        self.window = window
        self.overrideFreezeReason = overrideFreezeReason
        self.expectedVersion = expectedVersion
    }

    public func run(in session: DatabaseSession) throws -> [String] {
        try Releases(session.db).move(ref, to: window, overrideFreezeReason: overrideFreezeReason,
                                      expectedVersion: expectedVersion, by: try session.person())
    }
}

/// `release advance`: one step along the lifecycle (or to `target`); a refusal that lists what is
/// missing is bad data (`Failure.invalid`) naming the release.
public struct AdvanceRelease: UseCase {
    public let ref: ReleaseRef
    public let target: ReleaseStatus?
    public let expectedVersion: Int?

    public init(_ ref: ReleaseRef, to target: ReleaseStatus? = nil, expectedVersion: Int? = nil) {
        self.ref = ref
        self.target = target
        self.expectedVersion = expectedVersion
    }

    public struct Step: Sendable, Equatable {
        public let from: ReleaseStatus
        public let to: ReleaseStatus

        public init(from: ReleaseStatus, to: ReleaseStatus) {
            self.from = from
            self.to = to
        }
    }

    public func run(in session: DatabaseSession) throws -> Step {
        do {
            let step = try Releases(session.db).advance(ref, to: target, expectedVersion: expectedVersion, by: try session.person())
            return Step(from: step.from, to: step.to)
        } catch let refusal as TransitionRefusal {
            throw Failure(.invalid, "\(ref): \(refusal)")
        }
    }
}

/// `release check`: ticks a manual criterion of the release's model.
public struct CheckCriterion: UseCase {
    public let ref: ReleaseRef
    public let criterion: String

    public init(_ ref: ReleaseRef, criterion: String) {
        self.ref = ref
        self.criterion = criterion
    }

    public func run(in session: DatabaseSession) throws {
        try Releases(session.db).check(ref, criterion: criterion, by: try session.person())
    }
}

/// `release evaluate`: the evaluation closing needs.
public struct EvaluateRelease: UseCase {
    public let ref: ReleaseRef
    public let text: String

    public init(_ ref: ReleaseRef, text: String) {
        self.ref = ref
        self.text = text
    }

    public func run(in session: DatabaseSession) throws {
        try Releases(session.db).evaluate(ref, text: text, by: try session.person())
    }
}

/// `release pin [--off]`: a pinned release is never moved by the scheduler.
public struct PinRelease: UseCase {
    public let ref: ReleaseRef
    public let pinned: Bool

    public init(_ ref: ReleaseRef, pinned: Bool) {
        self.ref = ref
        self.pinned = pinned
    }

    public func run(in session: DatabaseSession) throws {
        try Releases(session.db).setPinned(ref, pinned, by: try session.person())
    }
}

/// `release assign`: who carries out the deployment.
public struct AssignImplementer: UseCase {
    public let ref: ReleaseRef
    public let implementer: String

    public init(_ ref: ReleaseRef, implementer: String) {
        self.ref = ref
        self.implementer = implementer
    }

    public func run(in session: DatabaseSession) throws {
        try Releases(session.db).assign(ref, implementer: implementer, by: try session.person())
    }
}

/// `package add`.
public struct AddPackage: UseCase {
    public let ref: ReleaseRef
    public let code: String

    public init(_ ref: ReleaseRef, code: String) {
        self.ref = ref
        self.code = code
    }

    public func run(in session: DatabaseSession) throws {
        try Releases(session.db).addPackage(ref, code: code, by: try session.person())
    }
}

/// `unit add`: a unit that changes one configuration item, in a package of a release.
public struct AddUnit: UseCase {
    public let ref: ReleaseRef
    public let package: String
    public let code: String
    public let kind: UnitKind
    public let target: String
    public let version: String?

    public init(_ ref: ReleaseRef, package: String, code: String, kind: UnitKind, target: String, version: String?) {
        self.ref = ref
        self.package = package
        self.code = code
        self.kind = kind
        self.target = target
        self.version = version
    }

    public func run(in session: DatabaseSession) throws {
        try Releases(session.db).addUnit(ref, package: package, code: code, kind: kind, target: target, version: version,
                                         by: try session.person())
    }
}

/// `book`: an environment for a release, tentative or confirmed (refused beyond its capacity).
public struct BookEnvironment: UseCase {
    public let ref: ReleaseRef
    public let environment: String
    public let start: Date
    public let end: Date
    public let confirm: Bool

    public init(_ ref: ReleaseRef, environment: String, start: Date, end: Date, confirm: Bool) {
        self.ref = ref
        self.environment = environment
        self.start = start
        self.end = end
        self.confirm = confirm
    }

    public func run(in session: DatabaseSession) throws -> BookingRecord {
        try Releases(session.db).book(ref, environment: environment, start: start, end: end, confirm: confirm, by: try session.person())
    }
}

/// `deviation add`: the answer is the deviation's id.
public struct RecordDeviation: UseCase {
    public let ref: ReleaseRef
    public let severity: DeviationSeverity
    public let text: String

    public init(_ ref: ReleaseRef, severity: DeviationSeverity, text: String) {
        self.ref = ref
        self.severity = severity
        self.text = text
    }

    public func run(in session: DatabaseSession) throws -> Int64 {
        try Releases(session.db).addDeviation(ref, severity: severity, text: text, by: try session.person())
    }
}

/// `deviation handle`.
public struct HandleDeviation: UseCase {
    public let id: Int64
    public let resolution: String

    public init(id: Int64, resolution: String) {
        self.id = id
        self.resolution = resolution
    }

    public func run(in session: DatabaseSession) throws {
        try Releases(session.db).handleDeviation(id: id, resolution: resolution, by: try session.person())
    }
}

/// `deviation list`.
public struct ListDeviations: UseCase {
    public let group: String?
    public let openOnly: Bool

    public init(group: String? = nil, openOnly: Bool = false) {
        self.group = group
        self.openOnly = openOnly
    }

    public func run(in session: DatabaseSession) throws -> [DeviationRecord] {
        try Releases(session.db).deviations(group: group, openOnly: openOnly)
    }

    /// The listing `deviation list` prints.
    public static func listing(_ deviations: [DeviationRecord]) -> Listing {
        Listing(noun: "deviations", columns: ["id", "release", "severity", "text", "recorded_at", "recorded_by", "resolution"],
                rows: deviations.map { d -> [Cell] in
                    [.int(Int(d.id)), .text(d.release), .text(d.severity.rawValue), .text(d.text), .timestamp(d.recordedAt),
                     .text(d.recordedBy), .text(d.resolution)]
                })
    }
}

/// `window show`: the window's own plan for the night.
public struct ShowWindowNight: UseCase {
    public let code: String

    public init(_ code: String) {
        self.code = code
    }

    public func run(in session: DatabaseSession) throws -> WindowNight {
        try Releases(session.db).windowNight(code)
    }
}

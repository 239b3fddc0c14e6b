import Foundation
import Postgres
import ReleaseCore

/// A service window handled as a release of its own: its plan for the night.
public struct WindowNight: Sendable {
    public struct Entry: Sendable {
        public let detail: ReleaseDetail
        /// Criteria that must hold before deploying (the deploy activity's entry and the build &
        /// test exit criteria), with whether they do.
        public let goNoGo: [CriterionState]
        public let openHighDeviations: Int

        /// Go when every go/no-go criterion holds and no high deviation is open.
        public var isGo: Bool { goNoGo.allSatisfy(\.satisfied) && openHighDeviations == 0 }
    }

    public let window: WindowRecord
    public let entries: [Entry]
}

extension Releases {
    public func windowNight(_ code: String) throws -> WindowNight {
        let window = try SharedCalendar(db).window(code)
        let refs = try list(window: code).filter { $0.status != .cancelled }
        let entries = try refs.map { record -> WindowNight.Entry in
            let detail = try show(ReleaseRef(group: record.group, code: record.code))
            let goNoGo = detail.criteria.filter {
                ($0.activity == .deploy && $0.boundary == .entry) || ($0.activity == .buildAndTest && $0.boundary == .exit)
            }
            let high = detail.deviations.filter { $0.severity == .high && $0.resolution == nil }.count
            return WindowNight.Entry(detail: detail, goNoGo: goNoGo, openHighDeviations: high)
        }
        return WindowNight(window: window, entries: entries)
    }
}

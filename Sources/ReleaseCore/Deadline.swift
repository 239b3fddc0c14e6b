import Foundation

/// The last day on which a release's deployment may end, as people give it (`2027-03-31`).
///
/// A date means the whole day in the zone of whoever plans (`--tz`, else `TZ`, else UTC), so the
/// bound the scheduler compares against is the first instant of the next day there: a deployment
/// that ends at 23:59 on the 31st, or exactly at midnight, keeps its deadline.
public struct Deadline: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let day: CalendarDay

    public init(day: CalendarDay) {
        self.day = day
    }

    /// The instant a deployment must end by (at or before): the start of the following day in
    /// `timeZone`. A midnight that does not exist (a spring-forward change at 00:00) is the first
    /// instant of that day, by the same rule as every local time in relplan.
    public func latestEnd(in timeZone: TimeZone) -> Date {
        var resolver = LocalTimeResolver(timeZone: timeZone)
        let nextMidnight = Int64(day.daysSinceEpoch + 1) * 86_400
        return Date(timeIntervalSince1970: Double(resolver.utcSeconds(forLocal: nextMidnight)))
    }

    /// Whether a deployment ending at `end` meets the deadline.
    public func isMet(byEnd end: Date, in timeZone: TimeZone) -> Bool {
        end <= latestEnd(in: timeZone)
    }

    public var description: String { day.description }

    public static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.day < rhs.day }
}

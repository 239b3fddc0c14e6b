import Foundation
import ReleaseCore

/// RFC 3339 formatting in UTC, whole seconds, for messages and reasons.
///
/// On ReleaseCore's `CivilCalendar` (integer arithmetic) so that it is fast, thread-safe and
/// independent of the process's locale and time zone.
enum Timestamp {
    static func format(_ date: Date) -> String {
        format(seconds: date.timeIntervalSince1970)
    }

    static func format(seconds: Double) -> String {
        guard seconds.isFinite else { return seconds > 0 ? "never" : "always" }
        let total = Int64(seconds.rounded(.down))
        var days = total / 86_400
        var secondOfDay = total % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = CivilCalendar.date(fromDays: Int(days))
        let hour = secondOfDay / 3600
        let minute = (secondOfDay % 3600) / 60
        let second = secondOfDay % 60
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))Z"
    }

    /// `start/end`, the ISO 8601 notation for a time interval.
    static func format(_ interval: Interval) -> String {
        "\(format(interval.start))/\(format(interval.end))"
    }

    /// Whole hours when exact, else one decimal.
    static func hours(_ seconds: Double) -> String {
        let hours = seconds / 3600
        if hours == hours.rounded() { return String(Int64(hours)) }
        return String(format: "%.1f", hours)
    }

    private static func pad(_ value: some SignedInteger, _ width: Int) -> String {
        let digits = String(abs(value))
        let padded = digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        return value < 0 ? "-" + padded : padded
    }
}

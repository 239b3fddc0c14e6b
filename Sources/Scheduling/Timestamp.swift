import Foundation

/// RFC 3339 formatting in UTC, whole seconds, for messages and reasons.
///
/// Hand-rolled (days-from-civil arithmetic) so that it is fast, thread-safe and independent of
/// the process's locale and time zone.
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
        let (year, month, day) = civil(fromDays: days)
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

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(abs(value))
        let padded = digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        return value < 0 ? "-" + padded : padded
    }

    /// Howard Hinnant's `civil_from_days`.
    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

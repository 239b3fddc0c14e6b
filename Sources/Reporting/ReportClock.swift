import Foundation
import ReleaseCore
import Scheduling

/// Wall-clock text in the report's zone, without `DateFormatter`: locale-independent, thread-safe
/// and fast enough for a calendar of a hundred thousand deployments.
struct ReportClock: Sendable {
    /// A moment as read on a clock in the zone.
    struct Reading: Sendable {
        var year: Int
        var month: Int
        var day: Int
        var hour: Int
        var minute: Int
        var second: Int
        /// Monday = 0 … Sunday = 6.
        var weekday: Int
        /// Days since 1970-01-01 of the local date; consecutive local dates differ by one.
        var dayNumber: Int
    }

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let weekdayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    let zone: TimeZone

    func reading(_ date: Date) -> Reading {
        let local = Int64(date.timeIntervalSince1970.rounded(.down)) + Int64(zone.secondsFromGMT(for: date))
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = Int(local - days * 86_400)
        let (year, month, day) = CivilCalendar.date(fromDays: Int(days))
        let weekday = Int(((days + 3) % 7 + 7) % 7)
        return Reading(year: Int(year), month: Int(month), day: Int(day), hour: secondOfDay / 3600,
                       minute: secondOfDay / 60 % 60, second: secondOfDay % 60, weekday: weekday, dayNumber: Int(days))
    }

    /// `2027-03-13`
    func date(_ date: Date) -> String {
        let r = reading(date)
        return "\(Self.pad(r.year, 4))-\(Self.pad(r.month))-\(Self.pad(r.day))"
    }

    /// `2027-03-13 22:00`
    func dateTime(_ date: Date) -> String {
        let r = reading(date)
        return "\(Self.pad(r.year, 4))-\(Self.pad(r.month))-\(Self.pad(r.day)) \(Self.pad(r.hour)):\(Self.pad(r.minute))"
    }

    /// `Sat 13 Mar`
    func shortDay(_ r: Reading) -> String {
        "\(Self.weekdayNames[r.weekday]) \(r.day) \(Self.monthNames[r.month - 1])"
    }

    /// `Sat 13 Mar 22:00–02:00` when it ends within a day of its start, else
    /// `Sat 13 Mar 22:00 – Mon 15 Mar 06:00`.
    func span(_ interval: Interval) -> String {
        let start = reading(interval.start)
        let end = reading(interval.end)
        let startText = "\(shortDay(start)) \(Self.pad(start.hour)):\(Self.pad(start.minute))"
        let endsSameDay = end.dayNumber == start.dayNumber
        let endsNextMorning = end.dayNumber == start.dayNumber + 1 && (end.hour, end.minute) <= (start.hour, start.minute)
        if endsSameDay || endsNextMorning {
            return "\(startText)–\(Self.pad(end.hour)):\(Self.pad(end.minute))"
        }
        return "\(startText) – \(shortDay(end)) \(Self.pad(end.hour)):\(Self.pad(end.minute))"
    }

    /// `20270313T220000`: iCalendar's local DATE-TIME, read with a `TZID`.
    func icalLocal(_ date: Date) -> String {
        let r = reading(date)
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: 15)
        func put(_ value: Int, at end: Int, width: Int) {
            var rest = value
            for index in stride(from: end, to: end - width, by: -1) {
                digits[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
        }
        put(r.year, at: 3, width: 4)
        put(r.month, at: 5, width: 2)
        put(r.day, at: 7, width: 2)
        digits[8] = UInt8(ascii: "T")
        put(r.hour, at: 10, width: 2)
        put(r.minute, at: 12, width: 2)
        put(r.second, at: 14, width: 2)
        return String(decoding: digits, as: UTF8.self)
    }

    /// Whole local calendar days from `earlier` to `later` (midnight to midnight in the zone), so a
    /// conflict first seen six nights ago is six days old whatever the hour or a DST change.
    func calendarDays(from earlier: Date, to later: Date) -> Int {
        reading(later).dayNumber - reading(earlier).dayNumber
    }

    /// Start of the local day holding `date`, as an instant.
    func startOfDay(_ date: Date) -> Date {
        let r = reading(date)
        let wallSeconds = Double(r.hour * 3600 + r.minute * 60 + r.second)
        let guess = Date(timeIntervalSince1970: (date.timeIntervalSince1970.rounded(.down)) - wallSeconds)
        // A DST change between midnight and `date` moves midnight by the difference in offsets.
        let correction = zone.secondsFromGMT(for: date) - zone.secondsFromGMT(for: guess)
        return guess.addingTimeInterval(Double(correction))
    }

    static func pad(_ value: Int, _ width: Int = 2) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// Counted nouns and ages in the words a report uses.
enum Wording {
    static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
    }

    /// `6 days`, `5 hours`, `less than an hour`: how long something has been going on.
    static func age(from earlier: Date, to later: Date, clock: ReportClock) -> String {
        let days = clock.calendarDays(from: earlier, to: later)
        if days >= 1 { return count(days, "day") }
        let hours = Int(later.timeIntervalSince(earlier) / 3600)
        return hours >= 1 ? count(hours, "hour") : "less than an hour"
    }
}

/// Messages with instants (``TimedText``), written for a person in a zone: `2026-12-26 22:00`,
/// an interval `2026-12-26 22:00–23:00` or `2026-12-26 22:00 – 2026-12-27 02:00`.
public struct LocalTimes: Sendable {
    public let zone: TimeZone

    public init(zone: TimeZone) {
        self.zone = zone
    }

    public func render(_ text: TimedText) -> String {
        text.rendered(instant: instant, interval: interval)
    }

    /// A string written in UTC (a proposal's reason), with its instants in the zone.
    public func render(utc text: String) -> String {
        render(TimedText(parsingUTC: text))
    }

    public func instant(_ seconds: Double) -> String {
        guard seconds.isFinite else { return seconds > 0 ? "never" : "always" }
        return Timestamps.local(Date(timeIntervalSince1970: seconds), in: zone)
    }

    public func interval(_ start: Double, _ end: Double) -> String {
        let from = instant(start), to = instant(end)
        if start.isFinite && end.isFinite && from.prefix(10) == to.prefix(10) { return "\(from)–\(to.dropFirst(11))" }
        return "\(from) – \(to)"
    }
}

extension Conflict {
    /// The message with its times in `zone`, for people.
    public func message(in zone: TimeZone) -> String {
        LocalTimes(zone: zone).render(text)
    }
}

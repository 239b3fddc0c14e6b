import Foundation

/// A date without a time or zone, as deadlines are given: the day is interpreted in the
/// zone of whoever asks, so it is stored and compared as the civil date itself.
public struct CalendarDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Nil when the date does not exist (month 13, 30 February).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...CalendarDay.daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// The day `days` days after 1970-01-01 (negative before it).
    public init(daysSinceEpoch days: Int) {
        let (y, m, d) = CivilCalendar.date(fromDays: days)
        self.year = y
        self.month = m
        self.day = d
    }

    /// Days since 1970-01-01, for arithmetic and compact storage.
    public var daysSinceEpoch: Int { CivilCalendar.days(year: year, month: month, day: day) }

    /// `YYYY-MM-DD`.
    public var description: String {
        var bytes = [UInt8]()
        CivilCalendar.appendDate(year: year, month: month, day: day, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return CivilCalendar.isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

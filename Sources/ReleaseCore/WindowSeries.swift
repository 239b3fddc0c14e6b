import Foundation

/// A wall-clock time of day, `HH:MM`, as service windows start.
public struct TimeOfDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let hour: Int
    public let minute: Int

    public init(hour: Int, minute: Int) throws(InvalidTimeOfDay) {
        guard (0...23).contains(hour), (0...59).contains(minute) else {
            throw InvalidTimeOfDay(text: "\(hour):\(minute)")
        }
        self.hour = hour
        self.minute = minute
    }

    /// Parses `HH:MM` (`H:MM` too), 00:00 to 23:59.
    public init(parsing text: String) throws(InvalidTimeOfDay) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let hour = Int(parts[0]), let minute = Int(parts[1])
        else { throw InvalidTimeOfDay(text: text) }
        do {
            try self.init(hour: hour, minute: minute)
        } catch {
            throw InvalidTimeOfDay(text: text)
        }
    }

    public var secondsSinceMidnight: Int { hour * 3_600 + minute * 60 }

    public var description: String {
        (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool {
        lhs.secondsSinceMidnight < rhs.secondsSinceMidnight
    }
}

public struct InvalidTimeOfDay: Error, Sendable, Hashable, CustomStringConvertible {
    public let text: String

    public init(text: String) {
        self.text = text
    }

    public var description: String { "time '\(text)' is not a time of day: expected HH:MM from 00:00 to 23:59" }
}

/// One window of a generated series.
public struct GeneratedWindow: Sendable, Hashable {
    /// `PREFIX-YYYY-MM-DD`, from the local start date.
    public let code: String
    public let start: Date
    public let end: Date

    public init(code: String, start: Date, end: Date) {
        self.code = code
        self.start = start
        self.end = end
    }
}

/// A series of service windows: what `window generate` creates.
///
/// DTSTART is `from` at `startTime` in `timeZone`; the rule is expanded in local time as
/// RFC 5545 says (`INTERVAL` counts weeks, Monday first, or months from DTSTART's), and only
/// days from `from` to `until` (both inclusive, local) that the rule selects give windows.
/// `from` itself gives a window only when the rule selects it.
///
/// Times are wall-clock in `timeZone`: every window starts at `startTime` local time, and it ends
/// at that local time plus `durationSeconds`, also read on the wall clock. So on a night when the
/// clocks change a window lasts an hour more or less than `durationSeconds`: in Europe/Stockholm
/// 23:00 + 4h ends at 03:00 local, 3 real hours on the last Sunday of March and 5 on the last
/// Sunday of October. A local time that does not exist (in the spring-forward gap) moves forward by
/// the length of the gap (02:30 becomes 03:30), and a window whose start moves keeps its wall-clock
/// length; a local time that exists twice (autumn) is the first, earlier one.
public struct WindowSeries: Sendable, Hashable {
    /// More windows than this is a mistake in the rule or the dates, not a plan.
    public static let defaultLimit = 10_000

    public var prefix: String
    public var rule: RecurrenceRule
    public var startTime: TimeOfDay
    public var durationSeconds: Int
    public var timeZone: TimeZone
    public var from: CalendarDay
    public var until: CalendarDay

    public init(
        prefix: String,
        rule: RecurrenceRule,
        startTime: TimeOfDay,
        durationSeconds: Int,
        timeZone: TimeZone,
        from: CalendarDay,
        until: CalendarDay
    ) {
        self.prefix = prefix
        self.rule = rule
        self.startTime = startTime
        self.durationSeconds = durationSeconds
        self.timeZone = timeZone
        self.from = from
        self.until = until
    }

    /// The windows in start order; throws rather than return more than `limit`.
    public func windows(limit: Int = defaultLimit) throws(WindowSeriesError) -> [GeneratedWindow] {
        do throws(InvalidCode) {
            try CodeKind.window.validate(code(for: until))
        } catch {
            throw WindowSeriesError.invalidPrefix(error)
        }
        guard durationSeconds > 0 else { throw .durationNotPositive(durationSeconds) }
        guard from <= until else { throw .fromAfterUntil(from: from, until: until) }
        guard rule.interval >= 1 else { throw .intervalNotPositive(rule.interval) }

        var lastDay = until.daysSinceEpoch
        var maximumCount = Int.max
        var lastStart: Date?
        switch rule.end {
        case .count(let count): maximumCount = count
        case .untilDay(let day): lastDay = min(lastDay, day.daysSinceEpoch)
        case .untilInstant(let instant): lastStart = instant
        case nil: break
        }

        var output = WindowCollector(
            series: self, firstDay: from.daysSinceEpoch, lastDay: lastDay,
            lastStart: lastStart, maximumCount: maximumCount, limit: limit
        )
        var days = RecurrenceDays(rule: rule, dtstart: from)
        while !output.isFinished, let periodDays = days.nextPeriod(notAfter: lastDay) {
            for day in periodDays {
                try output.add(day: day)
                if output.isFinished { break }
            }
        }
        return output.windows
    }

    func code(for day: CalendarDay) -> String { "\(prefix)-\(day)" }
}

/// A series that cannot be generated.
public enum WindowSeriesError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidPrefix(InvalidCode)
    case durationNotPositive(Int)
    case fromAfterUntil(from: CalendarDay, until: CalendarDay)
    case intervalNotPositive(Int)
    case tooManyWindows(limit: Int)

    public var description: String {
        switch self {
        case .invalidPrefix(let invalid):
            "the prefix gives invalid window codes: \(invalid)"
        case .durationNotPositive(let seconds):
            "window duration \(seconds)s must be longer than zero"
        case .fromAfterUntil(let from, let until):
            "--from \(from) is after --until \(until)"
        case .intervalNotPositive(let interval):
            "INTERVAL=\(interval) must be at least 1"
        case .tooManyWindows(let limit):
            "the rule gives more than \(limit) windows; narrow --from/--until or add COUNT"
        }
    }
}

/// Turns selected days into windows and applies the bounds: `from`, `until`, `COUNT`, `UNTIL`, limit.
private struct WindowCollector {
    let series: WindowSeries
    let firstDay: Int
    let lastDay: Int
    let lastStart: Date?
    let maximumCount: Int
    let limit: Int
    var resolver: LocalTimeResolver
    var windows: [GeneratedWindow] = []
    private(set) var isFinished = false

    init(series: WindowSeries, firstDay: Int, lastDay: Int, lastStart: Date?, maximumCount: Int, limit: Int) {
        self.series = series
        self.firstDay = firstDay
        self.lastDay = lastDay
        self.lastStart = lastStart
        self.maximumCount = maximumCount
        self.limit = limit
        self.resolver = LocalTimeResolver(timeZone: series.timeZone)
        isFinished = maximumCount <= 0
    }

    mutating func add(day: Int) throws(WindowSeriesError) {
        if day < firstDay { return }
        if day > lastDay {
            isFinished = true
            return
        }
        let localStart = Int64(day) * 86_400 + Int64(series.startTime.secondsSinceMidnight)
        let startUTC = resolver.utcSeconds(forLocal: localStart)
        let start = Date(timeIntervalSince1970: Double(startUTC))
        if let lastStart, start > lastStart {
            isFinished = true
            return
        }
        // A start in the spring-forward gap has moved forward; the window keeps its wall-clock length.
        let effectiveLocalStart = startUTC + Int64(series.timeZone.secondsFromGMT(for: start))
        let endUTC = resolver.utcSeconds(forLocal: effectiveLocalStart + Int64(series.durationSeconds))
        guard windows.count < limit else { throw .tooManyWindows(limit: limit) }
        windows.append(GeneratedWindow(
            code: series.code(for: CalendarDay(daysSinceEpoch: day)),
            start: start,
            end: Date(timeIntervalSince1970: Double(endUTC))
        ))
        if windows.count >= maximumCount { isFinished = true }
    }
}

/// Expands a rule period by period (a week or a month), in local days since 1970-01-01.
struct RecurrenceDays {
    let rule: RecurrenceRule
    let dtstart: CalendarDay
    private var periodIndex = 0
    private let weekdays: [RecurrenceRule.Weekday]

    init(rule: RecurrenceRule, dtstart: CalendarDay) {
        self.rule = rule
        self.dtstart = dtstart
        // Weekly rules take plain days; the parser refuses ordinals there, and a rule built in code
        // with one is read as the plain day.
        let listed = rule.byDay.map(\.weekday)
        weekdays = Array(Set(listed.isEmpty ? [RecurrenceRule.Weekday(of: dtstart)] : listed)).sorted()
    }

    /// The selected days of the next period, ascending; nil once the period starts after `lastDay`.
    mutating func nextPeriod(notAfter lastDay: Int) -> [Int]? {
        let index = periodIndex
        periodIndex += rule.interval
        let days: [Int]
        switch rule.frequency {
        case .weekly:
            let monday = dtstart.daysSinceEpoch - RecurrenceRule.Weekday(of: dtstart).rawValue + index * 7
            guard monday <= lastDay else { return nil }
            days = weekdays.map { monday + $0.rawValue }
        case .monthly:
            let months = dtstart.year * 12 + (dtstart.month - 1) + index
            let year = months / 12
            let month = months % 12 + 1
            guard year <= 9999 else { return nil }
            let first = CivilCalendar.days(year: year, month: month, day: 1)
            guard first <= lastDay else { return nil }
            days = monthDays(year: year, month: month, firstDay: first).map { first + $0 - 1 }
        }
        return applySetPosition(days)
    }

    /// Days of the month (1-based) the rule selects, ascending.
    private func monthDays(year: Int, month: Int, firstDay: Int) -> [Int] {
        let length = CalendarDay.daysInMonth(year: year, month: month)
        if rule.byDay.isEmpty && rule.byMonthDay.isEmpty {
            return dtstart.day <= length ? [dtstart.day] : []
        }
        var selected = [Bool](repeating: rule.byDay.isEmpty, count: length + 1)
        if !rule.byDay.isEmpty {
            let firstWeekday = RecurrenceRule.Weekday(of: CalendarDay(daysSinceEpoch: firstDay)).rawValue
            for weekdayRule in rule.byDay {
                // The first day of the month that falls on this weekday.
                let first = 1 + (weekdayRule.weekday.rawValue - firstWeekday + 7) % 7
                switch weekdayRule.ordinal {
                case nil:
                    for day in stride(from: first, through: length, by: 7) { selected[day] = true }
                case let ordinal?:
                    // 2 is the second such day, -1 the last; 0 and days outside the month select nothing.
                    let last = first + (length - first) / 7 * 7
                    let day = ordinal > 0 ? first + (ordinal - 1) * 7 : last + (ordinal + 1) * 7
                    if ordinal != 0, (1...length).contains(day) { selected[day] = true }
                }
            }
        }
        if !rule.byMonthDay.isEmpty {
            var byMonthDay = [Bool](repeating: false, count: length + 1)
            for number in rule.byMonthDay {
                let day = number > 0 ? number : length + 1 + number
                if (1...length).contains(day) { byMonthDay[day] = true }
            }
            for day in 1...length { selected[day] = selected[day] && byMonthDay[day] }
        }
        return (1...length).filter { selected[$0] }
    }

    private func applySetPosition(_ days: [Int]) -> [Int] {
        guard !rule.bySetPosition.isEmpty else { return days }
        var picked = Set<Int>()
        for position in rule.bySetPosition {
            let index = position > 0 ? position - 1 : days.count + position
            if days.indices.contains(index) { picked.insert(days[index]) }
        }
        return picked.sorted()
    }
}

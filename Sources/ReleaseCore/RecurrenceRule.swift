import Foundation

/// The part of RFC 5545's RRULE that service windows need.
///
/// Supported: `FREQ=WEEKLY|MONTHLY`, `INTERVAL`, `BYDAY` (with ordinals such as `2TU` or `-1SU`
/// for monthly rules), `BYMONTHDAY` (monthly only, `-1` is the last day), `BYSETPOS`, `COUNT`,
/// `UNTIL` (a date or a UTC date-time) and `WKST=MO`. Names and values are case-insensitive and an
/// `RRULE:` prefix is accepted. Weeks always start on Monday.
public struct RecurrenceRule: Sendable, Hashable, CustomStringConvertible {
    public enum Frequency: String, Sendable, Hashable, CaseIterable {
        case weekly = "WEEKLY"
        case monthly = "MONTHLY"
    }

    /// ISO weekday order: Monday first, matching `WKST=MO`.
    public enum Weekday: Int, Sendable, Hashable, CaseIterable, Comparable {
        case monday, tuesday, wednesday, thursday, friday, saturday, sunday

        /// The two-letter RFC 5545 code (`MO`).
        public var code: String { Self.codes[rawValue] }

        public init?(code: String) {
            guard let index = Self.codes.firstIndex(of: code) else { return nil }
            self.init(rawValue: index)
        }

        /// The weekday of a calendar day.
        public init(of day: CalendarDay) {
            self = Self.allCases[CivilCalendar.weekday(fromDays: day.daysSinceEpoch)]
        }

        public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.rawValue < rhs.rawValue }

        private static let codes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    }

    /// A `BYDAY` item: a weekday, optionally the n-th (or, negative, n-th from last) of the month.
    public struct WeekdayRule: Sendable, Hashable, CustomStringConvertible {
        public var weekday: Weekday
        /// 1...5 or -5...-1; nil for every such weekday in the period.
        public var ordinal: Int?

        public init(_ weekday: Weekday, ordinal: Int? = nil) {
            self.weekday = weekday
            self.ordinal = ordinal
        }

        public var description: String { (ordinal.map(String.init) ?? "") + weekday.code }
    }

    public enum End: Sendable, Hashable {
        case count(Int)
        /// Inclusive, in the zone of the series.
        case untilDay(CalendarDay)
        /// No occurrence starts after this instant.
        case untilInstant(Date)
    }

    public var frequency: Frequency
    /// Every n-th week or month, counted from the one that holds the first day of the series.
    public var interval: Int
    public var byDay: [WeekdayRule]
    public var byMonthDay: [Int]
    public var bySetPosition: [Int]
    public var end: End?

    public init(
        frequency: Frequency,
        interval: Int = 1,
        byDay: [WeekdayRule] = [],
        byMonthDay: [Int] = [],
        bySetPosition: [Int] = [],
        end: End? = nil
    ) {
        self.frequency = frequency
        self.interval = interval
        self.byDay = byDay
        self.byMonthDay = byMonthDay
        self.bySetPosition = bySetPosition
        self.end = end
    }

    /// Parses `FREQ=MONTHLY;BYDAY=-1SU;COUNT=12` and friends; the error names the part that is wrong.
    public init(parsing text: String) throws(InvalidRecurrenceRule) {
        var parser = RecurrenceRuleParser(text: text)
        self = try parser.parse()
    }

    /// The rule in canonical RRULE form (`FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH`).
    public var description: String {
        var parts = ["FREQ=\(frequency.rawValue)"]
        if interval != 1 { parts.append("INTERVAL=\(interval)") }
        if !byDay.isEmpty { parts.append("BYDAY=" + byDay.map(\.description).joined(separator: ",")) }
        if !byMonthDay.isEmpty { parts.append("BYMONTHDAY=" + byMonthDay.map(String.init).joined(separator: ",")) }
        if !bySetPosition.isEmpty { parts.append("BYSETPOS=" + bySetPosition.map(String.init).joined(separator: ",")) }
        switch end {
        case .count(let count): parts.append("COUNT=\(count)")
        case .untilDay(let day): parts.append("UNTIL=" + day.description.replacingOccurrences(of: "-", with: ""))
        case .untilInstant(let instant): parts.append("UNTIL=" + RecurrenceRuleParser.basicUTC(instant))
        case nil: break
        }
        return parts.joined(separator: ";")
    }
}

/// An RRULE that cannot be used; `part` is the `NAME=VALUE` at fault, when there is one.
public struct InvalidRecurrenceRule: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case empty
        case notNameValue
        case unknownName
        case unsupportedName
        case repeatedName
        case missingFrequency
        case unsupportedFrequency
        case notPositiveInteger
        case badWeekday
        case ordinalInWeeklyRule
        case ordinalOutOfRange
        case badMonthDay
        case monthDayInWeeklyRule
        case badSetPosition
        case setPositionAlone
        case badUntil
        case countAndUntil
        case unsupportedWeekStart
    }

    public let rule: String
    public let part: String?
    public let reason: Reason

    public init(rule: String, part: String?, reason: Reason) {
        self.rule = rule
        self.part = part
        self.reason = reason
    }

    public var description: String {
        let at = part.map { "'\($0)'" } ?? ""
        let what: String
        switch reason {
        case .empty: what = "the rule is empty; write e.g. FREQ=MONTHLY;BYDAY=2TU"
        case .notNameValue: what = "\(at) is not NAME=VALUE"
        case .unknownName: what = "\(at) is not an RRULE part"
        case .unsupportedName:
            what = "\(at) is not supported; use FREQ, INTERVAL, BYDAY, BYMONTHDAY, BYSETPOS, COUNT, UNTIL, WKST"
        case .repeatedName: what = "\(at) repeats a part given before"
        case .missingFrequency: what = "FREQ is missing; use FREQ=WEEKLY or FREQ=MONTHLY"
        case .unsupportedFrequency: what = "\(at): only FREQ=WEEKLY and FREQ=MONTHLY are supported"
        case .notPositiveInteger: what = "\(at): expected a whole number of at least 1"
        case .badWeekday: what = "\(at): a day is MO, TU, WE, TH, FR, SA or SU, optionally after an ordinal (2TU, -1SU)"
        case .ordinalInWeeklyRule: what = "\(at): ordinals such as 2TU need FREQ=MONTHLY; a weekly rule takes plain days (TU,TH)"
        case .ordinalOutOfRange: what = "\(at): the ordinal must be 1 to 5 or -5 to -1"
        case .badMonthDay: what = "\(at): a month day is 1 to 31 or -31 to -1"
        case .monthDayInWeeklyRule: what = "\(at): BYMONTHDAY needs FREQ=MONTHLY"
        case .badSetPosition: what = "\(at): a set position is 1 to 31 or -31 to -1"
        case .setPositionAlone: what = "\(at): BYSETPOS needs BYDAY or BYMONTHDAY"
        case .badUntil: what = "\(at): UNTIL is a date (20271231) or a UTC date-time (20271231T235959Z)"
        case .countAndUntil: what = "COUNT and UNTIL cannot both be given"
        case .unsupportedWeekStart: what = "\(at): weeks start on Monday here; omit WKST or write WKST=MO"
        }
        return "recurrence rule '\(rule)': \(what)"
    }
}

/// Reads one RRULE text; keeps the original text for error messages.
struct RecurrenceRuleParser {
    let text: String

    private static let supported: Set<String> = ["FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYSETPOS", "COUNT", "UNTIL", "WKST"]
    private static let unsupported: Set<String> = ["BYSECOND", "BYMINUTE", "BYHOUR", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "RSCALE", "SKIP"]

    mutating func parse() throws(InvalidRecurrenceRule) -> RecurrenceRule {
        // Parts are quoted in errors as written; names and values are compared in upper case.
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.uppercased().hasPrefix("RRULE:") { body = body.dropFirst("RRULE:".count) }
        guard !body.isEmpty else { throw error(nil, .empty) }

        var values: [String: (part: String, value: String)] = [:]
        for rawPart in body.split(separator: ";", omittingEmptySubsequences: true) {
            let part = String(rawPart)
            let pieces = part.uppercased().split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else { throw error(part, .notNameValue) }
            let name = String(pieces[0])
            if Self.unsupported.contains(name) { throw error(part, .unsupportedName) }
            guard Self.supported.contains(name) else { throw error(part, .unknownName) }
            guard values[name] == nil else { throw error(part, .repeatedName) }
            values[name] = (part, String(pieces[1]))
        }

        guard let freq = values["FREQ"] else { throw error(nil, .missingFrequency) }
        guard let frequency = RecurrenceRule.Frequency(rawValue: freq.value) else {
            throw error(freq.part, .unsupportedFrequency)
        }
        var rule = RecurrenceRule(frequency: frequency)
        if let interval = values["INTERVAL"] {
            rule.interval = try positiveInteger(interval)
        }
        if let byDay = values["BYDAY"] {
            rule.byDay = try weekdayRules(byDay, frequency: frequency)
        }
        if let byMonthDay = values["BYMONTHDAY"] {
            guard frequency == .monthly else { throw error(byMonthDay.part, .monthDayInWeeklyRule) }
            rule.byMonthDay = try signedList(byMonthDay, limit: 31, reason: .badMonthDay)
        }
        if let bySetPosition = values["BYSETPOS"] {
            guard !rule.byDay.isEmpty || !rule.byMonthDay.isEmpty else { throw error(bySetPosition.part, .setPositionAlone) }
            rule.bySetPosition = try signedList(bySetPosition, limit: 31, reason: .badSetPosition)
        }
        if let weekStart = values["WKST"], weekStart.value != "MO" {
            throw error(weekStart.part, .unsupportedWeekStart)
        }
        switch (values["COUNT"], values["UNTIL"]) {
        case (.some, .some):
            throw error(nil, .countAndUntil)
        case (.some(let count), nil):
            rule.end = .count(try positiveInteger(count))
        case (nil, .some(let until)):
            rule.end = try untilEnd(until)
        case (nil, nil):
            break
        }
        return rule
    }

    private func error(_ part: String?, _ reason: InvalidRecurrenceRule.Reason) -> InvalidRecurrenceRule {
        InvalidRecurrenceRule(rule: text, part: part, reason: reason)
    }

    private func positiveInteger(_ item: (part: String, value: String)) throws(InvalidRecurrenceRule) -> Int {
        guard item.value.count <= 9, item.value.allSatisfy({ $0.isASCII && $0.isNumber }),
            let number = Int(item.value), number >= 1
        else { throw error(item.part, .notPositiveInteger) }
        return number
    }

    private func weekdayRules(
        _ item: (part: String, value: String), frequency: RecurrenceRule.Frequency
    ) throws(InvalidRecurrenceRule) -> [RecurrenceRule.WeekdayRule] {
        var rules: [RecurrenceRule.WeekdayRule] = []
        for entry in item.value.split(separator: ",", omittingEmptySubsequences: false) {
            guard entry.count >= 2, let weekday = RecurrenceRule.Weekday(code: String(entry.suffix(2))) else {
                throw error(item.part, .badWeekday)
            }
            let ordinalText = entry.dropLast(2)
            var ordinal: Int?
            if !ordinalText.isEmpty {
                guard let number = Self.signedInteger(ordinalText) else { throw error(item.part, .badWeekday) }
                guard frequency == .monthly else { throw error(item.part, .ordinalInWeeklyRule) }
                guard (1...5).contains(abs(number)) else { throw error(item.part, .ordinalOutOfRange) }
                ordinal = number
            }
            let rule = RecurrenceRule.WeekdayRule(weekday, ordinal: ordinal)
            if !rules.contains(rule) { rules.append(rule) }
        }
        return rules
    }

    private func signedList(
        _ item: (part: String, value: String), limit: Int, reason: InvalidRecurrenceRule.Reason
    ) throws(InvalidRecurrenceRule) -> [Int] {
        var numbers: [Int] = []
        for entry in item.value.split(separator: ",", omittingEmptySubsequences: false) {
            guard let number = Self.signedInteger(entry), number != 0, abs(number) <= limit else {
                throw error(item.part, reason)
            }
            if !numbers.contains(number) { numbers.append(number) }
        }
        return numbers
    }

    private static func signedInteger(_ text: Substring) -> Int? {
        var digits = text
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text.first == "+" ? digits : text)
    }

    private func untilEnd(_ item: (part: String, value: String)) throws(InvalidRecurrenceRule) -> RecurrenceRule.End {
        let value = Array(item.value.utf8)
        func number(_ range: Range<Int>) -> Int? {
            var result = 0
            for byte in value[range] {
                guard (0x30...0x39).contains(byte) else { return nil }
                result = result * 10 + Int(byte - 0x30)
            }
            return result
        }
        guard value.count == 8 || value.count == 16,
            let year = number(0..<4), let month = number(4..<6), let dayNumber = number(6..<8),
            let day = CalendarDay(year: year, month: month, day: dayNumber)
        else { throw error(item.part, .badUntil) }
        if value.count == 8 { return .untilDay(day) }
        guard value[8] == UInt8(ascii: "T"), value[15] == UInt8(ascii: "Z"),
            let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
            hour < 24, minute < 60, second < 60
        else { throw error(item.part, .badUntil) }
        let seconds = day.daysSinceEpoch * 86_400 + hour * 3_600 + minute * 60 + second
        return .untilInstant(Date(timeIntervalSince1970: Double(seconds)))
    }

    /// `20271231T235959Z`.
    static func basicUTC(_ instant: Date) -> String {
        let total = Int(instant.timeIntervalSince1970.rounded(.down))
        let days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let seconds = total - days * 86_400
        let day = CalendarDay(daysSinceEpoch: days).description.replacingOccurrences(of: "-", with: "")
        func two(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }
        return "\(day)T\(two(seconds / 3_600))\(two(seconds / 60 % 60))\(two(seconds % 60))Z"
    }
}

import Foundation

// Timestamps as people and spreadsheet exports write them.
//
// The importer parses millions of timestamps per run, so the common ISO 8601 shapes are
// parsed by hand with integer arithmetic, local times are resolved through a per-day cache
// of the zone's offset, and custom formats (`dd/MM/yyyy HH:mm`) are compiled once into
// tokens. Only patterns the compiler does not understand (month names, weekdays) fall back
// to a `DateFormatter`, created once per pattern.
//
// Local times that do not exist or exist twice (daylight saving changes) are resolved the
// way RFC 5545 and java.time do:
// - a time in the gap of a spring-forward change is moved forward by the length of the gap
//   (02:30 on the night Stockholm goes from +01:00 to +02:00 is read as 03:30+02:00);
// - a time in the overlap of a fall-back change is the earlier of the two instants
//   (02:30 on the night Stockholm goes from +02:00 to +01:00 is read as 02:30+02:00).

// MARK: - Calendar day

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

/// Proleptic Gregorian arithmetic on plain integers (Howard Hinnant's algorithms).
public enum CivilCalendar {
    /// Days since 1970-01-01 of a valid civil date.
    @inlinable
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date `days` days after 1970-01-01.
    @inlinable
    public static func date(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    @inlinable
    public static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// The most bytes `writeRFC3339` writes.
    public static let maximumRFC3339Length = 28

    /// Appends `YYYY-MM-DD` (ASCII) to `bytes`.
    public static func appendDate(year: Int, month: Int, day: Int, to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buffer in
            guard let base = buffer.baseAddress else { return }
            let count = writeDate(year: year, month: month, day: day, to: base)
            bytes.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
        }
    }

    /// Appends RFC 3339 in UTC (`2027-03-14T17:00:00Z`, with `.ffffff` only when the
    /// microseconds are not zero) of an instant given in microseconds since the epoch.
    public static func appendRFC3339(unixMicroseconds micros: Int64, to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maximumRFC3339Length) { buffer in
            guard let base = buffer.baseAddress else { return }
            let count = writeRFC3339(unixMicroseconds: micros, to: base)
            bytes.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
        }
    }

    /// RFC 3339 in UTC as a `String`.
    public static func rfc3339(unixMicroseconds micros: Int64) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(maximumRFC3339Length)
        appendRFC3339(unixMicroseconds: micros, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `YYYY-MM-DD` at `out` and returns the count (10; 11 for years past 9999).
    @inlinable
    public static func writeDate(year: Int, month: Int, day: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var index = 0
        if year > 9999 {
            out[0] = UInt8(truncatingIfNeeded: 0x30 + year / 10000 % 10)
            index = 1
        }
        let clamped = max(0, year)
        out[index] = UInt8(truncatingIfNeeded: 0x30 + clamped / 1000 % 10)
        out[index + 1] = UInt8(truncatingIfNeeded: 0x30 + clamped / 100 % 10)
        out[index + 2] = UInt8(truncatingIfNeeded: 0x30 + clamped / 10 % 10)
        out[index + 3] = UInt8(truncatingIfNeeded: 0x30 + clamped % 10)
        out[index + 4] = UInt8(ascii: "-")
        writeTwoDigits(month, to: out + index + 5)
        out[index + 7] = UInt8(ascii: "-")
        writeTwoDigits(day, to: out + index + 8)
        return index + 10
    }

    /// Writes RFC 3339 in UTC at `out` (at most `maximumRFC3339Length` bytes) and returns
    /// the count.
    @inlinable
    public static func writeRFC3339(unixMicroseconds micros: Int64, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (y, m, d) = date(fromDays: Int(days))
        var index = writeDate(year: y, month: m, day: d, to: out)
        out[index] = UInt8(ascii: "T")
        writeTwoDigits(Int(secondOfDay / 3600), to: out + index + 1)
        out[index + 3] = UInt8(ascii: ":")
        writeTwoDigits(Int(secondOfDay / 60 % 60), to: out + index + 4)
        out[index + 6] = UInt8(ascii: ":")
        writeTwoDigits(Int(secondOfDay % 60), to: out + index + 7)
        index += 9
        if fraction != 0 {
            out[index] = UInt8(ascii: ".")
            var rest = Int(fraction)
            for position in stride(from: 6, through: 1, by: -1) {
                out[index + position] = UInt8(truncatingIfNeeded: 0x30 + rest % 10)
                rest /= 10
            }
            index += 7
        }
        out[index] = UInt8(ascii: "Z")
        return index + 1
    }

    @inlinable
    static func writeTwoDigits(_ value: Int, to out: UnsafeMutablePointer<UInt8>) {
        out[0] = UInt8(truncatingIfNeeded: 0x30 + value / 10 % 10)
        out[1] = UInt8(truncatingIfNeeded: 0x30 + value % 10)
    }
}

// MARK: - Errors

/// Why a timestamp or date did not parse; `problem` says what was expected.
public enum TimestampParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text has none of the accepted shapes.
    case malformed(input: String, expected: String)
    /// The text is not a date (where a date alone is expected).
    case malformedDate(input: String, expected: String)
    /// The shape is right but a part is impossible (month 13, 30 February, hour 24).
    case outOfRange(input: String, problem: String)
    /// A date was given where a time of day is needed.
    case missingTime(input: String, expected: String)
    /// A time of day was given where a date alone is expected.
    case unexpectedTime(input: String)

    public var input: String {
        switch self {
        case .malformed(let input, _), .malformedDate(let input, _), .outOfRange(let input, _),
             .missingTime(let input, _), .unexpectedTime(let input):
            return input
        }
    }

    /// What is wrong, without the input: callers quote the input in their own way.
    public var problem: String {
        switch self {
        case .malformed(_, let expected): return "not a timestamp; expected \(expected)"
        case .malformedDate(_, let expected): return "not a date; expected \(expected)"
        case .outOfRange(_, let problem): return problem
        case .missingTime(_, let expected): return "a date without a time of day; expected \(expected)"
        case .unexpectedTime: return "expected a date alone (YYYY-MM-DD), not a time of day"
        }
    }

    public var description: String { "\(problem) (got \"\(input)\")" }
}

/// A custom format that cannot be used.
public struct TimestampFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public let format: String
    public let problem: String
    public var description: String { "timestamp format \"\(format)\" \(problem)" }
}

// MARK: - Parser

/// Parses timestamps and dates; local times are read in `timeZone`.
///
/// Parsing is `mutating` because the parser memoises the zone's offsets per local day; copy
/// it freely (each copy has its own cache) but parse from one task at a time per copy.
public struct TimestampParser: Sendable {
    public let timeZone: TimeZone
    /// Custom patterns tried before ISO 8601, in order.
    public let formats: [String]
    /// Custom patterns for dates alone, tried before `YYYY-MM-DD`.
    public let dateFormats: [String]

    private let compiled: [CustomFormat]
    private let compiledDates: [CustomFormat]
    private var resolver: LocalTimeResolver

    /// - Throws: `TimestampFormatError` when a custom pattern lacks a year, month or day.
    public init(timeZone: TimeZone = .gmt, formats: [String] = [], dateFormats: [String] = [])
        throws(TimestampFormatError)
    {
        self.timeZone = timeZone
        self.formats = formats
        self.dateFormats = dateFormats
        var compiled = [CustomFormat]()
        for format in formats { compiled.append(try CustomFormat(format, timeZone: timeZone)) }
        var compiledDates = [CustomFormat]()
        for format in dateFormats { compiledDates.append(try CustomFormat(format, timeZone: timeZone)) }
        self.compiled = compiled
        self.compiledDates = compiledDates
        self.resolver = LocalTimeResolver(timeZone: timeZone)
    }

    /// One-off parse for command-line options; the importer keeps a parser instead.
    public static func instant(_ text: String, in timeZone: TimeZone = .gmt) throws(TimestampParseError) -> Date {
        // Cannot throw: there are no custom formats to compile.
        guard var parser = try? TimestampParser(timeZone: timeZone) else {
            throw .malformed(input: text, expected: isoExpectation)
        }
        return try parser.instant(from: text)
    }

    /// A timestamp as a `Date`.
    public mutating func instant(from text: String) throws(TimestampParseError) -> Date {
        let micros = try Self.withUTF8(text) { (bytes) throws(TimestampParseError) -> Int64 in
            try unixMicroseconds(utf8: bytes)
        }
        return Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    /// A date alone (`2027-03-31`), e.g. a deadline.
    public mutating func day(from text: String) throws(TimestampParseError) -> CalendarDay {
        try Self.withUTF8(text) { (bytes) throws(TimestampParseError) -> CalendarDay in
            try day(utf8: bytes)
        }
    }

    /// The hot path: microseconds since the epoch of the timestamp in `bytes` (UTF-8).
    public mutating func unixMicroseconds(utf8 raw: UnsafeBufferPointer<UInt8>) throws(TimestampParseError) -> Int64 {
        let bytes = Self.trimmed(raw)
        var firstStructuralError: TimestampParseError?
        for index in compiled.indices {
            switch compiled[index].parse(bytes) {
            case .success(let fields):
                return try micros(of: fields, bytes: bytes, requireTime: false)
            case .outOfRange(let problem):
                firstStructuralError = firstStructuralError
                    ?? .outOfRange(input: Self.string(bytes), problem: problem)
            case .noMatch:
                continue
            }
        }
        switch ISOShape.parse(bytes) {
        case .success(let fields):
            return try micros(of: fields, bytes: bytes, requireTime: true)
        case .outOfRange(let problem):
            throw firstStructuralError ?? .outOfRange(input: Self.string(bytes), problem: problem)
        case .noMatch:
            if let firstStructuralError { throw firstStructuralError }
            throw .malformed(input: Self.string(bytes), expected: expectation)
        }
    }

    /// A date alone from UTF-8 bytes. A timestamp at exactly midnight without an offset
    /// (`2027-03-31 00:00`, as spreadsheets export dates) is accepted as its date.
    public mutating func day(utf8 raw: UnsafeBufferPointer<UInt8>) throws(TimestampParseError) -> CalendarDay {
        let bytes = Self.trimmed(raw)
        for index in compiledDates.indices {
            switch compiledDates[index].parse(bytes) {
            case .success(let fields):
                return try Self.day(of: fields, bytes: bytes)
            case .outOfRange(let problem):
                throw .outOfRange(input: Self.string(bytes), problem: problem)
            case .noMatch:
                continue
            }
        }
        switch ISOShape.parse(bytes) {
        case .success(let fields):
            return try Self.day(of: fields, bytes: bytes)
        case .outOfRange(let problem):
            throw .outOfRange(input: Self.string(bytes), problem: problem)
        case .noMatch:
            let shown = dateFormats.isEmpty ? "" : dateFormats.joined(separator: " or ") + " or "
            throw .malformedDate(input: Self.string(bytes), expected: "\(shown)YYYY-MM-DD")
        }
    }

    /// Microseconds since the epoch of local midnight starting `day` in `timeZone`.
    public mutating func startOfDay(_ day: CalendarDay) -> Int64 {
        Int64(resolver.utcSeconds(forLocal: Int64(day.daysSinceEpoch) * 86_400)) * 1_000_000
    }

    // MARK: Internals

    static let isoExpectation =
        "YYYY-MM-DD HH:MM[:SS] or YYYY-MM-DDTHH:MM[:SS], optionally followed by Z or ±HH:MM"

    private var expectation: String {
        formats.isEmpty ? Self.isoExpectation : formats.joined(separator: " or ") + " or ISO 8601 (YYYY-MM-DD HH:MM)"
    }

    private mutating func micros(of fields: ParsedFields, bytes: UnsafeBufferPointer<UInt8>, requireTime: Bool)
        throws(TimestampParseError) -> Int64
    {
        if requireTime && !fields.hasTime {
            throw .missingTime(input: Self.string(bytes), expected: expectation)
        }
        if let instant = fields.instantMicros { return instant }
        let days = Int64(CivilCalendar.days(year: fields.year, month: fields.month, day: fields.day))
        let local = days * 86_400 + Int64(fields.hour * 3600 + fields.minute * 60 + fields.second)
        let utc: Int64
        if let offset = fields.offsetSeconds {
            utc = local - Int64(offset)
        } else {
            utc = resolver.utcSeconds(forLocal: local)
        }
        return utc * 1_000_000 + Int64(fields.microsecond)
    }

    private static func day(of fields: ParsedFields, bytes: UnsafeBufferPointer<UInt8>)
        throws(TimestampParseError) -> CalendarDay
    {
        if fields.hasTime, fields.offsetSeconds != nil
            || fields.hour != 0 || fields.minute != 0 || fields.second != 0 || fields.microsecond != 0
        {
            throw .unexpectedTime(input: string(bytes))
        }
        guard let day = CalendarDay(year: fields.year, month: fields.month, day: fields.day) else {
            throw .outOfRange(input: string(bytes), problem: "no such date")
        }
        return day
    }

    static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    private static func withUTF8<R>(
        _ text: String, _ body: (UnsafeBufferPointer<UInt8>) throws(TimestampParseError) -> R
    ) throws(TimestampParseError) -> R {
        var copy = text
        let result: Result<R, TimestampParseError> = copy.withUTF8 { bytes in
            do throws(TimestampParseError) { return .success(try body(bytes)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

// MARK: - Parsed fields

/// The parts a shape recognised; validated for ranges before it is returned.
struct ParsedFields {
    var year = 1970
    var month = 1
    var day = 1
    var hour = 0
    var minute = 0
    var second = 0
    var microsecond = 0
    var hasTime = false
    var offsetSeconds: Int?
    /// Set by the `DateFormatter` fallback, which resolves the zone itself.
    var instantMicros: Int64?

    /// Nil when every part is in range, else what is wrong.
    func rangeProblem() -> String? {
        if !(1...9999).contains(year) { return "year \(year) is out of range 1...9999" }
        if !(1...12).contains(month) { return "month \(month) is out of range 1...12" }
        let days = CalendarDay.daysInMonth(year: year, month: month)
        if !(1...days).contains(day) {
            return "day \(day) does not exist in \(Self.monthNames[month - 1]) \(year) (it has \(days) days)"
        }
        if !(0...23).contains(hour) { return "hour \(hour) is out of range 0...23" }
        if !(0...59).contains(minute) { return "minute \(minute) is out of range 0...59" }
        if !(0...59).contains(second) { return "second \(second) is out of range 0...59" }
        if let offset = offsetSeconds, abs(offset) > 18 * 3600 {
            return "offset of more than 18 hours"
        }
        return nil
    }

    static let monthNames = [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ]
}

enum ShapeResult {
    case success(ParsedFields)
    case outOfRange(String)
    case noMatch
}

/// A cursor over ASCII bytes with the few reads the shapes need.
struct ByteCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    var atEnd: Bool { index >= bytes.count }
    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Exactly `count` digits.
    mutating func digits(_ count: Int) -> Int? {
        guard index + count <= bytes.count else { return nil }
        var value = 0
        for offset in 0..<count {
            let digit = bytes[index + offset] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        index += count
        return value
    }

    /// Between `min` and `max` digits, greedily.
    mutating func digits(min: Int, max: Int) -> (value: Int, count: Int)? {
        var value = 0
        var count = 0
        while count < max, index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            value = value * 10 + Int(digit)
            count += 1
            index += 1
        }
        return count >= min ? (value, count) : nil
    }

    /// Fractional seconds after `.` or `,`: any number of digits, truncated to microseconds.
    mutating func fraction() -> Int? {
        var micros = 0
        var count = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            if count < 6 { micros = micros * 10 + Int(digit) }
            count += 1
            index += 1
        }
        guard count > 0 else { return nil }
        for _ in min(count, 6)..<6 { micros *= 10 }
        return micros
    }

    /// `Z`, `z`, `±HH`, `±HHMM` or `±HH:MM`, in seconds east of UTC.
    mutating func offset() -> Int? {
        if take(UInt8(ascii: "Z")) || take(UInt8(ascii: "z")) { return 0 }
        let sign: Int
        if take(UInt8(ascii: "+")) {
            sign = 1
        } else if take(UInt8(ascii: "-")) {
            sign = -1
        } else {
            return nil
        }
        guard let hours = digits(2) else { return nil }
        var minutes = 0
        if take(UInt8(ascii: ":")) {
            guard let value = digits(2) else { return nil }
            minutes = value
        } else if let value = digits(2) {
            minutes = value
        }
        guard minutes < 60 else { return nil }
        return sign * (hours * 3600 + minutes * 60)
    }
}

/// `YYYY-MM-DD`, optionally `[T ]HH:MM[:SS[.f]]`, optionally `[ ](Z|±HH[:MM])`.
enum ISOShape {
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> ShapeResult {
        var cursor = ByteCursor(bytes: bytes)
        var fields = ParsedFields()
        guard let year = cursor.digits(4), cursor.take(UInt8(ascii: "-")),
              let month = cursor.digits(2), cursor.take(UInt8(ascii: "-")),
              let day = cursor.digits(2)
        else { return .noMatch }
        fields.year = year
        fields.month = month
        fields.day = day
        if !cursor.atEnd {
            guard cursor.take(UInt8(ascii: "T")) || cursor.take(UInt8(ascii: "t"))
                || cursor.take(UInt8(ascii: " "))
            else { return .noMatch }
            guard let hour = cursor.digits(2), cursor.take(UInt8(ascii: ":")), let minute = cursor.digits(2)
            else { return .noMatch }
            fields.hasTime = true
            fields.hour = hour
            fields.minute = minute
            if cursor.take(UInt8(ascii: ":")) {
                guard let second = cursor.digits(2) else { return .noMatch }
                fields.second = second
                if cursor.take(UInt8(ascii: ".")) || cursor.take(UInt8(ascii: ",")) {
                    guard let micros = cursor.fraction() else { return .noMatch }
                    fields.microsecond = micros
                }
            }
            if !cursor.atEnd {
                _ = cursor.take(UInt8(ascii: " "))
                guard let offset = cursor.offset() else { return .noMatch }
                fields.offsetSeconds = offset
            }
            guard cursor.atEnd else { return .noMatch }
        }
        if let problem = fields.rangeProblem() { return .outOfRange(problem) }
        return .success(fields)
    }
}

// MARK: - Custom formats

/// A Unicode (CLDR) date pattern compiled into tokens for the common numeric fields, or a
/// `DateFormatter` for patterns with names of months or weekdays.
struct CustomFormat: Sendable {
    enum Token: Sendable, Equatable {
        case year4, year2, month, day, hour24, hour12, minute, second
        case fraction(Int)
        case amPm, offset
        case literal([UInt8])
        case whitespace
    }

    let pattern: String
    let tokens: [Token]?
    let fallback: FallbackFormatter?

    init(_ pattern: String, timeZone: TimeZone) throws(TimestampFormatError) {
        self.pattern = pattern
        if pattern.trimmingCharacters(in: .whitespaces).isEmpty {
            throw TimestampFormatError(format: pattern, problem: "is empty")
        }
        if let tokens = Self.compile(pattern) {
            for (needed, name) in [(Token.month, "month (MM)"), (.day, "day (dd)")] where !tokens.contains(needed) {
                throw TimestampFormatError(format: pattern, problem: "has no \(name)")
            }
            if !tokens.contains(.year4) && !tokens.contains(.year2) {
                throw TimestampFormatError(format: pattern, problem: "has no year (yyyy)")
            }
            if tokens.contains(.hour12) && !tokens.contains(.amPm) {
                throw TimestampFormatError(format: pattern, problem: "has hh, a 12-hour clock, without an AM/PM marker (a); use HH")
            }
            self.tokens = tokens
            self.fallback = nil
        } else {
            self.tokens = nil
            self.fallback = FallbackFormatter(pattern: pattern, timeZone: timeZone)
        }
    }

    /// Nil when the pattern holds a field that only `DateFormatter` understands.
    static func compile(_ pattern: String) -> [Token]? {
        var tokens = [Token]()
        let scalars = Array(pattern.unicodeScalars)
        var index = 0
        var literal = [UInt8]()
        func flush() {
            if !literal.isEmpty { tokens.append(.literal(literal)); literal.removeAll() }
        }
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "'" {
                // Quoted literal; '' is a single quote.
                if index + 1 < scalars.count, scalars[index + 1] == "'" {
                    literal.append(UInt8(ascii: "'"))
                    index += 2
                    continue
                }
                index += 1
                while index < scalars.count {
                    if scalars[index] == "'" {
                        if index + 1 < scalars.count, scalars[index + 1] == "'" {
                            literal.append(UInt8(ascii: "'"))
                            index += 2
                            continue
                        }
                        break
                    }
                    literal.append(contentsOf: Array(String(scalars[index]).utf8))
                    index += 1
                }
                index += 1
                continue
            }
            let isLetter = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
            guard isLetter else {
                if scalar == " " {
                    flush()
                    tokens.append(.whitespace)
                } else {
                    literal.append(contentsOf: Array(String(scalar).utf8))
                }
                index += 1
                continue
            }
            var run = 1
            while index + run < scalars.count, scalars[index + run] == scalar { run += 1 }
            index += run
            flush()
            switch (scalar, run) {
            case ("y", 2): tokens.append(.year2)
            case ("y", _), ("u", _): tokens.append(.year4)
            case ("M", 1...2), ("L", 1...2): tokens.append(.month)
            case ("d", 1...2): tokens.append(.day)
            case ("H", 1...2): tokens.append(.hour24)
            case ("h", 1...2): tokens.append(.hour12)
            case ("m", 1...2): tokens.append(.minute)
            case ("s", 1...2): tokens.append(.second)
            case ("S", _): tokens.append(.fraction(run))
            case ("a", _): tokens.append(.amPm)
            case ("X", _), ("x", _), ("Z", _): tokens.append(.offset)
            default: return nil
            }
        }
        flush()
        return tokens
    }

    func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> ShapeResult {
        guard let tokens else {
            return fallback?.parse(bytes) ?? .noMatch
        }
        var cursor = ByteCursor(bytes: bytes)
        var fields = ParsedFields()
        var pm: Bool?
        for token in tokens {
            switch token {
            case .year4:
                guard let value = cursor.digits(4) else { return .noMatch }
                fields.year = value
            case .year2:
                guard let value = cursor.digits(2) else { return .noMatch }
                fields.year = 2000 + value
            case .month:
                guard let value = cursor.digits(min: 1, max: 2) else { return .noMatch }
                fields.month = value.value
            case .day:
                guard let value = cursor.digits(min: 1, max: 2) else { return .noMatch }
                fields.day = value.value
            case .hour24, .hour12:
                guard let value = cursor.digits(min: 1, max: 2) else { return .noMatch }
                fields.hour = value.value
                fields.hasTime = true
            case .minute:
                guard let value = cursor.digits(min: 1, max: 2) else { return .noMatch }
                fields.minute = value.value
                fields.hasTime = true
            case .second:
                guard let value = cursor.digits(min: 1, max: 2) else { return .noMatch }
                fields.second = value.value
            case .fraction:
                guard let micros = cursor.fraction() else { return .noMatch }
                fields.microsecond = micros
            case .amPm:
                let isAM = Self.takeWord(&cursor, "AM")
                let isPM = !isAM && Self.takeWord(&cursor, "PM")
                guard isAM || isPM else { return .noMatch }
                pm = isPM
            case .offset:
                guard let offset = cursor.offset() else { return .noMatch }
                fields.offsetSeconds = offset
            case .literal(let expected):
                for byte in expected {
                    guard cursor.take(byte) else { return .noMatch }
                }
            case .whitespace:
                guard cursor.take(UInt8(ascii: " ")) || cursor.take(UInt8(ascii: "\t")) else { return .noMatch }
                while cursor.take(UInt8(ascii: " ")) || cursor.take(UInt8(ascii: "\t")) {}
            }
        }
        guard cursor.atEnd else { return .noMatch }
        if let pm {
            guard (1...12).contains(fields.hour) else {
                return .outOfRange("hour \(fields.hour) is out of range 1...12 on a 12-hour clock")
            }
            fields.hour = fields.hour % 12 + (pm ? 12 : 0)
        }
        if let problem = fields.rangeProblem() { return .outOfRange(problem) }
        return .success(fields)
    }

    private static func takeWord(_ cursor: inout ByteCursor, _ word: StaticString) -> Bool {
        let start = cursor.index
        let utf8 = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for expected in utf8 {
            guard let byte = cursor.current, byte | 0x20 == expected | 0x20 else {
                cursor.index = start
                return false
            }
            cursor.index += 1
        }
        return true
    }
}

/// A `DateFormatter` shared by the copies of a parser; formatters are not thread-safe,
/// hence the lock.
final class FallbackFormatter: @unchecked Sendable {
    private let lock = NSLock()
    private let formatter: DateFormatter
    private let timeZone: TimeZone

    init(pattern: String, timeZone: TimeZone) {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = pattern
        formatter.isLenient = false
        formatter.defaultDate = nil
        self.formatter = formatter
        self.timeZone = timeZone
    }

    func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> ShapeResult {
        let text = String(decoding: bytes, as: UTF8.self)
        let date: Date? = lock.withLock { formatter.date(from: text) }
        guard let date else { return .noMatch }
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var fields = ParsedFields()
        let local = micros / 1_000_000 + Int64(timeZone.secondsFromGMT(for: date))
        let days = Int(local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
        (fields.year, fields.month, fields.day) = CivilCalendar.date(fromDays: days)
        let secondOfDay = Int(local - Int64(days) * 86_400)
        fields.hour = secondOfDay / 3600
        fields.minute = secondOfDay / 60 % 60
        fields.second = secondOfDay % 60
        fields.hasTime = secondOfDay != 0
        fields.instantMicros = micros
        return .success(fields)
    }
}

// MARK: - Local time resolution

/// Local wall-clock seconds → UTC seconds in one zone, memoised per local day.
///
/// A day whose offset is the same a day before and a day after has one offset; other days
/// (the few around a change) are resolved per time, by the rules in the file's header.
struct LocalTimeResolver: Sendable {
    let timeZone: TimeZone
    private var lastDay = Int64.min
    private var lastOffset: Int64 = 0
    private var lastDayIsUniform = false
    private var uniformOffsets: [Int64: Int64] = [:]
    private var changeDays: [Int64: (before: Int64, after: Int64)] = [:]

    init(timeZone: TimeZone) {
        self.timeZone = timeZone
    }

    mutating func utcSeconds(forLocal local: Int64) -> Int64 {
        let day = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        if day == lastDay, lastDayIsUniform { return local - lastOffset }
        if let offset = uniformOffsets[day] {
            remember(day: day, offset: offset)
            return local - offset
        }
        if let change = changeDays[day] { return resolve(local, change) }
        let before = offset(atUTC: (day - 1) * 86_400)
        let after = offset(atUTC: (day + 2) * 86_400)
        if before == after {
            if uniformOffsets.count > 100_000 { uniformOffsets.removeAll(keepingCapacity: true) }
            uniformOffsets[day] = before
            remember(day: day, offset: before)
            return local - before
        }
        changeDays[day] = (before, after)
        return resolve(local, (before, after))
    }

    private mutating func remember(day: Int64, offset: Int64) {
        lastDay = day
        lastOffset = offset
        lastDayIsUniform = true
    }

    private func offset(atUTC seconds: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
    }

    private func resolve(_ local: Int64, _ change: (before: Int64, after: Int64)) -> Int64 {
        let earlier = max(change.before, change.after)  // the larger offset gives the earlier instant
        let later = min(change.before, change.after)
        if offset(atUTC: local - earlier) == earlier { return local - earlier }
        if offset(atUTC: local - later) == later { return local - later }
        // In the gap: keep the offset from before the change, which moves the time forward.
        return local - change.before
    }
}

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

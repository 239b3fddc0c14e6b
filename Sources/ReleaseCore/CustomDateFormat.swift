import Foundation

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

import Foundation

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

    /// The ISO weekday of a day given as days since 1970-01-01: 0 is Monday, 6 is Sunday.
    @inlinable
    public static func weekday(fromDays days: Int) -> Int {
        // 1970-01-01 was a Thursday (index 3 when Monday is 0).
        ((days + 3) % 7 + 7) % 7
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

    /// `YYYY-MM-DD HH:MM` in UTC, seconds dropped: instants in messages. (A `DateFormatter`
    /// costs an ICU formatter each time it is made; a refusal should not.)
    public static func utcMinute(_ instant: Date) -> String {
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
        let secondOfDay = seconds - days * 86_400
        let civil = date(fromDays: days)
        var bytes = [UInt8]()
        bytes.reserveCapacity(16)
        appendDate(year: civil.year, month: civil.month, day: civil.day, to: &bytes)
        let hour = secondOfDay / 3600, minute = secondOfDay % 3600 / 60
        bytes += [UInt8(ascii: " "), UInt8(ascii: "0") + UInt8(hour / 10), UInt8(ascii: "0") + UInt8(hour % 10), UInt8(ascii: ":"),
                  UInt8(ascii: "0") + UInt8(minute / 10), UInt8(ascii: "0") + UInt8(minute % 10)]
        return String(decoding: bytes, as: UTF8.self)
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

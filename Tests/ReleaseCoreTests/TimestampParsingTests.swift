import Foundation
import Testing
@testable import ReleaseCore

@Suite("Timestamp parsing")
struct TimestampParsingTests {
    let utc = TimeZone(identifier: "UTC")!
    let stockholm = TimeZone(identifier: "Europe/Stockholm")!

    func rfc3339(_ text: String, zone: TimeZone? = nil, formats: [String] = []) throws -> String {
        var parser = try TimestampParser(timeZone: zone ?? utc, formats: formats)
        let date = try parser.instant(from: text)
        return CivilCalendar.rfc3339(unixMicroseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
    }

    @Test("ISO 8601 shapes people and exports write", arguments: [
        ("2027-03-14T18:00", "2027-03-14T18:00:00Z"),
        ("2027-03-14 18:00", "2027-03-14T18:00:00Z"),
        ("2027-03-14t18:00", "2027-03-14T18:00:00Z"),
        ("2027-03-14 18:00:30", "2027-03-14T18:00:30Z"),
        ("2027-03-14T18:00:30.250", "2027-03-14T18:00:30.250000Z"),
        ("2027-03-14T18:00:30,5", "2027-03-14T18:00:30.500000Z"),
        ("2027-03-14T18:00Z", "2027-03-14T18:00:00Z"),
        ("2027-03-14T18:00+01:00", "2027-03-14T17:00:00Z"),
        ("2027-03-14T18:00+0100", "2027-03-14T17:00:00Z"),
        ("2027-03-14T18:00+01", "2027-03-14T17:00:00Z"),
        ("2027-03-14T18:00-05:30", "2027-03-14T23:30:00Z"),
        ("2027-03-14 18:00 +01:00", "2027-03-14T17:00:00Z"),
        ("  2027-03-14 18:00  ", "2027-03-14T18:00:00Z"),
        ("2028-02-29 00:00", "2028-02-29T00:00:00Z"),
        ("1969-12-31 23:59:59", "1969-12-31T23:59:59Z"),
    ])
    func isoShapes(input: String, expected: String) throws {
        #expect(try rfc3339(input) == expected)
    }

    @Test func localTimeIsReadInTheGivenZone() throws {
        #expect(try rfc3339("2027-03-14 18:00", zone: stockholm) == "2027-03-14T17:00:00Z")  // winter, +01:00
        #expect(try rfc3339("2027-07-14 18:00", zone: stockholm) == "2027-07-14T16:00:00Z")  // summer, +02:00
        #expect(try rfc3339("2027-07-14 18:00Z", zone: stockholm) == "2027-07-14T18:00:00Z")  // offset wins
    }

    @Test func timeInTheSpringForwardGapMovesForward() throws {
        // Stockholm skips 02:00-03:00 on 2027-03-28: 02:30 is read as 03:30+02:00.
        #expect(try rfc3339("2027-03-28 02:30", zone: stockholm) == "2027-03-28T01:30:00Z")
        #expect(try rfc3339("2027-03-28 01:59", zone: stockholm) == "2027-03-28T00:59:00Z")
        #expect(try rfc3339("2027-03-28 03:00", zone: stockholm) == "2027-03-28T01:00:00Z")
    }

    @Test func timeInTheFallBackOverlapIsTheEarlierInstant() throws {
        // Stockholm has 02:00-03:00 twice on 2027-10-31: the first (+02:00) is taken.
        #expect(try rfc3339("2027-10-31 02:30", zone: stockholm) == "2027-10-31T00:30:00Z")
        #expect(try rfc3339("2027-10-31 03:00", zone: stockholm) == "2027-10-31T02:00:00Z")
        #expect(try rfc3339("2027-10-31 01:59", zone: stockholm) == "2027-10-30T23:59:00Z")
    }

    @Test func resolverAgreesWithFoundationAroundTheYear() throws {
        var parser = try TimestampParser(timeZone: stockholm)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = stockholm
        for day in stride(from: 0, to: 365, by: 3) {
            for hour in [0, 5, 12, 23] {
                let date = try #require(calendar.date(from: DateComponents(year: 2027, month: 1, day: 1 + day, hour: hour)))
                let components = calendar.dateComponents([.year, .month, .day, .hour], from: date)
                let text = String(format: "%04d-%02d-%02d %02d:00", components.year!, components.month!, components.day!, components.hour!)
                #expect(try parser.instant(from: text) == date, "\(text)")
            }
        }
    }

    @Test func datesAlone() throws {
        var parser = try TimestampParser(timeZone: stockholm)
        #expect(try parser.day(from: "2027-03-31") == CalendarDay(year: 2027, month: 3, day: 31))
        #expect(try parser.day(from: "2027-03-31 00:00") == CalendarDay(year: 2027, month: 3, day: 31))
        #expect(try parser.day(from: "2027-03-31").description == "2027-03-31")
        #expect(throws: TimestampParseError.unexpectedTime(input: "2027-03-31 12:00")) {
            try parser.day(from: "2027-03-31 12:00")
        }
        #expect(throws: TimestampParseError.malformedDate(input: "31.03.2027", expected: "YYYY-MM-DD")) {
            try parser.day(from: "31.03.2027")
        }
        #expect(TimestampParseError.malformedDate(input: "x", expected: "YYYY-MM-DD").problem == "not a date; expected YYYY-MM-DD")
        let start = parser.startOfDay(try #require(CalendarDay(year: 2027, month: 7, day: 1)))
        #expect(CivilCalendar.rfc3339(unixMicroseconds: start) == "2027-06-30T22:00:00Z")
    }

    @Test func aDateWhereATimeIsNeeded() throws {
        var parser = try TimestampParser()
        let error = #expect(throws: TimestampParseError.self) { try parser.instant(from: "2027-03-14") }
        #expect(error?.problem == "a date without a time of day; expected "
            + "YYYY-MM-DD HH:MM[:SS] or YYYY-MM-DDTHH:MM[:SS], optionally followed by Z or ±HH:MM")
    }

    @Test("Errors say what was expected", arguments: [
        ("14/03/2027 18:00", "not a timestamp; expected YYYY-MM-DD HH:MM[:SS] or YYYY-MM-DDTHH:MM[:SS], optionally followed by Z or ±HH:MM"),
        ("2027-3-14 18:00", "not a timestamp; expected YYYY-MM-DD HH:MM[:SS] or YYYY-MM-DDTHH:MM[:SS], optionally followed by Z or ±HH:MM"),
        ("2027-03-14 18:00 CET", "not a timestamp; expected YYYY-MM-DD HH:MM[:SS] or YYYY-MM-DDTHH:MM[:SS], optionally followed by Z or ±HH:MM"),
        ("", "not a timestamp; expected YYYY-MM-DD HH:MM[:SS] or YYYY-MM-DDTHH:MM[:SS], optionally followed by Z or ±HH:MM"),
        ("2027-13-01 10:00", "month 13 is out of range 1...12"),
        ("2027-02-29 10:00", "day 29 does not exist in February 2027 (it has 28 days)"),
        ("2027-04-31 10:00", "day 31 does not exist in April 2027 (it has 30 days)"),
        ("2027-03-14 24:00", "hour 24 is out of range 0...23"),
        ("2027-03-14 18:60", "minute 60 is out of range 0...59"),
        ("2027-03-14 18:00:60", "second 60 is out of range 0...59"),
    ])
    func errors(input: String, problem: String) throws {
        var parser = try TimestampParser()
        let error = #expect(throws: TimestampParseError.self) { try parser.instant(from: input) }
        #expect(error?.problem == problem)
        #expect(error?.input == input)
    }

    @Test func customFormats() throws {
        #expect(try rfc3339("14/03/2027 18:00", formats: ["dd/MM/yyyy HH:mm"]) == "2027-03-14T18:00:00Z")
        #expect(try rfc3339("4/3/2027 8:05", formats: ["d/M/yyyy H:mm"]) == "2027-03-04T08:05:00Z")
        #expect(try rfc3339("2027-03-14T18:00", formats: ["yyyy-MM-dd'T'HH:mm"]) == "2027-03-14T18:00:00Z")
        #expect(try rfc3339("03/14/27 6:30 PM", formats: ["MM/dd/yy h:mm a"]) == "2027-03-14T18:30:00Z")
        #expect(try rfc3339("03/14/27 12:10 am", formats: ["MM/dd/yy h:mm a"]) == "2027-03-14T00:10:00Z")
        #expect(try rfc3339("14.03.2027 18:00:05 +0100", formats: ["dd.MM.yyyy HH:mm:ss Z"]) == "2027-03-14T17:00:05Z")
        #expect(try rfc3339("14/03/2027 18:00", zone: stockholm, formats: ["dd/MM/yyyy HH:mm"]) == "2027-03-14T17:00:00Z")
        // ISO stays accepted next to a custom format.
        #expect(try rfc3339("2027-03-14 18:00", formats: ["dd/MM/yyyy HH:mm"]) == "2027-03-14T18:00:00Z")
    }

    @Test func customFormatWithMonthNamesFallsBackToDateFormatter() throws {
        #expect(try rfc3339("14 Mar 2027 18:00", formats: ["dd MMM yyyy HH:mm"]) == "2027-03-14T18:00:00Z")
        #expect(try rfc3339("14 Mar 2027 18:00", zone: stockholm, formats: ["dd MMM yyyy HH:mm"]) == "2027-03-14T17:00:00Z")
        var parser = try TimestampParser(dateFormats: ["d MMMM yyyy"])
        #expect(try parser.day(from: "31 March 2027") == CalendarDay(year: 2027, month: 3, day: 31))
    }

    @Test func customFormatErrors() throws {
        var parser = try TimestampParser(formats: ["dd/MM/yyyy HH:mm"])
        let malformed = #expect(throws: TimestampParseError.self) { try parser.instant(from: "14-03-2027 18:00") }
        #expect(malformed?.problem == "not a timestamp; expected dd/MM/yyyy HH:mm or ISO 8601 (YYYY-MM-DD HH:MM)")
        let range = #expect(throws: TimestampParseError.self) { try parser.instant(from: "31/02/2027 18:00") }
        #expect(range?.problem == "day 31 does not exist in February 2027 (it has 28 days)")
        #expect(throws: TimestampFormatError(format: "HH:mm", problem: "has no month (MM)")) {
            try TimestampParser(formats: ["HH:mm"])
        }
        #expect(throws: TimestampFormatError(format: "dd/MM HH:mm", problem: "has no year (yyyy)")) {
            try TimestampParser(formats: ["dd/MM HH:mm"])
        }
    }

    @Test func civilCalendarRoundTrips() {
        for days in stride(from: -800_000, through: 2_900_000, by: 997) {
            let day = CalendarDay(daysSinceEpoch: days)
            #expect(day.daysSinceEpoch == days)
        }
        #expect(CalendarDay(daysSinceEpoch: 0).description == "1970-01-01")
        #expect(CalendarDay(year: 2027, month: 2, day: 29) == nil)
        #expect(CivilCalendar.rfc3339(unixMicroseconds: -1) == "1969-12-31T23:59:59.999999Z")
    }

    @Test("utcMinute agrees with a DateFormatter of yyyy-MM-dd HH:mm in UTC, before 1970 too")
    func utcMinuteAgreesWithFoundation() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = try #require(TimeZone(identifier: "UTC"))
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        var checked = 0
        for seconds in stride(from: -2_000_000_000.0, through: 4_000_000_000.0, by: 7_919_333.7) {
            let instant = Date(timeIntervalSince1970: seconds)
            #expect(CivilCalendar.utcMinute(instant) == formatter.string(from: instant), "\(seconds)")
            checked += 1
        }
        #expect(checked > 700)
        #expect(CivilCalendar.utcMinute(Date(timeIntervalSince1970: -1)) == "1969-12-31 23:59")
    }

    @Test func parsingIsFast() throws {
        // 3 million timestamps per import run: the ISO path must stay well under a microsecond.
        var parser = try TimestampParser(timeZone: stockholm)
        let inputs = (0..<1000).map { String(format: "2027-%02d-%02d %02d:%02d", 1 + $0 % 12, 1 + $0 % 28, $0 % 24, $0 % 60) }
        var bytes = inputs.map { Array($0.utf8) }
        let clock = ContinuousClock()
        var sum: Int64 = 0
        let elapsed = try clock.measure {
            for _ in 0..<200 {
                for index in bytes.indices {
                    sum &+= try bytes[index].withUnsafeBufferPointer { try parser.unixMicroseconds(utf8: $0) }
                }
            }
        }
        bytes.removeAll()
        #expect(sum != 0)
        // Debug builds are slow; this only catches a per-call formatter or zone lookup.
        #expect(elapsed < .seconds(10), "200,000 parses took \(elapsed)")
    }
}

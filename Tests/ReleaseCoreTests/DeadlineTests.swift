import Foundation
import Testing
@testable import ReleaseCore

@Suite("Deadlines")
struct DeadlineTests {
    private func deadline(_ year: Int, _ month: Int, _ day: Int) throws -> Deadline {
        Deadline(day: try #require(CalendarDay(year: year, month: month, day: day)))
    }

    @Test("The last instant is the start of the next day in the zone")
    func startOfNextDay() throws {
        let stockholm = try #require(TimeZone(identifier: "Europe/Stockholm"))
        // 2027-04-01 00:00 CEST
        #expect(try deadline(2027, 3, 31).latestEnd(in: stockholm) == Date(timeIntervalSince1970: 1_806_530_400))
        // 2027-04-01 00:00 UTC
        #expect(try deadline(2027, 3, 31).latestEnd(in: .gmt) == Date(timeIntervalSince1970: 1_806_537_600))
        // The day of the spring change is 23 hours long: 2027-03-29 00:00 CEST.
        #expect(try deadline(2027, 3, 28).latestEnd(in: stockholm) == Date(timeIntervalSince1970: 1_806_271_200))
        // Year end and leap day.
        #expect(try deadline(2027, 12, 31).latestEnd(in: .gmt) == Date(timeIntervalSince1970: 1_830_297_600))
        #expect(try deadline(2028, 2, 29).latestEnd(in: .gmt) == Date(timeIntervalSince1970: 1_835_481_600))
    }

    @Test("A deployment ending exactly at midnight meets the deadline; one second later does not")
    func boundary() throws {
        let zone = try #require(TimeZone(identifier: "America/New_York"))
        let deadline = try deadline(2027, 3, 31)
        let end = deadline.latestEnd(in: zone)
        #expect(deadline.isMet(byEnd: end, in: zone))
        #expect(!deadline.isMet(byEnd: end.addingTimeInterval(1), in: zone))
        #expect(end == Date(timeIntervalSince1970: 1_806_552_000))  // 2027-04-01 04:00 UTC (EDT)
    }

    @Test("A midnight that does not exist is the first instant of the day")
    func missingMidnight() throws {
        // Santiago moves clocks from 00:00 to 01:00 on the first Sunday of September (2027-09-05).
        let santiago = try #require(TimeZone(identifier: "America/Santiago"))
        let end = try deadline(2027, 9, 4).latestEnd(in: santiago)
        // 01:00 -03:00 = 04:00 UTC, the moment the 4th (at -04:00) ends.
        #expect(end == Date(timeIntervalSince1970: 1_820_116_800))
    }

    @Test("Deadlines order by day and print as the date")
    func ordering() throws {
        #expect(try deadline(2027, 3, 31) < deadline(2027, 4, 1))
        #expect(try deadline(2027, 3, 31).description == "2027-03-31")
    }
}

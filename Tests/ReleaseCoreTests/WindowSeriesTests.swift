import Foundation
import Testing
@testable import ReleaseCore

/// `2027-03-28T00:00:00Z` → Date.
private func utc(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    guard let date = formatter.date(from: text) else { fatalError("bad test timestamp \(text)") }
    return date
}

private func day(_ text: String) -> CalendarDay {
    let parts = text.split(separator: "-").compactMap { Int($0) }
    guard parts.count == 3, let day = CalendarDay(year: parts[0], month: parts[1], day: parts[2]) else {
        fatalError("bad test day \(text)")
    }
    return day
}

private func series(
    _ rule: String,
    at startTime: String = "22:00",
    for duration: String = "4h",
    in zone: String = "Europe/Stockholm",
    from: String = "2027-01-01",
    until: String = "2027-12-31",
    prefix: String = "SW"
) throws -> WindowSeries {
    WindowSeries(
        prefix: prefix,
        rule: try RecurrenceRule(parsing: rule),
        startTime: try TimeOfDay(parsing: startTime),
        durationSeconds: try Durations.seconds(in: duration),
        timeZone: try #require(TimeZone(identifier: zone)),
        from: day(from),
        until: day(until)
    )
}

private func codes(_ windows: [GeneratedWindow]) -> [String] { windows.map(\.code) }

private func hours(_ window: GeneratedWindow) -> Double { window.end.timeIntervalSince(window.start) / 3600 }

@Suite("Window series: DST nights")
struct WindowSeriesDSTTests {
    @Test("Last Sunday of each month in Stockholm, 01:00 for 4h: 3 h in March, 5 h in October")
    func lastSundayStockholm() throws {
        let windows = try series("FREQ=MONTHLY;BYDAY=-1SU", at: "01:00").windows()
        #expect(codes(windows) == [
            "SW-2027-01-31", "SW-2027-02-28", "SW-2027-03-28", "SW-2027-04-25", "SW-2027-05-30", "SW-2027-06-27",
            "SW-2027-07-25", "SW-2027-08-29", "SW-2027-09-26", "SW-2027-10-31", "SW-2027-11-28", "SW-2027-12-26",
        ])
        let march = windows[2]
        #expect(march.start == utc("2027-03-28T00:00:00Z"))  // 01:00 CET
        #expect(march.end == utc("2027-03-28T03:00:00Z"))  // 05:00 CEST
        #expect(hours(march) == 3)
        let october = windows[9]
        #expect(october.start == utc("2027-10-30T23:00:00Z"))  // 01:00 CEST
        #expect(october.end == utc("2027-10-31T04:00:00Z"))  // 05:00 CET
        #expect(hours(october) == 5)
        #expect(hours(windows[0]) == 4)
        #expect(windows[0].start == utc("2027-01-31T00:00:00Z"))
        #expect(windows[6].start == utc("2027-07-24T23:00:00Z"))  // summer time
    }

    @Test("23:00 + 4h ends at 03:00 wall clock: 3 h on the spring night, 5 h on the autumn night")
    func nightWindowAcrossChange() throws {
        let windows = try series("FREQ=WEEKLY;BYDAY=SA", at: "23:00", from: "2027-03-20", until: "2027-11-06").windows()
        let spring = try #require(windows.first { $0.code == "SW-2027-03-27" })
        #expect(spring.start == utc("2027-03-27T22:00:00Z"))
        #expect(spring.end == utc("2027-03-28T01:00:00Z"))
        #expect(hours(spring) == 3)
        let autumn = try #require(windows.first { $0.code == "SW-2027-10-30" })
        #expect(autumn.start == utc("2027-10-30T21:00:00Z"))
        #expect(autumn.end == utc("2027-10-31T02:00:00Z"))
        #expect(hours(autumn) == 5)
        let ordinary = try #require(windows.first { $0.code == "SW-2027-03-20" })
        #expect(hours(ordinary) == 4)
    }

    @Test("22:00 + 4h ends at 02:00: missing in spring (becomes 03:00), the first 02:00 in autumn: 4 h both nights")
    func endAtTheChangeItself() throws {
        let windows = try series("FREQ=WEEKLY;BYDAY=SA", at: "22:00", from: "2027-03-27", until: "2027-10-30").windows()
        let spring = try #require(windows.first)
        #expect(spring.code == "SW-2027-03-27")
        #expect(spring.end == utc("2027-03-28T01:00:00Z"))  // 03:00 CEST
        #expect(hours(spring) == 4)
        let autumn = try #require(windows.last)
        #expect(autumn.code == "SW-2027-10-30")
        #expect(autumn.end == utc("2027-10-31T00:00:00Z"))  // the first 02:00, still CEST
        #expect(hours(autumn) == 4)
    }

    @Test("A start in the spring-forward gap moves forward by the gap and keeps its wall-clock length")
    func startInGap() throws {
        let windows = try series(
            "FREQ=MONTHLY;BYDAY=-1SU", at: "02:30", for: "1h", from: "2027-03-01", until: "2027-10-31"
        ).windows()
        let spring = try #require(windows.first)
        #expect(spring.code == "SW-2027-03-28")
        #expect(spring.start == utc("2027-03-28T01:30:00Z"))  // 03:30 CEST
        #expect(spring.end == utc("2027-03-28T02:30:00Z"))  // 04:30 CEST
        let autumn = try #require(windows.last)
        #expect(autumn.code == "SW-2027-10-31")
        #expect(autumn.start == utc("2027-10-31T00:30:00Z"))  // the first 02:30 (CEST)
        #expect(autumn.end == utc("2027-10-31T02:30:00Z"))  // 03:30 CET: 2 real hours
    }

    @Test("America/New_York: second Sunday of March and first Sunday of November")
    func newYork() throws {
        let spring = try series(
            "FREQ=MONTHLY;BYDAY=2SU", at: "01:00", for: "2h", in: "America/New_York", from: "2027-03-01", until: "2027-03-31"
        ).windows()
        #expect(codes(spring) == ["SW-2027-03-14"])
        #expect(spring[0].start == utc("2027-03-14T06:00:00Z"))  // 01:00 EST
        #expect(spring[0].end == utc("2027-03-14T07:00:00Z"))  // 03:00 EDT
        let autumn = try series(
            "FREQ=MONTHLY;BYDAY=1SU", at: "01:00", for: "2h", in: "America/New_York", from: "2027-11-01", until: "2027-11-30"
        ).windows()
        #expect(codes(autumn) == ["SW-2027-11-07"])
        #expect(autumn[0].start == utc("2027-11-07T05:00:00Z"))  // the first 01:00, EDT
        #expect(autumn[0].end == utc("2027-11-07T08:00:00Z"))  // 03:00 EST
    }

    @Test("Durations in days are wall-clock days")
    func dayLongWindowAcrossChange() throws {
        let windows = try series("FREQ=WEEKLY;BYDAY=SA", at: "12:00", for: "1d", from: "2027-03-27", until: "2027-03-27").windows()
        #expect(windows.count == 1)
        #expect(hours(windows[0]) == 23)
    }
}

@Suite("Window series: rule expansion")
struct WindowSeriesExpansionTests {
    @Test("Second Tuesday of every month")
    func secondTuesday() throws {
        let windows = try series("FREQ=MONTHLY;BYDAY=2TU", at: "18:00").windows()
        #expect(codes(windows) == [
            "SW-2027-01-12", "SW-2027-02-09", "SW-2027-03-09", "SW-2027-04-13", "SW-2027-05-11", "SW-2027-06-08",
            "SW-2027-07-13", "SW-2027-08-10", "SW-2027-09-14", "SW-2027-10-12", "SW-2027-11-09", "SW-2027-12-14",
        ])
        #expect(windows[0].start == utc("2027-01-12T17:00:00Z"))
        #expect(windows[0].end == utc("2027-01-12T21:00:00Z"))
    }

    @Test("Last Friday of every month")
    func lastFriday() throws {
        let windows = try series("FREQ=MONTHLY;BYDAY=-1FR").windows()
        #expect(codes(windows).map { String($0.dropFirst(3)) } == [
            "2027-01-29", "2027-02-26", "2027-03-26", "2027-04-30", "2027-05-28", "2027-06-25",
            "2027-07-30", "2027-08-27", "2027-09-24", "2027-10-29", "2027-11-26", "2027-12-31",
        ])
    }

    @Test("Fifth Monday exists only in some months; -2 is the second to last")
    func fifthAndSecondToLast() throws {
        let fifth = try series("FREQ=MONTHLY;BYDAY=5MO", from: "2027-01-01", until: "2027-06-30").windows()
        #expect(codes(fifth) == ["SW-2027-03-29", "SW-2027-05-31"])
        let secondToLast = try series("FREQ=MONTHLY;BYDAY=-2SU", from: "2027-02-01", until: "2027-03-31").windows()
        #expect(codes(secondToLast) == ["SW-2027-02-21", "SW-2027-03-21"])
    }

    @Test("Plain days in a monthly rule mean every such day of the month")
    func everyThursdayOfMonthly() throws {
        let windows = try series("FREQ=MONTHLY;INTERVAL=2;BYDAY=TH", from: "2027-01-01", until: "2027-03-31").windows()
        #expect(codes(windows) == ["SW-2027-01-07", "SW-2027-01-14", "SW-2027-01-21", "SW-2027-01-28",
                                   "SW-2027-03-04", "SW-2027-03-11", "SW-2027-03-18", "SW-2027-03-25"])
    }

    @Test("INTERVAL=2 counts weeks from the week of --from (weeks start on Monday); nothing before --from")
    func everyOtherWeek() throws {
        // 2027-01-06 is a Wednesday: its week's Tuesday (the 5th) is before --from.
        let windows = try series("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=5", from: "2027-01-06").windows()
        #expect(codes(windows) == ["SW-2027-01-07", "SW-2027-01-19", "SW-2027-01-21", "SW-2027-02-02", "SW-2027-02-04"])
    }

    @Test("Weekly with Sunday: a Sunday belongs to the week that began the Monday before")
    func weeklySundayWeekStart() throws {
        // --from is a Sunday (2027-01-03), week 0 is Mon 2026-12-28..Sun 2027-01-03; week 2 begins 2027-01-11.
        let windows = try series("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU", from: "2027-01-03", until: "2027-01-31").windows()
        #expect(codes(windows) == ["SW-2027-01-03", "SW-2027-01-11", "SW-2027-01-17", "SW-2027-01-25", "SW-2027-01-31"])
    }

    @Test("Without BYDAY a weekly rule repeats the weekday of --from; a monthly one its day of month")
    func defaultsFromDtstart() throws {
        let weekly = try series("FREQ=WEEKLY", from: "2027-01-06", until: "2027-01-31").windows()
        #expect(codes(weekly) == ["SW-2027-01-06", "SW-2027-01-13", "SW-2027-01-20", "SW-2027-01-27"])
        // The 31st: months without one are skipped, as RFC 5545 says.
        let monthly = try series("FREQ=MONTHLY", from: "2027-01-31", until: "2027-08-31").windows()
        #expect(codes(monthly) == ["SW-2027-01-31", "SW-2027-03-31", "SW-2027-05-31", "SW-2027-07-31", "SW-2027-08-31"])
    }

    @Test("--from gives a window only when the rule selects it")
    func fromNotSelected() throws {
        let windows = try series("FREQ=MONTHLY;BYDAY=-1SU", from: "2027-01-01", until: "2027-02-28").windows()
        #expect(codes(windows) == ["SW-2027-01-31", "SW-2027-02-28"])
    }

    @Test("BYMONTHDAY: 31 skips short months, -1 is the last day (29 February in a leap year)")
    func monthDays() throws {
        let thirtyFirst = try series("FREQ=MONTHLY;BYMONTHDAY=31", from: "2027-01-01", until: "2027-06-30").windows()
        #expect(codes(thirtyFirst) == ["SW-2027-01-31", "SW-2027-03-31", "SW-2027-05-31"])
        let last = try series("FREQ=MONTHLY;BYMONTHDAY=-1", from: "2027-12-01", until: "2028-04-30").windows()
        #expect(codes(last) == ["SW-2027-12-31", "SW-2028-01-31", "SW-2028-02-29", "SW-2028-03-31", "SW-2028-04-30"])
        let twentyNinth = try series("FREQ=MONTHLY;BYMONTHDAY=29", from: "2027-01-01", until: "2028-03-31").windows()
        #expect(!codes(twentyNinth).contains { $0.hasPrefix("SW-2027-02") })
        #expect(codes(twentyNinth).contains("SW-2028-02-29"))
        #expect(twentyNinth.count == 14)
    }

    @Test("Leap day from a monthly rule that starts on 29 February")
    func leapDayStart() throws {
        let windows = try series("FREQ=MONTHLY;INTERVAL=12", from: "2028-02-29", until: "2036-12-31").windows()
        #expect(codes(windows) == ["SW-2028-02-29", "SW-2032-02-29", "SW-2036-02-29"])
    }

    @Test("BYDAY and BYMONTHDAY together select days matching both (Friday the 13th)")
    func fridayThe13th() throws {
        let windows = try series("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", from: "2027-01-01", until: "2027-12-31").windows()
        #expect(codes(windows) == ["SW-2027-08-13"])
    }

    @Test("BYSETPOS=-1 over weekdays is the last working day of the month")
    func lastWorkingDay() throws {
        let windows = try series("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", from: "2027-01-01", until: "2027-06-30").windows()
        #expect(codes(windows) == ["SW-2027-01-29", "SW-2027-02-26", "SW-2027-03-31", "SW-2027-04-30", "SW-2027-05-31", "SW-2027-06-30"])
    }
}

@Suite("Window series: bounds")
struct WindowSeriesBoundsTests {
    @Test("COUNT counts generated windows and stops before --until")
    func count() throws {
        let windows = try series("FREQ=MONTHLY;BYDAY=2TU;COUNT=3").windows()
        #expect(codes(windows) == ["SW-2027-01-12", "SW-2027-02-09", "SW-2027-03-09"])
    }

    @Test("--until wins over a larger COUNT")
    func untilBeforeCount() throws {
        let windows = try series("FREQ=MONTHLY;BYDAY=2TU;COUNT=30", until: "2027-02-09").windows()
        #expect(codes(windows) == ["SW-2027-01-12", "SW-2027-02-09"])
    }

    @Test("UNTIL as a date is inclusive; the earlier of UNTIL and --until applies")
    func untilDate() throws {
        let windows = try series("FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270309").windows()
        #expect(codes(windows) == ["SW-2027-01-12", "SW-2027-02-09", "SW-2027-03-09"])
        let clipped = try series("FREQ=MONTHLY;BYDAY=2TU;UNTIL=20271231", until: "2027-02-28").windows()
        #expect(codes(clipped) == ["SW-2027-01-12", "SW-2027-02-09"])
    }

    @Test("UNTIL as a UTC date-time bounds the start instant, inclusive")
    func untilInstant() throws {
        // 18:00 Stockholm on 2027-03-09 is 17:00 UTC.
        let included = try series("FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270309T170000Z", at: "18:00").windows()
        #expect(codes(included).last == "SW-2027-03-09")
        let excluded = try series("FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270309T165959Z", at: "18:00").windows()
        #expect(codes(excluded).last == "SW-2027-02-09")
    }

    @Test("--from and --until are inclusive local dates")
    func inclusiveBounds() throws {
        let windows = try series("FREQ=WEEKLY;BYDAY=MO", from: "2027-01-04", until: "2027-01-18").windows()
        #expect(codes(windows) == ["SW-2027-01-04", "SW-2027-01-11", "SW-2027-01-18"])
        let one = try series("FREQ=WEEKLY;BYDAY=MO", from: "2027-01-04", until: "2027-01-04").windows()
        #expect(codes(one) == ["SW-2027-01-04"])
    }

    @Test("A rule that selects nothing in the range gives no windows")
    func empty() throws {
        let windows = try series("FREQ=MONTHLY;BYMONTHDAY=30", from: "2027-02-01", until: "2027-02-28").windows()
        #expect(windows.isEmpty)
    }

    @Test("More windows than the limit is an error, not a truncated list")
    func runaway() throws {
        let daily = try series("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU", from: "2027-01-01", until: "2099-12-31")
        #expect(throws: WindowSeriesError.tooManyWindows(limit: 10_000)) { try daily.windows() }
        #expect(throws: WindowSeriesError.tooManyWindows(limit: 5)) { try daily.windows(limit: 5) }
        let exactlyFive = try series("FREQ=WEEKLY;BYDAY=MO;COUNT=5", until: "2099-12-31")
        #expect(try exactlyFive.windows(limit: 5).count == 5)
    }

    @Test("A far --until with a sparse rule stays fast")
    func sparseFarRange() throws {
        let windows = try series("FREQ=MONTHLY;BYMONTHDAY=30;INTERVAL=12", from: "2027-02-01", until: "9999-12-31").windows()
        #expect(windows.isEmpty)
    }

    @Test("Bad series inputs are refused with a reason")
    func badInputs() throws {
        #expect(throws: WindowSeriesError.fromAfterUntil(from: day("2027-02-01"), until: day("2027-01-01"))) {
            try series("FREQ=WEEKLY", from: "2027-02-01", until: "2027-01-01").windows()
        }
        let badPrefix = try series("FREQ=WEEKLY", prefix: "SW 1")
        #expect {
            try badPrefix.windows()
        } throws: { error in
            "\(error)".contains("contains ' '")
        }
        let longPrefix = try series("FREQ=WEEKLY", prefix: String(repeating: "A", count: 54))
        #expect(throws: WindowSeriesError.self) { try longPrefix.windows() }
        var zero = try series("FREQ=WEEKLY")
        zero.durationSeconds = 0
        #expect(throws: WindowSeriesError.durationNotPositive(0)) { try zero.windows() }
    }

    @Test("Out-of-range values in a rule built in code select nothing rather than fail")
    func outOfRangeInCode() throws {
        var monthly = try series("FREQ=MONTHLY", from: "2027-01-01", until: "2027-03-31")
        monthly.rule = RecurrenceRule(
            frequency: .monthly,
            byDay: [.init(.monday, ordinal: 0), .init(.friday, ordinal: 9), .init(.sunday, ordinal: -9)],
            byMonthDay: [], bySetPosition: [40])
        #expect(try monthly.windows().isEmpty)
        monthly.rule = RecurrenceRule(frequency: .monthly, byMonthDay: [40, -40])
        #expect(try monthly.windows().isEmpty)
        monthly.rule = RecurrenceRule(frequency: .monthly, interval: 0)
        #expect(throws: WindowSeriesError.intervalNotPositive(0)) { try monthly.windows() }
    }

    @Test("Windows come out in start order with unique codes")
    func orderAndUniqueness() throws {
        let windows = try series("FREQ=WEEKLY;BYDAY=SU,MO,FR", from: "2027-01-01", until: "2028-12-31").windows()
        // Three a week for two years: the checks below hold of an empty list too.
        #expect(windows.count > 300, "\(windows.count) windows")
        #expect(windows.map(\.start) == windows.map(\.start).sorted())
        #expect(Set(codes(windows)).count == windows.count)
        #expect(windows.allSatisfy { $0.end > $0.start })
    }
}

@Suite("Time of day")
struct TimeOfDayTests {
    @Test("HH:MM parses", arguments: [("22:00", 22, 0), ("7:05", 7, 5), ("00:00", 0, 0), ("23:59", 23, 59)])
    func parses(text: String, hour: Int, minute: Int) throws {
        let time = try TimeOfDay(parsing: text)
        #expect(time.hour == hour && time.minute == minute)
    }

    @Test("Bad times are refused", arguments: ["24:00", "12:60", "12", "12:5", "1200", "", "ab:cd", "-1:00", "12:00:00"])
    func refuses(text: String) {
        #expect(throws: InvalidTimeOfDay(text: text)) { try TimeOfDay(parsing: text) }
    }

    @Test("Prints as HH:MM")
    func prints() throws {
        #expect(try TimeOfDay(parsing: "7:05").description == "07:05")
    }
}

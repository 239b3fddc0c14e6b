import Foundation
import Testing
@testable import ReleaseCore

@Suite("Recurrence rule parsing")
struct RecurrenceRuleTests {
    @Test("A full rule parses into its parts")
    func parsesParts() throws {
        let rule = try RecurrenceRule(parsing: "FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU,-1SU,FR;BYMONTHDAY=13,-1;BYSETPOS=1;COUNT=7")
        #expect(rule.frequency == .monthly)
        #expect(rule.interval == 2)
        #expect(rule.byDay == [
            .init(.tuesday, ordinal: 2), .init(.sunday, ordinal: -1), .init(.friday),
        ])
        #expect(rule.byMonthDay == [13, -1])
        #expect(rule.bySetPosition == [1])
        #expect(rule.end == .count(7))
    }

    @Test("Names are case-insensitive, an RRULE: prefix and WKST=MO are accepted")
    func lenient() throws {
        let rule = try RecurrenceRule(parsing: "RRULE:freq=weekly;byday=tu,th;wkst=MO")
        #expect(rule == RecurrenceRule(frequency: .weekly, byDay: [.init(.tuesday), .init(.thursday)]))
    }

    @Test("UNTIL takes a date or a UTC date-time")
    func until() throws {
        let byDate = try RecurrenceRule(parsing: "FREQ=WEEKLY;UNTIL=20280229")
        #expect(byDate.end == .untilDay(try #require(CalendarDay(year: 2028, month: 2, day: 29))))
        let byInstant = try RecurrenceRule(parsing: "FREQ=WEEKLY;UNTIL=20271231T235959Z")
        #expect(byInstant.end == .untilInstant(Date(timeIntervalSince1970: 1_830_297_599)))
    }

    @Test("description prints the canonical rule, which parses back")
    func roundTrip() throws {
        for text in [
            "FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=10", "FREQ=MONTHLY;BYDAY=-1SU;UNTIL=20271231",
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;UNTIL=20271231T230000Z", "FREQ=MONTHLY;BYMONTHDAY=1,-1",
        ] {
            let rule = try RecurrenceRule(parsing: text)
            #expect(rule.description == text)
            #expect(try RecurrenceRule(parsing: rule.description) == rule)
        }
    }

    @Test(
        "Each wrong part is named in the error",
        arguments: [
            ("", nil, InvalidRecurrenceRule.Reason.empty),
            ("BYDAY=MO", nil, .missingFrequency),
            ("FREQ=DAILY", "FREQ=DAILY", .unsupportedFrequency),
            ("FREQ=WEEKLY;FREQ=MONTHLY", "FREQ=MONTHLY", .repeatedName),
            ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL=0", .notPositiveInteger),
            ("FREQ=WEEKLY;INTERVAL=x", "INTERVAL=x", .notPositiveInteger),
            ("FREQ=WEEKLY;COUNT=-3", "COUNT=-3", .notPositiveInteger),
            ("FREQ=WEEKLY;BYDAY=XX", "BYDAY=XX", .badWeekday),
            ("FREQ=WEEKLY;BYDAY=MO,", "BYDAY=MO,", .badWeekday),
            ("FREQ=WEEKLY;BYDAY=2TU", "BYDAY=2TU", .ordinalInWeeklyRule),
            ("FREQ=MONTHLY;BYDAY=6TU", "BYDAY=6TU", .ordinalOutOfRange),
            ("FREQ=MONTHLY;BYDAY=0TU", "BYDAY=0TU", .ordinalOutOfRange),
            ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY=32", .badMonthDay),
            ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY=0", .badMonthDay),
            ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY=1", .monthDayInWeeklyRule),
            ("FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS=1", .setPositionAlone),
            ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=40", "BYSETPOS=40", .badSetPosition),
            ("FREQ=WEEKLY;UNTIL=2027-12-31", "UNTIL=2027-12-31", .badUntil),
            ("FREQ=WEEKLY;UNTIL=20270230", "UNTIL=20270230", .badUntil),
            ("FREQ=WEEKLY;UNTIL=20271231T235959", "UNTIL=20271231T235959", .badUntil),
            ("FREQ=WEEKLY;COUNT=3;UNTIL=20271231", nil, .countAndUntil),
            ("FREQ=WEEKLY;WKST=SU", "WKST=SU", .unsupportedWeekStart),
            ("FREQ=MONTHLY;BYMONTH=3", "BYMONTH=3", .unsupportedName),
            ("FREQ=WEEKLY;COLOR=RED", "COLOR=RED", .unknownName),
            ("FREQ=WEEKLY;BYDAY", "BYDAY", .notNameValue),
        ] as [(String, String?, InvalidRecurrenceRule.Reason)]
    )
    func errors(text: String, part: String?, reason: InvalidRecurrenceRule.Reason) {
        #expect(throws: InvalidRecurrenceRule(rule: text, part: part, reason: reason)) {
            try RecurrenceRule(parsing: text)
        }
    }

    @Test("Error messages quote the rule and the part")
    func messages() {
        #expect {
            try RecurrenceRule(parsing: "FREQ=WEEKLY;BYDAY=2TU")
        } throws: { error in
            "\(error)" == "recurrence rule 'FREQ=WEEKLY;BYDAY=2TU': 'BYDAY=2TU': ordinals such as 2TU need FREQ=MONTHLY; a weekly rule takes plain days (TU,TH)"
        }
        #expect {
            try RecurrenceRule(parsing: "FREQ=YEARLY")
        } throws: { error in
            "\(error)".contains("only FREQ=WEEKLY and FREQ=MONTHLY are supported")
        }
    }

    @Test("Weekday of a calendar day, Monday first")
    func weekdays() throws {
        #expect(RecurrenceRule.Weekday(of: try #require(CalendarDay(year: 1970, month: 1, day: 1))) == .thursday)
        #expect(RecurrenceRule.Weekday(of: try #require(CalendarDay(year: 2027, month: 3, day: 28))) == .sunday)
        #expect(RecurrenceRule.Weekday(of: try #require(CalendarDay(year: 1969, month: 12, day: 29))) == .monday)
        #expect(RecurrenceRule.Weekday(of: try #require(CalendarDay(year: 2028, month: 2, day: 29))) == .tuesday)
    }
}

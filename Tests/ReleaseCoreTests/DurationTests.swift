import Foundation
import Testing
@testable import ReleaseCore

@Suite("Durations")
struct DurationTests {
    @Test("Compact and ISO 8601 forms", arguments: [
        ("4h", 14_400), ("90m", 5_400), ("3d", 259_200), ("4h30m", 16_200), ("1d12h", 129_600), ("1d 12h", 129_600),
        ("45s", 45), ("2w", 1_209_600), ("4H", 14_400), (" 4h ", 14_400),
        ("PT4H", 14_400), ("P3D", 259_200), ("PT90M", 5_400), ("P1DT12H", 129_600), ("PT4H30M", 16_200),
        ("PT30S", 30), ("P2W", 1_209_600), ("pt4h", 14_400), ("P1DT0H", 86_400),
    ])
    func parses(text: String, seconds: Int) throws {
        #expect(try Durations.seconds(in: text) == seconds)
    }

    @Test("Refusals say what is wrong", arguments: [
        ("", InvalidDuration.Reason.empty),
        ("0h", .zero),
        ("PT0M", .zero),
        ("90", .missingUnit(after: "90")),
        ("4 h", .missingUnit(after: "4")),
        ("4h30", .missingUnit(after: "30")),
        ("h", .missingNumber(before: "h")),
        ("4x", .unknownUnit("x")),
        ("30m4h", .unitOutOfOrder("h")),
        ("4h4h", .unitOutOfOrder("h")),
        ("1.5h", .fraction),
        ("PT1.5H", .fraction),
        ("P1M", .calendarUnit("M")),
        ("P1Y", .calendarUnit("Y")),
        ("P", .malformedISO),
        ("PT", .malformedISO),
        ("P4H", .malformedISO),
        ("PT4D", .malformedISO),
        ("P1DT", .malformedISO),
        ("PT4", .malformedISO),
        ("PT30M4H", .unitOutOfOrder("H")),
        ("99999d", .tooLong),
        ("99999999999999999999h", .tooLong),
    ] as [(String, InvalidDuration.Reason)])
    func refuses(text: String, reason: InvalidDuration.Reason) {
        #expect(throws: InvalidDuration(text: text, reason: reason)) { try Durations.seconds(in: text) }
    }

    @Test("Formats with the largest units first")
    func format() {
        #expect(Durations.format(seconds: 16_200) == "4h30m")
        #expect(Durations.format(seconds: 259_200) == "3d")
        #expect(Durations.format(seconds: 5_400) == "1h30m")
        #expect(Durations.format(seconds: 90_061) == "1d1h1m1s")
        #expect(Durations.format(seconds: 0) == "0s")
    }

    @Test("Messages give an example of what works")
    func message() {
        #expect {
            try Durations.seconds(in: "90")
        } throws: { error in
            "\(error)" == "duration '90': '90' has no unit (w, d, h, m or s); write e.g. 4h, 90m, 3d, 4h30m or PT4H"
        }
    }
}

import Foundation
@testable import Reporting
import Scheduling
import Testing

@Suite("timeline axis")
struct TimelineAxisTests {
    static let zone = TimeZone(identifier: "Europe/Stockholm")!

    static func labels(days: Int) -> [Timeline.AxisLabel] {
        let start = Date(timeIntervalSince1970: 1_806_000_000)  // 2027-03-25, a Thursday
        let horizon = Interval(start: start, end: start.addingTimeInterval(Double(days) * 86_400))
        return Timeline.axis(horizon: horizon, clock: ReportClock(zone: zone), scale: TimelineScale(horizon: horizon)).1
    }

    @Test("week and month labels never run into the next one or off the chart", arguments: [7, 14, 28, 45, 63, 64, 90, 120, 134, 180, 365, 730])
    func labelsDoNotOverlap(days: Int) throws {
        let top = Self.labels(days: days).filter { $0.kind == "week" || $0.kind == "month" }
        #expect(!top.isEmpty)
        let spans = try top.map { label in
            let left = try #require(Double(label.x))
            return (left, left + Timeline.AxisLabel.width(ofCharacters: label.text.count), label.text)
        }
        for (label, next) in zip(spans, spans.dropFirst()) {
            #expect(label.1 <= next.0, "\(days) days: \"\(label.2)\" runs into \"\(next.2)\"")
        }
        if let last = spans.last { #expect(last.1 <= TimelineScale.chartRight, "\(days) days: \"\(last.2)\" runs off the chart") }
    }

    @Test("the label says as much as the room allows: week of, the Monday, the month")
    func labelsShortenWithTheHorizon() {
        #expect(Self.labels(days: 28).contains { $0.text == "week of 29 Mar" })
        #expect(Self.labels(days: 90).contains { $0.text == "29 Mar" })
        #expect(!Self.labels(days: 90).contains { $0.text.hasPrefix("week of") })
        #expect(Self.labels(days: 365).contains { $0.text == "Apr 2027" })
        #expect(Self.labels(days: 730).contains { $0.text == "Apr" })
    }
}

import Foundation
import Scheduling

extension Timeline {
    /// Local midnights, Mondays and first days of months across the horizon, labelled as densely
    /// as the width allows.
    static func axis(horizon: Interval, clock: ReportClock, scale: TimelineScale) -> ([GridLine], [AxisLabel]) {
        let dayWidth = scale.dayWidth
        let x = scale.x
        let number = TimelineScale.number
        let drawDays = dayWidth >= 4
        let labelDays = dayWidth >= 16
        // "week of 28 Dec" where a week has room for it, "28 Dec" where it has less (a 90-day
        // horizon), months where even that would collide.
        let weekWidth = dayWidth * 7
        let weekLabel: ((Int, String) -> String)? =
            weekWidth >= AxisLabel.width(ofCharacters: 14) + 8 ? { "week of \($0) \($1)" }
            : weekWidth >= AxisLabel.width(ofCharacters: 6) + 8 ? { "\($0) \($1)" }
            : nil
        let labelWeeks = weekLabel != nil
        let drawWeeks = weekWidth >= 8
        var lines: [GridLine] = []
        var labels: [AxisLabel] = []
        var dayStart = clock.startOfDay(horizon.start)
        var isFirst = true
        while dayStart < horizon.end {
            let dayEnd = clock.startOfDay(dayStart.addingTimeInterval(30 * 3600))
            let reading = clock.reading(dayStart)
            let position = x(dayStart)
            let month = ReportClock.monthNames[reading.month - 1]
            let weekday = String(ReportClock.weekdayNames[reading.weekday].prefix(2))
            if dayStart >= horizon.start {
                if reading.weekday == 0 && drawWeeks {
                    lines.append(GridLine(x: number(position), kind: "week"))
                } else if reading.day == 1 && !drawDays {
                    lines.append(GridLine(x: number(position), kind: "month"))
                } else if drawDays {
                    lines.append(GridLine(x: number(position), kind: "day"))
                }
            }
            // Week and month labels start at their line; a partial first week or month is
            // labelled at the left edge when there is room before the next label.
            let isMonday = reading.weekday == 0
            if let weekLabel, isMonday || isFirst {
                let monday = clock.reading(dayStart.addingTimeInterval(Double(-reading.weekday) * 86_400 + 43_200))
                let nextMonday = x(dayStart.addingTimeInterval(Double(7 - reading.weekday) * 86_400))
                let text = weekLabel(monday.day, ReportClock.monthNames[monday.month - 1])
                labels += fitting([text], from: position, to: nextMonday, kind: "week")
            }
            if !labelWeeks && (reading.day == 1 || isFirst) {
                let daysLeftInMonth = Double(daysInMonth(reading.year, reading.month) - reading.day + 1)
                let nextMonth = x(dayStart.addingTimeInterval(daysLeftInMonth * 86_400))
                labels += fitting(["\(month) \(reading.year)", month], from: position, to: nextMonth, kind: "month")
            }
            let visibleLeft = x(max(dayStart, horizon.start)), visibleRight = x(min(dayEnd, horizon.end))
            if labelDays && visibleRight - visibleLeft >= 20 {
                labels.append(AxisLabel(x: number((visibleLeft + visibleRight) / 2), y: "36",
                                        text: visibleRight - visibleLeft >= 32 ? "\(weekday) \(reading.day)" : String(reading.day),
                                        kind: reading.weekday >= 5 ? "day weekend" : "day"))
            }
            dayStart = dayEnd
            isFirst = false
        }
        return (lines, labels)
    }

    /// The first of `texts` that fits between a line and the next (and the chart's right edge),
    /// as a label starting at the line; none when none fits. A partial first week or month
    /// starts at the chart's left edge.
    private static func fitting(_ texts: [String], from line: Double, to next: Double, kind: String) -> [AxisLabel] {
        let left = max(line, TimelineScale.chartLeft) + 3
        let room = min(next, TimelineScale.chartRight) - left
        guard let text = texts.first(where: { AxisLabel.width(ofCharacters: $0.count) <= room }) else { return [] }
        return [AxisLabel(x: TimelineScale.number(left), y: "16", text: text, kind: kind)]
    }

    private static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

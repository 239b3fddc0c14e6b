import Foundation
import Scheduling

/// The timeline of `report.html` as numbers and labels for the template to lay out as SVG:
/// one lane per service window and per environment over the horizon, a local-time axis, bars
/// coloured by group, conflicts outlined, freezes shaded.
///
/// Coordinates are user units of a fixed `viewBox`, so the drawing scales to any width.
struct Timeline {
    /// Okabe–Ito colours (safe for colour-blind readers), without their vermillion, which would be
    /// confused with the red of conflicts; assigned by the group's position in `NightlyReport.groups`.
    /// Beyond eight groups colours repeat; the tooltip names each bar's group.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#56B4E9", "#CC79A7", "#F0E442", "#8C6BB1", "#999999"]

    struct GridLine {
        let x: String
        /// `day`, `week` or `month`: the stroke the template gives it.
        let kind: String
    }

    struct AxisLabel {
        let x: String
        let y: String
        let text: String
        let kind: String

        /// Room a week or month label takes in user units (12px semibold, the template's
        /// `.axis text.week`), with a little to spare: enough to keep labels from colliding.
        static func width(ofCharacters count: Int) -> Double {
            Double(count) * 7.2
        }
    }

    struct Header {
        let y: String
        let text: String
    }

    struct Rect {
        let x: String
        let y: String
        let width: String
        let height: String
        let title: String
        /// Text drawn at the top of a global freeze, when it fits.
        var caption: String? = nil
        var captionX = "0"
        var captionY = "0"
    }

    struct Bar {
        let x: String
        let y: String
        let width: String
        let height: String
        let fill: String
        let classes: String
        let title: String
        let isConflict: Bool
        /// The release key when it fits inside the bar. (Not `label`: Mustache would find the
        /// lane's label when this one is nil.)
        let barLabel: String?
        let labelX: String
        let labelY: String
    }

    struct Lane {
        /// `window` or `environment`
        let kind: String
        let code: String
        let y: String
        let height: String
        let isStriped: Bool
        let label: String
        let labelY: String
        let title: String
        let slot: Rect?
        let slotClasses: String
        /// Beside a window's slot: the releases in it, readable without hovering.
        let note: String?
        let noteX: String
        let noteAnchor: String
        let noteClasses: String
        let freezes: [Rect]
        let bars: [Bar]
    }

    struct LegendEntry {
        let name: String
        let colour: String
    }

    /// The moment the report was made, where it falls in the horizon: a line across every lane.
    struct NowMark {
        let x: String
        let labelX: String
        let labelY: String
        let anchor: String
        let text: String
        let title: String
    }

    let width: Int
    let height: Int
    let lanesBottom: String
    let gridTop: String
    let gridLines: [GridLine]
    let axisLabels: [AxisLabel]
    let headers: [Header]
    let lanes: [Lane]
    let globalFreezes: [Rect]
    let legend: [LegendEntry]
    let notes: [String]
    let now: NowMark?
}

extension Timeline {
    init(_ report: NightlyReport, ordered: [NightlyReport.TrackedConflict], limits: ReportLimits) {
        let clock = ReportClock(zone: report.timeZone)
        let scale = TimelineScale(horizon: report.horizon)
        let marks = ConflictMarks(ordered.filter { $0.status != .resolved }.map(\.conflict))

        let windowsInHorizon = report.windows.filter { $0.interval.overlaps(report.horizon) }
        let windows = Self.chooseWindows(windowsInHorizon, limit: limits.windowLanes, marks: marks)
        let allEnvironments = report.environments.sorted { $0.code < $1.code }
        let environments = Array(allEnvironments.prefix(limits.environmentLanes))

        var builder = LaneBuilder(report: report, windows: windows, environments: environments, scale: scale, clock: clock,
                                  marks: marks, limits: limits)
        if !windowsInHorizon.isEmpty {
            builder.addHeader(Self.heading("Service windows", shown: windows.count, of: windowsInHorizon.count))
        }
        for window in windows { builder.addLane(for: window) }
        if !allEnvironments.isEmpty {
            builder.addHeader(Self.heading("Environments", shown: environments.count, of: allEnvironments.count))
        }
        for environment in environments { builder.addLane(for: environment) }

        var notes: [String] = []
        if windows.count < windowsInHorizon.count {
            notes.append("The timeline shows \(windows.count) of \(windowsInHorizon.count) service windows in the horizon: "
                + "those in conflict or over capacity, then the earliest; calendar.ics holds them all.")
        }
        if environments.count < allEnvironments.count {
            notes.append("The timeline shows \(environments.count) of \(allEnvironments.count) environments (by code).")
        }
        if builder.hiddenBars > 0 {
            notes.append("\(Wording.count(builder.hiddenBars, "bar")) beyond \(limits.barsPerLane) per lane are not drawn; "
                + "each lane's tooltip counts them.")
        }

        width = Int(TimelineScale.width)
        height = Int((builder.bottom + 8).rounded(.up))
        lanesBottom = TimelineScale.number(builder.bottom)
        gridTop = TimelineScale.number(TimelineScale.axisHeight - 22)
        (gridLines, axisLabels) = Self.axis(horizon: report.horizon, clock: clock, scale: scale)
        headers = builder.headers
        lanes = builder.lanes
        globalFreezes = builder.globalFreezes(report.freezes.filter { $0.environment == nil })
        legend = report.groups.enumerated().map { LegendEntry(name: $1, colour: Self.colour(position: $0)) }
        self.notes = notes
        now = Self.nowMark(report.generatedAt, horizon: report.horizon, clock: clock, scale: scale)
    }

    /// "now 17:46" at the top of a line at the report's moment, when the horizon holds it; the
    /// label sits left of the line near the chart's right edge so that it stays inside.
    static func nowMark(_ now: Date, horizon: Interval, clock: ReportClock, scale: TimelineScale) -> NowMark? {
        guard horizon.start <= now && now < horizon.end else { return nil }
        let x = scale.x(now)
        let r = clock.reading(now)
        let text = "now \(ReportClock.pad(r.hour)):\(ReportClock.pad(r.minute))"
        let leftward = x > TimelineScale.chartRight - 60
        return NowMark(x: TimelineScale.number(x), labelX: TimelineScale.number(leftward ? x - 3 : x + 3),
                       labelY: TimelineScale.number(TimelineScale.axisHeight - 17), anchor: leftward ? "end" : "start",
                       text: text, title: "The report was made \(clock.dateTime(now))")
    }

    static func colour(position: Int) -> String {
        palette[position % palette.count]
    }

    /// The windows that get a lane: when there are too many, the ones in trouble (a capacity
    /// conflict, over capacity) before the earliest of the rest; shown in time order.
    static func chooseWindows(_ windows: [NightlyReport.WindowLoad], limit: Int, marks: ConflictMarks) -> [NightlyReport.WindowLoad] {
        func chronological(_ a: NightlyReport.WindowLoad, _ b: NightlyReport.WindowLoad) -> Bool {
            (a.interval.start, a.code) < (b.interval.start, b.code)
        }
        guard windows.count > limit else { return windows.sorted(by: chronological) }
        func inTrouble(_ w: NightlyReport.WindowLoad) -> Bool { w.used > w.capacity || marks.windowIsInConflict(w.code) }
        let troubled = windows.filter(inTrouble).sorted(by: chronological)
        let others = windows.filter { !inTrouble($0) }.sorted(by: chronological)
        return Array((troubled + others).prefix(limit)).sorted(by: chronological)
    }

    private static func heading(_ noun: String, shown: Int, of total: Int) -> String {
        shown == total ? "\(noun) (\(total))" : "\(noun) (\(shown) of \(total))"
    }
}

/// Maps instants of the horizon to x coordinates of the drawing, whose `viewBox` is
/// `width` user units wide: lane labels on the left, the chart from `chartLeft` to `chartRight`.
struct TimelineScale {
    static let width = 1200.0
    static let chartLeft = 212.0
    static let chartRight = 1188.0
    static let axisHeight = 44.0
    /// Average advance of a character of the 10–12 px labels, to decide what fits.
    static let characterWidth = 6.2

    let horizon: Interval
    private let span: TimeInterval
    private let unitsPerSecond: Double

    init(horizon: Interval) {
        self.horizon = horizon
        span = max(horizon.duration, 3600)
        unitsPerSecond = (Self.chartRight - Self.chartLeft) / span
    }

    /// Clamped to the chart: something that starts before the horizon starts at its left edge.
    func x(_ date: Date) -> Double {
        Self.chartLeft + min(max(date.timeIntervalSince(horizon.start), 0), span) * unitsPerSecond
    }

    var dayWidth: Double { 86_400 * unitsPerSecond }

    static func fits(_ text: String, in width: Double) -> Bool {
        Double(text.count) * characterWidth + 6 <= width
    }

    /// One decimal, no locale, no exponent: SVG coordinates that are identical run to run.
    static func number(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = abs(tenths)
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }
}

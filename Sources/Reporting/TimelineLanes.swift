import Foundation
import Scheduling

/// Lays out the timeline's lanes top to bottom: each lane's bars stacked in rows where they
/// overlap, its window slot or environment freezes, and the note beside a window's slot.
struct LaneBuilder {
    private enum Metrics {
        static let headerHeight = 24.0
        static let rowHeight = 14.0
        static let barHeight = 11.0
        static let lanePadding = 4.0
        static let minimumBarWidth = 4.0
        static let labelCharacters = 24
        static let noteCharacters = 64
    }

    private let scale: TimelineScale
    private let clock: ReportClock
    private let marks: ConflictMarks
    private let limits: ReportLimits
    private let colours: [String: String]
    private let barsByLane: [NightlyReport.Bar.Lane: [NightlyReport.Bar]]
    private let freezesByEnvironment: [String: [NightlyReport.FreezePeriod]]

    private(set) var lanes: [Timeline.Lane] = []
    private(set) var headers: [Timeline.Header] = []
    /// Bars left out by `ReportLimits.barsPerLane`.
    private(set) var hiddenBars = 0
    /// The y coordinate below the last lane.
    private(set) var bottom: Double
    private let top: Double

    init(report: NightlyReport, windows: [NightlyReport.WindowLoad], environments: [NightlyReport.EnvironmentLane],
         scale: TimelineScale, clock: ReportClock, marks: ConflictMarks, limits: ReportLimits) {
        self.scale = scale
        self.clock = clock
        self.marks = marks
        self.limits = limits
        colours = Dictionary(report.groups.enumerated().map { ($1, Timeline.colour(position: $0)) },
                             uniquingKeysWith: { first, _ in first })
        // One pass over the bars, keeping only those of drawn lanes inside the horizon.
        var drawn = Set<NightlyReport.Bar.Lane>()
        for window in windows { drawn.insert(.window(window.code)) }
        for environment in environments { drawn.insert(.environment(environment.code)) }
        var barsByLane: [NightlyReport.Bar.Lane: [NightlyReport.Bar]] = [:]
        for bar in report.bars where drawn.contains(bar.lane) && bar.interval.overlaps(report.horizon) {
            barsByLane[bar.lane, default: []].append(bar)
        }
        self.barsByLane = barsByLane
        var freezes: [String: [NightlyReport.FreezePeriod]] = [:]
        for freeze in report.freezes where freeze.interval.overlaps(report.horizon) {
            if let environment = freeze.environment { freezes[environment, default: []].append(freeze) }
        }
        freezesByEnvironment = freezes.mapValues { $0.sorted { ($0.interval.start, $0.code) < ($1.interval.start, $1.code) } }
        top = TimelineScale.axisHeight + 4
        bottom = top
    }

    mutating func addHeader(_ text: String) {
        headers.append(Timeline.Header(y: TimelineScale.number(bottom + 16), text: text))
        bottom += Metrics.headerHeight
    }

    mutating func addLane(for window: NightlyReport.WindowLoad) {
        let over = window.used > window.capacity
        let load = "\(window.used)/\(window.capacity)"
        let span = clock.span(window.interval)
        addLane(.window(window.code), label: "\(window.code) \(load)",
                title: "\(window.code) (\(window.kind)): \(span), \(load) used\(over ? ", over capacity" : "")",
                window: window)
    }

    mutating func addLane(for environment: NightlyReport.EnvironmentLane) {
        addLane(.environment(environment.code), label: environment.code,
                title: "\(environment.code): \(environment.name) (\(environment.kind), capacity \(environment.capacity))",
                window: nil)
    }

    /// Hatched rectangles over every lane, one per global freeze in the horizon.
    func globalFreezes(_ freezes: [NightlyReport.FreezePeriod]) -> [Timeline.Rect] {
        freezes
            .filter { $0.interval.overlaps(scale.horizon) }
            .sorted { ($0.interval.start, $0.code) < ($1.interval.start, $1.code) }
            .map { freeze in
                let left = scale.x(freeze.interval.start)
                let width = max(scale.x(freeze.interval.end) - left, 2)
                return Timeline.Rect(
                    x: TimelineScale.number(left), y: TimelineScale.number(top), width: TimelineScale.number(width),
                    height: TimelineScale.number(max(bottom - top, 0)),
                    title: "Freeze \(freeze.code), all environments: \(freeze.reason), \(clock.span(freeze.interval))",
                    caption: TimelineScale.fits(freeze.code, in: width) ? freeze.code : nil,
                    captionX: TimelineScale.number(left + 3), captionY: TimelineScale.number(top + 12)
                )
            }
    }

    private mutating func addLane(_ lane: NightlyReport.Bar.Lane, label: String, title: String, window: NightlyReport.WindowLoad?) {
        let all = (barsByLane[lane] ?? []).sorted {
            ($0.interval.start, $0.release, $0.kind, $0.interval.end, $0.title)
                < ($1.interval.start, $1.release, $1.kind, $1.interval.end, $1.title)
        }
        let shown = Array(all.prefix(limits.barsPerLane))
        hiddenBars += all.count - shown.count
        let rows = Self.stack(shown.map(\.interval), maxRows: max(1, limits.rowsPerLane))
        let height = Metrics.lanePadding * 2 + Double((rows.max() ?? 0) + 1) * Metrics.rowHeight
        let y = bottom

        var barsLeft = Double.infinity, barsRight = -Double.infinity
        let bars = zip(shown, rows).map { bar, row in
            let left = scale.x(bar.interval.start)
            let width = max(scale.x(bar.interval.end) - left, Metrics.minimumBarWidth)
            barsLeft = min(barsLeft, left)
            barsRight = max(barsRight, left + width)
            let barTop = y + Metrics.lanePadding + Double(row) * Metrics.rowHeight + (Metrics.rowHeight - Metrics.barHeight) / 2
            return self.bar(bar, left: left, top: barTop, width: width)
        }

        let (kind, code): (String, String) =
            switch lane {
            case .window(let code): ("window", code)
            case .environment(let code): ("environment", code)
            }
        let troubled = window.map { $0.used > $0.capacity || marks.windowIsInConflict($0.code) } ?? false
        let note = window.map { self.note(for: $0, barsLeft: barsLeft, barsRight: barsRight) }
        let laneFreezes = window == nil ? freezesByEnvironment[code] ?? [] : []
        let freezes = laneFreezes.map { freeze in
            let left = scale.x(freeze.interval.start)
            return Timeline.Rect(
                x: TimelineScale.number(left), y: TimelineScale.number(y),
                width: TimelineScale.number(max(scale.x(freeze.interval.end) - left, 2)), height: TimelineScale.number(height),
                title: "Freeze \(freeze.code) of \(code): \(freeze.reason), \(clock.span(freeze.interval))"
            )
        }
        let slot = window.map { window in
            let left = scale.x(window.interval.start)
            return Timeline.Rect(
                x: TimelineScale.number(left), y: TimelineScale.number(y + 1),
                width: TimelineScale.number(max(scale.x(window.interval.end) - left, 3)), height: TimelineScale.number(height - 2),
                title: "\(window.code): \(clock.span(window.interval)), \(window.used)/\(window.capacity) used"
                    + (window.used > window.capacity ? ", over capacity" : "")
            )
        }
        let hidden = all.count - shown.count
        lanes.append(Timeline.Lane(
            kind: kind, code: code, y: TimelineScale.number(y), height: TimelineScale.number(height),
            isStriped: lanes.count % 2 == 1,
            label: TextTable.clip(label, Metrics.labelCharacters), labelY: TimelineScale.number(y + height / 2 + 4),
            title: title + (hidden > 0 ? " (\(hidden) more bars not drawn)" : ""),
            slot: slot, slotClasses: troubled ? "slot conflict" : "slot",
            note: note?.text, noteX: TimelineScale.number(note?.x ?? 0), noteAnchor: note?.anchor ?? "start",
            noteClasses: troubled ? "lane-note over" : "lane-note",
            freezes: freezes, bars: bars
        ))
        bottom += height
    }

    private func bar(_ bar: NightlyReport.Bar, left: Double, top: Double, width: Double) -> Timeline.Bar {
        let conflicts = marks.conflicts(for: bar)
        var classes = ["bar"]
        if bar.kind == "tentative" { classes.append("tentative") }
        if !conflicts.isEmpty { classes.append("conflict") }
        return Timeline.Bar(
            x: TimelineScale.number(left), y: TimelineScale.number(top), width: TimelineScale.number(width),
            height: TimelineScale.number(Metrics.barHeight), fill: colours[bar.group] ?? "#999999",
            classes: classes.joined(separator: " "), title: tooltip(bar, conflicts: conflicts), isConflict: !conflicts.isEmpty,
            // The release key when it fits, else its group: the colour is never the only thing that names the group.
            barLabel: TimelineScale.fits(bar.release, in: width) ? bar.release : TimelineScale.fits(bar.group, in: width) ? bar.group : nil,
            labelX: TimelineScale.number(left + 3), labelY: TimelineScale.number(top + Metrics.barHeight - 2)
        )
    }

    /// The releases of a window, written to the right of its slot (or to the left when the slot
    /// is near the end of the horizon), so the lane reads without hovering.
    private func note(for window: NightlyReport.WindowLoad, barsLeft: Double, barsRight: Double) -> (text: String, x: Double, anchor: String) {
        let text = TextTable.clip(window.releases.isEmpty ? "free" : window.releases.joined(separator: ", "), Metrics.noteCharacters)
        let right = max(scale.x(window.interval.end), scale.x(window.interval.start) + 3, barsRight)
        if right + 6 + Double(text.count) * TimelineScale.characterWidth <= TimelineScale.chartRight {
            return (text, right + 6, "start")
        }
        return (text, min(scale.x(window.interval.start), barsLeft) - 6, "end")
    }

    /// What a bar's tooltip says: the release, when, and the conflicts it is part of.
    private func tooltip(_ bar: NightlyReport.Bar, conflicts: [Conflict]) -> String {
        // One line per fact: a title's own line breaks would split it.
        var lines = ["\(bar.release) (\(bar.group)): \(OneLine.text(bar.title))", "\(bar.kind), \(clock.span(bar.interval))"]
        let times = LocalTimes(zone: clock.zone)
        for conflict in conflicts.prefix(3) {
            lines.append("Conflict \(conflict.type.rawValue) (\(conflict.severity.rawValue)) between \(conflict.releases.joined(separator: ", ")): \(OneLine.text(times.render(conflict.text)))")
        }
        if conflicts.count > 3 { lines.append("and \(conflicts.count - 3) more conflicts") }
        return lines.joined(separator: "\n")
    }

    /// Row of each interval (sorted by start) so that overlapping ones sit on different rows;
    /// beyond `maxRows` they share the row that frees up first.
    static func stack(_ intervals: [Interval], maxRows: Int) -> [Int] {
        var rowEnds: [Date] = []
        return intervals.map { interval in
            if let free = rowEnds.firstIndex(where: { $0 <= interval.start }) {
                rowEnds[free] = interval.end
                return free
            }
            if rowEnds.count < maxRows {
                rowEnds.append(interval.end)
                return rowEnds.count - 1
            }
            let earliest = rowEnds.indices.min { rowEnds[$0] < rowEnds[$1] } ?? 0
            rowEnds[earliest] = max(rowEnds[earliest], interval.end)
            return earliest
        }
    }
}

/// Which bars a conflict concerns: those of its releases in the lane of its environment or
/// window, or, when it names neither, the deployments of its releases.
struct ConflictMarks {
    private struct Key: Hashable {
        let lane: NightlyReport.Bar.Lane?
        let release: String
    }

    private var byKey: [Key: [Conflict]] = [:]
    private var windowsInConflict: Set<String> = []

    init(_ conflicts: [Conflict]) {
        for conflict in conflicts {
            let lane: NightlyReport.Bar.Lane? =
                if let environment = conflict.environment { .environment(environment) }
                else if let window = conflict.window { .window(window) }
                else { nil }
            if conflict.type == .windowCapacity, let window = conflict.window { windowsInConflict.insert(window) }
            for release in conflict.releases {
                byKey[Key(lane: lane, release: release), default: []].append(conflict)
            }
        }
    }

    func conflicts(for bar: NightlyReport.Bar) -> [Conflict] {
        var found = byKey[Key(lane: bar.lane, release: bar.release)] ?? []
        if case .window = bar.lane { found += byKey[Key(lane: nil, release: bar.release)] ?? [] }
        return found
    }

    /// True when the window holds a capacity conflict: its slot is outlined in red.
    func windowIsInConflict(_ code: String) -> Bool {
        windowsInConflict.contains(code)
    }
}

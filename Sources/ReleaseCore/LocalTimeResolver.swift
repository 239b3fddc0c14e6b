import Foundation

// The rules for local times that do not exist or exist twice are in TimestampParser.swift.

/// Local wall-clock seconds → UTC seconds in one zone, memoised per local day.
///
/// A day whose offset is the same a day before and a day after has one offset; other days
/// (the few around a change) are resolved per time, by the rules in the file's header.
struct LocalTimeResolver: Sendable {
    let timeZone: TimeZone
    private var lastDay = Int64.min
    private var lastOffset: Int64 = 0
    private var lastDayIsUniform = false
    private var uniformOffsets: [Int64: Int64] = [:]
    private var changeDays: [Int64: (before: Int64, after: Int64)] = [:]

    init(timeZone: TimeZone) {
        self.timeZone = timeZone
    }

    mutating func utcSeconds(forLocal local: Int64) -> Int64 {
        let day = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        if day == lastDay, lastDayIsUniform { return local - lastOffset }
        if let offset = uniformOffsets[day] {
            remember(day: day, offset: offset)
            return local - offset
        }
        if let change = changeDays[day] { return resolve(local, change) }
        let before = offset(atUTC: (day - 1) * 86_400)
        let after = offset(atUTC: (day + 2) * 86_400)
        if before == after {
            if uniformOffsets.count > 100_000 { uniformOffsets.removeAll(keepingCapacity: true) }
            uniformOffsets[day] = before
            remember(day: day, offset: before)
            return local - before
        }
        changeDays[day] = (before, after)
        return resolve(local, (before, after))
    }

    private mutating func remember(day: Int64, offset: Int64) {
        lastDay = day
        lastOffset = offset
        lastDayIsUniform = true
    }

    private func offset(atUTC seconds: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
    }

    private func resolve(_ local: Int64, _ change: (before: Int64, after: Int64)) -> Int64 {
        let earlier = max(change.before, change.after)  // the larger offset gives the earlier instant
        let later = min(change.before, change.after)
        if offset(atUTC: local - earlier) == earlier { return local - earlier }
        if offset(atUTC: local - later) == later { return local - later }
        // In the gap: keep the offset from before the change, which moves the time forward.
        return local - change.before
    }
}

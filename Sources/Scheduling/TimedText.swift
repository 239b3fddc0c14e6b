import Foundation
import ReleaseCore

/// A message that names moments: text pieces and instants, so one message reads in UTC for
/// machines (JSON, CSV, the stored history: RFC 3339, `2026-12-26T21:00:00Z`) and in a person's
/// zone for people (tables, the report's Markdown and HTML), rendered when it is printed.
public struct TimedText: Sendable, Hashable {
    public enum Piece: Sendable, Hashable {
        case text(String)
        /// Seconds since 1970 (may be infinite: `never`, `always`).
        case instant(Double)
        /// `start/end`, the ISO 8601 notation for a time interval.
        case interval(Double, Double)
    }

    public var pieces: [Piece]

    public init(_ pieces: [Piece]) {
        self.pieces = pieces
    }

    /// Plain text without instants.
    public init(_ text: String) {
        pieces = [.text(text)]
    }

    /// Rebuilds the instants of a text written in UTC (`…Z`, as `utc` writes it): a message read
    /// back from the history, or a reason another part wrote as a string.
    public init(parsingUTC text: String) {
        var pieces: [Piece] = []
        let bytes = Array(text.utf8)
        var index = 0, textStart = 0
        func flush(to end: Int) {
            if end > textStart { pieces.append(.text(String(decoding: bytes[textStart..<end], as: UTF8.self))) }
        }
        while index + Self.stampLength <= bytes.count {
            guard let start = Self.stamp(bytes, at: index) else { index += 1; continue }
            flush(to: index)
            var next = index + Self.stampLength
            if next < bytes.count, bytes[next] == UInt8(ascii: "/"), let end = Self.stamp(bytes, at: next + 1) {
                pieces.append(.interval(start, end))
                next += 1 + Self.stampLength
            } else {
                pieces.append(.instant(start))
            }
            index = next
            textStart = next
        }
        flush(to: bytes.count)
        self.pieces = pieces
    }

    /// RFC 3339 UTC: what JSON, CSV and the history carry.
    public var utc: String {
        rendered(instant: { Timestamp.format(seconds: $0) })
    }

    /// The text with every instant written by `instant`; an interval is `start/end` unless
    /// `interval` is given.
    public func rendered(instant: (Double) -> String, interval: ((Double, Double) -> String)? = nil) -> String {
        var text = ""
        for piece in pieces {
            switch piece {
            case .text(let value): text += value
            case .instant(let seconds): text += instant(seconds)
            case .interval(let start, let end): text += interval?(start, end) ?? "\(instant(start))/\(instant(end))"
            }
        }
        return text
    }

    private static let stampLength = 20

    /// `YYYY-MM-DDTHH:MM:SSZ` at `offset`, as seconds since 1970.
    private static func stamp(_ bytes: [UInt8], at offset: Int) -> Double? {
        guard offset + stampLength <= bytes.count else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for i in from..<(from + count) {
                let b = bytes[offset + i]
                guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(b - UInt8(ascii: "0"))
            }
            return value
        }
        func at(_ i: Int, _ c: Character) -> Bool { bytes[offset + i] == c.asciiValue }
        guard at(4, "-"), at(7, "-"), at(10, "T"), at(13, ":"), at(16, ":"), at(19, "Z"),
              let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
              let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        // Not part of a longer token (a code holding digits right before the year, say).
        if offset > 0, let previous = Optional(bytes[offset - 1]),
           (previous >= UInt8(ascii: "0") && previous <= UInt8(ascii: "9")) { return nil }
        let days = CivilCalendar.days(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second)
    }
}

extension TimedText: ExpressibleByStringInterpolation {
    public init(stringLiteral value: String) {
        self.init(value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(stringInterpolation.pieces)
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var pieces: [Piece] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            pieces.reserveCapacity(interpolationCount * 2 + 1)
        }

        public mutating func appendLiteral(_ literal: String) {
            appendText(literal)
        }

        public mutating func appendInterpolation(_ piece: Piece) {
            if case .text(let value) = piece { appendText(value) } else { pieces.append(piece) }
        }

        public mutating func appendInterpolation<T: CustomStringConvertible>(_ value: T) {
            appendText(value.description)
        }

        private mutating func appendText(_ text: String) {
            guard !text.isEmpty else { return }
            if case .text(let previous)? = pieces.last {
                pieces[pieces.count - 1] = .text(previous + text)
            } else {
                pieces.append(.text(text))
            }
        }
    }
}

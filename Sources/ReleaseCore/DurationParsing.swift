import Foundation

/// Durations as people write them: compact (`4h`, `90m`, `3d`, `4h30m`, `1w`) or ISO 8601
/// (`PT4H`, `P3D`, `P1DT12H`, `P2W`). Letters may be either case.
///
/// The result is a count of seconds. Where a duration is laid on a calendar (windows, bookings),
/// callers add it to the wall clock, so `1d` means "same time tomorrow", even across a DST change.
public enum Durations {
    /// Ten years: longer is a typo, and the bound keeps the arithmetic far from overflow.
    public static let maximumSeconds = 3650 * 86_400

    /// Parses a duration longer than zero.
    public static func seconds(in text: String) throws(InvalidDuration) -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw InvalidDuration(text: text, reason: .empty) }
        let seconds: Int
        do throws(InvalidDuration.Reason) {
            if trimmed.first == "P" || trimmed.first == "p" {
                seconds = try parseISO(trimmed.uppercased())
            } else {
                seconds = try parseCompact(trimmed.lowercased())
            }
        } catch {
            throw InvalidDuration(text: text, reason: error)
        }
        guard seconds > 0 else { throw InvalidDuration(text: text, reason: .zero) }
        return seconds
    }

    /// The compact form with the largest units first: 16,200 seconds is `4h30m`, 259,200 is `3d`.
    public static func format(seconds: Int) -> String {
        guard seconds > 0 else { return seconds == 0 ? "0s" : "-" + format(seconds: -seconds) }
        var rest = seconds
        var text = ""
        for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }

    private static let compactUnits: [(unit: Character, seconds: Int)] = [
        ("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1),
    ]

    /// `4h30m`, `90m`, `1d 12h`: each unit at most once, largest first.
    private static func parseCompact(_ text: String) throws(InvalidDuration.Reason) -> Int {
        var total = 0
        var lastUnitIndex = -1
        var digits = ""
        for character in text {
            if character.isASCII && character.isNumber {
                digits.append(character)
            } else if character == " " {
                if !digits.isEmpty { throw .missingUnit(after: digits) }
            } else if character == "." || character == "," {
                throw .fraction
            } else if let index = compactUnits.firstIndex(where: { $0.unit == character }) {
                guard !digits.isEmpty else { throw .missingNumber(before: character) }
                guard index > lastUnitIndex else { throw .unitOutOfOrder(character) }
                total = try add(digits, times: compactUnits[index].seconds, to: total)
                lastUnitIndex = index
                digits = ""
            } else {
                throw .unknownUnit(character)
            }
        }
        if !digits.isEmpty { throw .missingUnit(after: digits) }
        return total
    }

    /// `PnW` or `P[nD][T[nH][nM][nS]]`; years and months are refused: they have no fixed length.
    private static func parseISO(_ text: String) throws(InvalidDuration.Reason) -> Int {
        var total = 0
        var digits = ""
        var inTimePart = false
        var sawComponent = false
        var lastOrder = -1
        // Designators in the order ISO 8601 requires them.
        let dateOrder: [Character: (order: Int, seconds: Int)] = ["W": (0, 604_800), "D": (1, 86_400)]
        let timeOrder: [Character: (order: Int, seconds: Int)] = ["H": (2, 3_600), "M": (3, 60), "S": (4, 1)]
        for character in text.dropFirst() {
            if character.isASCII && character.isNumber {
                digits.append(character)
                continue
            }
            if character == "." || character == "," { throw .fraction }
            if character == "T" {
                guard !inTimePart, digits.isEmpty else { throw .malformedISO }
                inTimePart = true
                continue
            }
            if !inTimePart && (character == "Y" || character == "M") { throw .calendarUnit(character) }
            guard let designator = (inTimePart ? timeOrder : dateOrder)[character] else {
                throw .malformedISO
            }
            guard !digits.isEmpty else { throw .missingNumber(before: character) }
            guard designator.order > lastOrder else { throw .unitOutOfOrder(character) }
            total = try add(digits, times: designator.seconds, to: total)
            lastOrder = designator.order
            sawComponent = true
            digits = ""
        }
        guard digits.isEmpty, sawComponent, !(inTimePart && lastOrder < 2) else { throw .malformedISO }
        return total
    }

    private static func add(_ digits: String, times unit: Int, to total: Int) throws(InvalidDuration.Reason) -> Int {
        guard digits.count <= 9, let number = Int(digits) else { throw .tooLong }
        let sum = total + number * unit
        guard sum <= maximumSeconds else { throw .tooLong }
        return sum
    }
}

/// Text that is not a duration, with what is wrong.
public struct InvalidDuration: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Error, Sendable, Hashable {
        case empty
        case zero
        case missingUnit(after: String)
        case missingNumber(before: Character)
        case unknownUnit(Character)
        case unitOutOfOrder(Character)
        case fraction
        case calendarUnit(Character)
        case malformedISO
        case tooLong
    }

    public let text: String
    public let reason: Reason

    public init(text: String, reason: Reason) {
        self.text = text
        self.reason = reason
    }

    public var description: String {
        let subject = "duration '\(text)'"
        let hint = "write e.g. 4h, 90m, 3d, 4h30m or PT4H"
        switch reason {
        case .empty: return "duration is empty: \(hint)"
        case .zero: return "\(subject) is zero: a duration must be longer than zero"
        case .missingUnit(let number): return "\(subject): '\(number)' has no unit (w, d, h, m or s); \(hint)"
        case .missingNumber(let unit): return "\(subject): '\(unit)' has no number before it"
        case .unknownUnit(let unit): return "\(subject): unknown unit '\(unit)'; use w, d, h, m or s"
        case .unitOutOfOrder(let unit):
            return "\(subject): '\(unit)' is repeated or out of order; write the largest unit first, each once"
        case .fraction: return "\(subject): fractions are not supported; write 1h30m rather than 1.5h"
        case .calendarUnit(let unit):
            return "\(subject): '\(unit)' (years or months) has no fixed length; use weeks or days"
        case .malformedISO: return "\(subject) is not an ISO 8601 duration such as PT4H, P3D or P1DT12H"
        case .tooLong: return "\(subject) is longer than \(Durations.maximumSeconds / 86_400) days"
        }
    }
}

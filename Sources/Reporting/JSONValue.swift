import Foundation
import ReleaseCore

/// A JSON document with object keys kept in the order they were given.
///
/// The CLI's JSON is a contract read by scripts: a stable key order and stable number and
/// timestamp formatting make outputs diffable run to run, which `JSONSerialization` does not promise.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        lhs.serialized() == rhs.serialized()
    }

    /// RFC 3339 in UTC (`2027-03-14T17:00:00Z`), the contract's timestamp form.
    public static func timestamp(_ date: Date?) -> JSONValue {
        guard let date else { return .null }
        return .string(Timestamps.rfc3339(date))
    }

    public static func string(_ value: String?) -> JSONValue {
        value.map { .string($0) } ?? .null
    }

    public static func strings(_ values: [String]) -> JSONValue {
        .array(values.map { .string($0) })
    }

    /// Compact when `pretty` is false; two-space indentation otherwise.
    public func serialized(pretty: Bool = false) -> String {
        var output = ""
        write(to: &output, pretty: pretty, indent: 0)
        return output
    }

    private func write(to output: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .int(let value): output += String(value)
        case .double(let value):
            if value.isFinite {
                output += value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
            } else {
                output += "null"
            }
        case .string(let value): Self.escape(value, into: &output)
        case .array(let values):
            if values.isEmpty { output += "[]"; return }
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                if pretty { output += "\n" + String(repeating: "  ", count: indent + 1) }
                value.write(to: &output, pretty: pretty, indent: indent + 1)
            }
            if pretty { output += "\n" + String(repeating: "  ", count: indent) }
            output += "]"
        case .object(let pairs):
            if pairs.isEmpty { output += "{}"; return }
            output += "{"
            for (index, (key, value)) in pairs.enumerated() {
                if index > 0 { output += "," }
                if pretty { output += "\n" + String(repeating: "  ", count: indent + 1) }
                Self.escape(key, into: &output)
                output += pretty ? ": " : ":"
                value.write(to: &output, pretty: pretty, indent: indent + 1)
            }
            if pretty { output += "\n" + String(repeating: "  ", count: indent) }
            output += "}"
        }
    }

    static func escape(_ text: String, into output: inout String) {
        output += "\""
        // Most values need no escaping: append them whole.
        // DEL and C1 controls (UTF-8 0x7F, 0xC2 0x80–0x9F) are escaped too: JSON stays JSON, and no
        // control character reaches a terminal that shows it (TerminalText).
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == 0x7F || $0 == 0xC2 }) {
            output += text
            output += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case let c where c.value < 0x20 || (c.value >= 0x7F && c.value <= 0x9F):
                output += String(format: "\\u%04x", c.value)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}

/// Timestamp text shared by every output format.
public enum Timestamps {
    /// `2027-03-14T17:00:00Z`; fractions of a second are dropped (plans work in minutes).
    public static func rfc3339(_ date: Date) -> String {
        let seconds = Int64((date.timeIntervalSince1970).rounded(.down))
        return CivilCalendar.rfc3339(unixMicroseconds: seconds * 1_000_000)
    }

    /// `2027-03-14 18:00` in the given zone, for tables people read.
    public static func local(_ date: Date, in zone: TimeZone) -> String {
        let shifted = date.addingTimeInterval(TimeInterval(zone.secondsFromGMT(for: date)))
        return String(rfc3339(shifted).prefix(16)).replacingOccurrences(of: "T", with: " ")
    }
}

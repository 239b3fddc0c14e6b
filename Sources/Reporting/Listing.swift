import Foundation

/// How a listing or a `show` is printed: `--format table|json|csv`.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, json, csv
}

/// One value of a listing, typed so JSON keeps numbers as numbers and tables show local time.
public enum Cell: Sendable, Equatable {
    case text(String?)
    case int(Int?)
    case bool(Bool)
    case timestamp(Date?)
    case list([String])

    public var json: JSONValue {
        switch self {
        case .text(let value): return .string(value)
        case .int(let value): return value.map { .int($0) } ?? .null
        case .bool(let value): return .bool(value)
        case .timestamp(let value): return .timestamp(value)
        case .list(let values): return .strings(values)
        }
    }

    func text(in zone: TimeZone, forTable: Bool) -> String {
        switch self {
        case .text(let value): return value ?? ""
        case .int(let value): return value.map(String.init) ?? ""
        case .bool(let value): return forTable ? (value ? "yes" : "no") : (value ? "true" : "false")
        case .timestamp(let value):
            guard let value else { return "" }
            return forTable ? Timestamps.local(value, in: zone) : Timestamps.rfc3339(value)
        case .list(let values): return values.joined(separator: forTable ? ", " : "|")
        }
    }
}

/// Rows of one kind of thing, printed as an aligned table, one JSON object, or CSV with a header.
///
/// JSON is `{"<plural noun>": [{...}, ...]}` with snake_case keys named as the CLI's options
/// (DESIGN.md §4); the table shows the same columns under upper-case headings.
public struct Listing: Sendable {
    public let noun: String
    public let columns: [String]
    public var rows: [[Cell]]
    /// A narrower view for people in an 80-column terminal; JSON and CSV always carry every column.
    public var tableView: (@Sendable (TimeZone) -> TextTable)?

    public init(noun: String, columns: [String], rows: [[Cell]] = [], tableView: (@Sendable (TimeZone) -> TextTable)? = nil) {
        self.noun = noun
        self.columns = columns
        self.rows = rows
        self.tableView = tableView
    }

    public var json: JSONValue {
        .object([(noun, .array(rows.map { row in .object(zip(columns, row).map { ($0, $1.json) }) }))])
    }

    public func render(_ format: OutputFormat, zone: TimeZone = .current) -> String {
        switch format {
        case .json: return json.serialized(pretty: true) + "\n"
        case .csv:
            var output = CSVText.line(columns)
            for row in rows { output += CSVText.line(row.map { $0.text(in: zone, forTable: false) }) }
            return output
        case .table:
            if let tableView { return tableView(zone).render(empty: "no \(noun)") }
            return TextTable(
                headers: columns.map { $0.replacingOccurrences(of: "_", with: " ").uppercased() },
                rows: rows.map { $0.map { $0.text(in: zone, forTable: true) } }
            ).render(empty: "no \(noun)")
        }
    }
}

/// Aligned plain-text columns, for people.
public struct TextTable: Sendable {
    public let headers: [String]
    public let rows: [[String]]

    public init(headers: [String], rows: [[String]]) {
        self.headers = headers
        self.rows = rows
    }

    public func render(empty: String = "nothing to show") -> String {
        if rows.isEmpty { return "(\(empty))\n" }
        var widths = headers.map(\.count)
        let cleaned = rows.map { $0.map { $0.replacingOccurrences(of: "\n", with: " ") } }
        for row in cleaned {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                let isLast = index == cells.count - 1
                text += isLast ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
            }
            return text + "\n"
        }
        return line(headers) + cleaned.map(line).joined()
    }
}

extension TextTable {
    /// Cuts a cell to `width` characters with an ellipsis, for free-text columns.
    public static func clip(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(width - 1)) + "…"
    }

    /// `12-05 22:00`: month, day and time in the zone, when the year is obvious from context.
    public static func short(_ date: Date?, in zone: TimeZone) -> String {
        guard let date else { return "" }
        return String(Timestamps.local(date, in: zone).dropFirst(5))
    }
}

/// RFC 4180 CSV lines.
public enum CSVText {
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == ";" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\n"
    }
}

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

    public func render(_ format: OutputFormat, zone: TimeZone = .current, csv dialect: CSVDialect = .standard) -> String {
        switch format {
        case .json: return json.serialized(pretty: true) + "\n"
        case .csv:
            return CSVText.document(header: columns, rows: rows.map { $0.map { $0.text(in: zone, forTable: false) } }, dialect: dialect)
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
        let cleaned = rows.map { $0.map { TerminalText.safe(OneLine.text($0)) } }
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

/// How CSV output is written: RFC 4180 (`,`, CRLF, no BOM), or for a spreadsheet that reads
/// the file by double-click in a locale whose list separator is `;` (Swedish Excel): a UTF-8 BOM
/// and `;`. Both end records with CRLF; the importer reads either.
public struct CSVDialect: Sendable, Equatable {
    public var delimiter: UInt8
    public var byteOrderMark: Bool

    public static let standard = CSVDialect(delimiter: UInt8(ascii: ","), byteOrderMark: false)
    public static let excel = CSVDialect(delimiter: UInt8(ascii: ";"), byteOrderMark: true)

    public init(delimiter: UInt8, byteOrderMark: Bool) {
        self.delimiter = delimiter
        self.byteOrderMark = byteOrderMark
    }
}

/// CSV records (RFC 4180: CRLF after every record, fields quoted when they hold the delimiter, a
/// quote, CR or LF), every field made safe for spreadsheets and on one line.
///
/// - One line per record: a line break inside a value (a title pasted with CRLF) becomes a space,
///   so every reader, line-oriented tools included, sees one record per line.
/// - Formula injection (OWASP, "CSV Injection"): a field that starts with `=`, `+`, `-`, `@`, TAB
///   or CR would be run as a formula by a spreadsheet (`=HYPERLINK(...)`). Such a field gets a
///   single quote in front and is quoted, so the spreadsheet shows it as text. Numbers (`-5`,
///   `+3.5`) are left as they are. JSON is never changed.
public enum CSVText {
    /// One field, escaped for `dialect`.
    public static func field(_ text: String, dialect: CSVDialect = .standard) -> String {
        var value = OneLine.text(text)
        let risky = text.utf8.first.map(isFormulaStart) == true && !isNumber(text)
        if risky { value = "'" + value }
        let delimiter = Character(Unicode.Scalar(dialect.delimiter))
        guard risky || value.contains(where: { $0 == delimiter || $0 == "\"" || $0 == "," || $0 == ";" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record, CRLF-terminated.
    public static func line(_ fields: [String], dialect: CSVDialect = .standard) -> String {
        fields.map { field($0, dialect: dialect) }.joined(separator: String(Unicode.Scalar(dialect.delimiter))) + "\r\n"
    }

    /// What goes before the header: the UTF-8 BOM for the Excel dialect, else nothing.
    public static func preamble(_ dialect: CSVDialect) -> String {
        dialect.byteOrderMark ? "\u{FEFF}" : ""
    }

    /// A whole CSV document: preamble, header, records.
    public static func document(header: [String], rows: [[String]], dialect: CSVDialect = .standard) -> String {
        var text = preamble(dialect) + line(header, dialect: dialect)
        for row in rows { text += line(row, dialect: dialect) }
        return text
    }

    private static func isFormulaStart(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D: true
        default: false
        }
    }

    /// `-5`, `+3.5`: a plain number, which a spreadsheet reads as a number and never as a formula.
    private static func isNumber(_ text: String) -> Bool {
        var bytes = text.utf8.dropFirst()
        guard let first = bytes.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        var seenPoint = false
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "."), !seenPoint, bytes.first.map({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) == true {
                seenPoint = true
                continue
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return false }
        }
        return true
    }
}

/// Text for places that hold one line (a table cell, a CSV record, an event's SUMMARY, a
/// tooltip): every line break (LF, CR, CRLF, NEL, LINE and PARAGRAPH SEPARATOR) becomes one space.
/// Places that hold several lines (`release show`, the HTML body) keep the breaks.
public enum OneLine {
    public static func text(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isBreak) else { return text }
        var output = String.UnicodeScalarView()
        var previousCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && previousCR { previousCR = false; continue }
            previousCR = scalar == "\r"
            output.append(isBreak(scalar) ? " " : scalar)
        }
        return String(output)
    }

    /// The text's lines, for places that show several: CRLF, CR and the other breaks split like LF.
    public static func lines(_ text: String) -> [String] {
        guard text.unicodeScalars.contains(where: isBreak) else { return [text] }
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var previousCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && previousCR { previousCR = false; continue }
            previousCR = scalar == "\r"
            if isBreak(scalar) {
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        lines.append(String(current))
        return lines
    }

    private static func isBreak(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029: true
        default: false
        }
    }
}

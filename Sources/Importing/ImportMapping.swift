import Foundation
import ReleaseCore
import Yams

/// How to read a CSV export whose headers are not relplan's own (Jira, MS Project, Excel):
/// which header gives which field, which to ignore, and how its timestamps are written.
///
/// ```yaml
/// columns:
///   Summary: release_title
///   "Fix Version": release
///   Team: group
/// ignore: [Assignee, Sprint]
/// timestamp_format: "dd/MM/yyyy HH:mm"     # or a list, tried in order
/// date_format: "dd/MM/yyyy"                # for deadlines
/// delimiter: ";"                           # ",", ";" or tab
/// encoding: windows-1252                   # or utf-8 (the default)
/// ```
public struct ImportMapping: Sendable, Equatable {
    /// Header name → field, keyed by `ImportField.normalized` header names.
    public var columns: [String: ImportField]
    /// Normalised header names to skip.
    public var ignored: Set<String>
    /// Custom patterns for timestamps, tried before ISO 8601.
    public var timestampFormats: [String]
    /// Custom patterns for dates (deadlines), tried before `YYYY-MM-DD`.
    public var dateFormats: [String]
    public var delimiter: UInt8?
    public var encoding: ImportEncoding?

    public init(
        columns: [String: ImportField] = [:], ignored: Set<String> = [], timestampFormats: [String] = [],
        dateFormats: [String] = [], delimiter: UInt8? = nil, encoding: ImportEncoding? = nil
    ) {
        self.columns = Dictionary(columns.map { (ImportField.normalized($0.key), $0.value) }) { first, _ in first }
        self.ignored = Set(ignored.map(ImportField.normalized))
        self.timestampFormats = timestampFormats
        self.dateFormats = dateFormats
        self.delimiter = delimiter
        self.encoding = encoding
    }

    /// Reads a mapping file.
    public static func load(path: String) throws(ImportFailure) -> ImportMapping {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportFailure(ImportIssue(file: path, line: 1, field: "file", message: "cannot read the mapping file"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ImportFailure(ImportIssue(file: path, line: 1, field: "file", message: "the mapping file is not UTF-8"))
        }
        return try parse(yaml: text, fileName: path)
    }

    /// Parses mapping YAML; every problem is reported with its line, all at once.
    public static func parse(yaml: String, fileName: String) throws(ImportFailure) -> ImportMapping {
        var reader = MappingReader(fileName: fileName)
        let mapping = reader.read(yaml)
        if !reader.issues.isEmpty { throw ImportFailure(reader.issues) }
        return mapping
    }

    static let keys = [
        "columns", "ignore", "timestamp_format", "timestamp_formats", "date_format", "date_formats",
        "delimiter", "encoding",
    ]
}

/// Walks the YAML node tree, keeping line numbers for messages.
private struct MappingReader {
    let fileName: String
    var issues: [ImportIssue] = []

    init(fileName: String) {
        self.fileName = fileName
    }

    mutating func read(_ yaml: String) -> ImportMapping {
        var mapping = ImportMapping()
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            issues.append(syntaxIssue(error))
            return mapping
        } catch {
            issues.append(ImportIssue(file: fileName, line: 1, field: "yaml", message: "\(error)"))
            return mapping
        }
        guard let root else { return mapping }  // an empty file maps nothing
        guard case .mapping(let top) = root else {
            issue(root, "mapping", "expected keys such as columns:, ignore:, timestamp_format:")
            return mapping
        }
        for (keyNode, value) in top {
            let key = keyNode.string ?? ""
            switch key {
            case "columns":
                mapping.columns = readColumns(value)
            case "ignore":
                mapping.ignored = Set(readStrings(value, key: key).map(ImportField.normalized))
            case "timestamp_format", "timestamp_formats":
                mapping.timestampFormats = readFormats(value, key: key)
            case "date_format", "date_formats":
                mapping.dateFormats = readFormats(value, key: key)
            case "delimiter":
                mapping.delimiter = readDelimiter(value)
            case "encoding":
                guard let name = value.string, let encoding = ImportEncoding(name: name) else {
                    issue(value, key, "expected utf-8 or windows-1252", got: value.string)
                    continue
                }
                mapping.encoding = encoding
            default:
                issue(keyNode, key, "unknown key" + Suggestions.didYouMean(key, in: ImportMapping.keys)
                    + "; known keys: " + ImportMapping.keys.joined(separator: ", "))
            }
        }
        return mapping
    }

    private mutating func readColumns(_ node: Node) -> [String: ImportField] {
        guard case .mapping(let pairs) = node else {
            issue(node, "columns", "expected header names mapped to fields, e.g. Summary: release_title")
            return [:]
        }
        var columns = [String: ImportField]()
        for (header, fieldNode) in pairs {
            let headerName = header.string ?? ""
            guard let fieldName = fieldNode.string, let field = ImportField(name: fieldName) else {
                let got = fieldNode.string ?? ""
                issue(fieldNode, "columns.\(headerName)",
                      "unknown field" + Suggestions.didYouMean(ImportField.normalized(got), in: ImportField.allNames),
                      got: got)
                continue
            }
            let key = ImportField.normalized(headerName)
            if columns[key] != nil {
                issue(header, "columns.\(headerName)", "this header is mapped twice")
            }
            columns[key] = field
        }
        return columns
    }

    private mutating func readStrings(_ node: Node, key: String) -> [String] {
        switch node {
        case .scalar(let scalar):
            return [scalar.string]
        case .sequence(let sequence):
            var strings = [String]()
            for item in sequence {
                guard let string = item.string else {
                    issue(item, key, "expected a header name")
                    continue
                }
                strings.append(string)
            }
            return strings
        default:
            issue(node, key, "expected a list of header names, e.g. [Assignee, Sprint]")
            return []
        }
    }

    private mutating func readFormats(_ node: Node, key: String) -> [String] {
        var formats = [String]()
        for format in readStrings(node, key: key) {
            do throws(TimestampFormatError) {
                _ = try TimestampParser(formats: [format])
                formats.append(format)
            } catch {
                issue(node, key, error.problem, got: format)
            }
        }
        return formats
    }

    private mutating func readDelimiter(_ node: Node) -> UInt8? {
        switch node.string {
        case ",": return UInt8(ascii: ",")
        case ";": return UInt8(ascii: ";")
        case "\t", "tab", "\\t": return 0x09
        default:
            issue(node, "delimiter", "expected \",\", \";\" or tab", got: node.string)
            return nil
        }
    }

    private mutating func issue(_ node: Node, _ key: String, _ message: String, got: String? = nil) {
        issues.append(ImportIssue(
            file: fileName, line: node.mark?.line ?? 1, field: key, message: message,
            got: got.map(ImportIssue.shown)))
    }

    private func syntaxIssue(_ error: YamlError) -> ImportIssue {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return ImportIssue(file: fileName, line: mark.line, field: "yaml", message: "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ImportIssue(
                file: fileName, line: context.mark.line, field: "yaml",
                message: "duplicate key \(duplicates.sorted().joined(separator: ", "))")
        default:
            return ImportIssue(file: fileName, line: 1, field: "yaml", message: "not valid YAML: \(error)")
        }
    }
}

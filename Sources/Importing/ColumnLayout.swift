import Foundation
import ReleaseCore

/// Which column of a file holds which field, resolved once from the header line.
public struct ColumnLayout: Sendable, Equatable {
    /// The header cells as written (trimmed), for messages and the rejects file.
    public let headers: [String]
    /// The number of columns rows must have (trailing unnamed columns are not counted).
    public let columnCount: Int
    /// Column of each field, by `ImportField.index`; -1 when the file lacks the field.
    let columnOfField: [Int]

    /// The column holding `field`, if the file has one.
    public func column(of field: ImportField) -> Int? {
        let column = columnOfField[field.index]
        return column >= 0 ? column : nil
    }

    /// The name messages use for a field: the file's header when it has the column.
    public func displayName(of field: ImportField) -> String {
        column(of: field).map { headers[$0] } ?? field.name
    }

    /// Resolves a header line. Problems (unknown, unnamed, duplicate or missing columns) are
    /// all thrown together: a header that is wrong makes every row meaningless.
    ///
    /// Built-in names are matched case-insensitively in English and Swedish after trimming
    /// and NFC normalisation; the mapping's `columns` come first, `ignore` next. A column
    /// named `reason` (the one a rejects file adds) is ignored, so fixed rejects re-import.
    public static func resolve(
        header: [String], mapping: ImportMapping, groupIsOptional: Bool, fileName: String, line: Int = 1
    ) throws(ImportFailure) -> ColumnLayout {
        let trimmed = header.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        var count = trimmed.count
        while count > 0, trimmed[count - 1].isEmpty { count -= 1 }

        var columns = Array(repeating: -1, count: ImportField.allCases.count)
        var issues = [ImportIssue]()
        func issue(_ message: String, got: String? = nil) {
            issues.append(ImportIssue(file: fileName, line: line, field: "header", message: message,
                                      got: got.map(ImportIssue.shown)))
        }
        for (column, name) in trimmed.prefix(count).enumerated() {
            guard !name.isEmpty else {
                issue("column \(column + 1) has no name; name it or delete the column")
                continue
            }
            let key = ImportField.normalized(name)
            let field: ImportField
            if let mapped = mapping.columns[key] {
                field = mapped
            } else if mapping.ignored.contains(key) || key == "reason" {
                continue
            } else if let builtIn = ImportField(name: key) {
                field = builtIn
            } else {
                issue("unknown column" + Suggestions.didYouMean(key, in: ImportField.allNames)
                        + "; map it to a field or list it under ignore: in a mapping file",
                      got: name)
                continue
            }
            let earlier = columns[field.index]
            if earlier >= 0 {
                issue("columns \(earlier + 1) (\(trimmed[earlier])) and \(column + 1) (\(name)) both give \(field.name)",
                      got: name)
                continue
            }
            columns[field.index] = column
        }
        var required: [ImportField] = [.plan, .release]
        if !groupIsOptional { required.insert(.group, at: 0) }
        for field in required where columns[field.index] < 0 {
            let alias = field.swedishName == field.name ? "" : " (\(field.swedishName))"
            let hint = field == .group ? "; or give a default group" : ""
            issue("missing column \(field.name)\(alias)\(hint)")
        }
        if !issues.isEmpty { throw ImportFailure(issues) }
        return ColumnLayout(headers: trimmed, columnCount: count, columnOfField: columns)
    }
}

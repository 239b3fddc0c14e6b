import Foundation
import Testing
@testable import Importing

/// Helpers shared by the importer tests: files from strings or bytes, and the messages a
/// run produces.
enum ImportTest {
    static let fullHeader = ImportField.allCases.map(\.name).joined(separator: ",")

    static func source(_ text: String, name: String = "releases.csv") -> ImportSource {
        .bytes(Array(text.utf8), name: name)
    }

    /// Reads all typed rows; returns them with the report.
    static func rows(
        _ source: ImportSource, options: ImportOptions = ImportOptions()
    ) throws(ImportFailure) -> (rows: [ImportRow], report: ImportReport) {
        let reader = try ImportReader(source: source, options: options)
        var rows = [ImportRow]()
        while let row = try reader.nextRow() { rows.append(row) }
        return (rows, reader.report)
    }

    static func rows(
        _ text: String, options: ImportOptions = ImportOptions()
    ) throws(ImportFailure) -> (rows: [ImportRow], report: ImportReport) {
        try rows(source(text), options: options)
    }

    /// The printed problems of a file that reads to the end.
    static func messages(_ text: String, options: ImportOptions = ImportOptions()) throws -> [String] {
        try rows(text, options: options).report.messages
    }

    /// The printed problems of a file that cannot be read at all.
    static func failure(_ source: ImportSource, options: ImportOptions = ImportOptions()) -> [String] {
        do {
            _ = try rows(source, options: options)
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    static func failure(_ text: String, options: ImportOptions = ImportOptions()) -> [String] {
        failure(source(text), options: options)
    }

    static func temporaryPath(_ name: String) -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("relplan-import-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }
}

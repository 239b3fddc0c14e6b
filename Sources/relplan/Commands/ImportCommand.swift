import ArgumentParser
import Foundation
import Importing
import ReleaseCore
import Planning
import Reporting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import plans, releases, packages, units and bookings from a CSV export.",
        discussion: """
            One row describes a release and optionally one package, one unit and one booking; rows \
            of the same release add to it. Columns (any order and case, or their Swedish names): \
            group, plan, plan_title, change_ref, release, release_title, window, deploy_start, \
            deploy_end, priority, deadline, depends_on (GROUP/CODE|...), package, unit, unit_kind, \
            target, version, environment, env_start, env_end; group, plan and release are required. \
            The whole file is checked before anything is written, against the file's rules and \
            against the database (unknown codes, dependencies that exist nowhere, groups you may not \
            write, a unit described two ways, a release that lives in another plan); every problem is \
            listed as FILE:LINE: field: what is wrong, and the exit code is 65.

            The import adds and updates, in one transaction, and never deletes: an empty cell keeps \
            what the database has. Rows that change nothing are not written, so importing the same \
            file again changes nothing (and says so). Bookings are made tentative. A release that \
            exists under another plan is refused, not moved. Each import that changes something is \
            recorded in import_batch with the file's SHA-256.

            With --on-error skip the good releases are imported; a release with any bad row is \
            skipped whole, and its rows go to --rejects with a reason column (fix them and import \
            that file: the reason column is ignored).

            Examples:
              relplan import web-export.csv --dry-run --tz Europe/Stockholm
              relplan import crm-export-sv.csv --tz Europe/Stockholm
              relplan import export.csv --on-error skip --rejects rejected.csv
              jira-export | relplan import - --mapping jira.yaml --group CRM
            """)

    typealias ErrorMode = ImportErrorMode

    enum SummaryFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Argument(help: "The CSV file; - reads standard input.", completion: .file(extensions: ["csv", "txt"])) var file: String
    @Option(help: "Group of rows whose group cell is empty (or that have no group column).") var group: String?
    @Option(help: ArgumentHelp("Column mapping, formats, delimiter and encoding of a foreign export.", valueName: "file.yaml"),
            completion: .file(extensions: ["yaml", "yml"]))
    var mapping: String?
    @Flag(help: "Check and show what the import would change, conflicts included; write nothing.") var dryRun = false
    @Option(help: "abort: any problem stops the import; skip: import the good releases.") var onError: ErrorMode = .abort
    @Option(help: ArgumentHelp("With --on-error skip: write the skipped rows here, with a reason column.", valueName: "file"),
            completion: .file())
    var rejects: String?
    @Option(help: "Column delimiter: , or ; (default: detected from the header line).") var delimiter: String?
    @Option(help: "Character encoding: utf8 (default) or cp1252.") var encoding: String?
    @OptionGroup var time: ZoneOption
    @Option(help: "Output format: table or json.") var format: SummaryFormat = .table
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        if rejects != nil && onError != .skip {
            throw ValidationError("--rejects needs --on-error skip: without it a bad row stops the whole import")
        }
    }

    func run() throws {
        let zone = try time.zone
        var options = ImportOptions(defaultGroup: group, timeZone: zone, progressInterval: 25_000)
        options.delimiter = try parsedDelimiter()
        options.encoding = try parsedEncoding()

        let outcome = try connection.perform(ImportFile(
            file: file, options: options, mappingPath: mapping, mode: onError, dryRun: dryRun, rejectsPath: rejects, zone: zone))
        ImportOutput(outcome: outcome, zone: zone).print(format)
    }

    private func parsedDelimiter() throws -> UInt8? {
        guard let delimiter else { return nil }
        switch delimiter {
        case ",": return UInt8(ascii: ",")
        case ";": return UInt8(ascii: ";")
        case "tab", "\\t", "\t": return 0x09
        default: throw CLIError(.usage, "--delimiter: expected , or ; (or tab), got \"\(delimiter)\"")
        }
    }

    private func parsedEncoding() throws -> ImportEncoding? {
        guard let encoding else { return nil }
        guard let parsed = ImportEncoding(name: encoding) else {
            throw CLIError(.usage, "--encoding: expected utf8 or cp1252, got \"\(encoding)\"")
        }
        return parsed
    }
}

extension ImportErrorMode: ExpressibleByArgument {}

extension ImportOutput {
    func print(_ format: ImportCommand.SummaryFormat) {
        for warning in outcome.warnings { emitError("warning: \(warning)\n") }
        switch format {
        case .json: emit(json().serialized(pretty: true) + "\n")
        case .table: emit(text())
        }
    }
}

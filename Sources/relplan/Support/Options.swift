import ArgumentParser
import Foundation
import ReleaseCore
import Reporting

/// `--tz`: the zone timestamps without an offset are read in, and tables are shown in.
struct ZoneOption: ParsableArguments {
    @Option(name: .customLong("tz"), help: ArgumentHelp("Time zone for timestamps without an offset (default: TZ, else UTC).", valueName: "zone"))
    var name: String?

    var zone: TimeZone {
        get throws {
            let name = self.name ?? ProcessInfo.processInfo.environment["TZ"].flatMap { $0.isEmpty ? nil : $0 } ?? "UTC"
            guard let zone = TimeZone(identifier: name.hasPrefix(":") ? String(name.dropFirst()) : name) else {
                throw CLIError(.usage, "unknown time zone '\(name)': use an IANA name such as Europe/Stockholm")
            }
            return zone
        }
    }

    /// Parses `2027-03-14 18:00`, `2027-03-14T18:00+01:00` and the like, naming the option on failure.
    /// A date alone means the start of that day.
    func instant(_ text: String, option: String) throws -> Date {
        do {
            return try TimestampParser.instant(text, in: try zone)
        } catch {
            var parser = try TimestampParser(timeZone: try zone)
            if let day = try? parser.day(from: text) {
                return Date(timeIntervalSince1970: Double(parser.startOfDay(day)) / 1_000_000)
            }
            throw CLIError(.usage, "\(option): \(error) — expected a timestamp like 2027-03-14 18:00 or 2027-03-14T18:00+01:00")
        }
    }

    func day(_ text: String, option: String) throws -> CalendarDay {
        var parser = try TimestampParser(timeZone: try zone)
        do {
            return try parser.day(from: text)
        } catch {
            throw CLIError(.usage, "\(option): \(error) — expected a date like 2027-03-31")
        }
    }
}

/// `--format table|json|csv`, and printing a listing in it.
struct FormatOption: ParsableArguments {
    @Option(help: "Output format: table, json or csv.")
    var format: OutputFormat = .table

    @Flag(help: "With --format csv: a UTF-8 byte-order mark and ';' between fields, for a spreadsheet that opens the file by double-click in a locale whose list separator is ';' (Swedish Excel).")
    var excel = false

    func validate() throws {
        if excel && format != .csv { throw ValidationError("--excel needs --format csv") }
    }

    /// The CSV dialect `--excel` asks for.
    var csv: CSVDialect { excel ? .excel : .standard }

    func print(_ listing: Listing, zone: TimeZone) {
        emit(listing.render(format, zone: zone, csv: csv))
    }
}

extension OutputFormat: ExpressibleByArgument {}

/// Parsing helpers that turn ReleaseCore's typed errors into usage errors (exit 64).
enum Parse {
    static func ref(_ text: String) throws -> ReleaseRef {
        do { return try ReleaseRef(parsing: text) } catch { throw CLIError(.usage, error.description) }
    }

    static func priority(_ value: Int) throws -> Priority {
        do { return try Priority(value) } catch { throw CLIError(.usage, "--priority: \(error)") }
    }

    static func word<V: Vocabulary>(_ type: V.Type, _ text: String, option: String) throws -> V {
        do { return try V(parsing: text) } catch { throw CLIError(.usage, "\(option): \(error)") }
    }

    static func code(_ kind: CodeKind, _ text: String) throws -> String {
        do {
            return try kind.validate(text)
        } catch {
            throw CLIError(.usage, error.description)
        }
    }
}

/// Warnings go to stderr, so scripts reading stdout see only the result.
func warn(_ message: String) {
    emitError("warning: \(message)\n")
}

import ArgumentParser
import Foundation
import ReleaseCore
import Reporting
import Synchronization

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

/// ReleaseCore's words (kinds, roles, statuses) as option values, read as the option is parsed and,
/// as everywhere people type them, whatever their case. A word outside its vocabulary stays the
/// usage error it always was, with ReleaseCore's did-you-mean (`relplan: --kind: unknown unit kind
/// 'x' (did you mean …?)…`, exit 64): ArgumentParser only learns that the value failed, so the
/// word's own error waits in `RejectedWord` for `Relplan.main`.
protocol WordOption: Vocabulary, ExpressibleByArgument {}

extension WordOption {
    public init?(argument: String) {
        do {
            self = try Self(parsing: argument)
        } catch {
            RejectedWord.last.withLock { $0 = error }
            return nil
        }
    }

    /// Not listed again by --help: each option's help names its words already.
    public static var allValueStrings: [String] { [] }

    public static var defaultCompletionKind: CompletionKind { .list(allCases.map(\.rawValue)) }
}

extension ReleaseStatus: ExpressibleByArgument, WordOption {}
extension UnitKind: ExpressibleByArgument, WordOption {}
extension DeviationSeverity: ExpressibleByArgument, WordOption {}
extension MemberRole: ExpressibleByArgument, WordOption {}
extension EnvironmentKind: ExpressibleByArgument, WordOption {}
extension WindowKind: ExpressibleByArgument, WordOption {}

/// The word an option refused last, kept for the usage error that names the option.
enum RejectedWord {
    static let last = Mutex<UnknownWord?>(nil)

    /// `--kind: unknown unit kind …` when `error` is ArgumentParser's refusal of a word; the
    /// option's name comes from ArgumentParser's own message ("… is invalid for '--kind <kind>'").
    static func usageError(for error: Error, message: String) -> CLIError? {
        guard let word = last.withLock({ $0 }),
              let match = message.firstMatch(of: /is invalid for '(-[^ ']+)/) else { return nil }
        return CLIError(.usage, "\(match.1): \(word)")
    }
}

/// Parsing helpers that turn ReleaseCore's typed errors into usage errors (exit 64).
enum Parse {
    static func ref(_ text: String) throws -> ReleaseRef {
        do { return try ReleaseRef(parsing: text) } catch { throw CLIError(.usage, error.description) }
    }

    static func priority(_ value: Int) throws -> Priority {
        do { return try Priority(value) } catch { throw CLIError(.usage, "--priority: \(error)") }
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

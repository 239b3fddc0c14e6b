import Crypto
import Foundation
import Importing
import Postgres
import ReleaseCore
import ReleaseStore
import Reporting
import Scheduling

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `import --on-error`: abort (any problem stops the import) or skip (import the good releases).
public enum ImportErrorMode: String, Sendable, CaseIterable {
    case abort, skip
}

// MARK: - The file

/// The file to import, with its SHA-256. Standard input is spooled to a temporary file while it
/// is hashed, so it can be read twice (a second pass writes rejected rows) like any file.
public struct ImportInput: Sendable {
    /// The file as messages and the batch name it (`<stdin>` for standard input).
    public let displayName: String
    /// What is read.
    public let path: String
    let isSpooled: Bool

    public init(_ argument: String) throws {
        guard argument == "-" else {
            displayName = argument
            path = argument
            isSpooled = false
            return
        }
        displayName = "<stdin>"
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("relplan-import-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).csv").path
        isSpooled = true
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let output = FileHandle(forWritingAtPath: path) else {
            throw Failure(.invalid, "cannot spool standard input to \(path)")
        }
        defer { try? output.close() }
        try Self.forEachChunk(descriptor: STDIN_FILENO, name: displayName) { try output.write(contentsOf: Data($0)) }
    }

    /// Bytes that arrived some other way (an HTTP body), spooled to a private temporary file named `displayName` in messages.
    public init(bytes: Data, displayName: String) throws {
        self.displayName = displayName
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("relplan-import-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).csv").path
        isSpooled = true
        guard FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw Failure(.invalid, "cannot spool the upload to \(path)")
        }
    }

    /// Messages from the reader name the spooled file; people typed `-`.
    public func rename(_ issue: ImportIssue) -> ImportIssue {
        var renamed = issue
        if issue.file == path { renamed.file = displayName }
        return renamed
    }

    public func cleanUp() {
        if isSpooled { try? FileManager.default.removeItem(atPath: path) }
    }

    /// SHA-256 of the bytes, hex, in one streaming pass.
    func sha256() throws -> String {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw Failure(.invalid, "\(displayName): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var hasher = SHA256()
        try Self.forEachChunk(descriptor: descriptor, name: displayName) { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    private static func forEachChunk(descriptor: Int32, name: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let size = 1 << 20
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        defer { buffer.deallocate() }
        while true {
            let count = read(descriptor, buffer, size)
            if count == 0 { return }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(.invalid, "\(name): read failed: \(String(cString: strerror(errno)))")
            }
            try body(UnsafeBufferPointer(start: buffer, count: count))
        }
    }
}

// MARK: - The run

/// Problems found before anything was written: the import stops (exit 65).
public struct ImportRejection: Error {
    public var issues: [ImportIssue]
    public var omitted: Int
}

/// What an import did, or a dry run would do.
public struct ImportOutcome: Sendable {
    public var file: String
    public var sha256: String
    public var dryRun: Bool
    public var rows: Int
    public var counts: ImportCounts
    /// Releases left out by `--on-error skip`, and their rows.
    public var rejectedReleases: Int
    public var rejectedRows: Int
    public var rejectsPath: String?
    public var batch: Int64?
    /// Problems that made releases skip (with `--on-error skip`).
    public var warnings: [ImportIssue]
    /// A batch with the same bytes, when this run changed nothing.
    public var earlierBatch: (id: Int64, importedAt: Date, importedBy: String)?
    public var previews: [ReleasePreview] = []
    public var conflictsAdded: [Conflict] = []
    public var conflictsRemoved: [Conflict] = []
}

/// Reads the file into the staging table, checks it, and merges it, in one transaction.
public struct Importer {
    let db: Connection
    let identity: Identity
    let input: ImportInput
    let options: ImportOptions
    let mode: ImportErrorMode
    let dryRun: Bool
    let rejectsPath: String?
    let zone: TimeZone
    /// The progress line on a terminal's stderr (the CLI); a server shows none.
    public var showsProgress = true

    public init(db: Connection, identity: Identity, input: ImportInput, options: ImportOptions, mode: ImportErrorMode, dryRun: Bool,
                rejectsPath: String?, zone: TimeZone) {
        self.db = db
        self.identity = identity
        self.input = input
        self.options = options
        self.mode = mode
        self.dryRun = dryRun
        self.rejectsPath = rejectsPath
        self.zone = zone
    }

    public func run() throws -> ImportOutcome {
        guard ImportStore.stagingColumns == CopyTextEncoder.columns else {
            throw StoreError.internalInconsistency("the staging table and the COPY encoder disagree on the columns")
        }
        let store = ImportSession(db)
        let codes = try store.knownCodes()
        var options = self.options
        options.knownCodes = KnownCodes(
            groups: codes.groups, windows: codes.windows, environments: codes.environments,
            unitKinds: Set(UnitKind.allCases.map(\.rawValue)))
        let reader = try ImportReader(source: .file(input.path), options: options)
        var rejects: RejectsWriter?
        if let rejectsPath { rejects = try RejectsWriter(path: rejectsPath) }
        reader.rejects = rejects
        let progress = ProgressLine(name: input.displayName, enabled: showsProgress)
        reader.onProgress = { progress.update($0) }
        // Hashed while the same file is parsed and streamed: both are full reads.
        let source = input
        let digest = BackgroundValue(name: "relplan import sha256") { try source.sha256() }

        var skippedRows: [Int: String] = [:]
        try store.prepareSession()
        let outcome: ImportOutcome
        do {
            // A dry run ends in `.rolledBack`, carrying what it found.
            outcome = try db.transaction(outcome: { db in
                try merge(store: store, reader: reader, progress: progress, digest: digest, skippedRows: &skippedRows)
            }).value
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        if let rejects {
            try writeSkippedRows(skippedRows, to: rejects, delimiter: reader.delimiter, encoding: reader.encoding)
            try rejects.close()
        }
        return outcome
    }

    private func merge(
        store: ImportSession, reader: ImportReader, progress: ProgressLine, digest: BackgroundValue<String>, skippedRows: inout [Int: String]
    ) throws -> TransactionOutcome<ImportOutcome> {
        try store.createStaging()
        // The file is parsed a few chunks ahead while the server digests the COPY stream.
        let prefetcher = ChunkPrefetcher(reader: reader)
        defer { prefetcher.finish() }
        try store.stage { writer in
            while let chunk = try prefetcher.next() { try writer.write(chunk.bytes) }
        }
        let report = reader.report
        let sha256 = try digest.value()
        progress.note("checking", rows: report.rowsRead)
        var skipped = Set<StagedRelease>()
        var warnings = report.issues.map(input.rename)
        if mode == .skip, !report.invalidReleases.isEmpty {
            let releases = report.invalidReleases.map { StagedRelease(group: $0.group, code: $0.release) }
            skipped.formUnion(releases)
            for removed in try store.remove(releases: releases) {
                skippedRows[removed.line] = "release \(removed.release) is skipped: another of its rows has a problem"
            }
        }
        try store.summarise(unitsMayRepeat: report.unitsMayRepeat)
        var problems = try store.check(login: identity.login, skipped: skipped)
        if mode == .abort {
            let all = merged(reader: warnings, database: problems.map { issue($0, reader) })
            if !all.isEmpty || report.hasErrors {
                throw ImportRejection(issues: all, omitted: report.omittedIssueCount)
            }
        }
        // --on-error skip: leave out what failed, then whatever depended on it, until nothing fails.
        while !problems.isEmpty {
            warnings = merged(reader: warnings, database: problems.map { issue($0, reader) })
            var releases: [StagedRelease] = []
            var groups: [String] = []
            var reasons: [StagedRelease: String] = [:]
            var groupReasons: [String: String] = [:]
            for problem in problems {
                let reason = "line \(problem.line): \(problem.field): \(problem.message)"
                switch problem.scope {
                case .release(let release):
                    releases.append(release)
                    reasons[release] = reasons[release] ?? reason
                case .group(let group):
                    groups.append(group)
                    groupReasons[group] = groupReasons[group] ?? reason
                }
            }
            for removed in try store.remove(releases: releases, groups: groups) {
                skipped.insert(removed.release)
                skippedRows[removed.line] = reasons[removed.release] ?? groupReasons[removed.release.group]
                    ?? "release \(removed.release) is skipped"
            }
            skipped.formUnion(releases)
            problems = try store.checkDependencies(skipped: skipped)
        }

        let rows = report.rowsRead
        let loader = SnapshotLoader(db, deadlineZone: zone)
        if dryRun { progress.note("reading the portfolio as it is", rows: rows) }
        let before = dryRun ? try loader.read(db) : nil
        progress.note("merging", rows: rows)
        let plans = try store.prepareMerge()
        if dryRun { progress.note("comparing", rows: rows) }
        let previews = dryRun ? try store.preview() : []
        let steps = ImportStore.mergeSteps
        var counts = try store.merge { table in
            let number = (steps.firstIndex(of: table) ?? 0) + 1
            progress.note("merging \(table) (\(number) of \(steps.count))", rows: rows)
        }
        counts.plansCreated = plans.plansCreated
        counts.plansChanged = plans.plansChanged
        var outcome = ImportOutcome(
            file: input.displayName, sha256: sha256, dryRun: dryRun, rows: report.rowsRead, counts: counts,
            rejectedReleases: skipped.count, rejectedRows: report.invalidRows + skippedRows.count, rejectsPath: rejectsPath,
            batch: nil, warnings: warnings, earlierBatch: nil, previews: previews)
        if let before {
            progress.note("reading the portfolio as it would be", rows: rows)
            let after = try loader.read(db)
            progress.note("detecting conflicts in both", rows: rows)
            let old = ConflictDetector.detect(in: before)
            let new = ConflictDetector.detect(in: after)
            let oldIDs = Set(old.map(\.identity))
            let newIDs = Set(new.map(\.identity))
            outcome.conflictsAdded = new.filter { !oldIDs.contains($0.identity) }
            outcome.conflictsRemoved = old.filter { !newIDs.contains($0.identity) }
            return .rolledBack(outcome)
        }
        if counts.changedAnything {
            outcome.batch = try store.recordBatch(
                fileName: input.displayName, sha256: sha256, rows: report.rowsRead, counts: counts,
                rejected: skipped.count)
        } else {
            outcome.earlierBatch = try store.previousBatch(sha256: sha256)
        }
        return .committed(outcome)
    }

    /// A database problem as the file's own problems read, with the file's column names.
    private func issue(_ problem: StagedIssue, _ reader: ImportReader) -> ImportIssue {
        let field = ImportField(rawValue: problem.field).map { reader.layout.displayName(of: $0) } ?? problem.field
        return ImportIssue(file: input.displayName, line: problem.line, field: field, message: problem.message, got: problem.got)
    }

    /// Both lists in line order (each is in line order already).
    private func merged(reader: [ImportIssue], database: [ImportIssue]) -> [ImportIssue] {
        (reader + database).enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element)
    }

    /// The second pass: rows of releases skipped for a reason found after reading.
    private func writeSkippedRows(_ rows: [Int: String], to rejects: RejectsWriter, delimiter: UInt8, encoding: ImportEncoding) throws {
        guard !rows.isEmpty else { return }
        let reader = try CSVReader(source: .file(input.path), delimiter: delimiter, encoding: encoding)
        guard try reader.next() else { return }  // the header
        var left = rows.count
        while left > 0, try reader.next() {
            guard let reason = rows[reader.line] else { continue }
            try rejects.write(currentRecordOf: reader, reason: reason)
            left -= 1
        }
    }
}

// MARK: - Progress

/// `read 300,000 rows (150,000 rows/s, 40%, about 5 s left)` on stderr, rewritten in place, when
/// stderr is a terminal and the import takes more than a couple of seconds; nothing otherwise.
final class ProgressLine {
    private let name: String
    private let start = Date()
    private let isTerminal: Bool
    private var shown = false

    init(name: String, enabled: Bool) {
        self.name = name
        self.isTerminal = enabled && isatty(STDERR_FILENO) == 1
    }

    func update(_ progress: ImportProgress) {
        let elapsed = Date().timeIntervalSince(start)
        guard isTerminal, elapsed >= 2, progress.rowsRead > 0 else { return }
        let rate = Double(progress.rowsRead) / elapsed
        var text = "\(name): read \(Self.grouped(progress.rowsRead)) rows (\(Self.grouped(Int(rate))) rows/s"
        if let fraction = progress.fraction, fraction > 0 {
            text += ", \(Int(fraction * 100))%"
            if fraction < 1 { text += ", about \(Int((elapsed * (1 - fraction) / fraction).rounded(.up))) s left" }
        }
        write(text + ")")
    }

    /// A step after reading (checking, merging), shown once the line is up, or for a file large
    /// enough that the step will take seconds (the database's work cannot report progress).
    func note(_ step: String, rows: Int) {
        guard isTerminal, shown || rows >= 100_000 else { return }
        let elapsed = Int(Date().timeIntervalSince(start))
        write("\(name): \(Self.grouped(rows)) rows read; \(step)… (\(elapsed) s)")
    }

    func finish() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        shown = false
    }

    private func write(_ text: String) {
        shown = true
        FileHandle.standardError.write(Data("\r\u{1B}[K\(TerminalText.safe(text))".utf8))
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(character)
        }
        return out
    }
}

// MARK: - Output

public struct ImportOutput: Sendable {
    public let outcome: ImportOutcome
    public let zone: TimeZone

    public init(outcome: ImportOutcome, zone: TimeZone) {
        self.outcome = outcome
        self.zone = zone
    }

    /// Every problem as FILE:LINE: field: what is wrong, and how many more were not kept.
    public static func problemLines(_ issues: [ImportIssue], omitted: Int, rename: (ImportIssue) -> ImportIssue = { $0 }) -> [String] {
        var lines = issues.map { rename($0).description }
        if omitted > 0 { lines.append("... and \(omitted) more \(omitted == 1 ? "problem" : "problems") not shown") }
        return lines
    }

    /// `FILE: N problems; nothing was imported`.
    public static func refusal(_ issues: [ImportIssue], omitted: Int, file: String) -> String {
        let count = issues.count + omitted
        return "\(file): \(count) \(count == 1 ? "problem" : "problems"); nothing was imported"
    }

    private var counts: ImportCounts { outcome.counts }

    /// `12 rows, 3 releases created, 1 changed, 0 unchanged, 0 rejected`
    private var countsText: String {
        var text = "\(outcome.rows) \(outcome.rows == 1 ? "row" : "rows"), "
            + "\(counts.releasesCreated) \(counts.releasesCreated == 1 ? "release" : "releases") created, "
            + "\(counts.releasesChanged) changed, \(counts.releasesUnchanged) unchanged, \(outcome.rejectedReleases) rejected"
        var plans: [String] = []
        if counts.plansCreated > 0 { plans.append("\(counts.plansCreated) created") }
        if counts.plansChanged > 0 { plans.append("\(counts.plansChanged) changed") }
        if !plans.isEmpty { text += "; plans: " + plans.joined(separator: ", ") }
        return text
    }

    public func text() -> String {
        var out = ""
        if outcome.dryRun {
            out += "dry run of \(outcome.file): \(countsText); nothing was written\n"
            let created = outcome.previews.filter { $0.state == .created }
            let changed = outcome.previews.filter { $0.state == .changed }
            if !created.isEmpty {
                out += "would create:\n"
                for preview in created { out += "  + \(createdLine(preview))\n" }
            }
            if !changed.isEmpty {
                out += "would change:\n"
                for preview in changed {
                    for change in preview.changes {
                        let from = change.from.map { value($0) + " → " } ?? "+ "
                        out += "  ~ \(preview.release): \(change.field) \(from)\(value(change.to))\n"
                    }
                }
            }
            out += conflictLines("conflicts it would add", "+", outcome.conflictsAdded)
            out += conflictLines("conflicts it would remove", "-", outcome.conflictsRemoved)
            if outcome.conflictsAdded.isEmpty && outcome.conflictsRemoved.isEmpty { out += "conflicts: no change\n" }
        } else if let batch = outcome.batch {
            out += "imported \(outcome.file): \(countsText) (batch \(batch))\n"
        } else {
            out += "nothing changed: \(outcome.file): \(countsText)"
            if let earlier = outcome.earlierBatch {
                out += " (the same file was imported as batch \(earlier.id) on \(Timestamps.local(earlier.importedAt, in: zone)) by \(earlier.importedBy))"
            }
            out += "\n"
        }
        if outcome.rejectedRows > 0, let path = outcome.rejectsPath {
            out += "wrote \(outcome.rejectedRows) rejected \(outcome.rejectedRows == 1 ? "row" : "rows") to \(path)\n"
        }
        return out
    }

    /// `CRM/R-3 "Title": plan CRM-INT, window SW-2027-05-01, ..., 3 units, 2 bookings`
    private func createdLine(_ preview: ReleasePreview) -> String {
        var head = preview.release.description
        var parts: [String] = []
        for change in preview.changes {
            switch change.field {
            case "title":
                let title = value(change.to).replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
                head += " \"\(title)\""
            case "units", "bookings":
                let count = value(change.to)
                parts.append("\(count) \(count == "1" ? String(change.field.dropLast()) : change.field)")
            default:
                parts.append("\(change.field) \(value(change.to))")
            }
        }
        return head + ": " + parts.joined(separator: ", ")
    }

    private func conflictLines(_ title: String, _ sign: String, _ conflicts: [Conflict]) -> String {
        guard !conflicts.isEmpty else { return "" }
        return "\(title):\n" + conflicts.map { "  \(sign) \($0.type.rawValue): \($0.message(in: zone))\n" }.joined()
    }

    private func value(_ value: PreviewValue?) -> String {
        switch value {
        case nil: return "(none)"
        case .text(let text): return text
        case .instant(let date): return Timestamps.local(date, in: zone)
        case .range(let start, let end): return "\(Timestamps.local(start, in: zone)) – \(Timestamps.local(end, in: zone))"
        }
    }

    private func jsonValue(_ value: PreviewValue?) -> JSONValue {
        switch value {
        case nil: return .null
        case .text(let text): return .string(text)
        case .instant(let date): return .timestamp(date)
        case .range(let start, let end): return .object([("start", .timestamp(start)), ("end", .timestamp(end))])
        }
    }

    public func json() -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("file", .string(outcome.file)), ("sha256", .string(outcome.sha256)), ("dry_run", .bool(outcome.dryRun)),
            ("batch", outcome.batch.map { .int(Int($0)) } ?? .null),
            ("changed_anything", .bool(counts.changedAnything)),
            ("rows", .int(outcome.rows)), ("created", .int(counts.releasesCreated)), ("changed", .int(counts.releasesChanged)),
            ("unchanged", .int(counts.releasesUnchanged)), ("rejected", .int(outcome.rejectedReleases)),
            ("rejected_rows", .int(outcome.rejectedRows)),
            ("plans_created", .int(counts.plansCreated)), ("plans_changed", .int(counts.plansChanged)),
        ]
        // Every document has every key: the dry run's previews are null when the file was imported.
        if !outcome.dryRun {
            fields += [("releases", .null), ("conflicts_added", .null), ("conflicts_removed", .null)]
        } else {
            fields.append(("releases", .array(outcome.previews.map { preview in
                .object([
                    ("release", .string(preview.release.description)), ("state", .string(preview.state.rawValue)),
                    ("changes", .array(preview.changes.map { change in
                        .object([("field", .string(change.field)), ("from", jsonValue(change.from)), ("to", jsonValue(change.to))])
                    })),
                ])
            })))
            fields.append(("conflicts_added", .array(outcome.conflictsAdded.map { .object(ConflictFormats.fields($0)) })))
            fields.append(("conflicts_removed", .array(outcome.conflictsRemoved.map { .object(ConflictFormats.fields($0)) })))
        }
        fields.append(("problems", .strings(outcome.warnings.map(\.description))))
        return .object(fields)
    }
}

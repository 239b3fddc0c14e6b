import Foundation
import ReleaseCore

/// A piece of `COPY ... FROM STDIN` text holding whole rows, ready for `PQputCopyData`.
public struct ImportChunk: Sendable {
    /// Lines in PostgreSQL COPY text format, columns as `CopyTextEncoder.columns`.
    public var bytes: [UInt8]
    public var rowCount: Int
    /// Lines in the import file of the first and last row in the chunk.
    public var firstLine: Int
    public var lastLine: Int
}

/// What a run found: counts, the problems to print, and per release whether it can be
/// imported.
public struct ImportReport: Sendable {
    public var fileName: String
    /// Data rows read (the header and blank rows not counted).
    public var rowsRead: Int
    public var validRows: Int
    public var invalidRows: Int
    public var bytesRead: Int
    /// Problems in file order, at most `ImportOptions.maximumIssues` of them.
    public var issues: [ImportIssue]
    /// Problems found beyond the cap: counted, not kept.
    public var omittedIssueCount: Int
    /// Every release of the file, in order of first appearance.
    public var releases: [ReleaseSummary]
    /// False when no unit is given on two valid rows (then the database need not look for
    /// units described twice); true when one may be.
    public var unitsMayRepeat = true

    public var hasErrors: Bool { invalidRows > 0 || !issues.isEmpty || omittedIssueCount > 0 }

    /// Releases with at least one bad row, sorted: skipped whole by `--on-error skip`.
    public var invalidReleases: [ReleaseKey] { releases.filter(\.hasInvalidRow).map(\.key).sorted() }

    /// One line per problem, then `... and N more problems` when some were left out.
    public var messages: [String] {
        var lines = issues.map(\.description)
        if omittedIssueCount > 0 {
            lines.append("... and \(omittedIssueCount) more \(omittedIssueCount == 1 ? "problem" : "problems") not shown")
        }
        return lines
    }
}

/// Reads an import file (DESIGN.md §4) and hands out its valid rows, either as chunks of
/// COPY text for the staging table or as typed `ImportRow`s, while collecting every problem.
///
/// The header is read and resolved on creation, so a file that cannot be imported at all
/// (binary, empty, header only, unknown columns) fails there with an `ImportFailure`. After
/// that, problems of rows are collected in `report` and reading goes on; only bytes that
/// are not UTF-8 (and read errors) stop it. Memory stays flat: rows are not kept, only a
/// small summary per release.
///
/// One reader is read from one task; it is a stream over a file, not a value.
public final class ImportReader {
    public let fileName: String
    public let layout: ColumnLayout
    /// The header cells as written.
    public let header: [String]
    public let delimiter: UInt8
    public let encoding: ImportEncoding
    public let options: ImportOptions

    /// Called every `options.progressInterval` rows and once at the end.
    public var onProgress: ((ImportProgress) -> Void)?

    /// Where bad rows go, each with a `reason` column; set it before reading.
    public var rejects: RejectsWriter? {
        didSet {
            rejects?.start(header: header, delimiter: delimiter, crlf: reader.usesCRLF)
        }
    }

    private let reader: CSVReader
    private var validator: RowValidator
    private var collector: IssueCollector
    private var hasPendingRecord: Bool
    private var finished = false
    private var rowsRead = 0
    private var validRows = 0
    private var invalidRows = 0
    private var output: CopyOutput
    private var rowIssues: [ImportIssue] = []

    public init(source: ImportSource, options: ImportOptions = ImportOptions()) throws(ImportFailure) {
        self.options = options
        let encoding = options.encoding ?? options.mapping.encoding ?? .utf8
        let reader = try CSVReader(
            source: source, delimiter: options.delimiter ?? options.mapping.delimiter, encoding: encoding,
            bufferSize: options.readSize)
        self.reader = reader
        self.encoding = encoding
        fileName = reader.fileName
        delimiter = reader.delimiter

        guard try reader.next() else {
            throw ImportFailure(ImportIssue(
                file: fileName, line: 1, field: "file",
                message: "the file is empty; expected a header line such as group,plan,release,..."))
        }
        let headerLine = reader.line
        if let problem = reader.problems.first {
            throw ImportFailure(Self.issue(for: problem, reader: reader, field: "header"))
        }
        header = reader.fields
        layout = try ColumnLayout.resolve(
            header: header, mapping: options.mapping, groupIsOptional: options.defaultGroup?.isEmpty == false,
            fileName: fileName, line: headerLine)
        reader.columnNames = layout.headers.enumerated().map { $1.isEmpty ? "column \($0 + 1)" : $1 }

        let parser: TimestampParser
        do throws(TimestampFormatError) {
            parser = try TimestampParser(
                timeZone: options.timeZone, formats: options.mapping.timestampFormats,
                dateFormats: options.mapping.dateFormats)
        } catch {
            throw ImportFailure(ImportIssue(file: fileName, line: 1, field: "mapping", message: error.description))
        }
        validator = RowValidator(
            fileName: fileName, layout: layout, parser: parser, defaultGroup: options.defaultGroup,
            known: options.knownCodes)
        collector = IssueCollector(limit: options.maximumIssues)

        guard try reader.next() else {
            throw ImportFailure(ImportIssue(
                file: fileName, line: headerLine, field: "file", message: "the file has a header but no rows"))
        }
        hasPendingRecord = true
        output = CopyOutput(capacity: options.chunkSize + 64 * 1024)
    }

    deinit {
        output.release()
    }

    // MARK: Reading

    /// The next chunk of about `options.chunkSize` bytes of COPY text; nil at the end.
    public func nextChunk() throws(ImportFailure) -> ImportChunk? {
        output.removeAll()
        var rowCount = 0
        var firstLine = 0
        var lastLine = 0
        while output.count < options.chunkSize, try advance() {
            guard try processRecord() else { continue }
            CopyTextEncoder.append(validator.row, to: &output)
            if rowCount == 0 { firstLine = validator.row.line }
            lastLine = validator.row.line
            rowCount += 1
        }
        guard rowCount > 0 else { return nil }
        return ImportChunk(bytes: Array(output.bytes), rowCount: rowCount, firstLine: firstLine, lastLine: lastLine)
    }

    /// The next valid row, typed; nil at the end. Use this or `nextChunk()`, not both.
    public func nextRow() throws(ImportFailure) -> ImportRow? {
        while try advance() {
            if try processRecord() { return validator.makeRow() }
        }
        return nil
    }

    /// Reads to the end, handing every chunk to `body`, and returns the report.
    public func readChunks(_ body: (ImportChunk) throws -> Void) throws -> ImportReport {
        while let chunk = try nextChunk() { try body(chunk) }
        return report
    }

    /// Reads to the end without producing output: a dry run.
    public func validate() throws(ImportFailure) -> ImportReport {
        while try advance() { _ = try processRecord() }
        return report
    }

    /// The chunks as an asynchronous sequence, for `for try await chunk in reader.chunks`.
    public var chunks: ImportChunks { ImportChunks(reader: self) }

    /// What the run found so far; complete once reading returned nil.
    public var report: ImportReport {
        ImportReport(
            fileName: fileName, rowsRead: rowsRead, validRows: validRows, invalidRows: invalidRows,
            bytesRead: reader.bytesRead, issues: collector.issues, omittedIssueCount: collector.omitted,
            releases: validator.releaseInfos.map {
                ReleaseSummary(key: $0.key, firstLine: $0.firstLine, rowCount: $0.rowCount, hasInvalidRow: $0.hasInvalidRow)
            },
            unitsMayRepeat: validator.units.mayRepeat)
    }

    public var progress: ImportProgress {
        ImportProgress(rowsRead: rowsRead, bytesRead: reader.bytesRead, totalBytes: reader.totalBytes)
    }

    // MARK: Internals

    /// Moves to the next record; false (after a last progress report) at the end.
    private func advance() throws(ImportFailure) -> Bool {
        if hasPendingRecord {
            hasPendingRecord = false
            return true
        }
        guard !finished else { return false }
        if try reader.next() { return true }
        finished = true
        try rejects?.flush()
        onProgress?(progress)
        return false
    }

    /// Checks the current record; true when it is a valid row (in `validator.row`).
    private func processRecord() throws(ImportFailure) -> Bool {
        rowsRead += 1
        if options.progressInterval > 0, rowsRead % options.progressInterval == 0 { onProgress?(progress) }
        let line = reader.line
        rowIssues.removeAll(keepingCapacity: true)
        for problem in reader.problems {
            rowIssues.append(Self.issue(for: problem, reader: reader, field: nil))
        }
        let hasUnclosedQuote = reader.problems.contains {
            if case .unclosedQuote = $0.kind { return true } else { return false }
        }
        var columnsFit = !hasUnclosedQuote  // the rest of the file is in one field: nothing to check
        if !hasUnclosedQuote, let issue = columnCountProblem(line: line) {
            columnsFit = false
            rowIssues.append(issue)
        }

        let isValid: Bool = reader.withRecord { record in
            if columnsFit {
                let valid = validator.validate(record, line: line, alreadyInvalid: !rowIssues.isEmpty)
                rowIssues.append(contentsOf: validator.issues)
                return valid
            }
            validator.markReleaseInvalid(record, line: line)
            return false
        }
        if isValid {
            validRows += 1
            return true
        }
        invalidRows += 1
        for issue in rowIssues { collector.add(issue) }
        if let rejects {
            let reason = rowIssues.map { "line \($0.line): \($0.field): \($0.message)" }.joined(separator: "; ")
            try reader.withRecord { (record) throws(ImportFailure) in try rejects.write(record, reason: reason) }
        }
        return false
    }

    /// Rows have as many fields as the header; only the unnamed columns a header may end
    /// with (`a;b;c;`, as spreadsheets write) may be missing, and they must be empty.
    private func columnCountProblem(line: Int) -> ImportIssue? {
        let count = reader.fieldCount
        let expected = header.count
        var message: String?
        if count < layout.columnCount {
            message = reader.endsWithLineBreak
                ? "expected \(expected) columns, got \(count)"
                : "the file ends in the middle of this row: expected \(expected) columns, got \(count) (is the file cut off?)"
        } else if count > expected {
            message = "expected \(expected) columns, got \(count)"
        } else if let column = (layout.columnCount..<count).first(where: { !reader.fieldBytes($0).isEmpty }) {
            return ImportIssue(
                file: fileName, line: line, field: "row",
                message: "column \(column + 1) has no name in the header, so it must be empty",
                got: ImportIssue.shown(reader.fieldBytes(column)))
        }
        return message.map { ImportIssue(file: fileName, line: line, field: "row", message: $0) }
    }

    static func issue(for problem: CSVRecordProblem, reader: CSVReader, field: String?) -> ImportIssue {
        let name = field ?? reader.columnName(problem.field)
        let value = problem.field < reader.fieldCount
            ? ImportIssue.shown(reader.fieldBytes(problem.field)) : ""
        switch problem.kind {
        case .textAfterClosingQuote:
            return ImportIssue(
                file: reader.fileName, line: problem.line, field: name,
                message: "text after the closing quote; inside a quoted field write a quote twice (\"\")",
                got: value)
        case .unclosedQuote(let opened):
            return ImportIssue(
                file: reader.fileName, line: opened, field: name,
                message: "the quote opened on line \(opened) is never closed, so the rest of the file is inside it",
                got: value)
        case .nulByte:
            return ImportIssue(
                file: reader.fileName, line: problem.line, field: name,
                message: "contains a NUL byte (0x00); the file may be damaged", got: value)
        }
    }
}

/// `ImportReader.chunks`: the chunks of COPY text as an asynchronous sequence.
public struct ImportChunks: AsyncSequence {
    public typealias Element = ImportChunk
    public typealias Failure = ImportFailure

    let reader: ImportReader

    public func makeAsyncIterator() -> Iterator {
        Iterator(reader: reader)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let reader: ImportReader

        public mutating func next() async throws(ImportFailure) -> ImportChunk? {
            try reader.nextChunk()
        }

        @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, *)
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(ImportFailure) -> ImportChunk? {
            try reader.nextChunk()
        }
    }
}

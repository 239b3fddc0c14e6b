import Foundation

/// Writes the rows that `--on-error skip` leaves out: each original record, re-encoded as
/// CSV with the import file's delimiter and line ends, plus a `reason` column. Fix the rows
/// and import the file again: the importer ignores a `reason` column.
public final class RejectsWriter {
    public let path: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var delimiter = UInt8(ascii: ",")
    private var lineEnd: [UInt8] = [0x0A]
    private var columnCount = 0
    private var started = false
    /// Rows written so far (the header not counted).
    public private(set) var rowCount = 0

    /// Creates (or empties) the file at `path`.
    public init(path: String) throws(ImportFailure) {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path)
        else {
            throw ImportFailure(ImportIssue(file: path, line: 1, field: "file", message: "cannot create the rejects file"))
        }
        self.handle = handle
        buffer.reserveCapacity(Self.flushSize)
    }

    deinit {
        try? handle.close()
    }

    /// Writes the header line; `ImportReader` calls it when the writer is attached.
    func start(header: [String], delimiter: UInt8, crlf: Bool) {
        guard !started else { return }
        started = true
        self.delimiter = delimiter
        lineEnd = crlf ? [0x0D, 0x0A] : [0x0A]
        columnCount = header.count
        var cells = header
        cells.append("reason")
        writeLine(cells.map { Array($0.utf8) })
    }

    /// Writes one rejected record with its reason.
    func write(_ record: RecordView, reason: String) throws(ImportFailure) {
        for index in 0..<record.count {
            if index > 0 { buffer.append(delimiter) }
            appendCell(record.field(index))
        }
        // Short rows are padded so that `reason` stays in its column.
        for _ in record.count..<max(record.count, columnCount) { buffer.append(delimiter) }
        buffer.append(delimiter)
        var reasonCopy = reason
        reasonCopy.withUTF8 { appendCell($0) }
        buffer.append(contentsOf: lineEnd)
        rowCount += 1
        if buffer.count >= Self.flushSize { try flush() }
    }

    /// Writes the current record of `reader` with its reason: a second pass over the file
    /// adds the rows of releases skipped for a reason only the database knew.
    public func write(currentRecordOf reader: CSVReader, reason: String) throws(ImportFailure) {
        try reader.withRecord { (record) throws(ImportFailure) in try write(record, reason: reason) }
    }

    /// Writes out what is buffered.
    public func flush() throws(ImportFailure) {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw ImportFailure(ImportIssue(file: path, line: 1, field: "file", message: "cannot write: \(error)"))
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes the file.
    public func close() throws(ImportFailure) {
        try flush()
        try? handle.close()
    }

    // MARK: Internals

    private static let flushSize = 256 * 1024

    private func writeLine(_ cells: [[UInt8]]) {
        for (index, cell) in cells.enumerated() {
            if index > 0 { buffer.append(delimiter) }
            cell.withUnsafeBufferPointer { appendCell($0) }
        }
        buffer.append(contentsOf: lineEnd)
    }

    /// RFC 4180: quoted when the cell holds the delimiter, a quote, a line break or edge
    /// spaces; quotes inside doubled.
    private func appendCell(_ bytes: UnsafeBufferPointer<UInt8>) {
        let needsQuotes = bytes.contains { $0 == delimiter || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
            || bytes.first == 0x20 || bytes.last == 0x20
        guard needsQuotes else {
            buffer.append(contentsOf: bytes)
            return
        }
        buffer.append(0x22)
        for byte in bytes {
            if byte == 0x22 { buffer.append(0x22) }
            buffer.append(byte)
        }
        buffer.append(0x22)
    }
}

import Foundation
import ReleaseCore

typealias ByteSpan = UnsafeBufferPointer<UInt8>

/// The fields of the current record as byte slices into the reader's buffer.
struct RecordView {
    let base: UnsafePointer<UInt8>?
    let ends: UnsafeBufferPointer<Int>

    var count: Int { ends.count }

    func field(_ index: Int) -> ByteSpan {
        guard let base else { return ByteSpan(start: nil, count: 0) }
        let start = index == 0 ? 0 : ends[index - 1]
        return ByteSpan(start: base + start, count: ends[index] - start)
    }
}

extension CSVReader {
    /// The current record as a view, valid inside `body` only.
    func withRecord<Result, Failure: Error>(
        _ body: (RecordView) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let bytes = currentRecordBytes
        return try currentFieldEnds.withUnsafeBufferPointer { (ends) throws(Failure) -> Result in
            try body(RecordView(base: bytes.baseAddress, ends: ends))
        }
    }
}

/// A row that passed validation, as trimmed slices and parsed values; valid until the reader
/// moves on.
struct ValidatedRow {
    var line = 0
    /// The release's number in order of first appearance in the file: the staging table's
    /// key for the release, one integer instead of two texts to join and group on.
    var releaseNumber = 0
    /// The row repeats the release- and plan-level cells of the release's previous valid row:
    /// those columns go to the staging table as NULL (the database takes each release's given
    /// values, so nothing is lost) and the COPY stream shrinks by about a third.
    var repeatsReleaseCells = false
    /// By `ImportField.index`; empty when the cell is empty or the file lacks the column.
    var spans = [ByteSpan](repeating: ByteSpan(start: nil, count: 0), count: ImportField.allCases.count)
    var deployStart: Int64?
    var deployEnd: Int64?
    var priority: Int?
    var deadline: CalendarDay?
    var deadlineEnd: Int64?
    var dependencies: [(group: ByteSpan, release: ByteSpan)] = []
    var envStart: Int64?
    var envEnd: Int64?

    subscript(field: ImportField) -> ByteSpan { spans[field.index] }
}

/// The last timestamp text of a column and what it parsed to.
struct InstantMemo {
    private var text: [UInt8] = []
    private var micros: Int64 = 0

    func value(for bytes: ByteSpan) -> Int64? {
        text.withUnsafeBufferPointer { ConsistencyTable.equal($0, bytes) } && !text.isEmpty ? micros : nil
    }

    mutating func remember(_ bytes: ByteSpan, _ value: Int64) {
        text.removeAll(keepingCapacity: true)
        text.append(contentsOf: bytes)
        micros = value
    }
}

/// The release- and plan-level cells of the last row that passed the consistency checks.
struct RepeatedCells {
    static let fields: [ImportField] = [
        .group, .release, .plan, .planTitle, .changeRef, .releaseTitle, .window, .deployStart, .deployEnd,
        .priority, .deadline, .dependsOn,
    ]
    private var bytes: [UInt8] = []
    private var ends: [Int] = []

    func matches(_ row: ValidatedRow) -> Bool {
        guard !ends.isEmpty else { return false }
        return bytes.withUnsafeBufferPointer { stored in
            var start = 0
            for (index, field) in Self.fields.enumerated() {
                let end = ends[index]
                guard ConsistencyTable.equal(UnsafeBufferPointer(rebasing: stored[start..<end]), row[field]) else {
                    return false
                }
                start = end
            }
            return true
        }
    }

    mutating func remember(_ row: ValidatedRow) {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        for field in Self.fields {
            bytes.append(contentsOf: row[field])
            ends.append(bytes.count)
        }
    }
}

/// What the run knows of a release while it runs.
struct ReleaseInfo {
    var key: ReleaseKey
    var firstLine: Int
    var rowCount: Int
    var hasInvalidRow: Bool
}

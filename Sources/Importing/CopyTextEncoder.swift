import Foundation
import Postgres
import ReleaseCore

/// Writes validated rows as PostgreSQL `COPY ... FROM STDIN` text format (`Postgres.CopyText`
/// owns the format; this knows which cells go in which column). The staging table's columns are
/// `CopyTextEncoder.columns`, in that order.
public enum CopyTextEncoder {
    /// The staging columns, in the order every line gives them.
    public static let columns = [
        "line", "release_no", "grp", "plan", "plan_title", "change_ref", "release", "release_title", "window_code",
        "deploy_start", "deploy_end", "priority", "deadline", "depends_on", "package", "unit", "unit_kind",
        "target", "version", "environment", "env_start", "env_end",
    ]

    /// Appends one row. Timestamps are RFC 3339 in UTC, the deadline `YYYY-MM-DD`, and
    /// `depends_on` a text-array literal (`{"HR/PAY-7","CRM/R-2027.02"}`) or NULL when empty.
    ///
    /// Room for the worst case is reserved first, then the row is written through a pointer:
    /// no per-byte capacity or uniqueness checks.
    static func append(_ row: ValidatedRow, to out: inout CopyOutput) {
        out.reserve(bound(row))
        var writer = RowWriter(cursor: out.base + out.count, cache: out.instants)
        writer.integer(row.line)
        writer.tab()
        writer.integer(row.releaseNumber)
        if row.repeatsReleaseCells {
            appendRepeat(row, &writer)
        } else {
            appendReleaseCells(row, &writer)
        }
        writer.text(row[.package])
        writer.text(row[.unit])
        writer.text(row[.unitKind])
        writer.text(row[.target])
        writer.text(row[.version])
        writer.text(row[.environment])
        writer.instant(row.envStart, column: 2)
        writer.instant(row.envEnd, column: 3)
        writer.byte(UInt8(ascii: "\n"))
        out.buffer.wrote(upTo: writer.cursor)
    }

    /// The release columns of a row that repeats its release's previous row: the keys only.
    private static func appendRepeat(_ row: ValidatedRow, _ writer: inout RowWriter) {
        writer.text(row[.group])
        writer.tab(); writer.null()  // plan
        writer.tab(); writer.null()  // plan_title
        writer.tab(); writer.null()  // change_ref
        writer.text(row[.release])
        for _ in 0..<7 {  // release_title, window_code, deploy_start, deploy_end, priority, deadline, depends_on
            writer.tab(); writer.null()
        }
    }

    private static func appendReleaseCells(_ row: ValidatedRow, _ writer: inout RowWriter) {
        writer.text(row[.group])
        writer.text(row[.plan])
        writer.text(row[.planTitle])
        writer.text(row[.changeRef])
        writer.text(row[.release])
        writer.text(row[.releaseTitle])
        writer.text(row[.window])
        writer.instant(row.deployStart, column: 0)
        writer.instant(row.deployEnd, column: 1)
        writer.tab()
        if let priority = row.priority { writer.integer(priority) } else { writer.null() }
        writer.tab()
        if let deadline = row.deadline {
            writer.cursor += CivilCalendar.writeDate(
                year: deadline.year, month: deadline.month, day: deadline.day, to: writer.cursor)
        } else {
            writer.null()
        }
        writer.tab()
        if row.dependencies.isEmpty {
            writer.null()
        } else {
            writer.byte(UInt8(ascii: "{"))
            for (index, dependency) in row.dependencies.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.byte(UInt8(ascii: "\""))
                writer.arrayElement(dependency.group)
                writer.byte(UInt8(ascii: "/"))
                writer.arrayElement(dependency.release)
                writer.byte(UInt8(ascii: "\""))
            }
            writer.byte(UInt8(ascii: "}"))
        }
    }

    /// The most bytes `append` can write for `row`.
    static func bound(_ row: ValidatedRow) -> Int {
        var textBytes = 0
        for span in row.spans { textBytes += span.count }
        var dependencyBytes = 2
        for dependency in row.dependencies { dependencyBytes += 4 * (dependency.group.count + dependency.release.count) + 4 }
        // Every text byte may double; 22 separators, 4 timestamps, numbers and NULLs fit in 256.
        return 2 * textBytes + dependencyBytes + 4 * CivilCalendar.maximumRFC3339Length + 256
    }
}

/// The buffer chunks are encoded into, reused from chunk to chunk: the importer's one
/// `ByteBuffer`, written through its pointer (room reserved first), so that writing a row costs
/// no per-byte checks. Its owner calls `release()` for the instant cache.
struct CopyOutput {
    let buffer: ByteBuffer
    fileprivate let instants = InstantTextCache()

    init(capacity: Int) {
        buffer = ByteBuffer(capacity: max(4096, capacity))
    }

    var base: UnsafeMutablePointer<UInt8> { buffer.base }
    var count: Int { buffer.count }
    var bytes: UnsafeBufferPointer<UInt8> { buffer.bytes }

    func removeAll() { buffer.removeAll() }

    func reserve(_ additional: Int) { buffer.reserve(additional) }

    func release() {
        instants.release()
    }
}

/// The last instant written in each timestamp column, as text: rows of one release repeat
/// their times, and copying 20 bytes is cheaper than formatting them.
struct InstantTextCache {
    static let columns = 4
    private static let stride = CivilCalendar.maximumRFC3339Length
    private let micros = UnsafeMutablePointer<Int64>.allocate(capacity: columns)
    private let counts = UnsafeMutablePointer<Int>.allocate(capacity: columns)
    private let text = UnsafeMutablePointer<UInt8>.allocate(capacity: columns * stride)

    init() {
        micros.initialize(repeating: .min, count: Self.columns)
        counts.initialize(repeating: 0, count: Self.columns)
    }

    /// Writes the cached text of `value` at `cursor` and returns its length, or nil.
    @inline(__always)
    func write(_ value: Int64, column: Int, to cursor: UnsafeMutablePointer<UInt8>) -> Int? {
        guard micros[column] == value else { return nil }
        cursor.update(from: text + column * Self.stride, count: counts[column])
        return counts[column]
    }

    @inline(__always)
    func store(_ value: Int64, column: Int, from bytes: UnsafePointer<UInt8>, count: Int) {
        micros[column] = value
        counts[column] = count
        (text + column * Self.stride).update(from: bytes, count: count)
    }

    func release() {
        micros.deallocate()
        counts.deallocate()
        text.deallocate()
    }
}

/// The importer's cells over the COPY text writer: empty text is NULL, CR is dropped (it only
/// ever comes before LF), and instants come from the cache when they repeat.
struct RowWriter {
    var copy: CopyTextWriter
    let cache: InstantTextCache

    init(cursor: UnsafeMutablePointer<UInt8>, cache: InstantTextCache) {
        copy = CopyTextWriter(cursor: cursor)
        self.cache = cache
    }

    var cursor: UnsafeMutablePointer<UInt8> {
        get { copy.cursor }
        set { copy.cursor = newValue }
    }

    @inline(__always) mutating func byte(_ value: UInt8) { copy.byte(value) }
    @inline(__always) mutating func tab() { copy.tab() }
    @inline(__always) mutating func null() { copy.null() }
    @inline(__always) mutating func integer(_ value: Int) { copy.integer(value) }
    @inline(__always) mutating func arrayElement(_ bytes: UnsafeBufferPointer<UInt8>) { copy.arrayElement(bytes) }

    /// A tab, then the value escaped, or `\N` when it is empty.
    @inline(__always)
    mutating func text(_ bytes: UnsafeBufferPointer<UInt8>) {
        copy.tab()
        if bytes.isEmpty {
            copy.null()
        } else {
            copy.escaped(bytes, droppingCarriageReturns: true)
        }
    }

    /// A tab, then RFC 3339 in UTC, or `\N`.
    @inline(__always)
    mutating func instant(_ micros: Int64?, column: Int) {
        copy.tab()
        guard let micros else {
            copy.null()
            return
        }
        if let count = cache.write(micros, column: column, to: cursor) {
            cursor += count
            return
        }
        let count = CivilCalendar.writeRFC3339(unixMicroseconds: micros, to: cursor)
        cache.store(micros, column: column, from: cursor, count: count)
        cursor += count
    }
}

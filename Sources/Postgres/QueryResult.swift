import CLibPQ
import Foundation

/// The rows of one statement. Owns the libpq result and frees it exactly once.
public final class QueryResult {
    private let result: OpaquePointer
    public let rowCount: Int
    public let columnCount: Int
    /// The statement that made these rows, for errors.
    public let statement: String?
    /// Column numbers by name, asked of libpq once per name and result rather than once per row.
    private var numbers: [String: Int] = [:]

    init(_ result: OpaquePointer, statement: String? = nil) {
        self.result = result
        self.statement = statement
        rowCount = Int(PQntuples(result))
        columnCount = Int(PQnfields(result))
    }

    deinit { PQclear(result) }

    /// Rows changed by an INSERT, UPDATE, DELETE, MERGE or COPY.
    public var affectedRows: Int {
        guard let text = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    public var columnNames: [String] {
        (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
    }

    /// Index of a column by name; throws a decoding error naming the column, the statement and
    /// the columns there are.
    public func columnIndex(_ name: String) throws -> Int {
        if let number = numbers[name] { return number }
        // Quoted, so that PQfnumber neither folds case nor reads the name as SQL.
        let number = Int(PQfnumber(result, SQL.quotedIdentifier(name)))
        guard number >= 0 else {
            throw PostgresError(
                kind: .decoding,
                message: "no column \"\(name)\" in the result (columns: \(columnNames.joined(separator: ", ")))",
                column: name, statement: statement)
        }
        numbers[name] = number
        return number
    }

    public var rows: Rows { Rows(result: self) }

    public func row(_ index: Int) -> Row { Row(result: self, index: index) }

    /// The first row, if any: for queries that look one thing up.
    public var first: Row? { rowCount > 0 ? row(0) : nil }

    /// Every row as a tuple of the types given, one per column in order:
    /// `try result.decode((String, Int?).self)`.
    public func decode<each Column: PostgresDecodable>(_ types: (repeat each Column).Type) throws -> [(repeat each Column)] {
        try rows.map { try $0.decode(types) }
    }

    // MARK: Raw access for decoders

    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(result, Int32(row), Int32(column)) == 1 }

    func bytes(_ row: Int, _ column: Int) -> UnsafeBufferPointer<UInt8> {
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard let value = PQgetvalue(result, Int32(row), Int32(column)) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self), count: length)
    }

    func typeOID(_ column: Int) -> UInt32 { PQftype(result, Int32(column)) }

    func name(_ column: Int) -> String { String(cString: PQfname(result, Int32(column))) }

    func checkColumn(_ column: Int) throws {
        guard column >= 0, column < columnCount else {
            throw PostgresError(
                kind: .decoding, message: "no column \(column) in the result (\(columnCount) columns)", statement: statement)
        }
    }
}

@available(*, unavailable)
extension QueryResult: Sendable {}

/// The rows of a result, as a random-access collection.
public struct Rows: RandomAccessCollection {
    let result: QueryResult
    public var startIndex: Int { 0 }
    public var endIndex: Int { result.rowCount }
    public subscript(position: Int) -> Row { Row(result: result, index: position) }
}

/// One row; columns are read by name, as a typed tuple, or by position, and decoded to the type asked for.
public struct Row {
    let result: QueryResult
    public let index: Int

    public func isNull(_ column: Int) -> Bool { result.isNull(index, column) }

    public func isNull(_ column: String) throws -> Bool { result.isNull(index, try result.columnIndex(column)) }

    /// Decodes a column; a NULL (unless `T` is optional) or a value of another type is an error
    /// that names the column.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, _ column: Int) throws -> T {
        guard !result.isNull(index, column) else {
            try result.checkColumn(column)
            return try T.decodeNull(column: result.name(column))
        }
        return try T.decode(result.bytes(index, column), typeOID: result.typeOID(column), column: result.name(column))
    }

    /// Decodes the column of that name (its number is looked up once per result).
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, _ column: String) throws -> T {
        try decode(type, result.columnIndex(column))
    }

    /// `row[“code”]`-style access that reads as a decode: `try row.decode("code", as: String.self)`.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try decode(type, result.columnIndex(column))
    }

    /// The whole row as a tuple of the types given, one per column in order: a statement of
    /// three columns read as `try row.decode((String, Int, Date?).self)`. A different number of
    /// columns is an error naming the statement.
    public func decode<each Column: PostgresDecodable>(_ types: (repeat each Column).Type) throws -> (repeat each Column) {
        var arity = 0
        for _ in repeat (each Column).self { arity += 1 }
        try checkArity(arity)
        var column = 0
        func next<T: PostgresDecodable>(_ type: T.Type) throws -> T {
            defer { column += 1 }
            return try decode(type, column)
        }
        return (repeat try next((each Column).self))
    }

    /// The only column of a one-column statement: `try row.decode(Int.self)`. What the tuple
    /// decode above does for one type, but with the type as it is: `first?.decode(Int.self) == 1`
    /// and `rows.map { try $0.decode(Int.self) } == [1, 2]` type-check, and `decode(String?.self)`
    /// is a `String?`. Another number of columns is the same error as the tuple decode's.
    public func decode<T: PostgresDecodable>(_ type: T.Type) throws -> T {
        try checkArity(1)
        return try decode(type, 0)
    }

    private func checkArity(_ arity: Int) throws {
        guard arity == result.columnCount else {
            throw PostgresError(
                kind: .decoding,
                message: "the result has \(result.columnCount) columns (\(result.columnNames.joined(separator: ", "))), read as \(arity)",
                statement: result.statement)
        }
    }

    /// A column as text whatever its type, for printing.
    public func text(_ column: Int) -> String? {
        result.isNull(index, column) ? nil : String(decoding: result.bytes(index, column), as: UTF8.self)
    }

    /// The column of that name as text whatever its type.
    public func text(_ column: String) throws -> String? {
        text(try result.columnIndex(column))
    }
}

@available(*, unavailable)
extension Row: Sendable {}

/// A Swift type that a column can be decoded into, from PostgreSQL's text format.
public protocol PostgresDecodable {
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, typeOID: UInt32, column: String) throws -> Self
    /// What a NULL in the column decodes to: an error, except for optionals.
    static func decodeNull(column: String) throws -> Self
}

extension PostgresDecodable {
    public static func decodeNull(column: String) throws -> Self {
        throw PostgresError(kind: .decoding, message: "column \"\(column)\" is NULL, expected \(Self.self)", column: column)
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, typeOID: UInt32, column: String) throws -> Wrapped? {
        try Wrapped.decode(bytes, typeOID: typeOID, column: column)
    }

    public static func decodeNull(column: String) throws -> Wrapped? { nil }
}

func mismatch(_ column: String, _ expected: String, _ oid: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> PostgresError {
    PostgresError(
        kind: .decoding,
        message: "column \"\(column)\" holds \(String(decoding: bytes.prefix(40), as: UTF8.self)) (type oid \(oid)), expected \(expected)")
}

extension String: PostgresDecodable {
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, typeOID: UInt32, column: String) throws -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

private let integerOIDs: Set<UInt32> = [PostgresType.int2, PostgresType.int4, PostgresType.int8, PostgresType.oid]

private func parseInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
    guard !bytes.isEmpty else { return nil }
    var value: Int64 = 0
    var negative = false
    var start = 0
    if bytes[0] == UInt8(ascii: "-") {
        negative = true
        start = 1
        guard bytes.count > 1 else { return nil }
    }
    for index in start..<bytes.count {
        let byte = bytes[index]
        guard byte >= 48 && byte <= 57 else { return nil }
        let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (added, overflow2) = multiplied.addingReportingOverflow(Int64(byte - 48))
        guard !overflow1, !overflow2 else { return nil }
        value = added
    }
    return negative ? -value : value
}

extension Int64: PostgresDecodable {
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, typeOID: UInt32, column: String) throws -> Int64 {
        guard integerOIDs.contains(typeOID), let value = parseInteger(bytes) else {
            throw mismatch(column, "an integer", typeOID, bytes)
        }
        return value
    }
}

extension Int: PostgresDecodable {
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, typeOID: UInt32, column: String) throws -> Int {
        Int(try Int64.decode(bytes, typeOID: typeOID, column: column))
    }
}

extension Int32: PostgresDecodable {
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, typeOID: UInt32, column: String) throws -> Int32 {
        let value = try Int64.decode(bytes, typeOID: typeOID, column: column)
        guard let narrow = Int32(exactly: value) else { throw mismatch(column, "a 32-bit integer", typeOID, bytes) }
        return narrow
    }
}

extension Bool: PostgresDecodable {
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, typeOID: UInt32, column: String) throws -> Bool {
        guard typeOID == PostgresType.bool, bytes.count == 1 else { throw mismatch(column, "a boolean", typeOID, bytes) }
        return bytes[0] == UInt8(ascii: "t")
    }
}

extension Double: PostgresDecodable {
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, typeOID: UInt32, column: String) throws -> Double {
        let numeric: Set<UInt32> = [PostgresType.float4, PostgresType.float8, PostgresType.numeric]
        guard numeric.contains(typeOID) || integerOIDs.contains(typeOID),
              let value = Double(String(decoding: bytes, as: UTF8.self))
        else { throw mismatch(column, "a number", typeOID, bytes) }
        return value
    }
}

extension UUID: PostgresDecodable {
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, typeOID: UInt32, column: String) throws -> UUID {
        guard typeOID == PostgresType.uuid, let value = UUID(uuidString: String(decoding: bytes, as: UTF8.self)) else {
            throw mismatch(column, "a uuid", typeOID, bytes)
        }
        return value
    }
}

extension Date: PostgresDecodable {
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, typeOID: UInt32, column: String) throws -> Date {
        guard typeOID == PostgresType.timestamptz || typeOID == PostgresType.date || typeOID == PostgresType.timestamp,
              let value = PostgresTimestamp.parse(bytes)
        else { throw mismatch(column, "a timestamp", typeOID, bytes) }
        return value
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// Decodes one-dimensional arrays (`{a,"b c",NULL}`); NULL elements are an error.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, typeOID: UInt32, column: String) throws -> [Element] {
        let elementOID: UInt32
        switch typeOID {
        case PostgresType.textArray, PostgresType.varcharArray, 1002 /* char[] */, 1003 /* name[] */: elementOID = PostgresType.text
        case PostgresType.int8Array: elementOID = PostgresType.int8
        case PostgresType.int4Array: elementOID = PostgresType.int4
        case PostgresType.int2Array: elementOID = PostgresType.int2
        case PostgresType.boolArray: elementOID = PostgresType.bool
        case PostgresType.float8Array: elementOID = PostgresType.float8
        case PostgresType.timestamptzArray: elementOID = PostgresType.timestamptz
        case PostgresType.uuidArray: elementOID = PostgresType.uuid
        default:
            // Arrays of enums and domains have their own OIDs; read their elements as text.
            guard bytes.first == UInt8(ascii: "{") else { throw mismatch(column, "an array", typeOID, bytes) }
            elementOID = PostgresType.text
        }
        var elements: [Element] = []
        var current: [UInt8] = []
        var quoted = false
        var wasQuoted = false
        var escaped = false
        func finish() throws {
            if !wasQuoted && current == [UInt8]("NULL".utf8) {
                throw PostgresError(kind: .decoding, message: "column \"\(column)\" holds a NULL array element")
            }
            let element = try current.withUnsafeBufferPointer {
                try Element.decode($0, typeOID: elementOID, column: column)
            }
            elements.append(element)
            current.removeAll(keepingCapacity: true)
            wasQuoted = false
        }
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else {
            throw mismatch(column, "an array", typeOID, bytes)
        }
        if bytes.count == 2 { return [] }
        for byte in bytes[1..<(bytes.count - 1)] {
            if escaped {
                current.append(byte)
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                quoted.toggle()
                wasQuoted = true
            } else if byte == UInt8(ascii: ","), !quoted {
                try finish()
            } else {
                current.append(byte)
            }
        }
        try finish()
        return elements
    }
}

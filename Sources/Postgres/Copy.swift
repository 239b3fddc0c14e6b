import CLibPQ
import Foundation

/// Feeds `COPY … FROM STDIN` in large chunks.
///
/// Rows are appended to a buffer and handed to libpq a megabyte at a time: one call per row
/// would cost more than the server's work.
public final class CopyWriter {
    private let handle: OpaquePointer
    private var buffer: [UInt8] = []
    private let chunkSize: Int
    public private(set) var bytesSent = 0

    init(handle: OpaquePointer, chunkSize: Int) {
        self.handle = handle
        self.chunkSize = chunkSize
        buffer.reserveCapacity(chunkSize + 4096)
    }

    /// Appends bytes that are already in the COPY format of the statement (text or CSV).
    public func write<Bytes: Sequence>(_ bytes: Bytes) throws where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        if buffer.count >= chunkSize { try flush() }
    }

    public func write(_ text: String) throws {
        try write(text.utf8)
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        let status = buffer.withUnsafeBufferPointer { pointer in
            pointer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
        }
        guard status == 1 else { throw PostgresError.lost(handle, statement: "COPY") }
        bytesSent += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }
}

@available(*, unavailable)
extension CopyWriter: Sendable {}

extension Connection {
    /// Streams rows into `COPY … FROM STDIN`; returns the number of rows the server stored.
    ///
    /// When `body` throws, the COPY is aborted (`PQputCopyEnd` with a reason), the server
    /// discards every row of it, and the error is rethrown.
    @discardableResult
    public func copyIn(_ sql: String, chunkSize: Int = 1 << 20, _ body: (CopyWriter) throws -> Void) throws -> Int {
        let handle = try requireHandle(sql)
        let start = try checked(PQexec(handle, sql), statement: sql, connection: handle)
        _ = start
        let writer = CopyWriter(handle: handle, chunkSize: chunkSize)
        do {
            try body(writer)
            try writer.flush()
        } catch {
            _ = PQputCopyEnd(handle, "aborted by the client: \(error)")
            drainResults(handle)
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else { throw PostgresError.lost(handle, statement: sql) }
        return try finishCopy(handle, statement: sql)
    }

    /// Reads `COPY … TO STDOUT` row by row; each row's bytes (without the newline) go to `body`.
    ///
    /// The fastest way to read many rows: no per-row result, and the text is decoded by the caller.
    public func copyOut(_ sql: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let handle = try requireHandle(sql)
        _ = try checked(PQexec(handle, sql), statement: sql, connection: handle)
        var failure: Error?
        while true {
            var pointer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &pointer, 0)
            if length == -1 { break }
            if length == -2 { throw PostgresError.lost(handle, statement: sql) }
            guard let pointer else { continue }
            if failure == nil {
                var count = Int(length)
                let bytes = UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self)
                if count > 0, bytes[count - 1] == UInt8(ascii: "\n") { count -= 1 }
                do {
                    try body(UnsafeBufferPointer(start: bytes, count: count))
                } catch {
                    failure = error  // keep reading: the connection must finish the COPY
                }
            }
            PQfreemem(pointer)
        }
        _ = try finishCopy(handle, statement: sql)
        if let failure { throw failure }
    }

    private func finishCopy(_ handle: OpaquePointer, statement: String) throws -> Int {
        var rows = 0
        var firstError: Error?
        while let result = PQgetResult(handle) {
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                rows = Int(String(cString: PQcmdTuples(result))) ?? 0
                PQclear(result)
            } else if firstError == nil {
                firstError = PostgresError(result: result, statement: statement, connection: handle)
                PQclear(result)
            } else {
                PQclear(result)
            }
        }
        if let firstError { throw firstError }
        if PQstatus(handle) == CONNECTION_BAD { throw PostgresError.lost(handle, statement: statement) }
        return rows
    }

    private func drainResults(_ handle: OpaquePointer) {
        while let result = PQgetResult(handle) { PQclear(result) }
    }
}

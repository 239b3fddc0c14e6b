import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an import reads its bytes from.
public enum ImportSource: Sendable {
    /// A file path; `-` means standard input.
    case file(String)
    /// Standard input, e.g. `relplan import -` in a pipe.
    case standardInput
    /// Bytes in memory, with the name to print in messages (tests, small payloads).
    case bytes([UInt8], name: String)

    /// The name messages start with.
    public var displayName: String {
        switch self {
        case .file("-"), .standardInput: return "<stdin>"
        case .file(let path): return path
        case .bytes(_, let name): return name
        }
    }
}

/// Reads a source in large chunks into one reused buffer: memory stays the same whatever
/// the size of the file.
final class ByteInput {
    let name: String
    /// The size of a regular file, for progress; nil for pipes and standard input.
    let totalBytes: Int?
    private(set) var bytesRead = 0

    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let memory: [UInt8]?
    private var memoryOffset = 0
    private let buffer: UnsafeMutablePointer<UInt8>
    private let capacity: Int

    init(_ source: ImportSource, bufferSize: Int) throws(ImportFailure) {
        name = source.displayName
        capacity = max(1, bufferSize)
        switch source {
        case .bytes(let bytes, _):
            descriptor = -1
            ownsDescriptor = false
            memory = bytes
            totalBytes = bytes.count
        case .standardInput, .file("-"):
            descriptor = STDIN_FILENO
            ownsDescriptor = false
            memory = nil
            totalBytes = Self.regularFileSize(STDIN_FILENO)
        case .file(let path):
            let opened = open(path, O_RDONLY)
            guard opened >= 0 else {
                throw ImportFailure(ImportIssue(
                    file: path, line: 1, field: "file", message: "cannot open: \(Self.errnoText())"))
            }
            var info = stat()
            if fstat(opened, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                close(opened)
                throw ImportFailure(ImportIssue(
                    file: path, line: 1, field: "file", message: "is a directory, not a CSV file"))
            }
            descriptor = opened
            ownsDescriptor = true
            memory = nil
            totalBytes = Self.regularFileSize(opened)
        }
        buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    deinit {
        buffer.deallocate()
        if ownsDescriptor { close(descriptor) }
    }

    /// The next chunk, empty at the end; valid until the next call.
    func read() throws(ImportFailure) -> UnsafeBufferPointer<UInt8> {
        if let memory {
            let count = min(capacity, memory.count - memoryOffset)
            memory.withUnsafeBufferPointer { source in
                if count > 0, let base = source.baseAddress {
                    buffer.update(from: base + memoryOffset, count: count)
                }
            }
            memoryOffset += count
            bytesRead += count
            return UnsafeBufferPointer(start: buffer, count: count)
        }
        while true {
            let count = systemRead(descriptor, buffer, capacity)
            if count >= 0 {
                bytesRead += count
                return UnsafeBufferPointer(start: buffer, count: count)
            }
            if errno == EINTR { continue }
            throw ImportFailure(ImportIssue(
                file: name, line: 1, field: "file", message: "read failed: \(Self.errnoText())"))
        }
    }

    private static func regularFileSize(_ descriptor: Int32) -> Int? {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

/// `read(2)` under a name that does not clash with `ByteInput.read()`.
@inline(__always)
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutablePointer<UInt8>, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

import Foundation
import TestSupport

/// One HTTP exchange, as a raw HTTP/1.1 client sees it (no cookie jar, no redirects followed).
struct HTTPReply: CustomStringConvertible {
    let status: Int
    let headers: [(String, String)]
    let body: String

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    func headers(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1) }
    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] }
    var description: String { "HTTP \(status)\n\(headers.map { "\($0.0): \($0.1)" }.joined(separator: "\n"))\n\n\(body)" }

    /// `name=value` of a Set-Cookie header.
    func cookie(_ name: String) -> String? {
        headers("Set-Cookie").first { $0.hasPrefix(name + "=") }
    }
}

/// A socket to 127.0.0.1:port, written and read with plain POSIX calls.
final class RawConnection {
    let fd: Int32

    init(port: Int) throws {
        // Connected before `self` exists: a throwing class init whose properties are all set runs
        // deinit too, and a second close(fd) would close whatever socket another test opened
        // under the same number in the meantime (seen: a libpq connection failing with EBADF).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError.cannotConnect(port) }
        guard Self.loopback(port, { connect(fd, $0, $1) }) == 0 else {
            close(fd)
            throw ServerError.cannotConnect(port)
        }
        self.fd = fd
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Calls `body` (connect or bind) with 127.0.0.1:port.
    static func loopback(_ port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Bytes until EOF, or until `until` says stop, or until `deadline`.
    func read(deadline: Date = Date().addingTimeInterval(30), until: (Data) -> Bool = { _ in false }) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000)))
            if ready <= 0 { break }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
            if until(data) { break }
        }
        return data
    }
}

enum ServerError: Error, CustomStringConvertible {
    case cannotConnect(Int)
    case didNotStart(String)
    case noFreePort

    var description: String {
        switch self {
        case .cannotConnect(let port): return "cannot connect to 127.0.0.1:\(port)"
        case .didNotStart(let log): return "relplan serve did not answer /healthz:\n\(log)"
        case .noFreePort: return "no free port in 18080–18099"
        }
    }
}

/// The built `relplan serve`, started on a free port of 18080–18099 against a test database.
final class ServerProcess {
    let process = Process()
    let port: Int
    let logFile: URL

    init(database: TestDatabase, extra: [String] = []) throws {
        port = try Self.freePort()
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("relplan-serve-\(port)-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["serve", "--listen", "127.0.0.1:\(port)", "--database-url", database.conninfo] + extra
        var environment = ProcessInfo.processInfo.environment
        environment["TZ"] = "UTC"
        process.environment = environment
        let log = try FileHandle(forWritingTo: logFile)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let reply = try? request("GET", "/healthz"), reply.status == 200 { return }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        process.terminate()
        throw ServerError.didNotStart(self.log)
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// SIGTERM, then the exit status (0 after a graceful shutdown).
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: logFile)
        return process.terminationStatus
    }

    /// Ports are tried from a random start so parallel suites rarely collide; bind() decides.
    static func freePort() throws -> Int {
        let start = Int.random(in: 0..<20)
        for offset in 0..<20 {
            let port = 18080 + (start + offset) % 20
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            if RawConnection.loopback(port, { bind(fd, $0, $1) }) == 0 { return port }
        }
        throw ServerError.noFreePort
    }

    static func basic(_ login: String, _ password: String) -> String {
        "Basic " + Data("\(login):\(password)".utf8).base64EncodedString()
    }

    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: String = "") throws -> HTTPReply {
        let connection = try RawConnection(port: port)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.utf8.count)\r\n" }
        connection.send(head + "\r\n" + body)
        return Self.parse(connection.read())
    }

    static func parse(_ data: Data) -> HTTPReply {
        let bytes = [UInt8](data)
        guard let split = (0..<max(0, bytes.count - 3)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 }) else {
            return HTTPReply(status: 0, headers: [], body: String(decoding: bytes, as: UTF8.self))
        }
        let head = String(decoding: bytes[0..<split], as: UTF8.self).components(separatedBy: "\r\n")
        let status = head.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        let headers = head.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Array(bytes[(split + 4)...])
        if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            var decoded: [UInt8] = []
            var index = 0
            while index < body.count {
                guard let lineEnd = (index..<body.count - 1).first(where: { body[$0] == 13 && body[$0 + 1] == 10 }),
                      let size = Int(String(decoding: body[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "", radix: 16),
                      size > 0 else { break }
                let start = lineEnd + 2
                decoded += body[start..<min(body.count, start + size)]
                index = start + size + 2
            }
            body = decoded
        }
        return HTTPReply(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }
}

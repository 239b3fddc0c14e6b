import ArgumentParser
import Foundation
import Logging
import RelplanServer

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the shared calendar, the HTTP API and calendar feeds; each person signs in as their own PostgreSQL login.",
        discussion: """
            The server holds no privilege of its own: every request runs on a connection opened with the \
            person's login and password (HTTP Basic, or the /login form), under the same row-level \
            security as psql and the CLI. --database-url gives the rest (host, port, dbname, \
            target_session_attrs, sslmode); its own user and password serve only the one session that \
            LISTENs for plan changes. Stops gracefully on SIGTERM or SIGINT.

            Examples:
              relplan serve --listen 127.0.0.1:8080
              relplan serve --listen 127.0.0.1:8080 --secure-cookies \\
                  --database-url "host=db1,db2 target_session_attrs=read-write"
            """)
    @Option(help: ArgumentHelp("Address and port to listen on.", valueName: "host:port")) var listen = "127.0.0.1:8080"
    @Flag(help: "Mark cookies Secure (HTTPS only): behind a TLS-terminating proxy such as nginx.") var secureCookies = false
    @Option(help: "Minutes a browser session lasts without a request.") var sessionIdle = 30
    @Option(help: "Threads that run the database calls, off the event loops.") var threads = 8
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw CLIError(.usage, "--listen: expected HOST:PORT such as 127.0.0.1:8080, got \"\(listen)\"")
        }
        let host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard sessionIdle > 0, threads > 0 else { throw CLIError(.usage, "--session-idle and --threads must be positive") }
        var settings = ServerSettings(host: host.isEmpty ? "127.0.0.1" : host, port: port, conninfo: connection.conninfo)
        settings.secureCookies = secureCookies
        settings.sessionIdleSeconds = TimeInterval(sessionIdle * 60)
        settings.threads = threads
        let verbose = connection.verbose
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .info
            return handler
        }
        let logger = Logger(label: "relplan.serve")
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        Task.detached {
            do { try await RelplanServer.run(settings, logger: logger) } catch { failure.set(error) }
            done.signal()
        }
        done.wait()
        if let error = failure.get() { throw CLIError(.unavailable, "relplan serve: \(error)") }
    }
}

/// The server's error, handed from its task to the command's thread.
private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?
    func set(_ error: Error) { lock.withLock { self.error = error } }
    func get() -> Error? { lock.withLock { error } }
}

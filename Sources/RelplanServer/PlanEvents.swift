import Foundation
import Logging
import NIOPosix
import Postgres
import ServiceLifecycle
import Synchronization

/// One dedicated libpq session LISTENs on `relplan_plan` (sql/0020: every plan change NOTIFYs at
/// commit); each notification goes to every open `/events` stream as a Server-Sent Event.
final class PlanEvents: Service, Sendable {
    static let channel = "relplan_plan"
    let conninfo: String
    let threads: NIOThreadPool
    let logger: Logger
    private let subscribers = Mutex<[UUID: AsyncStream<String>.Continuation]>([:])
    /// Whether the LISTEN session is up (for /healthz).
    let listening = Atomic<Bool>(false)
    private let changes = Atomic<UInt64>(0)

    /// Which plan the server last heard of: a new value after every notification, every reconnect
    /// and every write through this server; nil while the listening session is down (then nothing
    /// may be cached, since a change would go unheard).
    var generation: UInt64? {
        let before = changes.load(ordering: .acquiring)
        return listening.load(ordering: .acquiring) ? before : nil
    }

    /// A write through this server: its author reads their own change at once, before its NOTIFY arrives.
    func noteChange() { changes.add(1, ordering: .releasing) }

    init(conninfo: String, threads: NIOThreadPool, logger: Logger) {
        self.conninfo = conninfo
        self.threads = threads
        self.logger = logger
    }

    /// A stream of SSE frames; it ends when the server shuts down or `unsubscribe` is called.
    func subscribe() -> (UUID, AsyncStream<String>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(16))
        subscribers.withLock { $0[id] = continuation }
        continuation.yield("retry: 2000\n\n")
        return (id, stream)
    }

    func unsubscribe(_ id: UUID) {
        subscribers.withLock { $0.removeValue(forKey: id) }?.finish()
    }

    var subscriberCount: Int { subscribers.withLock { $0.count } }

    private func broadcast(_ frame: String) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(frame) }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastPing = Date()
            let conninfo = self.conninfo, logger = self.logger
            while !Task.isCancelled {
                do {
                    let held = try await self.threads.runIfActive {
                        let connection = try Connection(conninfo: conninfo, applicationName: "relplan serve (listen)", logger: logger)
                        try connection.execute("LISTEN \(Self.channel)", simple: true)
                        return HeldConnection(connection)
                    }
                    self.noteChange()
                    self.listening.store(true, ordering: .releasing)
                    self.logger.info("listening for plan changes on channel \(Self.channel)")
                    // Anything may have changed while the session was down.
                    self.broadcast("event: change\ndata: reconnected\n\n")
                    defer {
                        self.listening.store(false, ordering: .releasing)
                        self.noteChange()
                        held.connection.close()
                    }
                    while !Task.isCancelled {
                        let received = try await self.threads.runIfActive { try held.connection.notifications(timeout: 1) }
                        let tables = Set(received.filter { $0.channel == Self.channel }.map(\.payload)).sorted()
                        if !tables.isEmpty {
                            self.noteChange()
                            self.broadcast("event: change\ndata: \(tables.joined(separator: " "))\n\n")
                        }
                        if Date().timeIntervalSince(lastPing) > 15 {
                            lastPing = Date()
                            self.broadcast(": ping\n\n")
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    self.logger.warning("plan-change listener: \(error); retrying in 2 s")
                    try? await Task.sleep(for: .seconds(2))
                }
            }
        }
        for continuation in subscribers.withLock({ subscribers in
            defer { subscribers = [:] }
            return Array(subscribers.values)
        }) { continuation.finish() }
    }
}

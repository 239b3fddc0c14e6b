import CLibPQ
import Foundation

/// A message of `NOTIFY channel, 'payload'` received by a session that `LISTEN`s.
public struct Notification: Sendable, Equatable {
    public let channel: String
    public let payload: String
    public let senderPID: Int32
}

extension Connection {
    /// Waits up to `timeout` seconds for notifications on the channels this session LISTENs to and
    /// returns them (empty when none came). Throws `connectionLost` when the server went away.
    public func notifications(timeout: TimeInterval) throws -> [Notification] {
        let handle = try requireHandle("LISTEN")
        var received = drain(handle)
        if !received.isEmpty { return received }
        let socket = PQsocket(handle)
        guard socket >= 0 else { throw PostgresError(kind: .connectionLost, message: "the connection has no socket") }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(max(0, timeout * 1000)))
        if ready < 0 && errno != EINTR {
            throw PostgresError(kind: .connectionLost, message: String(cString: strerror(errno)))
        }
        if ready > 0 {
            guard PQconsumeInput(handle) == 1 else {
                throw PostgresError(kind: .connectionLost, message: PostgresError.connectionMessage(handle))
            }
            received = drain(handle)
        }
        return received
    }

    private func drain(_ handle: OpaquePointer) -> [Notification] {
        var received: [Notification] = []
        while let notify = PQnotifies(handle) {
            let message = notify.pointee
            received.append(Notification(channel: String(cString: message.relname), payload: String(cString: message.extra),
                                         senderPID: message.be_pid))
            PQfreemem(notify)
        }
        return received
    }
}

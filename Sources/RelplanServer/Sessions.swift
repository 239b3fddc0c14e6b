import Foundation
import Synchronization

/// A signed-in browser: a random id in an HttpOnly cookie, a CSRF token for its forms, idle expiry.
struct Session: Sendable {
    let id: String
    let login: String
    let csrf: String
    var lastSeen: Date
}

/// Random tokens from the system's generator (SystemRandomNumberGenerator reads getrandom/urandom).
enum Token {
    static func make(bytes: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        let raw = (0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(raw).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Compares without stopping at the first difference.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

final class SessionStore: Sendable {
    let idleSeconds: TimeInterval
    private let sessions = Mutex<[String: Session]>([:])

    init(idleSeconds: TimeInterval) { self.idleSeconds = idleSeconds }

    func create(login: String) -> Session {
        let session = Session(id: Token.make(), login: login, csrf: Token.make(), lastSeen: Date())
        sessions.withLock { $0[session.id] = session }
        return session
    }

    /// The live session with this id, its idle clock restarted; nil when unknown or expired.
    func touch(_ id: String, now: Date = Date()) -> Session? {
        sessions.withLock { sessions in
            guard var session = sessions[id], now.timeIntervalSince(session.lastSeen) <= idleSeconds else { return nil }
            session.lastSeen = now
            sessions[id] = session
            return session
        }
    }

    var count: Int { sessions.withLock { $0.count } }

    func remove(_ id: String) -> Session? {
        sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// Sessions idle past the limit, removed.
    func expire(now: Date = Date()) -> [Session] {
        sessions.withLock { sessions in
            let expired = sessions.values.filter { now.timeIntervalSince($0.lastSeen) > idleSeconds }
            for session in expired { sessions[session.id] = nil }
            return expired
        }
    }
}

/// Repeated failed sign-ins of one login are slowed down: after `free` failures within the
/// window each further attempt waits 1, 2, 4 … up to `maxDelay` seconds before it is answered.
final class SignInThrottle: Sendable {
    let free = 3
    let window: TimeInterval = 15 * 60
    let maxDelay: TimeInterval = 8
    private let failures = Mutex<[String: (count: Int, last: Date)]>([:])

    func delay(for login: String, now: Date = Date()) -> TimeInterval {
        failures.withLock { failures in
            guard let entry = failures[login.lowercased()], now.timeIntervalSince(entry.last) < window, entry.count >= free else { return 0 }
            return min(maxDelay, pow(2, Double(entry.count - free)))
        }
    }

    func failed(_ login: String, now: Date = Date()) {
        failures.withLock { failures in
            let key = login.lowercased()
            let previous = failures[key].flatMap { now.timeIntervalSince($0.last) < window ? $0.count : nil } ?? 0
            failures[key] = (previous + 1, now)
            if failures.count > 10_000 { failures = failures.filter { now.timeIntervalSince($0.value.last) < window } }
        }
    }

    func succeeded(_ login: String) {
        failures.withLock { _ = $0.removeValue(forKey: login.lowercased()) }
    }
}

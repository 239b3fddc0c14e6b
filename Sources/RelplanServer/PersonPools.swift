import Crypto
import Foundation
import Logging
import NIOPosix
import Postgres
import ReleaseStore
import Synchronization

/// A libpq connection handed between tasks: only the pool's current borrower uses it, on the thread pool.
final class HeldConnection: @unchecked Sendable {
    let connection: Connection
    var lastUsed = Date()

    init(_ connection: Connection) { self.connection = connection }
}

/// Why a sign-in or a request could not get a connection of its own.
enum SignInError: Error {
    /// PostgreSQL refused the login and password (or the login does not exist): 401.
    case refused
    /// A session whose connections are gone (the database restarted): sign in again.
    case sessionLost
}

/// Connections per signed-in person, each opened as that person's own login: a small bounded pool,
/// idle ones closed. No password is kept: a password given with a request (HTTP Basic) is compared
/// with a keyed digest of the one that opened the pool; a browser session keeps one connection open.
final class PersonPools: Sendable {
    struct Settings: Sendable {
        var conninfo: String
        var perPerson = 4
        var idleSeconds: TimeInterval = 60
    }

    private struct Pool {
        var verifier: [UInt8]
        var idle: [HeldConnection] = []
        var open = 0
        var sessions = 0
        var waiters: [CheckedContinuation<HeldConnection, Error>] = []
    }

    private enum Step {
        case use(HeldConnection)
        case connect
        case wait
        case lost
    }

    let settings: Settings
    let logger: Logger
    private let threads: NIOThreadPool
    /// The key of the password digests: random per process, so a digest means nothing outside it.
    private let key: [UInt8] = Array(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    private let pools = Mutex<[String: Pool]>([:])

    init(settings: Settings, threads: NIOThreadPool, logger: Logger) {
        self.settings = settings
        self.threads = threads
        self.logger = logger
    }

    private func digest(_ login: String, _ password: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Data((login + "\u{0}" + password).utf8), using: SymmetricKey(data: key)))
    }

    /// Opens a connection as `login` (on the thread pool); PostgreSQL's pg_hba.conf and SCRAM decide.
    private func open(_ login: String, _ password: String) async throws -> HeldConnection {
        let conninfo = settings.conninfo
        let logger = self.logger
        return try await threads.runIfActive {
            do {
                let connection = try Connection(conninfo: conninfo, overrides: ["user": login, "password": password],
                                                applicationName: "relplan serve", logger: logger)
                // A person's session answers the same few statements again and again: each planned once.
                connection.cachesStatements = true
                // As the CLI's sessions: no other session's lock makes a request hang for long.
                try SessionLimits.apply(to: connection, statementTimeout: "10min")
                return HeldConnection(connection)
            } catch let error as PostgresError where error.kind == .connectionFailed && Self.isAuthenticationFailure(error) {
                throw SignInError.refused
            }
        }
    }

    /// libpq's words for a refused login: a wrong password, no such role, no pg_hba.conf entry, no CONNECT.
    static func isAuthenticationFailure(_ error: PostgresError) -> Bool {
        let text = error.message.lowercased()
        return ["password authentication failed", "authentication failed", "does not exist", "no pg_hba.conf entry",
                "permission denied for database", "not permitted to log in", "fe_sendauth: no password supplied"]
            .contains { text.contains($0) }
    }

    /// Checks a login and password by connecting; the connection stays in the person's pool.
    /// `session`: a browser session holds on to the pool (one connection stays open).
    func signIn(_ login: String, _ password: String, session: Bool) async throws {
        guard !password.isEmpty else { throw SignInError.refused }
        let held = try await open(login, password)
        let verifier = digest(login, password)
        pools.withLock { pools in
            var pool = pools[login] ?? Pool(verifier: verifier)
            pool.verifier = verifier
            pool.open += 1
            if session { pool.sessions += 1 }
            pools[login] = pool
        }
        release(login, held)
    }

    /// A browser session ended (sign-out, idle expiry): its hold on the pool goes.
    func endSession(_ login: String) {
        let closing: [HeldConnection] = pools.withLock { pools in
            guard var pool = pools[login] else { return [] }
            pool.sessions = max(0, pool.sessions - 1)
            var closing: [HeldConnection] = []
            if pool.sessions == 0 {
                closing = pool.idle
                pool.open -= pool.idle.count
                pool.idle = []
            }
            pools[login] = pool.open == 0 && pool.sessions == 0 ? nil : pool
            return closing
        }
        closeAll(closing)
    }

    /// Runs `body` on one of the person's connections, off the event loops. With `password` (HTTP
    /// Basic) a connection may be opened; without (a session) only the session's own ones are used.
    func withConnection<T: Sendable>(_ login: String, password: String?,
                                     _ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let held = try await acquire(login, password: password)
        do {
            let result = try await threads.runIfActive { try body(held.connection) }
            release(login, held)
            return result
        } catch {
            release(login, held)
            throw error
        }
    }

    private func acquire(_ login: String, password: String?) async throws -> HeldConnection {
        if let password {
            let verifier = digest(login, password)
            let known = pools.withLock { pools in pools[login].map { $0.verifier == verifier } }
            if known != true {
                // A first request, or a password other than the pool's (changed, or wrong): PostgreSQL decides.
                try await signIn(login, password, session: false)
            }
        }
        let step: Step = pools.withLock { pools in
            guard var pool = pools[login] else { return .lost }
            if let held = pool.idle.popLast() {
                pools[login] = pool
                return .use(held)
            }
            if password != nil && pool.open < settings.perPerson {
                pool.open += 1
                pools[login] = pool
                return .connect
            }
            return pool.open == 0 ? .lost : .wait
        }
        switch step {
        case .use(let held):
            return held
        case .lost:
            throw SignInError.sessionLost
        case .connect:
            do {
                return try await open(login, password ?? "")
            } catch {
                pools.withLock { pools in pools[login]?.open -= 1 }
                throw error
            }
        case .wait:
            return try await withCheckedThrowingContinuation { continuation in
                let handed: HeldConnection? = pools.withLock { pools in
                    guard var pool = pools[login] else { return nil }
                    if let held = pool.idle.popLast() {
                        pools[login] = pool
                        return held
                    }
                    pool.waiters.append(continuation)
                    pools[login] = pool
                    return HeldConnection?.none
                }
                if let handed { continuation.resume(returning: handed) }
                else if pools.withLock({ $0[login] == nil }) { continuation.resume(throwing: SignInError.sessionLost) }
            }
        }
    }

    /// Back into the pool, to a waiting request, or closed when it broke or was left in a transaction.
    private func release(_ login: String, _ held: HeldConnection) {
        let healthy = held.connection.isOpen && !held.connection.isInTransaction
        held.lastUsed = Date()
        let waiter: CheckedContinuation<HeldConnection, Error>? = pools.withLock { pools in
            guard var pool = pools[login] else { return nil }
            if !healthy {
                pool.open -= 1
                pools[login] = pool
                return nil
            }
            if !pool.waiters.isEmpty {
                let waiter = pool.waiters.removeFirst()
                pools[login] = pool
                return waiter
            }
            pool.idle.append(held)
            pools[login] = pool
            return nil
        }
        if let waiter { waiter.resume(returning: held) }
        else if !healthy { closeAll([held]) }
    }

    /// Closes connections idle longer than the setting; a person with a session keeps one.
    func closeIdle(now: Date = Date()) {
        let closing: [HeldConnection] = pools.withLock { pools in
            var closing: [HeldConnection] = []
            for (login, var pool) in pools {
                let keep = pool.sessions > 0 ? 1 : 0
                pool.idle.sort { $0.lastUsed > $1.lastUsed }
                while pool.idle.count > keep, let oldest = pool.idle.last, now.timeIntervalSince(oldest.lastUsed) > settings.idleSeconds {
                    closing.append(pool.idle.removeLast())
                    pool.open -= 1
                }
                pools[login] = pool.open == 0 && pool.sessions == 0 && pool.waiters.isEmpty ? nil : pool
            }
            return closing
        }
        closeAll(closing)
    }

    /// Every open connection, counted by login (for /metrics and tests through the log).
    var openConnections: Int { pools.withLock { $0.values.reduce(0) { $0 + $1.open } } }

    func shutdown() {
        let closing = pools.withLock { pools in
            let all = pools.values.flatMap(\.idle)
            for pool in pools.values { pool.waiters.forEach { $0.resume(throwing: SignInError.sessionLost) } }
            pools = [:]
            return all
        }
        closeAll(closing)
    }

    private func closeAll(_ connections: [HeldConnection]) {
        guard !connections.isEmpty else { return }
        threads.submit { _ in connections.forEach { $0.connection.close() } }
    }
}

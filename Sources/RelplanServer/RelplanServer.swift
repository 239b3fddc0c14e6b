import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Postgres
import ServiceLifecycle

/// How `relplan serve` runs.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    /// The libpq connection string people's connections start from (their login and password replace its own).
    public var conninfo: String
    /// Sessions end after this long without a request.
    public var sessionIdleSeconds: TimeInterval = 30 * 60
    /// Cookies only over HTTPS: set behind a TLS-terminating proxy (`--secure-cookies`).
    public var secureCookies = false
    /// Connections libpq calls run on, off the event loops.
    public var threads = 8

    public init(host: String, port: Int, conninfo: String) {
        self.host = host
        self.port = port
        self.conninfo = conninfo
    }
}

/// `relplan serve`: starts the server and returns when it stopped (SIGTERM or SIGINT: graceful).
public enum RelplanServer {
    public static func run(_ settings: ServerSettings, logger: Logger) async throws {
        let threads = NIOThreadPool(numberOfThreads: settings.threads)
        threads.start()
        let pools = PersonPools(settings: .init(conninfo: settings.conninfo), threads: threads, logger: logger)
        let state = ServerState(settings: settings, pools: pools, threads: threads, logger: logger)
        let router = Router()
        router.add(middleware: CountRequests(metrics: state.metrics))
        router.add(middleware: MethodCheck(Routes.table))
        Routes(state: state).add(to: router)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "relplan"),
            services: [Housekeeping(state: state), state.events],
            onServerRunning: { channel in
                let address = channel.localAddress.map { "\($0.ipAddress ?? settings.host):\($0.port ?? settings.port)" } ?? "?"
                logger.notice("relplan serve: listening on http://\(address)")
            },
            logger: logger
        )
        do {
            try await app.runService()
        } catch {
            pools.shutdown()
            try? await threads.shutdownGracefully()
            throw error
        }
        pools.shutdown()
        try? await threads.shutdownGracefully()
        logger.notice("relplan serve: stopped")
    }
}

/// What every handler shares.
struct ServerState: Sendable {
    let settings: ServerSettings
    let pools: PersonPools
    let threads: NIOThreadPool
    let logger: Logger
    let sessions: SessionStore
    let throttle = SignInThrottle()
    let metrics = ServerMetrics()
    let conflicts = ConflictCache()
    let events: PlanEvents

    init(settings: ServerSettings, pools: PersonPools, threads: NIOThreadPool, logger: Logger) {
        self.settings = settings
        self.pools = pools
        self.threads = threads
        self.logger = logger
        self.sessions = SessionStore(idleSeconds: settings.sessionIdleSeconds)
        self.events = PlanEvents(conninfo: settings.conninfo, threads: threads, logger: logger)
    }
}

/// Every 15 s: idle sessions expire, idle connections close.
struct Housekeeping: Service {
    let state: ServerState

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(15))
                for session in state.sessions.expire() {
                    state.logger.info("session of \(session.login) expired")
                    state.pools.endSession(session.login)
                }
                state.pools.closeIdle()
            }
        }
    }
}

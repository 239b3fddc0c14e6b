import Hummingbird
import Prometheus

/// `GET /metrics` through swift-prometheus's registry (its text format and escaping), with no
/// per-person labels: no login leaks to whoever scrapes.
final class ServerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let answered: [Int: Counter]
    private let duration: DurationHistogram
    private let connections: Gauge
    private let sessions: Gauge
    private let streams: Gauge
    private let listening: Gauge

    init() {
        let registry = self.registry
        answered = Dictionary(uniqueKeysWithValues: (1...5).map { group in
            (group, registry.makeCounter(descriptor: Self.name("http_requests", unit: "total", help: "HTTP requests answered, by status class."),
                                         labels: [("status", "\(group)xx")]))
        })
        duration = registry.makeDurationHistogram(
            descriptor: Self.name("http_request_duration", unit: "seconds", help: "Time from a request's arrival to its answer."),
            labels: [],
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                      .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10)])
        connections = registry.makeGauge(descriptor: Self.name("database_connections", help: "Open connections of signed-in people."))
        sessions = registry.makeGauge(descriptor: Self.name("sessions", help: "Browser sessions."))
        streams = registry.makeGauge(descriptor: Self.name("event_streams", help: "Open /events streams."))
        listening = registry.makeGauge(
            descriptor: Self.name("listening", help: "Whether the session that LISTENs for plan changes is up."))
    }

    /// `relplan_METRIC[_UNIT]`; an empty unit is left out of the name.
    private static func name(_ metric: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "relplan", metricName: metric, unitName: unit, helpText: help)
    }

    func count(status: Int, after elapsed: Duration) {
        answered[min(max(status / 100, 1), 5)]?.increment()
        duration.record(elapsed)
    }

    /// The exposition text; the gauges are read from the server's state at the moment of the scrape.
    func text(connections: Int, sessions: Int, subscribers: Int, listening: Bool) -> String {
        self.connections.set(Int64(connections))
        self.sessions.set(Int64(sessions))
        self.streams.set(Int64(subscribers))
        self.listening.set(Int64(listening ? 1 : 0))
        return registry.emitToString()
    }
}

/// Counts every answer by its status class and times it.
struct CountRequests: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let response = try await next(request, context)
            metrics.count(status: Int(response.status.code), after: clock.now - start)
            return response
        } catch let error as HTTPResponseError {
            metrics.count(status: Int(error.status.code), after: clock.now - start)
            throw error
        } catch {
            metrics.count(status: 500, after: clock.now - start)
            throw error
        }
    }
}

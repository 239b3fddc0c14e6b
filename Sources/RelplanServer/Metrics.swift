import Hummingbird
import Synchronization

/// Counters for `GET /metrics`, in Prometheus's text format (no per-person labels: no logins leak).
final class ServerMetrics: Sendable {
    private let requests = Mutex<[String: Int]>([:])

    func count(status: Int) {
        let key = "\(status / 100)xx"
        requests.withLock { $0[key, default: 0] += 1 }
    }

    func text(connections: Int, sessions: Int, subscribers: Int, listening: Bool) -> String {
        var lines = [
            "# HELP relplan_http_requests_total HTTP requests answered, by status class.",
            "# TYPE relplan_http_requests_total counter",
        ]
        for (key, value) in requests.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            lines.append("relplan_http_requests_total{status=\"\(key)\"} \(value)")
        }
        lines += [
            "# HELP relplan_database_connections Open connections of signed-in people.",
            "# TYPE relplan_database_connections gauge",
            "relplan_database_connections \(connections)",
            "# HELP relplan_sessions Browser sessions.",
            "# TYPE relplan_sessions gauge",
            "relplan_sessions \(sessions)",
            "# HELP relplan_event_streams Open /events streams.",
            "# TYPE relplan_event_streams gauge",
            "relplan_event_streams \(subscribers)",
            "# HELP relplan_listening Whether the session that LISTENs for plan changes is up.",
            "# TYPE relplan_listening gauge",
            "relplan_listening \(listening ? 1 : 0)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Counts every answer by its status class.
struct CountRequests: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        metrics.count(status: Int(response.status.code))
        return response
    }
}

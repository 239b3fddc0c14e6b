import HTTPTypes
import Hummingbird

/// `405 Method Not Allowed` with `Allow` for a known path asked with another method (the router
/// alone would say 404), and `OPTIONS` answered with the same `Allow`.
struct MethodCheck: RouterMiddleware {
    typealias Context = BasicRequestContext

    /// Path patterns (`:name` is one segment) and their methods.
    let routes: [(pattern: [Substring], methods: [HTTPRequest.Method])]

    init(_ routes: [(String, [HTTPRequest.Method])]) {
        self.routes = routes.map { ($0.0.split(separator: "/"), $0.1) }
    }

    func allowed(_ path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/")
        let methods = routes.filter { route in
            route.pattern.count == segments.count && zip(route.pattern, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }.flatMap(\.methods)
        return methods.isEmpty ? nil : methods
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let methods = allowed(request.uri.path), !methods.contains(request.method),
              !(request.method == .head && methods.contains(.get)) else {
            return try await next(request, context)
        }
        let allow = (methods + (methods.contains(.get) ? [.head] : []) + [.options]).map(\.rawValue).joined(separator: ", ")
        if request.method == .options {
            var fields = HTTPFields()
            fields[.allow] = allow
            SecurityHeaders.apply(&fields, secure: false)
            return Response(status: .noContent, headers: fields)
        }
        var reply = Reply.problem(.methodNotAllowed, "usage", "\(request.method.rawValue) is not allowed here; use \(allow)")
        reply.headers.append(("Allow", allow))
        return reply.response(secure: false)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import Planning
import Reporting

/// What a handler answers, built off the event loops and turned into a Response on them.
struct Reply: Sendable {
    var status: HTTPResponse.Status
    var contentType: String
    var body: String
    var headers: [(String, String)] = []

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Reply {
        Reply(status: status, contentType: "application/json; charset=utf-8", body: value.serialized(pretty: true) + "\n")
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Reply {
        Reply(status: status, contentType: "text/html; charset=utf-8", body: text)
    }

    static func redirect(_ location: String) -> Reply {
        Reply(status: .seeOther, contentType: "text/plain; charset=utf-8", body: "see \(location)\n", headers: [("Location", location)])
    }

    /// RFC 9457 problem details: `type` names the class, `detail` says what and where, `errors`
    /// lists every problem (a 422 with several).
    static func problem(_ status: HTTPResponse.Status, _ kind: String, _ detail: String, errors: [String]? = nil,
                        headers: [(String, String)] = []) -> Reply {
        var pairs: [(String, JSONValue)] = [("type", .string("/problems/\(kind)")), ("title", .string(status.reasonPhrase)),
                                            ("status", .int(Int(status.code))), ("detail", .string(detail))]
        pairs.append(("errors", .strings(errors ?? [detail])))
        return Reply(status: status, contentType: "application/problem+json", body: JSONValue.object(pairs).serialized(pretty: true) + "\n",
                     headers: headers)
    }

    /// The CLI's classes of failure as HTTP statuses, with the CLI's words.
    static func failure(_ failure: Failure) -> Reply {
        switch failure.kind {
        case .usage: return problem(.badRequest, "usage", failure.message)
        case .notFound: return problem(.notFound, "not-found", failure.message)
        case .invalid: return problem(.unprocessableContent, "invalid", failure.message)
        case .permission: return problem(.forbidden, "permission", failure.message)
        case .conflict: return problem(.conflict, "conflict", failure.message)
        case .retryable: return problem(.serviceUnavailable, "retryable", failure.message, headers: [("Retry-After", "2")])
        case .unavailable: return problem(.serviceUnavailable, "unavailable", failure.message, headers: [("Retry-After", "5")])
        }
    }

    static let unauthorized = problem(.unauthorized, "unauthorized", "sign in with your PostgreSQL login and password (HTTP Basic, or /login)",
                                      headers: [("WWW-Authenticate", "Basic realm=\"relplan\", charset=\"UTF-8\"")])

    func response(secure: Bool) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        SecurityHeaders.apply(&fields, secure: secure)
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

enum SecurityHeaders {
    /// No inline script anywhere: the pages' only script is /static/live.js.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func apply(_ fields: inout HTTPFields, secure: Bool) {
        fields[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
        fields[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        fields[HTTPField.Name("X-Frame-Options")!] = "DENY"
        fields[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        fields[.cacheControl] = "no-store"
        if secure { fields[HTTPField.Name("Strict-Transport-Security")!] = "max-age=31536000" }
    }
}

/// Query and form values, percent-decoded.
struct Parameters: Sendable {
    var values: [String: String] = [:]

    init(_ query: String?) {
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            guard let key = parts.first.map(decode) else { continue }
            values[key] = parts.count > 1 ? decode(parts[1]) : ""
        }
    }

    subscript(_ key: String) -> String? {
        values[key].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// HTML text escaping for the server's own pages.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}

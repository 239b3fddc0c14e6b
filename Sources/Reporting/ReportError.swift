import Foundation

/// Why a report file could not be rendered. Templates are compiled into the binary, so these
/// point at a broken build rather than at bad data; they name the template so the fix is obvious.
public enum ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No template of that name was embedded (`Sources/Reporting/Templates/`).
    case templateMissing(name: String)
    /// The template is not valid Mustache.
    case templateInvalid(name: String, reason: String)

    public var description: String {
        switch self {
        case .templateMissing(let name):
            "report template \(name) is not in the binary (expected in Sources/Reporting/Templates/)"
        case .templateInvalid(let name, let reason):
            "report template \(name) is not valid Mustache: \(reason)"
        }
    }
}

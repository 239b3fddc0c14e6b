import Foundation

/// What went wrong in terms a person acts on; the CLI maps each case to an exit code.
public enum StoreError: Error, Sendable, Equatable {
    /// A code that names nothing; `suggestion` is the nearest existing code, if any.
    case notFound(kind: String, code: String, suggestion: String?)
    /// The database refused: `who` may not do `what`, because `why`.
    case permissionDenied(who: String, what: String, why: String)
    /// Someone else changed the row since it was read.
    case staleWrite(what: String, changedBy: String, changedAt: Date)
    /// A capacity is taken (an environment, a window): `holder` names who holds it.
    case capacityTaken(what: String, holder: String)
    /// The request contradicts the data (an end before a start, a duplicate code …).
    case invalid(String)
    /// The data changed since a computation that depends on it: run it again.
    case changedSinceComputed(String)
    /// Another run holds a lock that serialises this work.
    case busy(String)
    case migrationChanged(file: String, appliedAt: Date)
    case internalInconsistency(String)
}

extension StoreError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .notFound(kind, code, suggestion):
            return "unknown \(kind) \(code)" + (suggestion.map { " (did you mean \($0)?)" } ?? "")
        case let .permissionDenied(who, what, why):
            return "\(who) may not \(what): \(why)"
        case let .staleWrite(what, by, at):
            return "\(what) was changed by \(by) at \(Self.clock(at)); show it again and retry"
        case let .capacityTaken(what, holder):
            return "\(what) is taken by \(holder)"
        case let .invalid(message), let .changedSinceComputed(message), let .busy(message):
            return message
        case let .migrationChanged(file, at):
            return "sql/\(file) was changed after it was applied on \(Self.clock(at)); migrations are immutable: add a new numbered file instead"
        case let .internalInconsistency(message):
            return "internal error: \(message)"
        }
    }

    private static func clock(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}

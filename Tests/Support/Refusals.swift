import Postgres
import Testing

/// The SQLSTATE `body` failed with, or `nil` when it did not fail; an error that is not
/// PostgreSQL's reads as "not PostgreSQL: …", so a comparison with a state fails on it.
public func sqlStateOf(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as PostgresError {
        return error.sqlState?.rawValue ?? "no SQLSTATE: \(error)"
    } catch {
        return "not PostgreSQL: \(error)"
    }
}

/// Expects PostgreSQL to refuse `body` as a matter of permission (42501, which row-level
/// security and relplan's own functions raise as well). `#expect(throws: (any Error).self)`
/// passes on a typo or a wrong column count too, which refuses nothing: this fails on those.
public func expectPermissionDenied(_ what: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation,
                          _ body: () throws -> Void) {
    let state = sqlStateOf(body)
    #expect(state == SQLState.insufficientPrivilege.rawValue, "\(what()): \(state.map { "failed with \($0)" } ?? "was not refused")",
            sourceLocation: sourceLocation)
}

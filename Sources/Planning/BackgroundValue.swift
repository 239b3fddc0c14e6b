import Foundation
import Synchronization

/// A value computed on a thread of its own while the caller goes on; `value()` waits for it.
///
/// The importer hashes the file (SHA-256, a full read) while the same file is parsed and
/// streamed to the server, instead of before.
final class BackgroundValue<Value: Sendable>: Sendable {
    private final class State: Sendable {
        let result = Mutex<Result<Value, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
    }

    private let state = State()

    init(name: String, _ work: @escaping @Sendable () throws -> Value) {
        let state = self.state
        let thread = Thread {
            let outcome = Result { try work() }
            state.result.withLock { $0 = outcome }
            state.done.signal()
        }
        thread.name = name
        thread.start()
    }

    /// The value, once computed (rethrowing what the work threw); waits at most once.
    func value() throws -> Value {
        if let ready = state.result.withLock({ $0 }) { return try ready.get() }
        state.done.wait()
        guard let ready = state.result.withLock({ $0 }) else { preconditionFailure("signalled without a result") }
        return try ready.get()
    }
}

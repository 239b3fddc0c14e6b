import Foundation
import Synchronization

/// Reads an import file's chunks on a thread of its own, a few chunks ahead of the consumer.
///
/// Parsing and validating the file and the server's work on the COPY stream take about the same
/// time; done in turn, as a plain loop does, the two add up (the socket buffer holds a fraction
/// of a chunk). Read ahead, they overlap. Memory stays bounded by `depth` chunks.
///
/// The reader belongs to the prefetcher's thread until `next()` returned nil or threw, or
/// `finish()` returned: only then may the caller use it again (its `report`, for example).
public final class ChunkPrefetcher {
    private enum Item: Sendable {
        case chunk(ImportChunk)
        case end
        case failure(ImportFailure)
    }

    /// Hands the reader to the reading thread: it is touched by one thread at a time, the
    /// consumer waiting on `finished` before it uses the reader again.
    private struct Handoff: @unchecked Sendable {
        let reader: ImportReader
    }

    /// What the two threads share.
    private final class Shared: Sendable {
        let queue = Mutex<[Item]>([])
        let cancelled = Atomic<Bool>(false)
        let items = DispatchSemaphore(value: 0)
        let slots: DispatchSemaphore
        let finished = DispatchSemaphore(value: 0)

        init(depth: Int) {
            slots = DispatchSemaphore(value: max(1, depth))
        }

        func push(_ item: Item) {
            queue.withLock { $0.append(item) }
            items.signal()
        }
    }

    private let shared: Shared
    private var done = false

    public init(reader: ImportReader, depth: Int = 4) {
        let shared = Shared(depth: depth)
        self.shared = shared
        let handoff = Handoff(reader: reader)
        let thread = Thread {
            defer { shared.finished.signal() }
            do throws(ImportFailure) {
                while !shared.cancelled.load(ordering: .acquiring) {
                    guard let chunk = try handoff.reader.nextChunk() else { break }
                    shared.slots.wait()
                    if shared.cancelled.load(ordering: .acquiring) { break }
                    shared.push(.chunk(chunk))
                }
                shared.push(.end)
            } catch {
                shared.push(.failure(error))
            }
        }
        thread.name = "relplan import reader"
        thread.start()
    }

    /// The next chunk; nil at the end of the file.
    public func next() throws(ImportFailure) -> ImportChunk? {
        guard !done else { return nil }
        shared.items.wait()
        let item = shared.queue.withLock { $0.removeFirst() }
        switch item {
        case .chunk(let chunk):
            shared.slots.signal()
            return chunk
        case .end:
            done = true
            shared.finished.wait()
            return nil
        case .failure(let failure):
            done = true
            shared.finished.wait()
            throw failure
        }
    }

    /// Stops reading early (the COPY failed) and waits until the reading thread let go of the reader.
    public func finish() {
        guard !done else { return }
        done = true
        shared.cancelled.store(true, ordering: .releasing)
        shared.slots.signal()
        shared.finished.wait()
    }

    deinit {
        finish()
    }
}

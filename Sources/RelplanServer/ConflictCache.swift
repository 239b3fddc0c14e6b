import Foundation
import Scheduling
import Synchronization

/// The conflicts last detected, per person and question, kept while no plan change has been heard
/// of: detecting them means reading the whole portfolio (a second on 100,000 releases), and most
/// calls between two changes ask the same. An entry belongs to the plan-change generation it was
/// computed in (`PlanEvents.generation`: every NOTIFY on relplan_plan and every write through this
/// server starts a new one), so a change anyone commits anywhere makes it stale; while the
/// listening session is down there is no generation and nothing is kept. Per login, because what a
/// person may read is the database's decision (row-level security), not the server's.
final class ConflictCache: Sendable {
    struct Key: Hashable, Sendable {
        let login: String
        let group: String?
        let from: Date?
        let to: Date?
        let zone: String
    }

    private struct Entry: Sendable {
        let generation: UInt64
        let conflicts: [Conflict]
    }

    /// Enough for a few filters each for the people signed in; beyond it the oldest question goes.
    static let capacity = 64
    private let entries = Mutex<[Key: Entry]>([:])

    /// The cached conflicts of `key` for this generation, or `detect()`'s, kept for the next call.
    func conflicts(_ key: Key, generation: UInt64?, detect: () throws -> [Conflict]) throws -> [Conflict] {
        if let generation, let entry = entries.withLock({ $0[key] }), entry.generation == generation {
            return entry.conflicts
        }
        let detected = try detect()
        if let generation {
            entries.withLock { entries in
                entries = entries.filter { $0.value.generation == generation }
                if entries.count >= Self.capacity, let any = entries.keys.first { entries[any] = nil }
                entries[key] = Entry(generation: generation, conflicts: detected)
            }
        }
        return detected
    }

    var count: Int { entries.withLock { $0.count } }
}

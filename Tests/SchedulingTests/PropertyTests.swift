import Foundation
import ReleaseCore
import Scheduling
import Testing

@Suite("Resolution properties on random portfolios")
struct PropertyTests {
    static let seeds: ClosedRange<UInt64> = 1...2000

    @Test func proposalsLeaveOnlyUnresolvedConflictsAndKeepEveryHardRule() throws {
        let generator = InstanceGenerator()
        var moved = 0, unresolved = 0
        for seed in Self.seeds {
            let snapshot = generator.make(seed: seed)
            let resolution = Resolver().resolve(snapshot)
            let final = try snapshot.applying(resolution)
            let remaining = ConflictDetector.detect(in: final)
            let inConflict = Set(remaining.flatMap(\.releases))
            let listed = Set(resolution.unresolved.map(\.release))
            #expect(inConflict == listed, "seed \(seed): conflicts \(remaining.map(\.message)) unresolved \(listed)")
            #expect(hardRuleViolations(original: snapshot, final: final) == [], "seed \(seed)")

            let conflictedBefore = Set(ConflictDetector.detect(in: snapshot).flatMap(\.releases))
            let changed = Set(resolution.proposals.map(\.release))
            #expect(changed.isSubset(of: conflictedBefore), "seed \(seed): only releases in a conflict move")
            moved += changed.count
            unresolved += listed.count
        }
        // The generator must exercise the resolver, not just hand it empty problems.
        #expect(moved > 1000)
        #expect(unresolved > 100)
    }

    /// The greedy fallback keeps the same promises, without the optimality.
    @Test func greedyPlacementAlsoKeepsEveryHardRule() throws {
        let greedy = Resolver(options: ResolverOptions(maxExactReleases: 1))
        var greedyComponents = 0
        for seed in Self.seeds where seed % 3 == 0 {
            let snapshot = InstanceGenerator().make(seed: seed)
            let resolution = greedy.resolve(snapshot)
            let final = try snapshot.applying(resolution)
            let inConflict = Set(ConflictDetector.detect(in: final).flatMap(\.releases))
            #expect(inConflict == Set(resolution.unresolved.map(\.release)), "seed \(seed)")
            #expect(hardRuleViolations(original: snapshot, final: final) == [], "seed \(seed)")
            greedyComponents += resolution.components.filter { $0.method == .greedy }.count
        }
        #expect(greedyComponents > 100)
    }

    @Test func sameSnapshotGivesTheSameResolutionByteForByte() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for seed in Self.seeds where seed % 3 == 0 {
            let snapshot = InstanceGenerator().make(seed: seed)
            let first = Resolver().resolve(snapshot)
            var shuffled = snapshot
            shuffled.windows.reverse()
            let second = Resolver().resolve(shuffled)
            #expect(first == second, "seed \(seed)")
            #expect(try encoder.encode(first) == encoder.encode(second), "seed \(seed)")
        }
    }

    /// If a release was delayed, undoing its move together with every move of lower-priority
    /// releases must not give a valid plan that is better for its priority and above: that
    /// would mean it was delayed to make room for releases below it.
    @Test func higherPriorityIsNeverDelayedForLowerPriority() throws {
        var checked = 0
        for seed in Self.seeds {
            let snapshot = InstanceGenerator().make(seed: seed)
            let resolution = Resolver().resolve(snapshot)
            let final = try snapshot.applying(resolution)
            for (i, (before, after)) in zip(snapshot.releases, final.releases).enumerated() {
                guard let old = before.deploy, let new = after.deploy, new.start > old.start else { continue }
                checked += 1
                var alternative = final
                alternative.releases[i] = before
                for (j, other) in snapshot.releases.enumerated() where other.priority > before.priority {
                    alternative.releases[j] = other
                }
                guard hardRuleViolations(original: snapshot, final: alternative).isEmpty else { continue }
                let level = before.priority.value
                let chosen = Objective(original: snapshot, final: final).truncated(to: level)
                let undone = Objective(original: snapshot, final: alternative).truncated(to: level)
                #expect(!undone.lexicographicallyPrecedes(chosen),
                        "seed \(seed): \(before.key) delayed although \(undone) beats \(chosen)")
            }
        }
        #expect(checked > 200)
    }
}

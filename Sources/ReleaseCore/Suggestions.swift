import Foundation

/// "Did you mean ...?" for codes people type: the nearest known code to an unknown one.
///
/// Distance is a case-insensitive edit distance in which swapping two neighbouring
/// characters (the commonest typo in dates and version numbers) costs half of an insertion,
/// deletion or substitution, so `SW-2027-03-41` suggests `SW-2027-03-14` before
/// `SW-2027-03-11`. A candidate is offered only when it is within a quarter of the input's
/// length in edits (at least one, at most three) and fewer edits than the input is long.
/// Ties go to the candidate closest in length, then to the smaller one in code-point order,
/// so the answer never depends on the order of `candidates`.
public enum Suggestions {
    /// The candidate nearest to `input`, or nil when none is close enough.
    public static func nearest<Candidates: Sequence<String>>(
        to input: String, in candidates: Candidates
    ) -> String? {
        let target = folded(input)
        guard !target.isEmpty else { return nil }
        let budget = maximumCost(forLength: target.count)
        var best: (cost: Int, lengthGap: Int, candidate: String)?
        var scratch = DistanceScratch()
        for candidate in candidates {
            let folded = folded(candidate)
            let lengthGap = abs(folded.count - target.count)
            let limit = best.map { min($0.cost, budget) } ?? budget
            guard lengthGap * 2 <= limit else { continue }
            let cost = scratch.cost(target, folded)
            guard cost <= limit else { continue }
            if let current = best {
                let isBetter = (cost, lengthGap) < (current.cost, current.lengthGap)
                    || (cost, lengthGap) == (current.cost, current.lengthGap)
                        && candidate.unicodeScalars.lexicographicallyPrecedes(current.candidate.unicodeScalars)
                guard isBetter else { continue }
            }
            best = (cost, lengthGap, candidate)
        }
        return best?.candidate
    }

    /// ` (did you mean X?)` when a candidate is near, else the empty string, for appending
    /// to a message.
    public static func didYouMean<Candidates: Sequence<String>>(
        _ input: String, in candidates: Candidates
    ) -> String {
        nearest(to: input, in: candidates).map { " (did you mean \($0)?)" } ?? ""
    }

    /// `unknown window SW-2027-03-41 (did you mean SW-2027-03-14?)`.
    public static func unknown<Candidates: Sequence<String>>(
        _ noun: String, _ input: String, among candidates: Candidates
    ) -> String {
        "unknown \(noun) \(input)" + didYouMean(input, in: candidates)
    }

    /// The weighted distance in edits, a transposition counting one half.
    public static func editDistance(_ a: String, _ b: String) -> Double {
        var scratch = DistanceScratch()
        return Double(scratch.cost(folded(a), folded(b))) / 2
    }

    // MARK: Internals

    /// Costs are in half edits: 2 for an insertion, deletion or substitution, 1 for a swap.
    static func maximumCost(forLength length: Int) -> Int {
        let edits = min(3, max(1, length / 4))
        return min(edits * 2, (length - 1) * 2 + 1)
    }

    static func folded(_ text: String) -> [Unicode.Scalar] {
        Array(text.precomposedStringWithCanonicalMapping.lowercased().unicodeScalars)
    }

    /// Reused rows of the dynamic-programming table (optimal string alignment distance).
    struct DistanceScratch {
        var previous2: [Int] = []
        var previous: [Int] = []
        var current: [Int] = []

        mutating func cost(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
            if a.isEmpty { return b.count * 2 }
            if b.isEmpty { return a.count * 2 }
            let width = b.count + 1
            previous2 = Array(repeating: 0, count: width)
            previous = (0..<width).map { $0 * 2 }
            current = Array(repeating: 0, count: width)
            for i in 1...a.count {
                current[0] = i * 2
                for j in 1...b.count {
                    let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 2)
                    var cost = min(previous[j] + 2, current[j - 1] + 2, substitution)
                    if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1], a[i - 1] != b[j - 1] {
                        cost = min(cost, previous2[j - 2] + 1)
                    }
                    current[j] = cost
                }
                swap(&previous2, &previous)
                swap(&previous, &current)
            }
            return previous[b.count]
        }
    }
}

import Foundation

/// Finds rows that disagree about the same release (or plan) without keeping rows: per
/// entity it keeps its key, and per field a hash of the first value given and that value's
/// line. Memory grows with the number of entities, not of rows.
///
/// An open-addressing table over `StableHash`es: values are compared by their 64-bit hashes,
/// keys byte for byte, so two entities never merge by a hash collision.
struct ConsistencyTable {
    let slotCount: Int
    /// Entity index + 1 per bucket, 0 for an empty bucket; the capacity is a power of two.
    private var buckets: [Int32]
    private var bucketHashes: [UInt64]
    private var keyBytes: [UInt8] = []
    private var keyEnds: [Int] = []
    private var values: [UInt64] = []
    private var lines: [Int32] = []
    private var lastKey: [UInt8] = []
    private var lastIndex = -1

    init(slotCount: Int) {
        self.slotCount = slotCount
        buckets = Array(repeating: 0, count: 1024)
        bucketHashes = Array(repeating: 0, count: 1024)
    }

    /// The entity with `key`, created on first sight.
    mutating func entry(for key: UnsafeBufferPointer<UInt8>) -> (index: Int, isNew: Bool) {
        // Rows of a release are usually adjacent.
        if lastIndex >= 0, lastKey.withUnsafeBufferPointer({ Self.equal($0, key) }) { return (lastIndex, false) }
        let hash = StableHash.of(key)
        let mask = buckets.count - 1
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while buckets[bucket] != 0 {
            let index = Int(buckets[bucket]) - 1
            if bucketHashes[bucket] == hash, keyMatches(index, key) {
                remember(key, index)
                return (index, false)
            }
            bucket = (bucket + 1) & mask
        }
        let index = keyEnds.count
        buckets[bucket] = Int32(index + 1)
        bucketHashes[bucket] = hash
        keyBytes.append(contentsOf: key)
        keyEnds.append(keyBytes.count)
        values.append(contentsOf: repeatElement(0, count: slotCount))
        lines.append(contentsOf: repeatElement(0, count: slotCount))
        if keyEnds.count * 2 > buckets.count { grow() }
        remember(key, index)
        return (index, true)
    }

    /// The line of an earlier, different value of `slot`, if there is one.
    func conflict(entry: Int, slot: Int, value: UInt64) -> Int? {
        let stored = values[entry * slotCount + slot]
        guard stored != 0, value != 0, stored != value else { return nil }
        return Int(lines[entry * slotCount + slot])
    }

    /// Remembers `value` as the value of `slot` unless one was given before.
    mutating func record(entry: Int, slot: Int, value: UInt64, line: Int) {
        let position = entry * slotCount + slot
        guard value != 0, values[position] == 0 else { return }
        values[position] = value
        lines[position] = Int32(clamping: line)
    }

    private mutating func remember(_ key: UnsafeBufferPointer<UInt8>, _ index: Int) {
        lastKey.removeAll(keepingCapacity: true)
        lastKey.append(contentsOf: key)
        lastIndex = index
    }

    private func keyMatches(_ index: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = index == 0 ? 0 : keyEnds[index - 1]
        let end = keyEnds[index]
        return keyBytes.withUnsafeBufferPointer { stored in
            Self.equal(UnsafeBufferPointer(rebasing: stored[start..<end]), key)
        }
    }

    static func equal(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard let left = lhs.baseAddress, let right = rhs.baseAddress else { return true }
        return memcmp(left, right, lhs.count) == 0
    }

    private mutating func grow() {
        let capacity = buckets.count * 2
        let mask = capacity - 1
        var newBuckets = [Int32](repeating: 0, count: capacity)
        var newHashes = [UInt64](repeating: 0, count: capacity)
        for (bucket, entry) in buckets.enumerated() where entry != 0 {
            let hash = bucketHashes[bucket]
            var target = Int(truncatingIfNeeded: hash) & mask
            while newBuckets[target] != 0 { target = (target + 1) & mask }
            newBuckets[target] = entry
            newHashes[target] = hash
        }
        buckets = newBuckets
        bucketHashes = newHashes
    }
}

/// A fast 64-bit hash over 8-byte words (FxHash's step, then MurmurHash3's finaliser): stable
/// across runs, unlike `Hasher`. Never 0, which the tables use for "no value".
enum StableHash {
    static let seed: UInt64 = 0xCBF2_9CE4_8422_2325
    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    static func of(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash = seed
        combine(bytes, into: &hash)
        return finish(hash)
    }

    @inline(__always)
    static func combine(_ bytes: UnsafeBufferPointer<UInt8>, into hash: inout UInt64) {
        guard let base = bytes.baseAddress else {
            step(0xFF, &hash)
            return
        }
        let raw = UnsafeRawPointer(base)
        var index = 0
        while index + 8 <= bytes.count {
            step(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self), &hash)
            index += 8
        }
        var tail = UInt64(bytes.count) << 56  // the length keeps "a" and "a\0" apart
        var shift: UInt64 = 0
        while index < bytes.count {
            tail |= UInt64(base[index]) << shift
            shift += 8
            index += 1
        }
        step(tail, &hash)
    }

    @inline(__always)
    static func combine(_ value: Int64, into hash: inout UInt64) {
        step(UInt64(bitPattern: value), &hash)
    }

    @inline(__always)
    private static func step(_ word: UInt64, _ hash: inout UInt64) {
        hash = ((hash << 5) | (hash >> 59)) ^ word
        hash &*= multiplier
    }

    static func finish(_ hash: UInt64) -> UInt64 {
        var mixed = hash
        mixed ^= mixed >> 33
        mixed &*= 0xFF51_AFD7_ED55_8CCD
        mixed ^= mixed >> 33
        mixed &*= 0xC4CE_B9FE_1A85_EC53
        mixed ^= mixed >> 33
        return mixed == 0 ? 1 : mixed
    }
}

/// Whether any unit (group, release, package, unit) may be given on more than one row.
///
/// Keeps one 64-bit hash per unit. A hash seen twice means "maybe repeated" (a collision is as
/// good as a repeat here): the database then summarises repeated units itself. Nearly every file
/// gives each unit once, and then it need not.
struct UnitSightings {
    private var seen = Set<UInt64>()
    private(set) var mayRepeat = false

    mutating func see(_ hash: UInt64) {
        guard !mayRepeat else { return }
        if !seen.insert(hash).inserted {
            mayRepeat = true
            seen = []  // no longer needed
        }
    }
}

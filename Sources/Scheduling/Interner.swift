import Foundation
import OrderedCollections

/// Numbers strings densely (0, 1, 2 … in order of first sight), so the indexes hold `Int32`s
/// instead of strings.
struct Interner {
    private var set: OrderedSet<Code>
    private(set) var names: [String] = []

    init(capacity: Int = 16) {
        set = OrderedSet(minimumCapacity: capacity)
        names.reserveCapacity(capacity)
    }

    var count: Int { names.count }

    /// The id of `name`, if it has one.
    func id(of name: String) -> Int32? {
        set.firstIndex(of: Code(name)).map { Int32($0) }
    }

    /// The id of `name`, numbering it if it is new.
    mutating func intern(_ name: String) -> Int32 {
        let (inserted, index) = set.append(Code(name))
        if inserted { names.append(name) }
        return Int32(index)
    }

    /// A code told apart by its UTF-8 bytes (`"é"` precomposed and decomposed are different
    /// codes), as the database tells them apart: `String`'s own equality would merge them.
    ///
    /// The set hashes an element on every probe and every growth, and the indexes intern every
    /// booking's, unit's and group's code: so the bytes are hashed once, by a multiply-xorshift
    /// eight bytes at a time, and `Hasher` is given that one word; equality compares the hashes
    /// before the bytes.
    private struct Code: Hashable {
        let name: String
        let bytesHash: UInt64

        init(_ name: String) {
            self.name = name
            var copy = name
            bytesHash = copy.withUTF8 { Self.hash(UnsafeRawBufferPointer($0)) }
        }

        static func == (lhs: Code, rhs: Code) -> Bool {
            guard lhs.bytesHash == rhs.bytesHash else { return false }
            let same = lhs.name.utf8.withContiguousStorageIfAvailable { left in
                rhs.name.utf8.withContiguousStorageIfAvailable { right in
                    guard left.count == right.count else { return false }
                    guard let l = left.baseAddress, let r = right.baseAddress else { return true }  // both empty
                    return memcmp(l, r, left.count) == 0
                }
            }
            return same.flatMap { $0 } ?? lhs.name.utf8.elementsEqual(rhs.name.utf8)
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(bytesHash)
        }

        private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
            let count = bytes.count
            var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)
            var offset = 0
            while offset + 8 <= count {
                h = mix(h ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                offset += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                tail |= UInt64(bytes[offset]) << shift
                shift += 8
                offset += 1
            }
            return mix(h ^ tail ^ 0xFF)
        }

        private static func mix(_ value: UInt64) -> UInt64 {
            var h = value
            h ^= h >> 32
            h &*= 0xD6E8_FEB8_6659_FD93
            h ^= h >> 32
            h &*= 0xD6E8_FEB8_6659_FD93
            h ^= h >> 32
            return h
        }
    }
}

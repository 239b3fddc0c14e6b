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
        set.firstIndex(of: Code(name: name)).map { Int32($0) }
    }

    /// The id of `name`, numbering it if it is new.
    mutating func intern(_ name: String) -> Int32 {
        let (inserted, index) = set.append(Code(name: name))
        if inserted { names.append(name) }
        return Int32(index)
    }

    /// A code told apart by its UTF-8 bytes (`"é"` precomposed and decomposed are different
    /// codes), as the database tells them apart: `String`'s own equality would merge them.
    private struct Code: Hashable {
        let name: String

        static func == (lhs: Code, rhs: Code) -> Bool { lhs.name.utf8.elementsEqual(rhs.name.utf8) }

        func hash(into hasher: inout Hasher) {
            var copy = name
            copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }
}

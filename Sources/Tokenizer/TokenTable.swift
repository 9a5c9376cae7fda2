// Token string → id lookup keyed by the token's UTF-8 bytes (open addressing over one byte arena). HF's vocabularies
// are byte-exact maps; Swift's String hashing normalises non-ASCII text (NFC) on every hash and compare, which made
// loading a 250k-entry byte-level vocabulary (almost every key non-ASCII) slower than HF's.

import Foundation

/// An immutable map from token strings (compared byte for byte) to ids.
struct TokenTable: Sendable {
    private var arena: [UInt8] = []
    /// Per slot: the key's start in `arena` (-1: empty), its length and its id.
    private var starts: [Int32]
    private var lengths: [Int32]
    private var ids: [Int32]
    private let mask: Int
    private(set) var count = 0

    /// A table with room for `capacity` keys at a load factor of at most one half.
    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        mask = size - 1
        starts = [Int32](repeating: -1, count: size)
        lengths = [Int32](repeating: 0, count: size)
        ids = [Int32](repeating: 0, count: size)
    }

    /// 64-bit FNV-1a of the bytes, with a final avalanche (the low bits pick the slot).
    @inline(__always) static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        h ^= h >> 33; h = h &* 0xFF51_AFD7_ED55_8CCD; h ^= h >> 33
        return Int(truncatingIfNeeded: h)
    }

    /// The slot holding `bytes`, or the empty slot where it would go.
    @inline(__always) private func slot(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var s = Self.hash(bytes) & mask
        while true {
            let start = Int(starts[s])
            if start < 0 { return s }
            if Int(lengths[s]) == bytes.count {
                let same = arena.withUnsafeBufferPointer { a in
                    bytes.count == 0 || memcmp(a.baseAddress! + start, bytes.baseAddress!, bytes.count) == 0
                }
                if same { return s }
            }
            s = (s + 1) & mask
        }
    }

    /// Sets the id of `key` (a later value replaces an earlier one, as a JSON object's repeated key does).
    mutating func insert(_ key: String, id: Int32) {
        var key = key
        key.withUTF8 { bytes in
            let s = slot(bytes)
            if starts[s] < 0 {
                starts[s] = Int32(arena.count)
                lengths[s] = Int32(bytes.count)
                arena.append(contentsOf: bytes)
                count += 1
            }
            ids[s] = id
        }
    }

    /// The id of the token whose UTF-8 bytes are `bytes`.
    @inline(__always) func id(bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let s = slot(bytes)
        return starts[s] < 0 ? nil : Int(ids[s])
    }

    /// The id of `token`, or nil.
    subscript(token: String) -> Int? {
        var token = token
        return token.withUTF8 { id(bytes: $0) }
    }

    /// The id of the concatenation `a + b` (no String is built).
    func id(concatenating a: String, _ b: String) -> Int? {
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in id(concatenating: x, y) } }
    }

    /// The id of the token whose bytes are `x` followed by `y`.
    func id(concatenating x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: x.count + y.count) { buffer in
            if x.count > 0 { buffer.baseAddress!.update(from: x.baseAddress!, count: x.count) }
            if y.count > 0 { (buffer.baseAddress! + x.count).update(from: y.baseAddress!, count: y.count) }
            return id(bytes: UnsafeBufferPointer(buffer))
        }
    }
}

// Token interning: byte strings (UTF-8) to dense Int32 ids, so that LCS compares integers, not Strings.
// An open-addressing hash table (FNV-1a, linear probing) over an append-only byte arena.

/// Maps byte strings to dense ids 0, 1, 2, ... in first-seen order. Ids stay valid for the interner's life.
struct TokenInterner {
    private var arena: [UInt8] = []
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    private var slots: [Int32]
    private var mask: Int

    init(capacity: Int = 4096) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        slots = Array(repeating: -1, count: n)
        mask = n - 1
    }

    /// The number of distinct tokens seen.
    var count: Int { hashes.count }

    /// The id of the bytes `p[0..<n]`, adding them when new.
    mutating func intern(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for k in 0..<n { h = (h ^ UInt64(p[k])) &* 0x100_0000_01b3 }
        var slot = Int(truncatingIfNeeded: h ^ (h >> 29)) & mask
        while true {
            let id = slots[slot]
            if id < 0 { break }
            if hashes[Int(id)] == h {
                let s = starts[Int(id)], e = starts[Int(id) + 1]
                if e - s == n && arena.withUnsafeBufferPointer({ memEqual($0.baseAddress! + s, p, n) }) { return id }
            }
            slot = (slot + 1) & mask
        }
        let id = Int32(hashes.count)
        arena.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        starts.append(arena.count)
        hashes.append(h)
        slots[slot] = id
        if hashes.count * 2 > slots.count { grow() }
        return id
    }

    /// The id of a byte array.
    mutating func intern(_ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBufferPointer { b in
            var dummy: UInt8 = 0
            return b.count == 0 ? intern(&dummy, 0) : intern(b.baseAddress!, b.count)
        }
    }

    private mutating func grow() {
        let n = slots.count * 2
        slots = Array(repeating: -1, count: n)
        mask = n - 1
        for (id, h) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: h ^ (h >> 29)) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(id)
        }
    }
}

@inline(__always) private func memEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    for k in 0..<n where a[k] != b[k] { return false }
    return true
}

/// The byte length of the Python white-space character (`str.isspace`) starting at `p[i]` in UTF-8, or 0.
@inline(__always) func utf8SpaceLength(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    let b = p[i]
    if b < 0x80 { return (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x20) ? 1 : 0 }
    let n = p.count
    switch b {
    case 0xC2:
        return i + 1 < n && (p[i + 1] == 0x85 || p[i + 1] == 0xA0) ? 2 : 0
    case 0xE1:
        return i + 2 < n && p[i + 1] == 0x9A && p[i + 2] == 0x80 ? 3 : 0
    case 0xE2:
        guard i + 2 < n else { return 0 }
        let c = p[i + 1], d = p[i + 2]
        if c == 0x80 && ((d >= 0x80 && d <= 0x8A) || d == 0xA8 || d == 0xA9 || d == 0xAF) { return 3 }
        return c == 0x81 && d == 0x9F ? 3 : 0
    case 0xE3:
        return i + 2 < n && p[i + 1] == 0x80 && p[i + 2] == 0x80 ? 3 : 0
    default:
        return 0
    }
}

/// Decodes the UTF-8 scalar at `p[i]` (input is valid UTF-8: Swift strings are); returns value and byte length.
@inline(__always) func utf8Decode(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
    let b = UInt32(p[i])
    if b < 0x80 { return (b, 1) }
    if b < 0xE0 { return (((b & 0x1F) << 6) | (UInt32(p[i + 1]) & 0x3F), 2) }
    if b < 0xF0 {
        return (((b & 0x0F) << 12) | ((UInt32(p[i + 1]) & 0x3F) << 6) | (UInt32(p[i + 2]) & 0x3F), 3)
    }
    return (((b & 0x07) << 18) | ((UInt32(p[i + 1]) & 0x3F) << 12) | ((UInt32(p[i + 2]) & 0x3F) << 6)
            | (UInt32(p[i + 3]) & 0x3F), 4)
}

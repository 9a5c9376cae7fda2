// A per-thread cache from a word's bytes to its BPE ids, in flat arenas (no allocation per word).
// Reference: HF tokenizers' BPE word cache; ours is not shared between threads, so it needs no lock.

/// Open-addressing table: word bytes (plus a prefix-space flag) -> ids. Cleared when it grows past its limit.
struct WordCache {
    private var slots: [Int32]          // index into `entries`, or -1
    private var entries: [(hash: UInt64, byteStart: Int32, byteCount: Int32, idStart: Int32, idCount: Int32)] = []
    private var bytes: [UInt8] = []
    private var ids: [Int32] = []
    private var mask: Int
    let limit: Int

    init(limit: Int = 1 << 18) {
        self.limit = limit
        var cap = 1024
        while cap < limit * 2 { cap <<= 1 }
        slots = [Int32](repeating: -1, count: cap)
        mask = cap - 1
    }

    /// 64-bit hash of the bytes (8 at a time, multiply-xor-shift mixing), seeded with the prefix flag.
    @inline(__always) static func hash(_ p: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ seed ^ (UInt64(p.count) &* 0x9E37_79B9_7F4A_7C15)
        var i = 0
        let n = p.count
        let base = UnsafeRawPointer(p.baseAddress!)
        while i + 8 <= n {
            let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n { tail |= UInt64(p[i]) << shift; shift += 8; i += 1 }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 29
        return h
    }

    /// Appends the cached ids of `word` to `out` and returns true, or returns false when absent.
    @inline(__always) func lookup(_ word: UnsafeBufferPointer<UInt8>, hash h: UInt64, into out: inout [Int]) -> Bool {
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = slots[s]
            if e < 0 { return false }
            let entry = entries[Int(e)]
            if entry.hash == h && Int(entry.byteCount) == word.count {
                let same = bytes.withUnsafeBufferPointer { b in
                    memcmpEqual(b.baseAddress! + Int(entry.byteStart), word.baseAddress!, word.count)
                }
                if same {
                    ids.withUnsafeBufferPointer { ip in
                        for k in Int(entry.idStart)..<Int(entry.idStart + entry.idCount) { out.append(Int(ip[k])) }
                    }
                    return true
                }
            }
            s = (s + 1) & mask
        }
    }

    mutating func insert(_ word: UnsafeBufferPointer<UInt8>, hash h: UInt64, ids newIds: [Int32]) {
        if entries.count >= limit { clear() }
        var s = Int(truncatingIfNeeded: h) & mask
        while slots[s] >= 0 { s = (s + 1) & mask }
        slots[s] = Int32(entries.count)
        entries.append((h, Int32(bytes.count), Int32(word.count), Int32(ids.count), Int32(newIds.count)))
        bytes.append(contentsOf: word)
        ids.append(contentsOf: newIds)
    }

    mutating func clear() {
        for i in slots.indices { slots[i] = -1 }
        entries.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
    }
}

@inline(__always) private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while i + 8 <= n {
        if UnsafeRawPointer(a).loadUnaligned(fromByteOffset: i, as: UInt64.self)
            != UnsafeRawPointer(b).loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
        i += 8
    }
    while i < n { if a[i] != b[i] { return false }; i += 1 }
    return true
}

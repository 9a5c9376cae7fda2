// Near-duplicate detection with MinHash signatures over character shingles and LSH banding (Broder 1997;
// Leskovec, Rajaraman and Ullman, Mining of Massive Datasets, chapter 3).
//
// The Jaccard similarity J(A, B) of two shingle sets equals the probability that one random hash function takes its
// minimum over A ∪ B on an element of A ∩ B; with k independent hash functions the fraction of equal minima estimates J.
// Banding the k minima into b bands of r rows makes two items candidates when any band is identical, which happens with
// probability 1 - (1 - J^r)^b (an S-curve around (1/b)^(1/r)); candidates are then confirmed on the estimate.

/// Finds near-duplicate texts.
public struct MinHashDeduplicator: Sendable {
    public var shingleSize: Int
    public var bands: Int
    public var rows: Int
    /// Two texts are near-duplicates when their estimated Jaccard similarity is at least this.
    public var threshold: Double
    let seeds: [UInt64]

    public init(shingleSize: Int = 5, bands: Int = 16, rows: Int = 8, threshold: Double = 0.8, seed: UInt64 = 0x5EED) {
        self.shingleSize = shingleSize; self.bands = bands; self.rows = rows; self.threshold = threshold
        var g = SeededGenerator(seed: seed)
        seeds = (0..<(bands * rows)).map { _ in g.next() | 1 }
    }

    @inline(__always) static func mix(_ x: UInt64) -> UInt64 { mix64(x) }

    /// The hashes of the text's character shingles (the whole text when shorter than a shingle).
    func shingles(_ text: String) -> Set<UInt64> {
        let chars = Array(text.lowercased().unicodeScalars.map(\.value))
        var set = Set<UInt64>()
        let n = max(1, chars.count - shingleSize + 1)
        for i in 0..<n {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for c in chars[i..<min(chars.count, i + shingleSize)] { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
            set.insert(h)
        }
        return set
    }

    /// The MinHash signature: for each hash function, the minimum over the shingles.
    public func signature(_ text: String) -> [UInt64] {
        let sh = shingles(text)
        return seeds.map { s in sh.reduce(UInt64.max) { min($0, Self.mix($1 ^ s)) } }
    }

    /// The fraction of equal positions of two signatures (the Jaccard estimate).
    public static func similarity(_ a: [UInt64], _ b: [UInt64]) -> Double {
        Double(zip(a, b).filter { $0 == $1 }.count) / Double(max(1, a.count))
    }

    /// For each text, the index of an earlier text it near-duplicates, or nil when it is the first of its kind.
    public func duplicateOf(_ texts: [String]) -> [Int?] {
        var buckets: [[UInt64: [Int]]] = Array(repeating: [:], count: bands)
        var sigs: [[UInt64]] = []
        var result: [Int?] = []
        sigs.reserveCapacity(texts.count)
        for (i, t) in texts.enumerated() {
            let sig = signature(t)
            sigs.append(sig)
            var keys: [UInt64] = []
            var found: Int? = nil
            for b in 0..<bands {
                var h: UInt64 = UInt64(b)
                for r in 0..<rows { h = Self.mix(h ^ sig[b * rows + r]) }
                keys.append(h)
                if found == nil, let cands = buckets[b][h] {
                    found = cands.first { Self.similarity(sigs[$0], sig) >= threshold }
                }
            }
            result.append(found)
            if found == nil { for b in 0..<bands { buckets[b][keys[b], default: []].append(i) } }
        }
        return result
    }
}

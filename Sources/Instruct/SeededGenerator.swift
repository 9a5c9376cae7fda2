// A small seeded random generator (SplitMix64, Steele, Lea and Flood 2014) so that sampling and shuffling are reproducible.

/// Deterministic random numbers: the same seed gives the same stream on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }

    /// A generator for one named purpose: the seed mixed with a string key (FNV-1a), so that streams do not overlap.
    public init(seed: UInt64, key: String) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        self.init(seed: seed ^ h)
        _ = next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return mix64(state)
    }

    /// A uniform integer in 0..<n (n > 0), by rejection so that it is unbiased.
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "below(0)")
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let x = next()
            if x < limit { return Int(x % bound) }
        }
    }

    /// A uniform Double in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Fisher–Yates shuffle with this generator (platform-independent, unlike `shuffle(using:)`'s unspecified algorithm).
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = below(i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }
}

/// SplitMix64's finaliser: a bijective 64-bit mix with good avalanche (also the hash family of MinHash).
@inline(__always) func mix64(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

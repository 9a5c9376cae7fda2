// Seeded random numbers for tensors: SplitMix64 (Steele et al. 2014) with uniform and normal (Box-Muller) draws.
import Foundation

/// A deterministic generator for initialising tensors; the same seed always gives the same values.
public struct TensorRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [lo, hi) with 24 random bits.
    public mutating func uniform(_ lo: Float = 0, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) * (1.0 / 16_777_216.0)
    }
    /// Standard normal (Box-Muller in Double), scaled: mean + std * N(0, 1).
    public mutating func normal(mean: Float = 0, std: Float = 1) -> Float {
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53  // (0, 1]
        let u2 = Double(next() >> 11) * 0x1p-53
        let r = (-2 * log(u1)).squareRoot()
        return mean + std * Float(r * cos(2 * Double.pi * u2))
    }
}

extension Tensor {
    /// Uniform values in [lo, hi) from `seed`.
    public static func uniform(_ shape: [Int], lo: Float = -1, hi: Float = 1, seed: UInt64) -> Tensor {
        var rng = TensorRandom(seed: seed)
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, storage: (0..<n).map { _ in rng.uniform(lo, hi) })
    }
    /// Normal values with the given mean and standard deviation from `seed` (e.g. BLOOM's init std 0.02).
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, seed: UInt64) -> Tensor {
        var rng = TensorRandom(seed: seed)
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, storage: (0..<n).map { _ in rng.normal(mean: mean, std: std) })
    }
}


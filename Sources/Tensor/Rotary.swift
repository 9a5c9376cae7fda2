// Rotary position embeddings (Su et al. 2021, RoFormer) in transformers' "rotate half" convention
// (LlamaRotaryEmbedding + apply_rotary_pos_emb): dimension i pairs with i + d/2, angle = position * base^(-2i/d).
import Foundation

/// The cos/sin tables of rotary embeddings and their application to query and key heads.
public struct RotaryEmbedding: Sendable {
    /// Rotated dimensions per head (even).
    public let dimension: Int
    public let base: Double
    /// inv_freq[i] = 1 / base^(2i / d) for i < d/2, rounded to Float as transformers stores it.
    public let inverseFrequencies: [Float]

    public init(dimension: Int, base: Double) {
        precondition(dimension > 0 && dimension % 2 == 0, "rotary dimension must be even, got \(dimension)")
        self.dimension = dimension; self.base = base
        inverseFrequencies = (0..<(dimension / 2)).map { i in Float(1 / Foundation.pow(base, Double(2 * i) / Double(dimension))) }
    }

    /// cos and sin of position * inv_freq (`d/2` each; the second half of HF's `cat(freqs, freqs)` repeats them).
    /// The angle is the Float32 product, as HF's float32 matmul computes it; cos and sin are evaluated in Double.
    public func angles(position: Int, cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let p = Float(position)
        for i in 0..<(dimension / 2) {
            let a = Double(p * inverseFrequencies[i])
            cos[i] = Float(Foundation.cos(a)); sin[i] = Float(Foundation.sin(a))
        }
    }

    /// Rotates `heads` consecutive heads of `dimension` floats at `x` in place with tables from ``angles``:
    /// x[i] <- x[i] cos_i - x[i + d/2] sin_i and x[i + d/2] <- x[i + d/2] cos_i + x[i] sin_i.
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        let half = dimension / 2
        for h in 0..<heads {
            let v = x + h * dimension
            for i in 0..<half {
                let a = v[i], b = v[i + half]
                v[i] = a * cos[i] - b * sin[i]
                v[i + half] = b * cos[i] + a * sin[i]
            }
        }
    }

    /// The backward of ``apply`` (the inverse rotation: sin negated), for gradients flowing to the unrotated values.
    public func applyInverse(_ dx: UnsafeMutablePointer<Float>, heads: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        let half = dimension / 2
        for h in 0..<heads {
            let v = dx + h * dimension
            for i in 0..<half {
                let a = v[i], b = v[i + half]
                v[i] = a * cos[i] + b * sin[i]
                v[i + half] = b * cos[i] - a * sin[i]
            }
        }
    }
}

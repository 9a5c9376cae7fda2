// ALiBi attention bias as BLOOM computes it (transformers' _get_alibi_slopes and build_alibi_tensor).
import Foundation

/// ALiBi (Press et al. 2021) slopes and biases, matching transformers' BLOOM.
///
/// Slopes. Let p = 2^floor(log2(NH)), the largest power of two <= NH. The first p heads get the geometric sequence
/// base^1, ..., base^p with base = 2^(-2^-(log2(p) - 3)) = 2^(-8/p), i.e. the slopes of the paper for p heads. When NH
/// is not a power of two, the remaining NH - p heads take every other slope of the sequence for 2p heads:
/// extraBase^1, extraBase^3, ..., with extraBase = 2^(-8/(2p)) (interleaving the 2p-head slopes). Like transformers,
/// the bases are rounded to Float32 and the powers taken in Float32.
///
/// Bias. The bias added to the attention score of key j is slope[h] * position(j), with positions counted over the
/// attention mask: position = (cumsum(mask) - 1) * mask, so left padding gets position 0 and the first real token 0.
/// Adding a per-key constant instead of -(i - j) is fine because softmax is invariant to a per-row shift.
public enum ALiBi {
    /// The slope of each head (`numHeads` values).
    public static func slopes(numHeads: Int) -> [Float] {
        precondition(numHeads > 0, "numHeads must be positive")
        let p = 1 << (Int.bitWidth - 1 - numHeads.leadingZeroBitCount)  // 2^floor(log2 NH)
        let base = Float(pow(2.0, -pow(2.0, -(log2(Double(p)) - 3))))
        var out = (1...p).map { powf(base, Float($0)) }
        if p != numHeads {
            let extraBase = Float(pow(2.0, -pow(2.0, -(log2(Double(2 * p)) - 3))))
            let remaining = min(p, numHeads - p)
            out += stride(from: 1, to: 1 + 2 * remaining, by: 2).map { powf(extraBase, Float($0)) }
        }
        return out
    }

    /// Key positions from an attention mask `[B, T]` of 0/1: (cumsum(mask) - 1) * mask per batch row.
    public static func positions(mask: [Int32], batch: Int, length: Int) -> [Float] {
        precondition(mask.count == batch * length, "mask has \(mask.count) entries, expected \(batch * length)")
        var out = [Float](repeating: 0, count: mask.count)
        for b in 0..<batch {
            var c: Int32 = 0
            for t in 0..<length {
                let m = mask[b * length + t]
                c += m
                out[b * length + t] = Float((c - 1) * m)
            }
        }
        return out
    }

    /// transformers' `build_alibi_tensor`: `[B*NH, T]` (row b*NH + h) holding slope[h] * position(b, t).
    public static func biasTensor(mask: [Int32], batch: Int, length: Int, numHeads: Int) -> Tensor {
        let s = slopes(numHeads: numHeads)
        let pos = positions(mask: mask, batch: batch, length: length)
        var out = Tensor(shape: [batch * numHeads, length])
        for b in 0..<batch { for h in 0..<numHeads { for t in 0..<length {
            out.storage[(b * numHeads + h) * length + t] = s[h] * pos[b * length + t]
        } } }
        return out
    }

    /// The additive attention bias for ``SoftmaxKernel``: ALiBi plus -infinity at keys whose mask is 0
    /// (`[B*NH, T]`, use with `rowsPerBias = Tq`).
    public static func attentionBias(mask: [Int32], batch: Int, length: Int, numHeads: Int) -> Tensor {
        var out = biasTensor(mask: mask, batch: batch, length: length, numHeads: numHeads)
        for b in 0..<batch { for h in 0..<numHeads { for t in 0..<length where mask[b * length + t] == 0 {
            out.storage[(b * numHeads + h) * length + t] = -.infinity
        } } }
        return out
    }
}

// Attention of a single query row over cached keys and values (one decoding step of one head): the same products as
// the GEMM path (scores = q Kᵀ, softmax, p V) in plain SIMD loops, since a BLAS call per head costs more than the
// arithmetic of a one-row product.

/// One head's attention for one new position.
public enum DecodeAttention {
    /// out[0..<hs] = softmax(scale * q Kᵀ + bias) V over `count` cached positions; `keys` and `values` are
    /// `[count, hs]` row-major, `bias` (`count` values: 0 or -inf at padding) may be nil, `scores` is scratch of
    /// `count` floats.
    public static func head(query q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                            count: Int, dimension hs: Int, scale: Float, bias: UnsafePointer<Float>?,
                            scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        for j in 0..<count { scores[j] = HalfMatmulKernel.dot(q, keys + j * hs, hs) }
        SoftmaxKernel.forward(scores, scores, rows: 1, cols: count, scale: scale, bias: bias, rowsPerBias: 1, causalOffset: nil)
        out.update(repeating: 0, count: hs)
        let w = FloatVector.scalarCount
        for j in 0..<count {
            let p = scores[j]
            if p == 0 { continue }
            let v = values + j * hs
            var i = 0
            while i + w <= hs { storeVector(loadVector(out, i) + loadVector(v, i) * p, out, i); i += w }
            while i < hs { out[i] += v[i] * p; i += 1 }
        }
    }
}

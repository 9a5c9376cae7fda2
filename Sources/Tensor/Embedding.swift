// Embedding lookup (gather of rows by token id) and its backward (scatter-add into the table's gradient).

/// Embedding kernels: table `[V, C]`, ids `[N]`, output `[N, C]`.
public enum EmbeddingKernel {
    @inline(__always) static func check(_ id: Int32, vocab: Int) {
        precondition(id >= 0 && Int(id) < vocab, "token id \(id) outside [0, \(vocab))")
    }

    /// out[n] = table[ids[n]] (reference).
    public static func forwardReference(_ table: UnsafePointer<Float>, ids: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Float>, count: Int, vocab: Int, dim: Int) {
        for n in 0..<count {
            check(ids[n], vocab: vocab)
            for c in 0..<dim { out[n * dim + c] = table[Int(ids[n]) * dim + c] }
        }
    }

    /// dTable[ids[n]] += dOut[n] (reference, in token order).
    public static func backwardReference(_ dOut: UnsafePointer<Float>, ids: UnsafePointer<Int32>, dTable: UnsafeMutablePointer<Float>, count: Int, vocab: Int, dim: Int) {
        for n in 0..<count {
            check(ids[n], vocab: vocab)
            for c in 0..<dim { dTable[Int(ids[n]) * dim + c] += dOut[n * dim + c] }
        }
    }

    /// out[n] = table[ids[n]] (row copies, parallel over tokens).
    public static func forward(_ table: UnsafePointer<Float>, ids: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Float>, count: Int, vocab: Int, dim: Int) {
        for n in 0..<count { check(ids[n], vocab: vocab) }
        ComputeThreads.forEachChunk(count, minPerChunk: max(1, 65_536 / max(1, dim))) { _, range in
            for n in range { (out + n * dim).update(from: table + Int(ids[n]) * dim, count: dim) }
        }
    }

    /// dTable[ids[n]] += dOut[n]. Threads split the columns, and each thread adds the tokens in order, so repeated ids
    /// never race and the sums are the same for any thread count.
    public static func backward(_ dOut: UnsafePointer<Float>, ids: UnsafePointer<Int32>, dTable: UnsafeMutablePointer<Float>, count: Int, vocab: Int, dim: Int) {
        for n in 0..<count { check(ids[n], vocab: vocab) }
        let blocks = (dim + simdWidth - 1) / simdWidth
        ComputeThreads.forEachChunk(blocks, minPerChunk: max(1, 65_536 / max(1, count * simdWidth))) { _, range in
            let lo = range.lowerBound * simdWidth, hi = min(dim, range.upperBound * simdWidth)
            for n in 0..<count {
                let src = dOut + n * dim, dst = dTable + Int(ids[n]) * dim
                var c = lo
                while c + simdWidth <= hi { storeVector(loadVector(dst, c) + loadVector(src, c), dst, c); c += simdWidth }
                while c < hi { dst[c] += src[c]; c += 1 }
            }
        }
    }
}

// The three products of causal self-attention computed by query block, so the masked upper triangle of the scores is
// neither computed nor read (the training passes of BLOOM and Llama share them), and the heads' schedule that the
// inference passes' prefill attention shares too (forEachHead).
import EcomTensor

/// Causal attention products over an `[L, L]` score-shaped matrix `w` (stride L) and `[L, HS]` rows.
///
/// Query block [q0, q0+n) sees keys [0, q0+n); key block [k0, k0+n) is seen by queries [k0, L). At 256 tokens and
/// blocks of 64 this does 62.5% of the full product's work. Any block size gives the same results up to rounding.
struct CausalBlocks {
    /// Query rows per block (positive).
    var size: Int

    /// The query blocks of a segment of `length` rows: (first row, rows, keys visible to the block).
    @inline(__always) func blocks(_ length: Int) -> some Sequence<(q0: Int, rows: Int, keys: Int)> {
        let size = min(self.size, max(1, length))  // also keeps the stride from overflowing
        return stride(from: 0, to: length, by: size).lazy.map { q0 in
            let n = min(size, length - q0)
            return (q0, n, q0 + n)
        }
    }

    /// Runs `body(h)` for every head h in `0..<heads`: heads in groups of `group` consecutive ones (query heads that
    /// share a key/value head and add into its gradient), each group's heads in order. The groups run on the compute
    /// threads when OpenBLAS is single-threaded (where oneDNN multiplies the large products, bf16 or Float32: each of
    /// the heads' small products then runs on its caller's core, so only heads side by side use the others), else one
    /// after another on this thread with OpenBLAS's threads splitting each product. Every product is the same call
    /// either way; its last bits can still depend on the threads it runs on (oneDNN runs one OpenMP thread inside the
    /// pool's chunks).
    static func forEachHead(_ heads: Int, group: Int = 1, _ body: (Int) -> Void) {
        let group = max(1, group), groups = (heads + group - 1) / group
        let sideBySide = headsSideBySide ?? (ComputeThreads.blasThreads == 1)
        guard sideBySide, ComputeThreads.count > 1, groups > 1 else {
            for h in 0..<heads { body(h) }
            return
        }
        ComputeThreads.forEachChunk(groups, minPerChunk: 1) { _, range in
            for h in (range.lowerBound * group)..<min(heads, range.upperBound * group) { body(h) }
        }
    }

    /// Forces ``forEachHead(_:group:_:)``'s choice in a scope (tests compare both without changing OpenBLAS's
    /// process-wide thread count); nil leaves it to OpenBLAS's count.
    @TaskLocal static var headsSideBySide: Bool?

    /// w[i, j] = a[i] · b[j] for the visible keys j of each query block (S = Q Kᵀ; dP = dctx Vᵀ).
    func scores(_ a: MatrixView, _ b: MatrixView, into w: UnsafeMutablePointer<Float>) {
        let L = a.rows
        for blk in blocks(L) {
            MatmulKernel.gemm(a.rows(blk.q0..<blk.keys), b.rows(0..<blk.keys), transposeB: true,
                              MutableMatrixView(base: w + blk.q0 * L, rows: blk.rows, columns: blk.keys, stride: L))
        }
    }

    /// out[i] = Σ_j w[i, j] x[j] over the visible keys (ctx = P V; dQ = dS K); added to `out` with `beta` 1.
    func weightedSum(_ w: UnsafePointer<Float>, _ x: MatrixView, into out: MutableMatrixView, beta: Float = 0) {
        let L = x.rows
        for blk in blocks(L) {
            MatmulKernel.gemm(MatrixView(base: w + blk.q0 * L, rows: blk.rows, columns: blk.keys, stride: L), x.rows(0..<blk.keys),
                              out.rows(blk.q0..<blk.keys), beta: beta)
        }
    }

    /// out[j] = Σ_i w[i, j] x[i] over the queries that see key j (dV = Pᵀ dctx; dK = dSᵀ Q); added with `beta` 1.
    func transposedSum(_ w: UnsafePointer<Float>, _ x: MatrixView, into out: MutableMatrixView, beta: Float = 0) {
        let L = x.rows
        for blk in blocks(L) {
            let k0 = blk.q0
            MatmulKernel.gemm(MatrixView(base: w + k0 * L + k0, rows: L - k0, columns: blk.rows, stride: L), transposeA: true,
                              x.rows(k0..<L), out.rows(k0..<blk.keys), beta: beta)
        }
    }
}

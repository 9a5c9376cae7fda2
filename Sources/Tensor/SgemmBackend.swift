// Which library multiplies the Float32 products of the BLAS path: oneDNN's sgemm wherever libdnnl is installed and its
// sgemm passes a probe (x86-64 CPUs with AVX2 and FMA), OpenBLAS otherwise and for small products. Chosen on numbers
// (Docs/PERFORMANCE.md, "Float32 products through oneDNN"), 2 threads: on an AMD EPYC Zen 5 with the environment's
// `OPENBLAS_CORETYPE=Haswell`, dnnl_sgemm ran the training and fine-tuning shapes at 1.3-5.2x OpenBLAS; with
// OpenBLAS's own `Cooperlake` it was 0.93-1.05x on large products alone, but whole training and LoRA steps ran
// 1.12-1.37x faster with it, because OpenBLAS then runs single-threaded and attention's many small per-head products
// go side by side on the compute pool instead of being split over OpenBLAS's threads; with both libraries held to
// AVX2 on that CPU (standing in for a Zen 3) training and LoRA steps ran 1.02-1.17x faster and prefill 1.23x. Below
// 2^20 multiply-adds OpenBLAS's single thread keeps them (minimumWork). A Bᵀ with few rows is computed as (B Aᵀ)ᵀ:
// dnnl_sgemm's kernels for that layout slowed to 130 GFLOP/s when B's row length was a multiple of 512 values
// (64 x 3072 x 1024: 3.0 ms against OpenBLAS's 1.9, and 1.1 + 0.1 ms transposed; BLOOM's hidden sizes are such
// multiples).

/// The library behind Float32 products on the ``KernelPath/blas`` path.
///
/// Where ``native`` is ``onednn``, products of at least ``minimumWork`` multiply-adds go to oneDNN's `dnnl_sgemm` and
/// smaller ones to OpenBLAS, which then runs single-threaded (``ComputeThreads/blasThreads``). Elsewhere every product
/// goes to OpenBLAS. Results agree to Float32 rounding; their last bits depend on the library.
public enum SgemmBackend: String, Sendable, CaseIterable {
    /// OpenBLAS's `cblas_sgemm`.
    case openblas
    /// oneDNN's `dnnl_sgemm` (its AVX2 or AVX-512 kernels, OpenMP threads).
    case onednn

    /// Products with fewer multiply-adds stay with OpenBLAS where oneDNN multiplies: 2^20. Alone, oneDNN already
    /// matched OpenBLAS's single thread from 2^18 (64 x 64 x 64: 0.88-1.04x; 128 x 64 x 64: 1.07-1.43x), but a
    /// 64-token BLOOM prefill, thousands of small calls, ran 1.4x faster at 2^20 than at 2^18 (its per-call cost and
    /// OpenMP's wake-ups); training and fine-tuning did not move (Zen 5, the environment's `Haswell`).
    public static let minimumWork = 1 << 20

    /// The backend this process uses by default: ``choose(features:oneDNNSgemm:)`` for this CPU and the oneDNN found.
    public static let native: SgemmBackend = choose(features: BLASCore.features, oneDNNSgemm: OneDNN.sgemmLibrary != nil)

    /// The decision, as a pure function: oneDNN where the CPU has AVX2 and FMA (the instruction sets its sgemm was
    /// measured with) and oneDNN's sgemm loaded and passed its probe; OpenBLAS otherwise. Which kernels OpenBLAS runs
    /// does not matter: with its best ones (`Cooperlake` on a Zen 5, `Zen` on AVX2) the steps were still faster
    /// through oneDNN, with a weaker preset (`Haswell` on AVX-512) much faster.
    public static func choose(features: Set<String>, oneDNNSgemm: Bool) -> SgemmBackend {
        oneDNNSgemm && OneDNN.runs(on: features) ? .onednn : .openblas
    }

    /// Why ``native`` is OpenBLAS (empty when it is oneDNN).
    public static var openBLASReason: String {
        if native == .onednn { return "" }
        if OneDNN.sgemmLibrary == nil { return OneDNN.sgemmFailure }
        return "oneDNN's sgemm needs AVX2 and FMA (this CPU has: \(NativeKernels.cpuFeatures))"
    }

    nonisolated(unsafe) private static var global: SgemmBackend?

    /// The backend of products outside any ``override``: ``native`` unless set (benchmarks compare both); setting it
    /// also sets OpenBLAS's thread count to match (``ComputeThreads/blasThreads``). `onednn` where oneDNN's sgemm is
    /// not available stays OpenBLAS.
    public static var processDefault: SgemmBackend {
        get { global ?? native }
        set {
            global = newValue == .onednn && OneDNN.sgemmLibrary == nil ? .openblas : newValue
            ComputeThreads.applyBLASThreads()
        }
    }

    /// Forces a backend for a scope (tests compare them; `openblas` reproduces the OpenBLAS-only arithmetic).
    @TaskLocal public static var override: SgemmBackend?

    /// The backend large products use here and now.
    public static var current: SgemmBackend { override ?? processDefault }

    /// The library of one product of m x n x k multiply-adds under `backend`.
    @inlinable
    public static func backend(m: Int, n: Int, k: Int, under backend: SgemmBackend) -> SgemmBackend {
        backend == .onednn && m * n * k >= minimumWork ? .onednn : .openblas
    }
}

extension SgemmBackend {
    /// Rows of A up to which C = A Bᵀ is computed as Cᵀ = B Aᵀ and transposed (when B has at least 4x as many rows).
    static let transposedRows = 128
    /// Rows of B per transposed piece (its scratch: transposedChunk x m values).
    static let transposedChunk = 4096
    static let scratch = PanelScratch()

    /// C = alpha op(A) op(B) + beta C through oneDNN's sgemm; shapes already checked, m, n, k > 0.
    static func gemmOneDNN(_ dnnl: OneDNN, _ a: MatrixView, transposeA: Bool, _ b: MatrixView, transposeB: Bool,
                           _ c: MutableMatrixView, m: Int, n: Int, k: Int, alpha: Float, beta: Float) {
        guard transposeB, !transposeA, m <= transposedRows, n >= 4 * m else {
            dnnl.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a.base, lda: a.stride,
                      b: b.base, ldb: b.stride, beta: beta, c: c.base, ldc: c.stride)
            return
        }
        scratch.with(count: min(n, transposedChunk) * m) { s in
            for j0 in stride(from: 0, to: n, by: transposedChunk) {
                let rows = min(transposedChunk, n - j0)
                // s [rows, m] = alpha B[j0 ..< j0 + rows] Aᵀ
                dnnl.gemm(transposeA: false, transposeB: true, m: rows, n: m, k: k, alpha: alpha, a: b.base + j0 * b.stride,
                          lda: b.stride, b: a.base, ldb: a.stride, beta: 0, c: s, ldc: m)
                // C[:, j0 ..< j0 + rows] = sᵀ + beta C
                MatmulKernel.transpose(MatrixView(base: s, rows: rows, columns: m, stride: m),
                                       into: MutableMatrixView(base: c.base + j0, rows: m, columns: rows, stride: c.stride), beta: beta)
            }
        }
    }
}

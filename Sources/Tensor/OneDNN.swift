// oneDNN's C API, opened at run time with dlopen from Debian's libdnnl (nothing links against it): its bf16 GEMM
// (`dnnl_gemm_bf16bf16f32`, for BF16Matmul) and its Float32 GEMM (`dnnl_sgemm`, for SgemmBackend), both row-major like
// our views, the OpenMP thread count they run with, and how a product called outside the compute pool is split over it.
import Foundation
import _EcomTensorKernels
#if canImport(Glibc)
import Glibc
#endif

/// The oneDNN library of this process and what it may run here. Loaded once, where the CPU has AVX2 and FMA (the CPUs
/// its products were measured on); each product is probed once and left out, with the reason, when it fails.
final class OneDNN: @unchecked Sendable {
    /// Both products' C signature: (transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) -> status, A and B
    /// bf16 bits (`dnnl_gemm_bf16bf16f32`) or Float32 (`dnnl_sgemm`); the typed ``gemm`` methods say which.
    typealias Gemm = @convention(c) (CChar, CChar, Int64, Int64, Int64, Float, UnsafeRawPointer?, Int64,
                                     UnsafeRawPointer?, Int64, Float, UnsafeMutablePointer<Float>?, Int64) -> Int32
    typealias SetThreads = @convention(c) (Int32) -> Void

    /// The library's file name (libdnnl.so.3 or .so.2).
    let library: String
    let setThreads: SetThreads?
    /// The bf16 product: nil where the CPU has no AVX512_BF16 or the probe failed (``failure`` says which).
    let gemmBF16: Gemm?
    /// The Float32 product: nil where the probe failed (``sgemmFailure``).
    let sgemm: Gemm?

    /// Why oneDNN's bf16 product is unavailable (empty when it is available).
    nonisolated(unsafe) private(set) static var failure = ""
    /// Why oneDNN's Float32 product is unavailable (empty when it is available).
    nonisolated(unsafe) private(set) static var sgemmFailure = ""

    /// The library, where the CPU has AVX2 and FMA and libdnnl loads.
    static let loaded: OneDNN? = load()
    /// The library where its bf16 product runs (the CPU has AVX512_BF16 and the probe passed).
    static let shared: OneDNN? = loaded?.gemmBF16 == nil ? nil : loaded
    /// The library where its Float32 product runs.
    static let sgemmLibrary: OneDNN? = loaded?.sgemm == nil ? nil : loaded

    private init(library: String, setThreads: SetThreads?, gemmBF16: Gemm?, sgemm: Gemm?) {
        self.library = library
        self.setThreads = setThreads
        self.gemmBF16 = gemmBF16
        self.sgemm = sgemm
    }

    /// Whether a CPU with `features` (cpuid names) is one oneDNN is loaded on: AVX2 and FMA.
    static func runs(on features: Set<String>) -> Bool { features.contains("avx2") && features.contains("fma") }

    private static func load() -> OneDNN? {
        #if canImport(Glibc)
        let features = BLASCore.features
        guard runs(on: features) else {
            failure = "bf16 compute needs a CPU with AVX512_BF16 (this one has: \(NativeKernels.cpuFeatures))"
            sgemmFailure = "oneDNN's sgemm is used on CPUs with AVX2 and FMA only (this one has: \(NativeKernels.cpuFeatures))"
            return nil
        }
        // OpenMP's workers spin a short while after each product, then sleep: long spinning would take the cores from
        // our own threads, none (OMP_WAIT_POLICY=PASSIVE) made each product wait for their wake-up (a 256³ sgemm ran at
        // 0.6x of the rate it reaches with a short spin; larger products, training and prefill did not move; AMD EPYC
        // Zen 5, 2 threads). A user's setting of either variable wins.
        if getenv("OMP_WAIT_POLICY") == nil { setenv("GOMP_SPINCOUNT", "30000", 0) }
        var handle: UnsafeMutableRawPointer?
        var name = ""
        for candidate in ["libdnnl.so.3", "libdnnl.so.2"] {
            if let h = dlopen(candidate, RTLD_NOW | RTLD_LOCAL) { handle = h; name = candidate; break }
        }
        guard let handle else {
            failure = features.contains("avx512bf16")
                ? "bf16 compute needs oneDNN (libdnnl.so.3 or .so.2; Debian: apt-get install libdnnl2, which scripts/setup.sh does)"
                : "bf16 compute needs a CPU with AVX512_BF16 (this one has: \(NativeKernels.cpuFeatures))"
            sgemmFailure = "oneDNN (libdnnl.so.3 or .so.2) is not installed (Debian: apt-get install libdnnl2, which scripts/setup.sh does)"
            return nil
        }
        let set = dlsym(handle, "omp_set_num_threads") ?? dlsym(UnsafeMutableRawPointer(bitPattern: 0), "omp_set_num_threads")
        let setThreads = set.map { unsafeBitCast($0, to: SetThreads.self) }
        let n = CChar(UInt8(ascii: "N"))

        // Probes: [1 2; 3 4] x [5 6; 7 8] = [19 22; 43 50], all exact in bf16 and in Float32.
        var bf16: Gemm?
        if !features.contains("avx512bf16") {
            failure = "bf16 compute needs a CPU with AVX512_BF16 (this one has: \(NativeKernels.cpuFeatures))"
        } else if let g = dlsym(handle, "dnnl_gemm_bf16bf16f32") {
            let f = unsafeBitCast(g, to: Gemm.self)
            let a: [UInt16] = [1, 2, 3, 4].map { HalfPrecision.bfloat16Bits($0) }
            let b: [UInt16] = [5, 6, 7, 8].map { HalfPrecision.bfloat16Bits($0) }
            var c = [Float](repeating: 0, count: 4)
            let status = f(n, n, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
            if status == 0, c == [19, 22, 43, 50] { bf16 = f } else {
                failure = "\(name): dnnl_gemm_bf16bf16f32 failed its probe (status \(status), result \(c))"
            }
        } else {
            failure = "\(name) has no dnnl_gemm_bf16bf16f32"
        }
        var f32: Gemm?
        if let g = dlsym(handle, "dnnl_sgemm") {
            let f = unsafeBitCast(g, to: Gemm.self)
            // beta 0 must not read C: NaN there stays out of the result, as with BLAS.
            var c = [Float](repeating: .nan, count: 4)
            let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
            let status = f(n, n, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
            if status == 0, c == [19, 22, 43, 50] { f32 = f } else {
                sgemmFailure = "\(name): dnnl_sgemm failed its probe (status \(status), result \(c))"
            }
        } else {
            sgemmFailure = "\(name) has no dnnl_sgemm"
        }
        return OneDNN(library: name, setThreads: setThreads, gemmBF16: bf16, sgemm: f32)
        #else
        failure = "bf16 compute is only wired for Linux"
        sgemmFailure = "oneDNN is only wired for Linux"
        return nil
        #endif
    }

    /// OpenMP's thread count for a product called here: 1 inside a chunk of the compute pool (its threads already
    /// share the cores), ``ComputeThreads/count`` elsewhere. OpenMP's count is per calling thread.
    static var threadsForCall: Int32 { ecom_pool_in_chunk() != 0 ? 1 : Int32(ComputeThreads.count) }

    /// Rows or columns of C per unit of a split product (parts are whole units but the last), where every thread
    /// gets two such units; a shorter dimension is split row by row (column by column).
    static let splitUnit = 32

    /// The unit of a split of `total` rows or columns over `threads` threads.
    static func splitUnit(total: Int, threads: Int) -> Int { total >= 2 * splitUnit * threads ? splitUnit : 1 }

    /// How a product of C [m, n] called outside the compute pool is shared by `threads` threads: nil leaves it to
    /// OpenMP's threads (one thread, or fewer than two rows and two columns of C per thread), else the dimension
    /// whose contiguous parts the pool's threads compute, each part a one-thread product: the longer one, rows on a
    /// tie.
    ///
    /// OpenMP's threads are then left out of almost every product. Where they still ran the products too short to
    /// split in units (a dimension under 64 per thread), some shapes fell into their yielding loops: 64 x 96 x 256 ran
    /// at 2.2 GFLOP/s, 120 x 120 x 100 at 1.9 after a split product and 246 before one (Zen 5); split row by row
    /// (column by column) here, 164-171 and 197.
    ///
    /// Measured on an AMD EPYC Zen 5 (2 threads; Docs/PERFORMANCE.md, "oneDNN's products split by our threads"):
    /// OpenMP's own split ran SmolLM2's down projection (512 x 576 x 1536) at 370-380 GFLOP/s against 450-480 split
    /// here, and prefill, training and fine-tuning steps ran 2-15% faster split; with oneDNN held to AVX2, prefill
    /// 4.5% faster and training unchanged. Splitting always along the columns instead lost 10% of a training step
    /// under AVX2.
    static func split(m: Int, n: Int, threads: Int) -> SplitDimension? {
        guard threads > 1, max(m, n) >= 2 * threads else { return nil }
        return n > m ? .columns : .rows
    }

    /// The dimension of C a split product divides among threads.
    enum SplitDimension: Equatable { case rows, columns }

    /// C = alpha op(A) op(B) + beta C on bf16 inputs, Float32 output (row-major; leading dimensions in elements).
    func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<UInt16>, lda: Int,
              b: UnsafePointer<UInt16>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard let gemmBF16 else { preconditionFailure("bf16: oneDNN's bf16 product is not available: \(Self.failure)") }
        call(gemmBF16, "dnnl_gemm_bf16bf16f32", elementSize: 2, transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// C = alpha op(A) op(B) + beta C in Float32 (row-major; leading dimensions in elements).
    func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
              b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard let sgemm else { preconditionFailure("oneDNN's sgemm is not available: \(Self.sgemmFailure)") }
        call(sgemm, "dnnl_sgemm", elementSize: 4, transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// One product through `f` (named `name` in the failure), with OpenMP's thread count set for this thread.
    /// Outside the compute pool, a product large enough is split by ``split(m:n:threads:)`` over the pool's threads.
    private func call(_ f: Gemm, _ name: String, elementSize: Int, _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                      _ alpha: Float, _ a: UnsafeRawPointer, _ lda: Int, _ b: UnsafeRawPointer, _ ldb: Int, _ beta: Float,
                      _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        let flag = { (t: Bool) in CChar(UInt8(ascii: t ? "T" : "N")) }
        func run(_ m: Int, _ n: Int, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ c: UnsafeMutablePointer<Float>) {
            setThreads?(Self.threadsForCall)
            let status = f(flag(transposeA), flag(transposeB), Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb),
                           beta, c, Int64(ldc))
            precondition(status == 0, "oneDNN \(name) failed with status \(status) (m \(m), n \(n), k \(k))")
        }
        let threads = ComputeThreads.count
        guard ecom_pool_in_chunk() == 0, let dimension = Self.split(m: m, n: n, threads: threads) else {
            run(m, n, a, b, c)
            return
        }
        // Contiguous parts of C's rows (A's rows: columns of its storage when transposed) or columns (B's columns:
        // rows of its storage when transposed), one per pool thread; each part is exactly the product it would be
        // alone, and the parts depend only on the shape and the thread count.
        let total = dimension == .rows ? m : n, unit = Self.splitUnit(total: total, threads: threads)
        ComputeThreads.forEachChunk((total + unit - 1) / unit, minPerChunk: 1) { _, units in
            let lo = units.lowerBound * unit, count = min(total, units.upperBound * unit) - lo
            switch dimension {
            case .rows:
                run(count, n, a + lo * (transposeA ? 1 : lda) * elementSize, b, c + lo * ldc)
            case .columns:
                run(m, count, a, b + lo * (transposeB ? ldb : 1) * elementSize, c + lo)
            }
        }
    }
}

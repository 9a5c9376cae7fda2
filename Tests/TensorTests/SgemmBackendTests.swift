// Float32 products through oneDNN's sgemm (SgemmBackend): each backend this machine runs against a Double reference
// (transposes, strides, alpha/beta, NaN in C under beta 0; one, two and three threads, so oneDNN's products are split by
// rows and by columns over the pool), the routing and splitting rules, OpenBLAS's thread count beside it, and one
// OpenMP thread inside the compute pool's chunks.
@testable import EcomTensor
import EcomTestSupport
import Foundation
import Testing
import _EcomTensorKernels

@Suite struct SgemmBackendTests {
    /// The backends this machine can run: OpenBLAS everywhere, oneDNN where the CPU has AVX2 and FMA and libdnnl loads
    /// (whether or not it is this process's choice).
    static let backends: [SgemmBackend] = OneDNN.sgemmLibrary != nil ? [.openblas, .onednn] : [.openblas]

    /// Shapes of at least SgemmBackend.minimumWork multiply-adds (so that oneDNN multiplies them), awkward sizes;
    /// with B transposed, the 2nd to 4th are computed transposed (few rows of A), the 4th in two pieces of B. With
    /// more than one thread, oneDNN's products are split over the pool: the 1st to 3rd by columns of C, the 5th (and
    /// the transposed products) by rows, in parts that are not all the same length (whole 32-column units, or
    /// column by column for the 1st over three threads).
    static let shapes = [(129, 131, 127), (1, 1537, 1031), (17, 257, 257), (5, SgemmBackend.transposedChunk + 3, 64), (300, 65, 61)]

    @Test(arguments: backends, [1, 2, 3])
    func backendMatchesReference(backend: SgemmBackend, threads: Int) {
        print("sgemm backend tested here: \(backend.rawValue), \(threads) threads (native: \(SgemmBackend.native.rawValue)\(SgemmBackend.openBLASReason.isEmpty ? "" : ", \(SgemmBackend.openBLASReason)"))")
        for (m, n, k) in Self.shapes {
            #expect(m * n * k >= SgemmBackend.minimumWork)
            for ta in [false, true] { for tb in [false, true] {
                let pad = (m + k) % 3, beta: Float = tb ? 0.5 : 0, alpha: Float = 0.75
                let (ar, ac) = ta ? (k, m) : (m, k), (br, bc) = tb ? (n, k) : (k, n)
                let a = randomArray(ar * (ac + pad), seed: UInt64(m * 7 + n)), b = randomArray(br * (bc + pad), seed: UInt64(k))
                // Under beta 0 the old C must not be read: NaN there stays out of the result.
                let c0 = beta == 0 ? [Float](repeating: .nan, count: m * (n + pad)) : randomArray(m * (n + pad), seed: 3)
                var want = c0
                for i in 0..<m { for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k {
                        s += Double(ta ? a[p * (ac + pad) + i] : a[i * (ac + pad) + p]) * Double(tb ? b[j * (bc + pad) + p] : b[p * (bc + pad) + j])
                    }
                    want[i * (n + pad) + j] = Float(Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c0[i * (n + pad) + j])))
                } }
                var got = c0
                a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in got.withUnsafeMutableBufferPointer { cp in
                    ComputeThreads.$override.withValue(threads) { SgemmBackend.$override.withValue(backend) {
                        MatmulKernel.gemm(MatrixView(base: ap.baseAddress!, rows: ar, columns: ac, stride: ac + pad), transposeA: ta,
                                          MatrixView(base: bp.baseAddress!, rows: br, columns: bc, stride: bc + pad), transposeB: tb,
                                          MutableMatrixView(base: cp.baseAddress!, rows: m, columns: n, stride: n + pad),
                                          alpha: alpha, beta: beta, path: .blas)
                    } }
                } } }
                // Padding columns of C are never written.
                let written = (0..<m).flatMap { i in (0..<n).map { i * (n + pad) + $0 } }
                let bad = firstMismatch(written.map { got[$0] }, written.map { want[$0] }, rtol: 1e-5, atol: 1e-5)
                #expect(bad == nil, "\(backend) \(threads) threads m\(m) n\(n) k\(k) ta\(ta) tb\(tb) pad\(pad): \(String(describing: bad))")
                for i in 0..<m { for j in n..<(n + pad) { #expect(got[i * (n + pad) + j].isNaN == c0[i * (n + pad) + j].isNaN) } }
            } }
        }
    }

    /// oneDNN wherever its sgemm loaded on a CPU with AVX2 and FMA, whichever kernels OpenBLAS runs; under it, only
    /// products of 2^20 multiply-adds and more leave OpenBLAS.
    @Test func routingRule() {
        let zen5: Set<String> = ["avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512bf16"]
        let zen3: Set<String> = ["avx", "avx2", "fma", "f16c"]
        #expect(SgemmBackend.choose(features: zen5, oneDNNSgemm: true) == .onednn)
        #expect(SgemmBackend.choose(features: zen3, oneDNNSgemm: true) == .onednn)
        #expect(SgemmBackend.choose(features: zen5, oneDNNSgemm: false) == .openblas)
        #expect(SgemmBackend.choose(features: zen3, oneDNNSgemm: false) == .openblas)
        #expect(SgemmBackend.choose(features: ["avx", "f16c"], oneDNNSgemm: true) == .openblas)
        #expect(SgemmBackend.choose(features: ["avx", "avx2"], oneDNNSgemm: true) == .openblas)
        #expect(SgemmBackend.minimumWork == 1 << 20)
        #expect(SgemmBackend.backend(m: 128, n: 128, k: 64, under: .onednn) == .onednn)
        #expect(SgemmBackend.backend(m: 128, n: 128, k: 63, under: .onednn) == .openblas)
        #expect(SgemmBackend.backend(m: 1024, n: 1024, k: 1024, under: .openblas) == .openblas)
        #expect(SgemmBackend.native == SgemmBackend.choose(features: BLASCore.features, oneDNNSgemm: OneDNN.sgemmLibrary != nil))
        #expect((SgemmBackend.native == .onednn) == SgemmBackend.openBLASReason.isEmpty)
        // Where the library loaded (AVX2, FMA and libdnnl), its sgemm must pass the probe: else the oneDNN cases above
        // would silently not run.
        if OneDNN.loaded != nil { #expect(OneDNN.sgemmLibrary != nil, "\(OneDNN.sgemmFailure)") }
        // CI's machine was set up by scripts/setup.sh, which installs oneDNN on every CPU with AVX2 and FMA: there its
        // products must be tested, not skipped.
        if ProcessInfo.processInfo.environment["CI"] == "true", BLASCore.features.isSuperset(of: ["avx2", "fma"]) {
            #expect(OneDNN.sgemmLibrary != nil, "oneDNN's sgemm did not load in CI: \(OneDNN.sgemmFailure)")
        }
    }

    /// oneDNN's products called outside the pool are split over its threads along C's longer dimension (rows on a
    /// tie) wherever every thread gets two rows or columns, in parts of whole 32-row or 32-column units where every
    /// thread gets two units, else row by row; OpenMP's threads get the rest.
    @Test func splittingRule() {
        #expect(OneDNN.split(m: 512, n: 1536, threads: 2) == .columns)
        #expect(OneDNN.split(m: 512, n: 576, threads: 2) == .columns)
        #expect(OneDNN.split(m: 1024, n: 1024, threads: 2) == .rows)
        #expect(OneDNN.split(m: 4096, n: 64, threads: 2) == .rows)
        #expect(OneDNN.split(m: 16, n: 49152, threads: 4) == .columns)
        #expect(OneDNN.split(m: 127, n: 100, threads: 2) == .rows)
        #expect(OneDNN.split(m: 512, n: 576, threads: 1) == nil)
        #expect(OneDNN.split(m: 3, n: 3, threads: 2) == nil)
        #expect(OneDNN.split(m: 4, n: 3, threads: 2) == .rows)
        #expect(OneDNN.split(m: 5, n: 5, threads: 3) == nil)
        #expect(OneDNN.split(m: 5, n: 6, threads: 3) == .columns)
        #expect(OneDNN.splitUnit(total: 127, threads: 2) == 1)
        #expect(OneDNN.splitUnit(total: 128, threads: 2) == 32)
        #expect(OneDNN.splitUnit(total: 191, threads: 3) == 1)
        #expect(OneDNN.splitUnit(total: 192, threads: 3) == 32)
    }

    /// OpenBLAS runs single-threaded where oneDNN multiplies the large Float32 products (its spinning workers would
    /// take oneDNN's cores), at the compute thread count elsewhere.
    @Test func openBLASStepsAsideForOneDNNsSgemm() {
        #expect(ComputeThreads.blasThreadCount(count: 2, precision: .f32, backend: nil, sgemm: .onednn) == 1)
        #expect(ComputeThreads.blasThreadCount(count: 2, precision: .f32, backend: nil, sgemm: .openblas) == 2)
        #expect(ComputeThreads.processBLASThreads(count: 2) == (SgemmBackend.native == .onednn ? 1 : 2))
    }

    /// Chunks of a parallel loop run with the pool's mark set, where oneDNN runs one OpenMP thread; outside them it
    /// runs the compute thread count; a chunk sees its caller's backend.
    @Test func poolChunksAreMarked() {
        #expect(ecom_pool_in_chunk() == 0)
        #expect(ComputeThreads.$override.withValue(2) { OneDNN.threadsForCall } == 2)  // outside the chunks: the count
        let marks = UnsafeMutablePointer<Int32>.allocate(capacity: 4)
        let seen = UnsafeMutablePointer<Bool>.allocate(capacity: 4)
        defer { marks.deallocate(); seen.deallocate() }
        ComputeThreads.$override.withValue(2) {
            SgemmBackend.$override.withValue(.openblas) {
                ComputeThreads.forEachChunk(4, minPerChunk: 1) { _, range in
                    for i in range { marks[i] = OneDNN.threadsForCall == 1 ? ecom_pool_in_chunk() : -1; seen[i] = SgemmBackend.current == .openblas }
                }
            }
        }
        #expect((0..<4).allSatisfy { marks[$0] == 1 && seen[$0] })
        #expect(ecom_pool_in_chunk() == 0)
        // What a pool thread is handed (the caller may run every chunk itself, so the loop above need not show it).
        let inherited = SgemmBackend.$override.withValue(.openblas) { InheritedSettings.current }
        var inside: SgemmBackend?
        SgemmBackend.$override.withValue(nil) { inherited.apply { inside = SgemmBackend.current } }
        #expect(!inherited.isEmpty && inside == .openblas)
    }
}

// bf16 matrix products: each backend against a Double reference of the bf16-rounded inputs (transposes, strides,
// alpha/beta), bf16 routing under MatmulPrecision (and into pool threads), and the tools' --precision resolution.
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

@Suite struct BF16MatmulTests {
    static func rounded(_ x: [Float]) -> [Float] { x.map { HalfPrecision.float(bfloat16: HalfPrecision.bfloat16Bits($0)) } }

    /// The backends this machine runs: `rounding` everywhere, `onednn` where the CPU has AVX512_BF16 and oneDNN loads.
    static let backends: [BF16Matmul.Backend] = [.rounding] + (BF16Matmul.native.map { [$0] } ?? [])

    /// C = alpha op(A) op(B) + beta C on fresh random strided inputs, through `body`; returns C and the reference
    /// computed in Double from the inputs rounded to bf16.
    func product(m: Int, n: Int, k: Int, ta: Bool, tb: Bool, alpha: Float, beta: Float, pad: Int, seed: UInt64,
                 _ body: (MatrixView, MatrixView, MutableMatrixView) -> Void) -> (got: [Float], want: [Float]) {
        let (ar, ac) = ta ? (k, m) : (m, k), (br, bc) = tb ? (n, k) : (k, n)
        let a = randomArray(ar * (ac + pad), seed: seed), b = randomArray(br * (bc + pad), seed: seed + 1)
        let c0 = randomArray(m * (n + pad), seed: seed + 2)
        let (ra, rb) = (Self.rounded(a), Self.rounded(b))
        var want = c0
        for i in 0..<m { for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = ta ? ra[p * (ac + pad) + i] : ra[i * (ac + pad) + p]
                let bv = tb ? rb[j * (bc + pad) + p] : rb[p * (bc + pad) + j]
                s += Double(av) * Double(bv)
            }
            want[i * (n + pad) + j] = Float(Double(alpha) * s + Double(beta) * Double(c0[i * (n + pad) + j]))
        } }
        var got = c0
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in got.withUnsafeMutableBufferPointer { cp in
            body(MatrixView(base: ap.baseAddress!, rows: ar, columns: ac, stride: ac + pad),
                 MatrixView(base: bp.baseAddress!, rows: br, columns: bc, stride: bc + pad),
                 MutableMatrixView(base: cp.baseAddress!, rows: m, columns: n, stride: n + pad))
        } } }
        return (got, want)
    }

    @Test(arguments: backends)
    func backendMatchesRoundedReference(backend: BF16Matmul.Backend) {
        print("bf16 backend tested here: \(backend.rawValue)")
        // With two or three threads oneDNN's products are split (see OneDNN.split): the 2nd and 6th by columns of C,
        // the 3rd to 5th by rows; the last two in 32-row or 32-column units, the others row by row (column by column).
        for (m, n, k) in [(1, 1, 1), (7, 33, 257), (64, 48, 96), (33, 7, 1), (200, 65, 40), (40, 197, 33)] { for threads in [1, 2, 3] {
            for ta in [false, true] { for tb in [false, true] {
                let pad = (m + k) % 3, beta: Float = tb ? 0.5 : 0
                let (got, want) = product(m: m, n: n, k: k, ta: ta, tb: tb, alpha: 0.75, beta: beta, pad: pad, seed: UInt64(m * 31 + n)) { a, b, c in
                    ComputeThreads.$override.withValue(threads) {
                        BF16Matmul.gemm(a, transposeA: ta, b, transposeB: tb, c, alpha: 0.75, beta: beta, backend: backend)
                    }
                }
                // Only the Float32 summation order differs from the reference: exact bf16 products.
                let bad = firstMismatch(got, want, rtol: 1e-5, atol: 1e-5)
                #expect(bad == nil, "\(backend) \(threads) threads m\(m) n\(n) k\(k) ta\(ta) tb\(tb) pad\(pad): \(String(describing: bad))")
            } }
        } }
    }

    /// OpenBLAS runs single-threaded exactly where oneDNN's threads multiply the large products.
    @Test func blasThreadsStepAsideForOneDNN() {
        #expect(ComputeThreads.blasThreadCount(count: 2, precision: .bf16, backend: .onednn) == 1)
        #expect(ComputeThreads.blasThreadCount(count: 2, precision: .bf16, backend: .rounding) == 2)
        #expect(ComputeThreads.blasThreadCount(count: 2, precision: .bf16, backend: nil) == 2)
        #expect(ComputeThreads.blasThreadCount(count: 4, precision: .f32, backend: .onednn) == 4)
        #expect(ComputeThreads.blasThreadCount(count: 0, precision: .f32, backend: nil) == 1)
        // This process multiplies in Float32 (tests choose bf16 per task), so OpenBLAS keeps the compute threads.
        #expect(MatmulPrecision.processDefault == .f32)
    }

    /// Under bf16 precision, gemm's BLAS path rounds its inputs for products of at least minimumWork multiply-adds
    /// and leaves smaller ones in Float32; a product inside a parallel chunk sees its caller's settings.
    @Test func precisionRoutesLargeProductsOnly() {
        let (m, n, k) = (128, 256, 256)  // 2^23 multiply-adds: exactly the default threshold
        #expect(m * n * k == BF16Matmul.minimumWork)
        func blas(_ a: MatrixView, _ b: MatrixView, _ c: MutableMatrixView) { MatmulKernel.gemm(a, b, c, path: .blas) }
        let f32 = product(m: m, n: n, k: k, ta: false, tb: false, alpha: 1, beta: 0, pad: 0, seed: 5, blas).got
        let bf16 = MatmulPrecision.$override.withValue(.bf16) {
            product(m: m, n: n, k: k, ta: false, tb: false, alpha: 1, beta: 0, pad: 0, seed: 5, blas)
        }
        #expect(firstMismatch(bf16.got, bf16.want, rtol: 1e-5, atol: 1e-5) == nil)
        let rounded = f32 != bf16.got  // a Bool, so that a failure does not print both arrays
        #expect(rounded, "bf16 precision left a 2^23 product in Float32")
        // Bit equality of two sgemm calls needs one OpenBLAS thread count for both (its Haswell kernels' last bits
        // depend on it; an evaluation test beside this one may change it for a while).
        let (small, smallF32) = ComputeThreads.withSteadyBLASThreads {
            (MatmulPrecision.$override.withValue(.bf16) {
                product(m: m - 1, n: n, k: k, ta: false, tb: false, alpha: 1, beta: 0, pad: 0, seed: 5, blas).got
            }, product(m: m - 1, n: n, k: k, ta: false, tb: false, alpha: 1, beta: 0, pad: 0, seed: 5, blas).got)
        }
        let unrounded = small == smallF32  // a Bool, as above
        #expect(unrounded, "a product below the threshold was rounded")

        // Four products inside a parallel loop, with the threshold at 0 in the caller's scope.
        let x = randomArray(4 * 8 * 8, seed: 9), w = randomArray(8 * 8, seed: 10)
        var out = [Float](repeating: 0, count: 4 * 8 * 8)
        ComputeThreads.$override.withValue(4) {
            MatmulPrecision.$override.withValue(.bf16) { BF16Matmul.$minimumWorkOverride.withValue(0) {
                x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in out.withUnsafeMutableBufferPointer { op in
                    let (xb, wb, ob) = (xp.baseAddress!, wp.baseAddress!, op.baseAddress!)
                    ComputeThreads.forEachChunk(4, minPerChunk: 1) { _, range in
                        for i in range {
                            MatmulKernel.gemm(MatrixView(base: xb + i * 64, rows: 8, columns: 8, stride: 8), MatrixView(base: wb, rows: 8, columns: 8, stride: 8),
                                              MutableMatrixView(base: ob + i * 64, rows: 8, columns: 8, stride: 8), path: .blas)
                        }
                    }
                } } }
            } }
        }
        let (rx, rw) = (Self.rounded(x), Self.rounded(w))
        for i in 0..<4 { for r in 0..<8 { for c in 0..<8 {
            let want = (0..<8).reduce(0.0) { $0 + Double(rx[i * 64 + r * 8 + $1]) * Double(rw[$1 * 8 + c]) }
            #expect(abs(Double(out[i * 64 + r * 8 + c]) - want) <= 1e-5, "chunk \(i) [\(r), \(c)]")
        } } }
    }

    @Test func precisionOptionsResolve() throws {
        #expect(try MatmulPrecision.resolve("f32") == .f32)
        #expect(try MatmulPrecision.resolve("auto") == (BF16Matmul.native == nil ? .f32 : .bf16))
        #expect(throws: BF16Unavailable.self) { try MatmulPrecision.resolve("fp8") }
        if BF16Matmul.native == nil {
            let error = #expect(throws: BF16Unavailable.self) { try MatmulPrecision.resolve("bf16") }
            #expect(error?.reason.contains("AVX512_BF16") == true || error?.reason.contains("oneDNN") == true, "\(String(describing: error))")
            print("bf16 compute is not available here: \(BF16Matmul.unavailableReason)")
        } else {
            #expect(try MatmulPrecision.resolve("bf16") == .bf16)
        }
    }

    /// Where the CPU has AVX512_BF16 and Debian's oneDNN is installed (scripts/setup.sh installs it), the fast backend
    /// must load: a silent fall back to Float32 would hide a missing library.
    @Test(.enabled(if: NativeKernels.cpuFeatures.split(separator: " ").contains("avx512bf16"), "this CPU has no AVX512_BF16"))
    func oneDNNLoadsWhereTheCPUHasBF16() {
        #expect(BF16Matmul.native == .onednn, "\(BF16Matmul.unavailableReason)")
    }
}

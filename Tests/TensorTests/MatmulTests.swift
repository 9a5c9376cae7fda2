// Matrix multiply: SIMD and BLAS paths against the scalar reference (transposes, strides, batches), and gradients.
import EcomTensor
import EcomTestSupport
import Testing

@Suite struct MatmulTests {
    /// Runs one gemm on fresh random inputs with the given path, returning C.
    func run(_ path: KernelPath, m: Int, n: Int, k: Int, ta: Bool, tb: Bool, alpha: Float, beta: Float, pad: Int, seed: UInt64) -> [Float] {
        let (ar, ac) = ta ? (k, m) : (m, k), (br, bc) = tb ? (n, k) : (k, n)
        let a = randomArray(ar * (ac + pad), seed: seed), b = randomArray(br * (bc + pad), seed: seed + 1)
        var c = randomArray(m * (n + pad), seed: seed + 2)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            MatmulKernel.gemm(MatrixView(base: ap.baseAddress!, rows: ar, columns: ac, stride: ac + pad), transposeA: ta,
                              MatrixView(base: bp.baseAddress!, rows: br, columns: bc, stride: bc + pad), transposeB: tb,
                              MutableMatrixView(base: cp.baseAddress!, rows: m, columns: n, stride: n + pad),
                              alpha: alpha, beta: beta, path: path)
        } } }
        return c
    }

    @Test(arguments: [KernelPath.simd, .blas])
    func fastPathsMatchReference(path: KernelPath) {
        let seed: UInt64 = 101
        var rng = SplitMix64(seed: seed)
        for (i, m) in awkwardSizes.enumerated() {
            for ta in [false, true] { for tb in [false, true] {
                let n = awkwardSizes[(i + 1) % 4], k = awkwardSizes[(i + 2 + (ta ? 1 : 0)) % 4]
                let pad = Int(rng.next() % 3), beta: Float = tb ? 0.5 : 0
                let s = seed &+ UInt64(m * 1000 + n)
                let ref = run(.reference, m: m, n: n, k: k, ta: ta, tb: tb, alpha: 0.75, beta: beta, pad: pad, seed: s)
                let got = run(path, m: m, n: n, k: k, ta: ta, tb: tb, alpha: 0.75, beta: beta, pad: pad, seed: s)
                let bad = firstMismatch(got, ref, rtol: 1e-4, atol: 1e-4)
                #expect(bad == nil, "seed \(seed) \(path) m\(m) n\(n) k\(k) ta\(ta) tb\(tb) pad\(pad): \(String(describing: bad))")
            } }
        }
    }

    @Test func betaZeroIgnoresNaNInOutput() {
        let a = Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6]), b = Tensor(shape: [3, 1], storage: [1, 1, 1])
        for path in KernelPath.allCases {
            var c = [Float](repeating: .nan, count: 2)
            a.withMatrix { av in b.withMatrix { bv in c.withUnsafeMutableBufferPointer { cp in
                MatmulKernel.gemm(av, bv, MutableMatrixView(base: cp.baseAddress!, rows: 2, columns: 1, stride: 1), path: path)
            } } }
            #expect(c == [6, 15], "\(path)")
        }
    }

    @Test func batchedHeadsMatchPerHeadProducts() {
        // Scores of attention: q [NH, T, HS] times k^T, k read from a fused buffer with row stride 3*HS.
        let seed: UInt64 = 7
        let (nh, t, hs) = (3, 7, 5)
        let qkv = Tensor.uniform([t, nh, 3, hs], seed: seed)
        for path in KernelPath.allCases {
            var scores = Tensor(shape: [nh, t, t])
            qkv.withUnsafeBufferPointer { p in scores.withUnsafeMutableBufferPointer { s in
                let q = MatrixView(base: p.baseAddress!, rows: t, columns: hs, stride: nh * 3 * hs)
                let k = MatrixView(base: p.baseAddress! + hs, rows: t, columns: hs, stride: nh * 3 * hs)
                MatmulKernel.gemmBatched(q, batchStrideA: 3 * hs, k, batchStrideB: 3 * hs, transposeB: true,
                                         MutableMatrixView(base: s.baseAddress!, rows: t, columns: t, stride: t), batchStrideC: t * t,
                                         batch: nh, path: path)
            } }
            for h in 0..<nh { for i in 0..<t { for j in 0..<t {
                var e: Float = 0
                for d in 0..<hs { e += qkv[i, h, 0, d] * qkv[j, h, 1, d] }
                #expect(isClose(scores[h, i, j], e, rtol: 1e-5, atol: 1e-5), "seed \(seed) \(path) head \(h) (\(i), \(j))")
            } } }
        }
    }

    @Test func backwardMatchesFiniteDifferences() {
        let seed: UInt64 = 31
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (m, n, k) = (3, 4, 5)
            let a = Tensor.uniform(ta ? [k, m] : [m, k], seed: seed), b = Tensor.uniform(tb ? [n, k] : [k, n], seed: seed + 1)
            let w = Tensor.uniform([m, n], seed: seed + 2)
            let (dA, dB) = Tensor.matmulBackward(w, a, b, transposeA: ta, transposeB: tb)
            let numA = numericalGradient(a.storage) { weightedSum(Tensor.matmul(Tensor(shape: a.shape, storage: $0), b, transposeA: ta, transposeB: tb).storage, w.storage) }
            let numB = numericalGradient(b.storage) { weightedSum(Tensor.matmul(a, Tensor(shape: b.shape, storage: $0), transposeA: ta, transposeB: tb).storage, w.storage) }
            #expect(firstMismatch(dA.storage, numA, rtol: 1e-3, atol: 1e-3) == nil, "seed \(seed) dA ta\(ta) tb\(tb)")
            #expect(firstMismatch(dB.storage, numB, rtol: 1e-3, atol: 1e-3) == nil, "seed \(seed) dB ta\(ta) tb\(tb)")
        }
    }

    @Test func rank3TensorMatmulIsBatched() {
        let a = Tensor.uniform([2, 3, 4], seed: 5), b = Tensor.uniform([2, 4, 2], seed: 6)
        let c = Tensor.matmul(a, b, path: .simd)
        for bi in 0..<2 { for i in 0..<3 { for j in 0..<2 {
            var e: Float = 0
            for p in 0..<4 { e += a[bi, i, p] * b[bi, p, j] }
            #expect(isClose(c[bi, i, j], e, rtol: 1e-5, atol: 1e-6))
        } } }
    }
}

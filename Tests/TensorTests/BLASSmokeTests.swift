// Smoke test of the OpenBLAS system library: cblas_sgemm against a plain scalar triple loop.
import COpenBLAS
import EcomTestSupport
import Testing

@Suite struct BLASSmokeTests {
    @Test func sgemmMatchesScalarProduct() {
        let seed: UInt64 = 20231122
        var rng = SplitMix64(seed: seed)
        let (m, n, k) = (7, 5, 33)
        let a = (0..<(m * k)).map { _ in rng.uniform() }
        let b = (0..<(k * n)).map { _ in rng.uniform() }
        var c = [Float](repeating: 0, count: m * n)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(k), b, Int32(n), 0, &c, Int32(n))
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s: Double = 0
            for p in 0..<k { s += Double(a[i * k + p]) * Double(b[p * n + j]) }
            expected[i * n + j] = Float(s)
        } }
        let mismatch = firstMismatch(c, expected, rtol: 1e-5, atol: 1e-5)
        #expect(mismatch == nil, "seed \(seed): sgemm differs at \(String(describing: mismatch))")
    }
}

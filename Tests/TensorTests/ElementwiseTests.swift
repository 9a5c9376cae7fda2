// Element-wise kernels and reductions: SIMD paths against the scalar references, bias gradient, determinism.
import EcomTensor
import EcomTestSupport
import Testing

@Suite struct ElementwiseTests {
    @Test func binaryAndRowKernelsMatchReference() {
        let seed: UInt64 = 202
        for rows in awkwardSizes { for cols in awkwardSizes {
            let n = rows * cols
            let a = randomArray(n, seed: seed), b = randomArray(n, seed: seed + 1), row = randomArray(cols, seed: seed + 2)
            typealias Full = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
            func check(_ name: String, _ fast: Full, _ ref: Full, _ x: [Float], _ y: [Float]) {
                var o1 = [Float](repeating: 0, count: n), o2 = o1
                x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { yp in
                    o1.withUnsafeMutableBufferPointer { fast(xp.baseAddress!, yp.baseAddress!, $0.baseAddress!, n) }
                    o2.withUnsafeMutableBufferPointer { ref(xp.baseAddress!, yp.baseAddress!, $0.baseAddress!, n) }
                } }
                #expect(o1 == o2, "seed \(seed) \(name) \(rows)x\(cols)")
            }
            check("add", { ElementwiseKernel.add($0, $1, $2, count: $3) }, { ElementwiseKernel.addReference($0, $1, $2, count: $3) }, a, b)
            check("mul", { ElementwiseKernel.mul($0, $1, $2, count: $3) }, { ElementwiseKernel.mulReference($0, $1, $2, count: $3) }, a, b)
            check("scale", { x, _, o, n in ElementwiseKernel.scale(x, 0.3, o, count: n) }, { x, _, o, n in ElementwiseKernel.scaleReference(x, 0.3, o, count: n) }, a, b)
            let rowPad = row + [Float](repeating: 0, count: n - cols)
            check("addRow", { a, r, o, _ in ElementwiseKernel.addRow(a, r, o, rows: rows, cols: cols) }, { a, r, o, _ in ElementwiseKernel.addRowReference(a, r, o, rows: rows, cols: cols) }, a, rowPad)
            check("mulRow", { a, r, o, _ in ElementwiseKernel.mulRow(a, r, o, rows: rows, cols: cols) }, { a, r, o, _ in ElementwiseKernel.mulRowReference(a, r, o, rows: rows, cols: cols) }, a, rowPad)
            var y1 = b, y2 = b
            a.withUnsafeBufferPointer { x in
                y1.withUnsafeMutableBufferPointer { ElementwiseKernel.axpy(-0.5, x.baseAddress!, $0.baseAddress!, count: n) }
                y2.withUnsafeMutableBufferPointer { ElementwiseKernel.axpyReference(-0.5, x.baseAddress!, $0.baseAddress!, count: n) }
            }
            #expect(y1 == y2, "seed \(seed) axpy \(n)")
            var s1 = row, s2 = row
            a.withUnsafeBufferPointer { d in
                s1.withUnsafeMutableBufferPointer { ElementwiseKernel.sumRows(d.baseAddress!, $0.baseAddress!, rows: rows, cols: cols) }
                s2.withUnsafeMutableBufferPointer { ElementwiseKernel.sumRowsReference(d.baseAddress!, $0.baseAddress!, rows: rows, cols: cols) }
            }
            #expect(firstMismatch(s1, s2, rtol: 1e-5, atol: 1e-5) == nil, "seed \(seed) sumRows \(rows)x\(cols)")
        } }
    }

    @Test func tensorOperatorsBroadcastRows() {
        let a = Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6]), bias = Tensor(shape: [3], storage: [10, 20, 30])
        #expect((a + bias).storage == [11, 22, 33, 14, 25, 36])
        #expect((a * bias).storage == [10, 40, 90, 40, 100, 180])
        #expect((a + a).storage == [2, 4, 6, 8, 10, 12])
        #expect(a.scaled(by: 2).storage == [2, 4, 6, 8, 10, 12])
        #expect(a.sumRows().storage == [5, 7, 9])  // bias gradient: d(a + bias)/d bias summed over rows
    }

    @Test func reductionsMatchReference() {
        let seed: UInt64 = 303
        for n in awkwardSizes + [200_003] {
            let x = randomArray(n, seed: seed &+ UInt64(n), -2, 3)
            x.withUnsafeBufferPointer { p in
                let b = p.baseAddress!
                #expect(isClose(ReductionKernel.sum(b, count: n), ReductionKernel.sumReference(b, count: n), rtol: 1e-5, atol: 1e-4), "seed \(seed) sum \(n)")
                #expect(ReductionKernel.max(b, count: n) == ReductionKernel.maxReference(b, count: n), "seed \(seed) max \(n)")
                #expect(isClose(ReductionKernel.sumOfSquares(b, count: n), ReductionKernel.sumOfSquaresReference(b, count: n), rtol: 1e-6), "seed \(seed) sumsq \(n)")
            }
        }
        let t = Tensor(shape: [4], storage: [3, -4, 0, 0])
        #expect(t.sum() == -1 && t.mean() == -0.25 && t.max() == 3 && t.l2Norm() == 5)
    }

    @Test func reductionsAreDeterministicForAThreadCount() async {
        let x = randomArray(1_000_003, seed: 404)
        for threads in [1, 2, 3] {
            let results = ComputeThreads.$override.withValue(threads) {
                x.withUnsafeBufferPointer { p in (0..<5).map { _ in ReductionKernel.sum(p.baseAddress!, count: x.count) } }
            }
            #expect(Set(results.map(\.bitPattern)).count == 1, "threads \(threads): \(results)")
        }
    }

    @Test func clipGlobalNormScalesLikeTorch() {
        var g1: [Float] = [3, 0], g2: [Float] = [0, 4, 0]
        let total = g1.withUnsafeMutableBufferPointer { a in g2.withUnsafeMutableBufferPointer { b in
            ReductionKernel.clipGlobalNorm([a, b], maxNorm: 1)
        } }
        #expect(total == 5)
        let coef: Float = 1 / (5 + 1e-6)
        #expect(g1 == [3 * coef, 0] && g2 == [0, 4 * coef, 0])
        var g3: [Float] = [0.1, 0.2]
        let t3 = g3.withUnsafeMutableBufferPointer { ReductionKernel.clipGlobalNorm([$0], maxNorm: 1) }
        #expect(g3 == [0.1, 0.2] && isClose(t3, Float((0.05 as Double).squareRoot()), rtol: 1e-6))
    }
}

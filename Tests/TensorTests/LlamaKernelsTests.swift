// RMSNorm and SwiGLU forward on every path this CPU runs, against their Double / libm references: awkward row
// lengths (every tail of 8 and 16 lanes), large magnitudes, in-place use.
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

@Suite struct LlamaKernelsTests {
    @Test(arguments: simdVariants)
    func rmsNormMatchesReference(path: NativeKernels.Path) { withSIMDVariant(path) {
        #expect(NativeKernels.activePathName == path.rawValue)
        for (rows, cols) in [(1, 1), (3, 7), (2, 15), (5, 16), (4, 17), (2, 33), (3, 257), (2, 576), (1, 1031)] {
            let seed = UInt64(rows * 10_000 + cols)
            let x = randomArray(rows * cols, seed: seed, -3, 3), w = randomArray(cols, seed: seed + 1, 0.5, 1.5)
            var expected = [Float](repeating: 0, count: x.count), got = expected, inPlace = x
            var rstd = [Float](repeating: .nan, count: rows)
            RMSNormKernel.forwardReference(x, weight: w, &expected, rows: rows, cols: cols, eps: 1e-5)
            RMSNormKernel.forward(x, weight: w, &got, rows: rows, cols: cols, eps: 1e-5, rstd: &rstd)
            inPlace.withUnsafeMutableBufferPointer { p in
                RMSNormKernel.forward(p.baseAddress!, weight: w, p.baseAddress!, rows: rows, cols: cols, eps: 1e-5)
            }
            #expect(firstMismatch(got, expected, rtol: 1e-5, atol: 1e-6) == nil, "\(path.rawValue) seed \(seed) \(rows)x\(cols)")
            #expect(inPlace == got, "\(path.rawValue) seed \(seed) \(rows)x\(cols): in place differs")
            for r in 0..<rows {
                let ms = (0..<cols).reduce(0.0) { $0 + Double(x[r * cols + $1]) * Double(x[r * cols + $1]) } / Double(cols)
                let ref = 1 / (ms + 1e-5).squareRoot()
                #expect(abs(Double(rstd[r]) - ref) <= 1e-5 * ref, "\(path.rawValue) seed \(seed) rstd[\(r)] \(rstd[r]) vs \(ref)")
            }
        }
    } }

    @Test(arguments: simdVariants)
    func swigluMatchesReference(path: NativeKernels.Path) { withSIMDVariant(path) {
        #expect(NativeKernels.activePathName == path.rawValue)
        for n in awkwardSizes + [15, 16, 17, 100_003] {
            let seed = UInt64(n)
            var gate = randomArray(n, seed: seed, -12, 12)
            let up = randomArray(n, seed: seed + 1, -2, 2)
            if n > 16 { gate[3] = -90; gate[5] = 95; gate[7] = 0 }  // e^-g overflows / underflows
            var expected = [Float](repeating: 0, count: n), got = expected, inPlace = gate
            SwiGLUKernel.forwardReference(gate: gate, up: up, &expected, count: n)
            SwiGLUKernel.forward(gate: gate, up: up, &got, count: n)
            inPlace.withUnsafeMutableBufferPointer { p in SwiGLUKernel.forward(gate: p.baseAddress!, up: up, p.baseAddress!, count: n) }
            #expect(firstMismatch(got, expected, rtol: 2e-6, atol: 1e-7) == nil, "\(path.rawValue) seed \(seed) n \(n)")
            #expect(inPlace == got, "\(path.rawValue) seed \(seed) n \(n): in place differs")
        }
    } }
}

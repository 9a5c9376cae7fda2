// Block-quantized linear layers (Sources/Tensor/QuantizedMatmul.swift, Sources/TensorKernels/QuantLinear.c): every path
// against the scalar reference, the integer path against an exact emulation of its 8-bit activations, dequantization bit for bit.
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

/// A small ggml-style scalar quantizer for test weights (round to nearest; not bit-compatible with ggml's, which the
/// kernels do not need: any valid block bytes are valid input).
enum TestQuantizer {
    static func quantize(_ values: [Float], _ format: BlockFormat) -> [UInt8] {
        precondition(values.count % 32 == 0)
        var out: [UInt8] = []
        out.reserveCapacity(format.byteCount(values: values.count))
        func half(_ v: Float) { let h = HalfPrecision.float16Bits(v); out.append(UInt8(h & 0xFF)); out.append(UInt8(h >> 8)) }
        for b in stride(from: 0, to: values.count, by: 32) {
            let v = Array(values[b..<(b + 32)])
            switch format {
            case .q8_0:
                let amax = v.map(abs).max()!
                let d = HalfPrecision.float(float16: HalfPrecision.float16Bits(amax / 127))
                half(d)
                for x in v { out.append(UInt8(bitPattern: Int8(d == 0 ? 0 : max(-127, min(127, (x / d).rounded()))))) }
            case .q4_0:
                let mx = v.max { abs($0) < abs($1) }!  // the value of largest magnitude maps to -8
                let d = HalfPrecision.float(float16: HalfPrecision.float16Bits(mx / -8))
                half(d)
                let q = v.map { x in d == 0 ? 8 : UInt8(max(0, min(15, (x / d).rounded() + 8))) }
                for j in 0..<16 { out.append(q[j] | (q[j + 16] << 4)) }
            case .q4_1:
                let lo = v.min()!, hi = v.max()!
                let d = HalfPrecision.float(float16: HalfPrecision.float16Bits((hi - lo) / 15))
                let m = HalfPrecision.float(float16: HalfPrecision.float16Bits(lo))
                half(d); half(m)
                let q = v.map { x in d == 0 ? 0 : UInt8(max(0, min(15, ((x - m) / d).rounded()))) }
                for j in 0..<16 { out.append(q[j] | (q[j + 16] << 4)) }
            }
        }
        return out
    }

    /// `count` values with a per-block magnitude between 0.01 and 1 (so blocks' scales differ, as in real weights).
    static func randomWeights(_ count: Int, rng: inout SplitMix64) -> [Float] {
        var out: [Float] = []
        for _ in 0..<(count / 32) {
            let scale = Float(pow(10, Double(rng.uniform(-2, 0))))
            for _ in 0..<32 { out.append(rng.uniform(-1, 1) * scale) }
        }
        return out
    }

    /// Random valid block bytes: any quant bytes (Q8_0's -128 included), finite scales of either sign.
    static func randomBlocks(_ blocks: Int, _ format: BlockFormat, rng: inout SplitMix64) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<blocks {
            for _ in 0..<(format == .q4_1 ? 2 : 1) {
                let h = HalfPrecision.float16Bits(rng.uniform(-2, 2) * Float(pow(10, Double(rng.uniform(-6, 0)))))
                out.append(UInt8(h & 0xFF)); out.append(UInt8(h >> 8))
            }
            for _ in 0..<(format == .q8_0 ? 32 : 16) { out.append(UInt8(truncatingIfNeeded: rng.next())) }
        }
        return out
    }
}

@Suite struct QuantizedMatmulTests {
    static let rowCounts = [1, 7, 33, 257]
    static let columnCounts = [32, 64, 224, 416, 576, 1536]  // 7 and 13 blocks: a masked group of the Q4 kernel
    static let inputRows = [1, 2, 3, 5, 16, 33]

    /// The integer path's activations: x rounded to 8-bit blocks as ecom_quantize_q8_rows does (same Float operations),
    /// widened back: q * d.
    static func q8Activations(_ x: ArraySlice<Float>) -> [Double] {
        var out: [Double] = []
        let x = Array(x)
        for b in stride(from: 0, to: x.count, by: 32) {
            let amax = x[b..<(b + 32)].map(abs).max()!
            let d = amax / 127, inv: Float = amax > 0 ? 127 / amax : 0
            for j in b..<(b + 32) { out.append(Double((x[j] * inv).rounded(.toNearestOrEven)) * Double(d)) }
        }
        return out
    }

    @Test(arguments: BlockFormat.allCases)
    func dequantizationIsBitExact(format: BlockFormat) {
        let seed: UInt64 = 4101
        var rng = SplitMix64(seed: seed)
        let blocks = 97
        let bytes = TestQuantizer.randomBlocks(blocks, format, rng: &rng)
        let n = blocks * 32
        var expected = [Float](repeating: 0, count: n)
        bytes.withUnsafeBytes { b in expected.withUnsafeMutableBufferPointer { BlockQuantization.dequantize(format, b.baseAddress!, count: n, into: $0.baseAddress!) } }
        for native in avx2Variants {
            var got = [Float](repeating: .nan, count: n), simd = [Float](repeating: .nan, count: n)
            withSIMDVariant(native) {
                bytes.withUnsafeBytes { b in
                    let view = QuantizedMatrixView(base: b.baseAddress!, rows: 1, columns: n, format: format)
                    got.withUnsafeMutableBufferPointer { view.dequantizeRow(0, into: $0.baseAddress!) }
                    simd.withUnsafeMutableBufferPointer { QuantizedMatmulKernel.dequantizeSIMD(format, b.baseAddress!, blocks: blocks, into: $0.baseAddress!) }
                }
            }
            #expect(got.map(\.bitPattern) == expected.map(\.bitPattern), "seed \(seed) \(format) native \(native)")
            #expect(simd.map(\.bitPattern) == expected.map(\.bitPattern), "seed \(seed) \(format) swift simd")
        }
    }

    /// Every path on every shape (rows x columns x input rows), strided x and y on every other shape, against the
    /// reference: |y - ref| <= tol * sum_j |x_j w_j| with tol 1e-2 for the integer path (8-bit activations) and 1e-5
    /// for the exact float paths; the integer path also against its exact emulation (1e-5); padding of y untouched.
    @Test(arguments: BlockFormat.allCases, avx2Variants)
    func pathsMatchTheReference(format: BlockFormat, native: NativeKernels.Path) {
        let seed: UInt64 = 7_300 + UInt64(format.bytesPerBlock)
        var rng = SplitMix64(seed: seed)
        let paths: [QuantizedMatmulKernel.Path] = native != .swiftSIMD ? [.automatic, .swiftSIMD, .integerDot, .floatDequant, .dequantizedGEMM]
                                                          : [.automatic, .swiftSIMD, .dequantizedGEMM]
        var ran = Set<String>()
        var worst: [String: Double] = [:]
        var combination = 0
        for n in Self.rowCounts { for k in Self.columnCounts {
            var wq = TestQuantizer.quantize(TestQuantizer.randomWeights(n * k, rng: &rng), format)
            if format == .q8_0 {  // some -128 bytes (valid, though a quantizer never writes them): |-128| is 128 unsigned
                for b in stride(from: 0, to: n * k / 32, by: 5) { wq[b * 34 + 2 + b % 32] = 0x80 }
            }
            var wf = [Float](repeating: 0, count: n * k)
            wq.withUnsafeBytes { b in wf.withUnsafeMutableBufferPointer { BlockQuantization.dequantize(format, b.baseAddress!, count: n * k, into: $0.baseAddress!) } }
            for m in Self.inputRows {
                combination += 1
                let pad = combination % 2 == 0 ? 0 : 3
                let (ldx, ldy) = (k + pad, n + 2 * pad)
                let x = randomArray(m * ldx, seed: seed &+ UInt64(combination))
                var ref = [Float](repeating: 0, count: m * ldy)
                var bound = [Double](repeating: 0, count: m * n), emulated = [Double](repeating: 0, count: m * n)
                var emulatedBound = [Double](repeating: 0, count: m * n)
                for i in 0..<m {
                    let xq = Self.q8Activations(x[(i * ldx)..<(i * ldx + k)])
                    for r in 0..<n {
                        var b = 0.0, e = 0.0, eb = 0.0
                        for j in 0..<k {
                            let w = Double(wf[r * k + j])
                            b += abs(Double(x[i * ldx + j]) * w); e += xq[j] * w; eb += abs(xq[j] * w)
                        }
                        bound[i * n + r] = b; emulated[i * n + r] = e; emulatedBound[i * n + r] = eb
                    }
                }
                wq.withUnsafeBytes { wb in
                    let w = QuantizedMatrixView(base: wb.baseAddress!, rows: n, columns: k, format: format)
                    x.withUnsafeBufferPointer { xb in
                        let xv = MatrixView(base: xb.baseAddress!, rows: m, columns: k, stride: ldx)
                        ref.withUnsafeMutableBufferPointer { QuantizedMatmulKernel.reference(xv, w, MutableMatrixView(base: $0.baseAddress!, rows: m, columns: n, stride: ldy)) }
                        for path in paths {
                            var y = [Float](repeating: .nan, count: m * ldy)
                            let resolved = withSIMDVariant(native) {
                                y.withUnsafeMutableBufferPointer { QuantizedMatmulKernel.linear(xv, w, MutableMatrixView(base: $0.baseAddress!, rows: m, columns: n, stride: ldy), path: path) }
                                return QuantizedMatmulKernel.resolvedPath(path, rows: m)
                            }
                            ran.insert("\(path.rawValue)->\(resolved.rawValue)")
                            let tol = resolved == .integerDot ? 1e-2 : 1e-5
                            var failures = 0
                            for i in 0..<m {
                                for r in 0..<n {
                                    let got = Double(y[i * ldy + r])
                                    let err = abs(got - Double(ref[i * ldy + r])) / max(bound[i * n + r], 1e-30)
                                    worst[resolved.rawValue] = max(worst[resolved.rawValue] ?? 0, err)
                                    var ok = err <= tol
                                    if resolved == .integerDot {
                                        let e = abs(got - emulated[i * n + r]) / max(emulatedBound[i * n + r], 1e-30)
                                        worst["integerDot-vs-emulation"] = max(worst["integerDot-vs-emulation"] ?? 0, e)
                                        ok = ok && e <= 1e-5
                                    }
                                    if !ok && failures < 3 {
                                        failures += 1
                                        Issue.record("seed \(seed) \(format) native \(native) path \(path)->\(resolved) n \(n) k \(k) m \(m) ldx \(ldx) ldy \(ldy): y[\(i), \(r)] = \(got), reference \(ref[i * ldy + r]), emulated \(emulated[i * n + r]), bound \(bound[i * n + r])")
                                    }
                                }
                                for r in n..<ldy where !y[i * ldy + r].isNaN {
                                    Issue.record("\(format) \(path) n \(n) k \(k) m \(m): padding y[\(i), \(r)] was written"); break
                                }
                            }
                        }
                    }
                }
            }
        } }
        print("QuantizedMatmul \(format) native \(native) (seed \(seed)): paths run \(ran.sorted()); worst relative errors \(worst)")
    }

    /// Every path gives bit-identical results with 1 and 3 threads (each output is computed by one thread in a fixed order).
    @Test(arguments: BlockFormat.allCases)
    func threadCountDoesNotChangeResults(format: BlockFormat) {
        let seed: UInt64 = 99
        var rng = SplitMix64(seed: seed)
        let (n, k) = (257, 1536)
        let wq = TestQuantizer.quantize(TestQuantizer.randomWeights(n * k, rng: &rng), format)
        for m in [1, 5] {
            let x = randomArray(m * k, seed: seed + UInt64(m))
            for path in QuantizedMatmulKernel.Path.allCases where path != .reference && path != .dequantizedGEMM {
                let results = [1, 3].map { threads in
                    ComputeThreads.$override.withValue(threads) {
                        var y = [Float](repeating: 0, count: m * n)
                        wq.withUnsafeBytes { wb in x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
                            QuantizedMatmulKernel.linear(MatrixView(base: xb.baseAddress!, rows: m, columns: k, stride: k),
                                                         QuantizedMatrixView(base: wb.baseAddress!, rows: n, columns: k, format: format),
                                                         MutableMatrixView(base: yb.baseAddress!, rows: m, columns: n, stride: n), path: path)
                        } } }
                        return y.map(\.bitPattern)
                    }
                }
                #expect(results[0] == results[1], "seed \(seed) \(format) \(path) m \(m)")
            }
        }
    }

    /// The VNNI kernels (one vpdpbusd per 32 products) give the AVX2 kernel's bits: the integer sums are exact either
    /// way. Runs each variant this CPU has; shown as skipped where it has none (the AVX2 kernel itself is checked
    /// against the reference above).
    @Test(.enabled(if: QuantizedMatmulKernel.runnableDotInstructions.count > 1, "this CPU has no VNNI (AVX-VNNI or AVX512_VNNI)"))
    func vnniKernelsGiveTheAVX2Bits() {
        var rng = SplitMix64(seed: 8_811)
        let variants = QuantizedMatmulKernel.runnableDotInstructions.filter { $0 != .avx2 }
        print("QuantizedMatmul dot instructions run here: \(QuantizedMatmulKernel.runnableDotInstructions.map(\.rawValue)); automatic: \(QuantizedMatmulKernel.activeDot.rawValue)")
        for format in BlockFormat.allCases { for (n, k) in [(1, 32), (7, 64), (33, 576), (257, 1536)] { for m in [1, 2, 3, 5, 8] {
            let wq = TestQuantizer.quantize(TestQuantizer.randomWeights(n * k, rng: &rng), format)
            let x = (0..<(m * k)).map { _ in rng.uniform(-2, 2) }
            func run(_ d: QuantizedMatmulKernel.DotInstructions) -> [UInt32] {
                var y = [Float](repeating: .nan, count: m * n)
                QuantizedMatmulKernel.$dotOverride.withValue(d) {
                    wq.withUnsafeBytes { wb in x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
                        QuantizedMatmulKernel.linear(MatrixView(base: xb.baseAddress!, rows: m, columns: k, stride: k),
                                                     QuantizedMatrixView(base: wb.baseAddress!, rows: n, columns: k, format: format),
                                                     MutableMatrixView(base: yb.baseAddress!, rows: m, columns: n, stride: n), path: .integerDot)
                    } } }
                }
                return y.map(\.bitPattern)
            }
            let want = run(.avx2)
            for d in variants { #expect(run(d) == want, "\(d.rawValue) \(format) n\(n) k\(k) m\(m)") }
        } } }
    }

    /// A row length that is not a whole number of blocks is a precondition failure.
    @Test func columnsMustBeWholeBlocks() async {
        await #expect(processExitsWith: .failure) {
            let bytes = [UInt8](repeating: 0, count: 64)
            bytes.withUnsafeBytes { _ = QuantizedMatrixView(base: $0.baseAddress!, rows: 1, columns: 48, format: .q8_0) }
        }
    }

    @Test func reportsPaths() {
        print("QuantizedMatmul: native \(NativeKernels.isActive), CPU features [\(NativeKernels.cpuFeatures)]; automatic path for m = 1, 8, 9, 16: \([1, 8, 9, 16].map { QuantizedMatmulKernel.resolvedPath(rows: $0).rawValue })")
        #expect(NativeKernels.$isEnabled.withValue(false) { QuantizedMatmulKernel.resolvedPath(.integerDot, rows: 1) } == .swiftSIMD)
    }
}

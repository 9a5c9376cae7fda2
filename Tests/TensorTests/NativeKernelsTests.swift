// The C kernels on every path this CPU runs (AVX2, AVX-512, the 16-lane code on AVX2): which paths run and why,
// exp accuracy over the float range, half conversions and half-weight linear layers against the scalar references,
// RMSNorm and SwiGLU against theirs, layer-norm statistics at a large mean.
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

/// The CPU flags the kernel reports (Linux /proc/cpuinfo; it drops avx/avx2/fma/f16c where the OS does not enable
/// YMM state), independent of our cpuid code; nil where there is no such file.
private let osCPUFlags: Set<String>? = {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
          let colon = line.firstIndex(of: ":") else { return nil }
    return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
}()

/// Runs `body` on one path, after checking that the path asked for is the one that runs, and says which ran. Tests
/// take their paths from `simdVariants` (the paths this CPU runs), so a path the CPU lacks is not rerun under another
/// name; `pathsThisCPURuns` and `avx512PathRunsWhereTheCPUHasIt` say which paths ran and why the others did not.
private func onPath(_ path: NativeKernels.Path, _ test: String, _ body: () throws -> Void) throws {
    try withSIMDVariant(path) {
        let ran = NativeKernels.activePathName
        #expect(ran == path.rawValue, "\(test): asked for \(path.rawValue), runs \(ran)")
        print("NativeKernelsTests.\(test): path \(ran)")
        try body()
    }
}

/// The features each C path needs.
private let pathNeeds: [NativeKernels.Path: [String]] = [
    .avx2: ["avx2", "fma", "f16c"], .avx2Lanes16: ["avx2", "fma", "f16c"],
    .avx512: ["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512dq"],
]

@Suite struct NativeKernelsTests {
    @Test func reportsFeatures() {
        print("NativeKernels: supported \(NativeKernels.isSupported), CPU features [\(NativeKernels.cpuFeatures)]")
        #expect(NativeKernels.isSupported == ["avx2", "fma", "f16c"].allSatisfy(NativeKernels.cpuFeatures.split(separator: " ").map(String.init).contains))
        #expect(NativeKernels.$isEnabled.withValue(false) { NativeKernels.activePathName } == "swift-simd")
        let best: NativeKernels.Path = NativeKernels.canRun(.avx512) ? .avx512 : NativeKernels.isSupported ? .avx2 : .swiftSIMD
        if ProcessInfo.processInfo.environment["ECOM_TENSOR_NATIVE"] == nil {
            #expect(NativeKernels.bestPath == best)
            #expect(NativeKernels.$isEnabled.withValue(true) { NativeKernels.activePathName } == best.rawValue)
        }
    }

    /// Which paths this CPU runs, from the CPU's features as our cpuid code reads them and as the operating system
    /// does (/proc/cpuinfo): each C path runs exactly where the CPU has what it needs. Printed for the test log.
    @Test func pathsThisCPURuns() {
        let ours = Set(NativeKernels.cpuFeatures.split(separator: " ").map(String.init))
        for path in NativeKernels.Path.allCases {
            let needs = pathNeeds[path] ?? []
            let missing = needs.filter { !ours.contains($0) }
            let runs = NativeKernels.canRun(path)
            print("NativeKernels path \(path.rawValue): " + (runs ? "runs" : "not run here (the CPU lacks \(missing.joined(separator: ", ")))"))
            #expect(runs == missing.isEmpty, "\(path.rawValue): runs \(runs), missing features \(missing)")
            if let flags = osCPUFlags {
                let osMissing = needs.filter { !flags.contains($0) }
                #expect(runs == osMissing.isEmpty, "\(path.rawValue): runs \(runs), /proc/cpuinfo lacks \(osMissing)")
            }
        }
        #expect(simdVariants == NativeKernels.Path.allCases.filter(NativeKernels.canRun))
    }

    /// On a CPU with AVX-512 the automatic choice is the AVX-512 path, whose kernels are its own (not the AVX2
    /// table's); skipped elsewhere, saying so (the 16-lane code then still runs, compiled for AVX2, in every path test).
    @Test(.enabled(if: NativeKernels.canRun(.avx512), "needs AVX-512 F/BW/VL/DQ: this CPU runs the 16-lane code only as avx2-16lane"))
    func avx512PathRunsWhereTheCPUHasIt() throws {
        #expect(NativeKernels.bestPath == .avx512 || ProcessInfo.processInfo.environment["ECOM_TENSOR_NATIVE"] != nil)
        try onPath(.avx512, "avx512PathRunsWhereTheCPUHasIt") {
            let x = Tensor.uniform([3, 77], lo: -4, hi: 4, seed: 512)
            #expect(firstMismatch(x.gelu(path: .simd).storage, x.gelu(path: .reference).storage, rtol: 1e-5, atol: 1e-6) == nil)
        }
    }

    /// Against the operating system's own reading of the CPU, not our cpuid code: a CPU with the features must get the
    /// C kernels (this project's x86-64 Linux machines have them, so there the AVX2 tests below do run).
    @Test(.enabled(if: osCPUFlags != nil, "needs /proc/cpuinfo (Linux) for an independent reading of the CPU flags"))
    func supportAgreesWithTheOperatingSystem() throws {
        let flags = try #require(osCPUFlags)
        let osSays = ["avx2", "fma", "f16c"].allSatisfy(flags.contains)
        print("NativeKernels: /proc/cpuinfo has avx2, fma, f16c: \(osSays)")
        #expect(NativeKernels.isSupported == osSays, "cpuid says \(NativeKernels.isSupported), /proc/cpuinfo says \(osSays)")
    }

    /// e^x against Double exp: relative error < 1.2e-7 on normal results in every binade of x from 2^-30 to 2^6
    /// (both signs, up to overflow), within one subnormal ulp below, and the special values exact.
    @Test(arguments: simdVariants.filter { $0 != .swiftSIMD })
    func expIsAccurateOverTheFloatRange(path: NativeKernels.Path) throws { try onPath(path, "expIsAccurateOverTheFloatRange") {
        let seed: UInt64 = 2718
        var rng = SplitMix64(seed: seed)
        var xs: [Float] = [0, -0, 1, -1, 88.72283, 88.7229, 89, 100, -87.33654, -87.4, -100, -103.97, -103.98, -110, 1e-40, -1e-40,
                           .infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        for e in -30...6 {  // random values in each binade [2^e, 2^(e+1)), both signs
            for _ in 0..<2_000 {
                let v = Float(sign: .plus, exponent: e, significand: rng.uniform(1, 2))
                xs.append(v); xs.append(-v)
            }
        }
        var ys = [Float](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { x in ys.withUnsafeMutableBufferPointer { y in NativeKernels.exp(x.baseAddress!, y.baseAddress!, count: x.count) } }
        var worst = 0.0
        for (x, y) in zip(xs, ys) {
            let exact = Foundation.exp(Double(x))
            if x.isNaN { #expect(y.isNaN, "exp(nan)"); continue }
            if exact > Double(Float.greatestFiniteMagnitude) { #expect(y == .infinity, "seed \(seed) exp(\(x)) = \(y), expected inf"); continue }
            if exact < Double(Float.leastNormalMagnitude) {
                #expect(abs(Double(y) - exact) <= Double(Float.leastNonzeroMagnitude), "seed \(seed) exp(\(x)) = \(y), expected \(exact)")
                continue
            }
            let rel = abs(Double(y) - exact) / exact
            worst = max(worst, rel)
            #expect(rel < 1.2e-7, "seed \(seed) exp(\(x)) = \(y), expected \(exact) (relative error \(rel))")
        }
        #expect(ys[0] == 1 && ys[1] == 1)
        print("exp on \(path.rawValue): worst relative error \(worst) over \(xs.count) values (seed \(seed))")
    } }

    @Test(arguments: simdVariants)
    func halfBufferConversionsMatchTheScalarOnes(native: NativeKernels.Path) throws { try onPath(native, "halfBufferConversionsMatchTheScalarOnes") {
        // Every half / bfloat16 bit pattern, widened.
        let all = (0...UInt16.max).map { $0 }
        let f16 = Tensor(shape: [all.count], float16: all).storage, bf16 = Tensor(shape: [all.count], bfloat16: all).storage
        for (i, h) in all.enumerated() {
            let a = HalfPrecision.float(float16: h), b = HalfPrecision.float(bfloat16: h)
            if f16[i].bitPattern != a.bitPattern && !(a.isNaN && f16[i].isNaN) { Issue.record("native \(native): f16 0x\(String(h, radix: 16)) -> \(f16[i]), scalar \(a)"); break }
            if bf16[i].bitPattern != b.bitPattern && !(b.isNaN && bf16[i].isNaN) { Issue.record("native \(native): bf16 0x\(String(h, radix: 16)) -> \(bf16[i]), scalar \(b)"); break }
        }
        // Random float bit patterns (all exponents, odd lengths for the tails), narrowed.
        let seed: UInt64 = 1616
        var rng = SplitMix64(seed: seed)
        for n in awkwardSizes + [40_001] {
            let xs = (0..<n).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
            let t = Tensor(shape: [n], storage: xs)
            let h = t.float16Bits(), b = t.bfloat16Bits()
            for i in 0..<n {
                let eh = HalfPrecision.float16Bits(xs[i]), eb = HalfPrecision.bfloat16Bits(xs[i])
                if h[i] != eh { Issue.record("native \(native) seed \(seed) n \(n): f16 of 0x\(String(xs[i].bitPattern, radix: 16)) 0x\(String(h[i], radix: 16)) vs 0x\(String(eh, radix: 16))"); break }
                if b[i] != eb { Issue.record("native \(native) seed \(seed) n \(n): bf16 of 0x\(String(xs[i].bitPattern, radix: 16)) 0x\(String(b[i], radix: 16)) vs 0x\(String(eb, radix: 16))"); break }
            }
        }
    } }

    /// y = x W^T + b with W in 16 bits: every path against the Double reference on awkward shapes, strided views,
    /// with and without bias, both formats.
    @Test(arguments: simdVariants)
    func halfLinearMatchesReference(native: NativeKernels.Path) throws { try onPath(native, "halfLinearMatchesReference") {
        let seed: UInt64 = 4242
        for format in HalfFormat.allCases {
            for (m, n, k) in [(1, 1, 1), (1, 7, 33), (3, 33, 7), (1, 257, 257), (2, 5, 1), (17, 33, 257), (20, 257, 33)] {
                let s = seed &+ UInt64(m * 1_000_000 + n * 1000 + k)
                let (ldw, ldx, ldy) = (k + 3, k + 1, n + 2)  // padded rows: strides are honoured
                let wf = randomArray(n * ldw, seed: s, -1, 1)
                let w = Tensor(shape: [wf.count], storage: wf)
                let wBits = format == .float16 ? w.float16Bits() : w.bfloat16Bits()
                let x = randomArray(m * ldx, seed: s + 1, -2, 2), bias = randomArray(n, seed: s + 2)
                for withBias in [false, true] {
                    var outputs: [KernelPath: [Float]] = [:]
                    for path in KernelPath.allCases {
                        var y = [Float](repeating: .nan, count: m * ldy)
                        wBits.withUnsafeBufferPointer { wp in x.withUnsafeBufferPointer { xp in bias.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { yp in
                            HalfMatmulKernel.linear(MatrixView(base: xp.baseAddress!, rows: m, columns: k, stride: ldx),
                                                    HalfMatrixView(base: wp.baseAddress!, rows: n, columns: k, stride: ldw, format: format),
                                                    bias: withBias ? bp.baseAddress : nil,
                                                    MutableMatrixView(base: yp.baseAddress!, rows: m, columns: n, stride: ldy), path: path)
                        } } } }
                        outputs[path] = (0..<m).flatMap { i in y[(i * ldy)..<(i * ldy + n)] }
                    }
                    for path in [KernelPath.simd, .blas] {
                        #expect(firstMismatch(outputs[path]!, outputs[.reference]!, rtol: 1e-4, atol: 1e-5) == nil,
                                "native \(native) seed \(s) \(format) \(m)x\(n)x\(k) bias \(withBias) \(path)")
                    }
                }
            }
        }
    } }

    /// The two-pass statistics stay exact where sum/sum-of-squares would cancel: rows with mean 1000 and spread 1
    /// (there E[x^2] - E[x]^2 would lose about 18% of the variance in float).
    @Test(arguments: simdVariants)
    func layerNormIsStableAtLargeMean(native: NativeKernels.Path) throws { try onPath(native, "layerNormIsStableAtLargeMean") {
        let seed: UInt64 = 10_000
        let (rows, cols) = (7, 257)
        let x = Tensor(shape: [rows, cols], storage: randomArray(rows * cols, seed: seed, -1, 1).map { $0 + 1_000 })
        let g = Tensor(shape: [cols], repeating: 1), b = Tensor(shape: [cols])
        let ref = x.layerNorm(gamma: g, beta: b, path: .reference), fast = x.layerNorm(gamma: g, beta: b, path: .simd)
        #expect(firstMismatch(fast.rstd.storage, ref.rstd.storage, rtol: 1e-4, atol: 0) == nil, "native \(native) seed \(seed) rstd")
        #expect(firstMismatch(fast.out.storage, ref.out.storage, rtol: 1e-3, atol: 2e-4) == nil, "native \(native) seed \(seed) out")
    } }

    /// Outputs of at least ``NativeKernels/streamingStoreBytes`` take the streaming-store branch (a masked head to a
    /// vector-size boundary, aligned non-temporal stores, masked tail); odd row lengths put every row at another alignment.
    /// The branch is in the C kernels only, so the test runs on the C paths (none, and so no case, without AVX2/FMA/F16C).
    @Test(arguments: simdVariants.filter { $0 != .swiftSIMD })
    func largeOutputsStreamAndMatchReference(path: NativeKernels.Path) throws { try onPath(path, "largeOutputsStreamAndMatchReference") {
        let seed: UInt64 = 8_388_608
        let cols = 1031, rows = NativeKernels.streamingStoreBytes / 4 / cols + 1
        let x = Tensor.uniform([rows, cols], lo: -6, hi: 6, seed: seed)
        #expect(x.count * 4 >= NativeKernels.streamingStoreBytes)
        #expect(firstMismatch(x.gelu(path: .simd).storage, x.gelu(path: .reference).storage, rtol: 1e-5, atol: 1e-6) == nil, "seed \(seed) gelu")
        let g = Tensor.uniform([cols], seed: seed + 1), b = Tensor.uniform([cols], seed: seed + 2)
        let ln = x.layerNorm(gamma: g, beta: b, path: .simd), lr = x.layerNorm(gamma: g, beta: b, path: .reference)
        #expect(firstMismatch(ln.out.storage, lr.out.storage, rtol: 1e-4, atol: 1e-5) == nil, "seed \(seed) layer norm")
        let bias = Tensor.uniform([2, cols], seed: seed + 3), per = (rows + 1) / 2
        let sm = x.softmax(scale: 0.5, bias: bias, rowsPerBias: per, causalOffset: 3, path: .simd)
        let sr = x.softmax(scale: 0.5, bias: bias, rowsPerBias: per, causalOffset: 3, path: .reference)
        #expect(firstMismatch(sm.storage, sr.storage, rtol: 1e-5, atol: 1e-6) == nil, "seed \(seed) softmax")
    } }
}

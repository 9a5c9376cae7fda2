// bench-quant: block-quantized linear layers (QuantizedMatmulKernel) at SmolLM2-135M's shapes, in GB/s of weights read
// and GFLOP/s, against Float32 sgemm of the same shape and memcpy of the same bytes; m = 1, 4, 64; 1 and 2 threads.
//
// JSON Lines on stdout (bench "quant"), a readable table on stderr. Cases: "FORMAT NxK mM tT PATH [cold]". "hot" runs
// repeat one matrix (it stays in L2/L3, as a layer's weights do not while decoding a whole model); "cold" runs cycle
// through copies of it totalling at least 256 MB, so each call reads its weights from DRAM, as decoding does.
// BENCH_QUICK=1: fewer shapes and shorter timing; BENCH_QUANT_THREADS=1,2: the thread counts.
import BenchSupport
import EcomTensor
import Foundation

startBenchmark()

let quick = env("BENCH_QUICK", "0") == "1"
let shapes: [(n: Int, k: Int)] = quick ? [(1536, 576), (49152, 576)] : [(1536, 576), (576, 1536), (576, 576), (192, 576), (49152, 576)]
let formats: [BlockFormat] = [.q4_1, .q8_0]
let threadCounts = env("BENCH_QUANT_THREADS", "1,2").split(separator: ",").map { Int($0)! }
let minSampleSeconds = quick ? 0.002 : 0.005

/// Median seconds per call of `body`, timed in batches of at least `minSampleSeconds`.
func secondsPerCall(_ body: () -> Void) -> Double {
    body(); body()
    var reps = 1
    while true {
        let t0 = now()
        for _ in 0..<reps { body() }
        if now() - t0 >= minSampleSeconds { break }
        reps *= 2
    }
    return medianSeconds(warmup: 0, iterations: quick ? 5 : 9) { for _ in 0..<reps { body() } } / Double(reps)
}

func report(_ name: String, bytes: Int, flops: Double, seconds: Double, extra: [String: Any]) {
    let gbps = Double(bytes) / seconds / 1e9, gflops = flops / seconds / 1e9
    var e = extra
    e["gflops"] = gflops; e["weight_bytes"] = bytes; e["microseconds"] = seconds * 1e6
    emit(bench: "quant", case: name, value: gbps, unit: "GB/s", higherIsBetter: true, extra: e)
    FileHandle.standardError.write(Data(String(format: "%-48@ %9.1f us %8.2f GB/s %8.2f GFLOP/s\n", name as NSString, seconds * 1e6, gbps, gflops).utf8))
}

/// Random weights quantized to `format` (amax scaling per block; the kernels' speed does not depend on the values).
func randomBlocks(_ format: BlockFormat, rows: Int, columns: Int) -> [UInt8] {
    var g = SystemRandomNumberGenerator()
    let blocks = rows * columns / 32
    var out = [UInt8](repeating: 0, count: format.byteCount(values: rows * columns))
    for b in 0..<blocks {
        let p = b * format.bytesPerBlock
        let d = HalfPrecision.float16Bits(Float.random(in: 0.001...0.01, using: &g))
        out[p] = UInt8(d & 0xFF); out[p + 1] = UInt8(d >> 8)
        var q = p + 2
        if format == .q4_1 { let m = HalfPrecision.float16Bits(-0.05); out[q] = UInt8(m & 0xFF); out[q + 1] = UInt8(m >> 8); q += 2 }
        while q < p + format.bytesPerBlock { out[q] = UInt8.random(in: 0...255, using: &g); q += 1 }
    }
    return out
}

FileHandle.standardError.write(Data("bench-quant: CPU features [\(NativeKernels.cpuFeatures)], C kernels active \(NativeKernels.isActive)\n".utf8))

// memcpy bandwidth: hot (16 MB, cache) and cold (512 MB, DRAM), as the limits the GEMV cases read against.
for (label, size) in [("hot 16MB", 16 << 20), ("cold 512MB", 512 << 20)] {
    let src = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), dst = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    memset(src, 1, size); memset(dst, 0, size)
    let s = secondsPerCall { memcpy(dst, src, size) }
    report("memcpy \(label)", bytes: size, flops: 0, seconds: s, extra: ["path": "memcpy", "note": "bytes read per second (as much again written)"])
    src.deallocate(); dst.deallocate()
}

for (n, k) in shapes {
    for m in [1, 4, 64] {
        let x = (0..<(m * k)).map { _ in Float.random(in: -1...1) }
        var y = [Float](repeating: 0, count: m * n)
        let flops = 2.0 * Double(m * n * k)
        x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { yb in
            let xv = MatrixView(base: xb.baseAddress!, rows: m, columns: k, stride: k)
            let yv = MutableMatrixView(base: yb.baseAddress!, rows: m, columns: n, stride: n)
            // The Float32 baseline: sgemm with W [n, k] transposed (OpenBLAS; at m = 1 it is a GEMV).
            let wf = (0..<(n * k)).map { _ in Float.random(in: -0.1...0.1) }
            wf.withUnsafeBufferPointer { wb in
                for t in threadCounts {
                    ComputeThreads.count = t
                    let s = secondsPerCall { MatmulKernel.gemmBLAS(xv, MatrixView(base: wb.baseAddress!, rows: n, columns: k, stride: k), transposeB: true, yv) }
                    report("f32 \(n)x\(k) m\(m) t\(t) sgemm", bytes: n * k * 4, flops: flops, seconds: s,
                           extra: ["format": "f32", "n": n, "k": k, "m": m, "threads": t, "path": "sgemm"])
                }
            }
            for format in formats {
                let w = randomBlocks(format, rows: n, columns: k)
                let bytes = w.count
                let copies = max(1, (256 << 20) / bytes)
                let cold = UnsafeMutableRawPointer.allocate(byteCount: copies * bytes, alignment: 64)
                defer { cold.deallocate() }
                w.withUnsafeBytes { wb in for c in 0..<copies { (cold + c * bytes).copyMemory(from: wb.baseAddress!, byteCount: bytes) } }
                let paths: [QuantizedMatmulKernel.Path] = m == 1 ? [.automatic, .integerDot, .floatDequant, .swiftSIMD]
                                                               : m < 16 ? [.automatic, .floatDequant, .dequantizedGEMM] : [.automatic, .floatDequant]
                w.withUnsafeBytes { wb in
                    let wv = QuantizedMatrixView(base: wb.baseAddress!, rows: n, columns: k, format: format)
                    for t in threadCounts {
                        ComputeThreads.count = t
                        for path in paths {
                            let resolved = QuantizedMatmulKernel.resolvedPath(path, rows: m).rawValue
                            var extra: [String: Any] = ["format": format.rawValue, "n": n, "k": k, "m": m, "threads": t, "path": resolved]
                            if resolved == QuantizedMatmulKernel.Path.integerDot.rawValue { extra["dot"] = QuantizedMatmulKernel.activeDot.rawValue }
                            let s = secondsPerCall { QuantizedMatmulKernel.linear(xv, wv, yv, path: path) }
                            report("\(format.rawValue) \(n)x\(k) m\(m) t\(t) \(path.rawValue)", bytes: bytes, flops: flops, seconds: s, extra: extra)
                            // The integer path with each other dot instruction set this CPU has (suffix: its name).
                            if path == .integerDot {
                                for d in QuantizedMatmulKernel.runnableDotInstructions where d != QuantizedMatmulKernel.activeDot {
                                    let sd = QuantizedMatmulKernel.$dotOverride.withValue(d) { secondsPerCall { QuantizedMatmulKernel.linear(xv, wv, yv, path: path) } }
                                    var e = extra
                                    e["dot"] = d.rawValue
                                    report("\(format.rawValue) \(n)x\(k) m\(m) t\(t) \(path.rawValue) \(d.rawValue)", bytes: bytes, flops: flops, seconds: sd, extra: e)
                                }
                            }
                            if path == .automatic && m == 1 {
                                var c = 0
                                let sc = secondsPerCall {
                                    QuantizedMatmulKernel.linear(xv, QuantizedMatrixView(base: cold + c * bytes, rows: n, columns: k, format: format), yv, path: path)
                                    c = (c + 1) % copies
                                }
                                report("\(format.rawValue) \(n)x\(k) m\(m) t\(t) \(path.rawValue) cold", bytes: bytes, flops: flops, seconds: sc, extra: extra)
                            }
                        }
                    }
                }
            }
        } }
    }
}

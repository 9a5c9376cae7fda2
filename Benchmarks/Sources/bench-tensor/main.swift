// bench-tensor: sgemm GFLOPS (CBLAS and our SIMD matmul) and memory-bound ops in GB/s, with memcpy of the same bytes.
//
// Prints our measurements as JSON Lines on stdout. With BENCH_TENSOR_LIMITS=PATH it also writes the machine's limit for
// each memory-bound case (a single memcpy moving the same number of bytes) to PATH, in the same format, so that
// scripts/bench/tensor.sh can join ours against it (numpy provides the sgemm reference).
import BenchSupport
import EcomTensor
import Foundation

startBenchmark()

let quick = env("BENCH_QUICK", "0") == "1"
let threads = ComputeThreads.count
var limitLines: [String] = []

func gflops(_ n: Int, _ seconds: Double) -> Double { 2 * Double(n * n * n) / seconds / 1e9 }

/// The `.simd` paths measured: the one this CPU chooses (case names without suffix), then every other one it runs
/// (suffix " <path>", e.g. " avx2" on an AVX-512 machine, " swift-simd"), except the 16-lane check path.
let measuredPaths: [(path: NativeKernels.Path, suffix: String)] = [(NativeKernels.bestPath, "")]
    + NativeKernels.runnablePaths.filter { $0 != NativeKernels.bestPath && $0 != .avx2Lanes16 }.map { ($0, " \($0.rawValue)") }

/// Times `body`, reporting bytes moved per second, and a memcpy of the same bytes as the limit. `path` names the
/// implementation that ran (the `.simd` path's C kernels of ``NativeKernels/activePath``, else Swift SIMD).
/// Runs of `body` and of the memcpy alternate (medians of each), so that load from other processes on a shared
/// machine slows both alike rather than whichever happened to run during it.
@MainActor func bandwidth(_ name: String, bytes: Int, path: String = NativeKernels.activePathName, _ body: () -> Void) {
    // memcpy of bytes/2 reads bytes/2 and writes bytes/2: the same traffic.
    let half = bytes / 2
    let src = UnsafeMutableRawPointer.allocate(byteCount: half, alignment: 64), dst = UnsafeMutableRawPointer.allocate(byteCount: half, alignment: 64)
    defer { src.deallocate(); dst.deallocate() }
    memset(src, 1, half); memset(dst, 0, half)
    for _ in 0..<3 { body(); memcpy(dst, src, half) }
    var ours: [Double] = [], copies: [Double] = []
    var total = 0.0
    while ours.count < 15 || total < 1.0 {
        var t0 = now()
        body()
        ours.append(now() - t0)
        t0 = now()
        memcpy(dst, src, half)
        copies.append(now() - t0)
        total += ours.last! + copies.last!
    }
    emit(bench: "tensor", case: name, value: Double(bytes) / median(ours) / 1e9, unit: "GB/s", higherIsBetter: true,
         extra: ["threads": threads, "bytes": bytes, "path": path])
    let line: [String: Any] = ["bench": "tensor", "case": name, "value": Double(bytes) / median(copies) / 1e9, "unit": "GB/s",
                               "higher_is_better": true, "reference_kind": "memcpy of the same bytes (1 thread)"]
    limitLines.append(String(decoding: try! JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
}

let (rows, cols) = (4096, 1024)  // N x C, e.g. 4 sequences of 1024 tokens at BLOOM-560m's width
let count = rows * cols
var x = Tensor.uniform([rows, cols], lo: -3, hi: 3, seed: 3), y = Tensor.uniform([rows, cols], seed: 4)
let gamma = Tensor.uniform([cols], seed: 5), beta = Tensor.uniform([cols], seed: 6)
var out = Tensor(shape: [rows, cols]), mean = Tensor(shape: [rows]), rstd = Tensor(shape: [rows])
x.withUnsafeMutableBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in out.withUnsafeMutableBufferPointer { op in
gamma.withUnsafeBufferPointer { gp in beta.withUnsafeBufferPointer { bp in
mean.withUnsafeMutableBufferPointer { mp in rstd.withUnsafeMutableBufferPointer { rp in
    let (x, y, o) = (xp.baseAddress!, yp.baseAddress!, op.baseAddress!)
    for (path, suffix) in measuredPaths {
        NativeKernels.$pathOverride.withValue(path) {
            bandwidth("layernorm \(rows)x\(cols)\(suffix)", bytes: 8 * count) {
                LayerNormKernel.forward(x, gamma: gp.baseAddress!, beta: bp.baseAddress!, o, mean: mp.baseAddress, rstd: rp.baseAddress, rows: rows, cols: cols)
            }
            bandwidth("softmax \(rows)x\(cols)\(suffix)", bytes: 8 * count) { SoftmaxKernel.forward(x, o, rows: rows, cols: cols) }
            bandwidth("gelu \(count)\(suffix)", bytes: 8 * count) { GELUKernel.forward(x, o, count: count) }
            bandwidth("rmsnorm \(rows)x\(cols)\(suffix)", bytes: 8 * count) {
                RMSNormKernel.forward(x, weight: gp.baseAddress!, o, rows: rows, cols: cols, eps: 1e-5, rstd: rp.baseAddress)
            }
            bandwidth("swiglu \(count)\(suffix)", bytes: 12 * count) { SwiGLUKernel.forward(gate: x, up: y, o, count: count) }
        }
    }
    bandwidth("add \(count)", bytes: 12 * count, path: "swift-simd") { ElementwiseKernel.add(x, y, o, count: count) }
} } } } } } }

// 16-bit weights for decoding: f16 -> f32 widening (2 bytes read, 4 written per element) and y = W x with W [n, k]
// in f16 (bytes: W once; x and y are small), both against memcpy of the same bytes.
let (n16, k16) = (4096, 1024)  // BLOOM-560m's MLP up-projection
let w16 = Tensor.uniform([n16 * k16], seed: 7).float16Bits()
var wide = [Float](repeating: 0, count: n16 * k16), xv = Tensor.uniform([k16], seed: 8).storage, yv = [Float](repeating: 0, count: n16)
w16.withUnsafeBufferPointer { wp in wide.withUnsafeMutableBufferPointer { dp in xv.withUnsafeMutableBufferPointer { xp in yv.withUnsafeMutableBufferPointer { yp in
    let w = HalfMatrixView(base: wp.baseAddress!, rows: n16, columns: k16, stride: k16, format: .float16)
    let xm = MatrixView(base: xp.baseAddress!, rows: 1, columns: k16, stride: k16)
    let ym = MutableMatrixView(base: yp.baseAddress!, rows: 1, columns: n16, stride: n16)
    for (path, suffix) in measuredPaths where path != .swiftSIMD {
        NativeKernels.$pathOverride.withValue(path) {
            bandwidth("f16->f32 \(n16 * k16)\(suffix)", bytes: 6 * n16 * k16) { HalfPrecision.fromFloat16(wp, dp) }
            bandwidth("gemv f16 \(n16)x\(k16)\(suffix)", bytes: 2 * n16 * k16) { HalfMatmulKernel.linear(xm, w, ym) }
        }
    }
} } } }

// sgemm last: OpenBLAS's threads keep spinning for a while after a call and would steal the cores from the kernels
// above (the first memory-bound case used to measure at half speed after it).
// sgemm: C = A B, square, row-major. "sgemm N" is the BLAS path as our code runs it (oneDNN's sgemm where
// SgemmBackend.native says so); where that is oneDNN, "sgemm openblas N" is OpenBLAS's cblas_sgemm alone, at the
// compute thread count (the process otherwise runs OpenBLAS single-threaded beside oneDNN).
// Both sides warm up for sgemmWarmupSeconds (numpy too, scripts/bench/tensor.sh): oneDNN's sgemm reaches its steady
// rate only after about eight calls of a new shape (1024³ on a Zen 5: 400-460 GFLOP/s, then 480-515), and a training
// step repeats its shapes thousands of times.
let sgemmWarmupSeconds = 0.2
var sgemmGFLOPS: [Int: Double] = [:]
let sgemmCases: [(name: String, path: KernelPath, backend: SgemmBackend?)] =
    [("sgemm", .blas, nil)] + (SgemmBackend.native == .onednn ? [("sgemm openblas", .blas, .openblas)] : []) + [("sgemm simd", .simd, nil)]
for n in quick ? [256, 512] : [256, 512, 1024, 2048] {
    let a = Tensor.uniform([n, n], seed: 1), b = Tensor.uniform([n, n], seed: 2)
    var c = Tensor(shape: [n, n])
    for (name, path, backend) in sgemmCases {
        let iterations = path == .simd && n >= 1024 ? 3 : 7
        let t = SgemmBackend.$override.withValue(backend) {
            ComputeThreads.withBLASThreads(backend == .openblas ? threads : ComputeThreads.blasThreads) {
                a.withMatrix { av in b.withMatrix { bv in c.withMutableMatrix { cv in
                    medianSeconds(warmup: 1, warmupSeconds: path == .simd ? 0 : sgemmWarmupSeconds, iterations: iterations,
                                  minSeconds: n <= 512 ? 0.3 : 0) {
                        MatmulKernel.gemm(av, bv, cv, path: path)
                    }
                } } }
            }
        }
        let library = path == .simd ? "swift-simd" : (backend ?? SgemmBackend.native).rawValue
        emit(bench: "tensor", case: "\(name) \(n)", value: gflops(n, t), unit: "GFLOPS",
             higherIsBetter: true, extra: ["threads": threads, "path": path.rawValue, "sgemm_backend": library])
        if name == "sgemm" { sgemmGFLOPS[n] = gflops(n, t) }
    }
}

// bf16 GEMM (inputs rounded to bf16 each call, as a bf16 training step does, Float32 accumulation) against our own
// f32 sgemm of the same run and size, where this machine has the fast backend.
if let backend = BF16Matmul.native {
    for n in [1024, 2048] where sgemmGFLOPS[n] != nil {
        let a = Tensor.uniform([n, n], seed: 1), b = Tensor.uniform([n, n], seed: 2)
        var c = Tensor(shape: [n, n])
        let t = a.withMatrix { av in b.withMatrix { bv in c.withMutableMatrix { cv in
            medianSeconds(warmup: 1, iterations: 7, minSeconds: 0.3) { BF16Matmul.gemm(av, bv, cv, backend: backend) }
        } } }
        emit(bench: "tensor", case: "bf16 gemm \(n)", value: gflops(n, t), unit: "GFLOPS", higherIsBetter: true,
             extra: ["threads": threads, "path": "bf16 \(backend.rawValue)"])
        let line: [String: Any] = ["bench": "tensor", "case": "bf16 gemm \(n)", "value": sgemmGFLOPS[n]!, "unit": "GFLOPS",
                                   "higher_is_better": true, "reference_kind": "our f32 sgemm \(n) (\(SgemmBackend.native.rawValue), same run)"]
        limitLines.append(String(decoding: try! JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
    }
} else {
    FileHandle.standardError.write(Data("bench-tensor: no bf16 gemm cases: \(BF16Matmul.unavailableReason)\n".utf8))
}

if let path = ProcessInfo.processInfo.environment["BENCH_TENSOR_LIMITS"] {
    try! (limitLines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
}

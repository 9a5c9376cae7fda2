// Linear layers with GGUF block-quantized weights (Q4_0/Q4_1/Q8_0), y = x W^T: scalar reference, Swift SIMD, the AVX2
// kernels of Sources/TensorKernels/QuantLinear.c (8-bit activations and integer dots after llama.cpp; exact float dequant), BLAS panels.
import _EcomTensorKernels
import Foundation

/// A read-only matrix of block-quantized weights in GGUF's layout for a `[out, in]` weight: `rows` output features,
/// each `columns / 32` consecutive blocks of ``format``, rows following one another without gaps (row `r` starts at
/// `base + r * bytesPerRow`). Like ``MatrixView`` it never owns memory (typically it points into a mapped GGUF file).
public struct QuantizedMatrixView: @unchecked Sendable {
    public let base: UnsafeRawPointer
    /// Output features.
    public let rows: Int
    /// Input features (a multiple of 32, the block size).
    public let columns: Int
    public let format: BlockFormat

    /// A view of `rows` x `columns` values stored as `format` blocks at `base`. `columns` must be a multiple of 32
    /// (a precondition: GGUF rows hold whole blocks).
    public init(base: UnsafeRawPointer, rows: Int, columns: Int, format: BlockFormat) {
        precondition(rows >= 0 && columns >= 0, "quantized view: bad shape \(rows)x\(columns)")
        precondition(columns % BlockFormat.blockSize == 0,
                     "quantized view: \(format.rawValue) rows hold whole blocks of 32 values, got \(columns) columns")
        self.base = base
        self.rows = rows
        self.columns = columns
        self.format = format
    }

    /// Blocks in one row.
    public var blocksPerRow: Int { columns / BlockFormat.blockSize }
    /// Bytes from one row's start to the next.
    public var bytesPerRow: Int { blocksPerRow * format.bytesPerBlock }
    /// Bytes of the whole matrix.
    public var byteCount: Int { rows * bytesPerRow }

    /// The start of row `r`'s blocks.
    @inlinable public func row(_ r: Int) -> UnsafeRawPointer { base + r * (columns / BlockFormat.blockSize) * format.bytesPerBlock }

    /// Rows `range` as a view.
    public func rows(_ range: Range<Int>) -> QuantizedMatrixView {
        QuantizedMatrixView(base: row(range.lowerBound), rows: range.count, columns: columns, format: format)
    }

    /// Widens row `r` into `dst` (`columns` floats), bit for bit as ``BlockQuantization/dequantize(_:_:count:into:)``
    /// (the AVX2 kernel when ``NativeKernels/isActive``, else Swift SIMD). E.g. an embedding lookup in a Q8_0 table.
    public func dequantizeRow(_ r: Int, into dst: UnsafeMutablePointer<Float>) {
        precondition(r >= 0 && r < rows, "quantized view: row \(r) out of 0..<\(rows)")
        QuantizedMatmulKernel.dequantize(format, row(r), blocks: blocksPerRow, into: dst)
    }

    /// The code the C kernels take for the format.
    var kernelFormat: Int32 {
        switch format {
        case .q4_0: 0
        case .q4_1: 1
        case .q8_0: 2
        }
    }
}

/// `y[m, n] = x[m, k] * W[n, k]^T` with W block-quantized (``QuantizedMatrixView``), the product of a GGUF model's
/// projections with frozen weights kept in their stored form.
///
/// Paths (``Path``); `.automatic` picks by the number of input rows m:
/// - `.integerDot` (m <= ``integerDotMaximumRows``; decoding): each row of x is quantized once per call to 8-bit
///   blocks (scale max|x| / 127 per 32 values), and every weight block is multiplied with exact integer dot products
///   in registers (AVX2 `maddubs`/`madd`), then scaled: the activation rounding costs up to 1/254 of a block's
///   largest |x| per element (tests allow 1e-2 of sum |x w|). Reading W is the cost, and W is read in its 4.5 or 8.5
///   bits per value.
/// - `.floatDequant`: W blocks dequantized exactly in registers and multiplied with x by FMA (Float accumulation;
///   relative error ~1e-6). Slower than `.integerDot` at m = 1, exact for any m.
/// - `.dequantizedGEMM` (m >= ``gemmMinimumRows``; prefill, where arithmetic dominates): panels of W dequantized to
///   Float and multiplied with `cblas_sgemm`.
/// - `.swiftSIMD`: each W row dequantized to Float (Swift SIMD), then SIMD dot products; what the C paths fall back to
///   when ``NativeKernels/isActive`` is false (a CPU without AVX2/FMA/F16C, or `ECOM_TENSOR_NATIVE=0`).
/// - `.reference`: ``reference(_:_:_:)``.
///
/// The row kernels split the n output features over ``ComputeThreads``; every output is computed by one thread in a
/// fixed order, so results do not depend on the thread count.
public enum QuantizedMatmulKernel {
    /// An implementation of ``linear(_:_:_:path:)``.
    public enum Path: String, Sendable, CaseIterable {
        /// `.integerDot` up to ``integerDotMaximumRows`` input rows, `.floatDequant` below ``gemmMinimumRows``,
        /// `.dequantizedGEMM` from there (with the C kernels inactive: `.swiftSIMD`, then `.dequantizedGEMM`).
        case automatic
        case reference
        case swiftSIMD
        case integerDot
        case floatDequant
        case dequantizedGEMM
    }

    /// Input rows up to which `.automatic` quantizes the activations and uses integer dot products.
    public static let integerDotMaximumRows = 8
    /// Input rows up to which rows that are separate sequences (a decoding step of several sequences, one row each)
    /// stay on `.integerDot`: each row's result is then the one it has alone, and on 2 cores (Zen 3) it beat the
    /// sgemm path there (SmolLM2 Q4_1, 16 rows: 126 against 164 ms per step, scripts/bench/serve.sh). Prefill rows
    /// keep `.automatic`'s thresholds (activation rounding there would add up over a prompt's positions).
    public static let perSequenceMaximumRows = 32
    /// Input rows from which `.automatic` dequantizes panels of W and calls sgemm.
    public static let gemmMinimumRows = 16
    /// The fewest rows of W dequantized per sgemm call on the `.dequantizedGEMM` path.
    static let panelRows = 256
    /// The most Float32 values one dequantized panel holds (16 MiB).
    static let panelFloats = 4 << 20
    /// Multiply-adds below which a thread chunk is not split further.
    static let minimumChunkWork = 1 << 17

    static func check(_ x: MatrixView, _ w: QuantizedMatrixView, _ y: MutableMatrixView) {
        precondition(x.columns == w.columns, "quantized linear: input has \(x.columns) features, weight \(w.columns)")
        precondition(y.rows == x.rows && y.columns == w.rows,
                     "quantized linear: output is \(y.rows)x\(y.columns), expected \(x.rows)x\(w.rows)")
    }

    /// The path `path` runs for `m` input rows now (resolving `.automatic`, and the C paths to `.swiftSIMD` when
    /// ``NativeKernels/isActive`` is false).
    public static func resolvedPath(_ path: Path = .automatic, rows m: Int) -> Path {
        let native = NativeKernels.isActive
        switch path {
        case .automatic:
            if m >= gemmMinimumRows { return .dequantizedGEMM }
            if !native { return .swiftSIMD }
            return m <= integerDotMaximumRows ? .integerDot : .floatDequant
        case .integerDot, .floatDequant: return native ? path : .swiftSIMD
        case .reference, .swiftSIMD, .dequantizedGEMM: return path
        }
    }

    /// `y[i, r] = sum_j x[i, j] * W[r, j]` for every row i of x and r of W, by `path`. x and y may be strided.
    public static func linear(_ x: MatrixView, _ w: QuantizedMatrixView, _ y: MutableMatrixView, path: Path = .automatic) {
        check(x, w, y)
        if x.rows == 0 || w.rows == 0 { return }
        if w.columns == 0 {
            for i in 0..<y.rows { for r in 0..<y.columns { y[i, r] = 0 } }
            return
        }
        switch resolvedPath(path, rows: x.rows) {
        case .reference: reference(x, w, y)
        case .swiftSIMD: linearSIMD(x, w, y)
        case .integerDot: linearIntegerDot(x, w, y)
        case .floatDequant: linearFloatDequant(x, w, y)
        case .dequantizedGEMM, .automatic: linearGEMM(x, w, y)
        }
    }

    /// Reference: each W row dequantized by ``BlockQuantization`` (scalar), then a dot product accumulated in Double.
    public static func reference(_ x: MatrixView, _ w: QuantizedMatrixView, _ y: MutableMatrixView) {
        check(x, w, y)
        let k = w.columns
        let row = UnsafeMutablePointer<Float>.allocate(capacity: max(1, k))
        defer { row.deallocate() }
        for r in 0..<w.rows {
            BlockQuantization.dequantize(w.format, w.row(r), count: k, into: row)
            for i in 0..<x.rows {
                var s = 0.0
                for j in 0..<k { s += Double(x[i, j]) * Double(row[j]) }
                y[i, r] = Float(s)
            }
        }
    }

    /// Output rows per thread chunk for m input rows of k features.
    static func minimumRowsPerChunk(m: Int, k: Int) -> Int { max(1, minimumChunkWork / max(1, m * k)) }

    /// The instructions the integer path sums its 8-bit products with (the same bits with each).
    public enum DotInstructions: String, Sendable, CaseIterable {
        /// vpmaddubsw + vpmaddwd (AVX2).
        case avx2
        /// One vpdpbusd, VEX-encoded (AVX-VNNI).
        case avxVNNI = "avx-vnni"
        /// One vpdpbusd on 256-bit registers, EVEX-encoded (AVX512_VNNI with VL).
        case avx512VNNI = "avx512-vnni"
    }

    /// Whether this CPU runs `d` (AVX2 wherever the C kernels run).
    public static func canRun(_ d: DotInstructions) -> Bool {
        let vnni = Int(ecom_kernels_vnni_available())
        switch d {
        case .avx2: return NativeKernels.canRun(.avx2)
        case .avxVNNI: return vnni & 1 != 0
        case .avx512VNNI: return vnni & 2 != 0
        }
    }

    /// The dot instructions this CPU runs.
    public static var runnableDotInstructions: [DotInstructions] { DotInstructions.allCases.filter(canRun) }

    /// Forces the integer path's instructions for a scope (tests and benchmarks compare them).
    @TaskLocal public static var dotOverride: DotInstructions?

    /// The integer path's instructions now: ``dotOverride``, else AVX2. Chosen on numbers: on a Xeon with both VNNI
    /// forms (2026-11-27, bench-quant at SmolLM2's shapes, 1 and 2 threads) AVX-VNNI ran Q4_1 at the AVX2 kernel's
    /// speed (0.97-1.03x) and Q8_0 at 0.79-1.31x, and AVX512_VNNI on 256-bit registers ran Q4_1 at half its speed; the
    /// VNNI kernels stay selectable, tested for the same bits, and measured by bench-quant on every CPU that has them.
    public static var activeDot: DotInstructions {
        if let d = dotOverride {
            precondition(canRun(d), "the \(d.rawValue) dot products cannot run on this CPU (features: \(NativeKernels.cpuFeatures))")
            return d
        }
        return .avx2
    }

    /// The integer path: x quantized to 8-bit blocks once, then ``ecom_quant_linear_q8`` (or its VNNI twin,
    /// ``activeDot``) over row chunks.
    static func linearIntegerDot(_ x: MatrixView, _ w: QuantizedMatrixView, _ y: MutableMatrixView) {
        let (m, n, k) = (x.rows, w.rows, w.columns)
        let nb = k / BlockFormat.blockSize
        let kernel: @convention(c) (UnsafeRawPointer?, Int, Int, Int32, UnsafePointer<Int8>?, UnsafePointer<Float>?,
                                    UnsafePointer<Float>?, Int, UnsafeMutablePointer<Float>?, Int) -> Void
        switch activeDot {  // read here: the pool's threads do not see the caller's task-local override
        case .avx2: kernel = ecom_quant_linear_q8
        case .avxVNNI: kernel = ecom_quant_linear_q8_avxvnni
        case .avx512VNNI: kernel = ecom_quant_linear_q8_avx512vnni
        }
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: m * k) { q in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * m * nb) { ds in
                let (qp, dp, sp) = (q.baseAddress!, ds.baseAddress!, ds.baseAddress! + m * nb)
                ecom_quantize_q8_rows(x.base, m, x.stride, k, qp, dp, sp)
                let format = w.kernelFormat
                ComputeThreads.forEachChunk(n, minPerChunk: minimumRowsPerChunk(m: m, k: k)) { _, range in
                    kernel(w.row(range.lowerBound), range.count, k, format, qp, dp, sp, m, y.base + range.lowerBound, y.stride)
                }
            }
        }
    }

    /// The AVX2 float path: ``ecom_quant_linear_f32`` over row chunks.
    static func linearFloatDequant(_ x: MatrixView, _ w: QuantizedMatrixView, _ y: MutableMatrixView) {
        let (m, n, k) = (x.rows, w.rows, w.columns)
        let format = w.kernelFormat
        ComputeThreads.forEachChunk(n, minPerChunk: minimumRowsPerChunk(m: m, k: k)) { _, range in
            ecom_quant_linear_f32(x.base, m, x.stride, w.row(range.lowerBound), range.count, k, format,
                                  y.base + range.lowerBound, y.stride)
        }
    }

    /// Swift SIMD: each W row widened to Float (``dequantizeSIMD(_:_:blocks:into:)``), then 8-lane dot products.
    public static func linearSIMD(_ x: MatrixView, _ w: QuantizedMatrixView, _ y: MutableMatrixView) {
        check(x, w, y)
        let (m, n, k) = (x.rows, w.rows, w.columns)
        if m == 0 || n == 0 { return }
        ComputeThreads.forEachChunk(n, minPerChunk: minimumRowsPerChunk(m: m, k: k)) { _, range in
            let row = UnsafeMutablePointer<Float>.allocate(capacity: max(1, k))
            defer { row.deallocate() }
            for r in range {
                dequantizeSIMD(w.format, w.row(r), blocks: w.blocksPerRow, into: row)
                for i in 0..<m { y[i, r] = HalfMatmulKernel.dot(x.base + i * x.stride, row, k) }
            }
        }
    }

    /// Panels of W rows dequantized to Float (threads over rows), each multiplied with `cblas_sgemm`: the whole matrix
    /// in one panel up to ``panelFloats`` values (one large sgemm is faster than many narrow ones), else panels of
    /// that many values.
    static func linearGEMM(_ x: MatrixView, _ w: QuantizedMatrixView, _ y: MutableMatrixView) {
        let (n, k) = (w.rows, w.columns)
        let panelRows = max(Self.panelRows, panelFloats / max(1, k))
        PanelScratch.shared.with(count: min(panelRows, n) * k) { panel in
        for r0 in stride(from: 0, to: n, by: panelRows) {
            let rows = min(panelRows, n - r0)
            ComputeThreads.forEachChunk(rows, minPerChunk: max(1, 16_384 / k)) { _, range in
                for r in range { dequantize(w.format, w.row(r0 + r), blocks: w.blocksPerRow, into: panel + r * k) }
            }
            MatmulKernel.gemmBLAS(x, MatrixView(base: panel, rows: rows, columns: k, stride: k), transposeB: true,
                                  y.columns(r0..<(r0 + rows)))
        }
        }
    }

    /// Widens `blocks` blocks at `src` into `dst`, bit for bit as the reference: the AVX2 kernel when
    /// ``NativeKernels/isActive``, else ``dequantizeSIMD(_:_:blocks:into:)``.
    static func dequantize(_ format: BlockFormat, _ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        if NativeKernels.isActive {
            let code: Int32 = format == .q4_0 ? 0 : format == .q4_1 ? 1 : 2
            ecom_dequantize_blocks_f32(code, src, blocks, dst)
        } else {
            dequantizeSIMD(format, src, blocks: blocks, into: dst)
        }
    }

    /// Swift SIMD dequantization of `blocks` blocks, bit for bit as ``BlockQuantization`` (q * d, then + m; no FMA).
    public static func dequantizeSIMD(_ format: BlockFormat, _ src: UnsafeRawPointer, blocks: Int, into dst: UnsafeMutablePointer<Float>) {
        let bytes = format.bytesPerBlock
        for b in 0..<blocks {
            let blk = src + b * bytes, out = dst + b * BlockFormat.blockSize
            let d = FloatVector(repeating: HalfPrecision.float(float16: blk.loadUnaligned(as: UInt16.self)))
            switch format {
            case .q8_0:
                for h in 0..<4 {
                    let q = blk.loadUnaligned(fromByteOffset: 2 + 8 * h, as: SIMD8<Int8>.self)
                    storeVector(FloatVector(SIMD8<Int32>(truncatingIfNeeded: q)) * d, out, 8 * h)
                }
            case .q4_0, .q4_1:
                let qs = blk.loadUnaligned(fromByteOffset: format == .q4_1 ? 4 : 2, as: SIMD16<UInt8>.self)
                let offset: Int32 = format == .q4_0 ? 8 : 0
                let lo = SIMD16<Int32>(truncatingIfNeeded: qs & 0x0F) &- offset
                let hi = SIMD16<Int32>(truncatingIfNeeded: qs &>> 4) &- offset
                var v = (FloatVector(lo.lowHalf) * d, FloatVector(lo.highHalf) * d,
                         FloatVector(hi.lowHalf) * d, FloatVector(hi.highHalf) * d)
                if format == .q4_1 {
                    let m = FloatVector(repeating: HalfPrecision.float(float16: blk.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
                    v = (v.0 + m, v.1 + m, v.2 + m, v.3 + m)
                }
                storeVector(v.0, out, 0); storeVector(v.1, out, 8); storeVector(v.2, out, 16); storeVector(v.3, out, 24)
            }
        }
    }
}

/// The dequantized panel's memory, kept between calls: a fresh multi-megabyte allocation per product is page-faulted
/// (and zeroed by the kernel) every time, which costs more than the dequantization itself. One caller at a time uses
/// the kept buffer; a concurrent caller gets a temporary one.
final class PanelScratch: @unchecked Sendable {
    static let shared = PanelScratch()
    private let lock = NSLock()
    private var buffer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var capacity = 1

    func with<R>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        guard lock.try() else {
            let temporary = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
            defer { temporary.deallocate() }
            return try body(temporary)
        }
        defer { lock.unlock() }
        if count > capacity {
            buffer.deallocate()
            buffer = .allocate(capacity: count)
            capacity = count
        }
        return try body(buffer)
    }
}

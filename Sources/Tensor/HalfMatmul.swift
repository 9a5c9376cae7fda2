// Linear layers with 16-bit weights (IEEE half or bfloat16), y = x W^T + b: reference, AVX2 row kernel, BLAS panels.
import COpenBLAS
import _EcomTensorKernels

/// The 16-bit formats weights are stored in.
public enum HalfFormat: String, Sendable, CaseIterable {
    /// IEEE 754 binary16.
    case float16
    /// bfloat16 (the top half of a Float32).
    case bfloat16
}

/// A read-only strided matrix of 16-bit floats (bit patterns), e.g. a checkpoint's Linear weight `[out, in]` kept in
/// its stored precision. Like ``MatrixView`` it never owns memory.
public struct HalfMatrixView: @unchecked Sendable {
    public let base: UnsafePointer<UInt16>
    public let rows: Int
    public let columns: Int
    /// Elements between the starts of consecutive rows (>= columns).
    public let stride: Int
    public let format: HalfFormat

    public init(base: UnsafePointer<UInt16>, rows: Int, columns: Int, stride: Int, format: HalfFormat) {
        checkMatrixView(rows: rows, columns: columns, stride: stride)
        self.base = base
        self.rows = rows
        self.columns = columns
        self.stride = stride
        self.format = format
    }

    /// Element `(i, j)` widened to Float (exact).
    @inlinable public subscript(i: Int, j: Int) -> Float {
        let bits = base[i * stride + j]
        return format == .float16 ? HalfPrecision.float(float16: bits) : HalfPrecision.float(bfloat16: bits)
    }

    /// Rows `range` as a view.
    public func rows(_ range: Range<Int>) -> HalfMatrixView {
        HalfMatrixView(base: base + range.lowerBound * stride, rows: range.count, columns: columns, stride: stride, format: format)
    }

    /// Widens row `i` into `dst` (`columns` floats).
    func widenRow(_ i: Int, into dst: UnsafeMutablePointer<Float>) {
        let src = UnsafeBufferPointer(start: base + i * stride, count: columns)
        let out = UnsafeMutableBufferPointer(start: dst, count: columns)
        switch format {
        case .float16: HalfPrecision.fromFloat16(src, out)
        case .bfloat16: HalfPrecision.fromBFloat16(src, out)
        }
    }
}

/// `out[m, n] = x[m, k] * W[n, k]^T + bias[n]` with W in 16 bits (PyTorch's Linear layout: one output feature per
/// row), the product the BLOOM model's projections need when it keeps its weights in the checkpoint's precision.
///
/// Paths: `.reference` is a Double-accumulating loop; `.simd` runs the AVX2/F16C row kernel (W widened 8 at a time
/// in registers, FMA accumulation, output features split over threads; see Sources/TensorKernels/HalfLinear.c) when
/// ``NativeKernels/isActive``, else widens each W row to Float and takes SIMD dot products; `.blas` does the same as
/// `.simd` for few input rows (decoding, where reading W dominates) and, from ``blasMinimumRows`` rows on, widens
/// panels of W and multiplies them with `cblas_sgemm` (prefill and training, where arithmetic dominates).
public enum HalfMatmulKernel {
    /// Input rows from which the `.blas` path widens W and calls sgemm.
    public static let blasMinimumRows = 16
    /// Rows of W widened per sgemm call on the `.blas` path.
    static let panelRows = 256

    static func check(_ x: MatrixView, _ w: HalfMatrixView, _ out: MutableMatrixView) {
        precondition(x.columns == w.columns, "half linear: input has \(x.columns) features, weight \(w.columns)")
        precondition(out.rows == x.rows && out.columns == w.rows,
                     "half linear: output is \(out.rows)x\(out.columns), expected \(x.rows)x\(w.rows)")
    }

    /// Dispatches to the chosen path. `bias` (n floats) may be nil.
    public static func linear(_ x: MatrixView, _ w: HalfMatrixView, bias: UnsafePointer<Float>? = nil, _ out: MutableMatrixView,
                              path: KernelPath = .blas) {
        switch path {
        case .reference: linearReference(x, w, bias: bias, out)
        case .simd: linearSIMD(x, w, bias: bias, out)
        case .blas: x.rows >= blasMinimumRows ? linearBLAS(x, w, bias: bias, out) : linearSIMD(x, w, bias: bias, out)
        }
    }

    /// Reference: Double accumulation of the widened weights.
    public static func linearReference(_ x: MatrixView, _ w: HalfMatrixView, bias: UnsafePointer<Float>? = nil, _ out: MutableMatrixView) {
        check(x, w, out)
        for i in 0..<x.rows { for r in 0..<w.rows {
            var s = 0.0
            for j in 0..<w.columns { s += Double(x[i, j]) * Double(w[r, j]) }
            out[i, r] = Float(s) + (bias?[r] ?? 0)
        } }
    }

    /// The row kernel (AVX2/F16C when active, else Swift SIMD on widened rows), output features split over threads.
    public static func linearSIMD(_ x: MatrixView, _ w: HalfMatrixView, bias: UnsafePointer<Float>? = nil, _ out: MutableMatrixView) {
        check(x, w, out)
        let (m, n, k) = (x.rows, w.rows, w.columns)
        if m == 0 || n == 0 { return }
        let blocks = (n + 3) / 4  // the C kernel takes W rows four at a time: split on those boundaries
        let minBlocks = max(1, 8_192 / max(1, k * m))
        if let kernel = NativeKernels.active?.pointee.half_linear {
            ComputeThreads.forEachChunk(blocks, minPerChunk: minBlocks) { _, range in
                let r0 = range.lowerBound * 4, r1 = min(n, range.upperBound * 4)
                kernel(x.base, m, x.stride, w.base + r0 * w.stride, r1 - r0, k, w.stride,
                                     w.format == .float16 ? 0 : 1, bias.map { $0 + r0 }, out.base + r0, out.stride)
            }
            return
        }
        ComputeThreads.forEachChunk(blocks, minPerChunk: minBlocks) { _, range in
            let row = UnsafeMutablePointer<Float>.allocate(capacity: max(1, k))
            defer { row.deallocate() }
            for r in (range.lowerBound * 4)..<min(n, range.upperBound * 4) {
                w.widenRow(r, into: row)
                for i in 0..<m { out[i, r] = dot(x.base + i * x.stride, row, k) + (bias?[r] ?? 0) }
            }
        }
    }

    /// Widens panels of W to Float and multiplies with `cblas_sgemm` (OpenBLAS threads), then adds the bias.
    public static func linearBLAS(_ x: MatrixView, _ w: HalfMatrixView, bias: UnsafePointer<Float>? = nil, _ out: MutableMatrixView) {
        check(x, w, out)
        let (m, n, k) = (x.rows, w.rows, w.columns)
        if m == 0 || n == 0 { return }
        let panel = UnsafeMutablePointer<Float>.allocate(capacity: max(1, panelRows * k))
        defer { panel.deallocate() }
        for r0 in stride(from: 0, to: n, by: panelRows) {
            let rows = min(panelRows, n - r0)
            let src = UnsafeBufferPointer(start: w.base + r0 * w.stride, count: w.stride * (rows - 1) + k)
            if w.stride == k {
                let dst = UnsafeMutableBufferPointer(start: panel, count: rows * k)
                w.format == .float16 ? HalfPrecision.fromFloat16(src, dst) : HalfPrecision.fromBFloat16(src, dst)
            } else {
                for r in 0..<rows { w.widenRow(r0 + r, into: panel + r * k) }
            }
            MatmulKernel.gemmBLAS(x, MatrixView(base: panel, rows: rows, columns: k, stride: max(1, k)), transposeB: true,
                                  out.columns(r0..<(r0 + rows)))
        }
        if let bias {
            for i in 0..<m { ElementwiseKernel.add(out.base + i * out.stride, bias, out.base + i * out.stride, count: n) }
        }
    }

    /// Dot product of `k` floats with 8 lanes (fixed order).
    @inline(__always) static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ k: Int) -> Float {
        var acc = FloatVector()
        var j = 0
        while j + simdWidth <= k { acc += loadVector(a, j) * loadVector(b, j); j += simdWidth }
        var s = horizontalSum(acc)
        while j < k { s += a[j] * b[j]; j += 1 }
        return s
    }
}

// Matrix multiply C = alpha * op(A) op(B) + beta * C: scalar reference, pure-Swift SIMD, and cblas_sgemm; batched.
import COpenBLAS

/// Which implementation a kernel runs.
public enum KernelPath: String, Sendable, CaseIterable {
    /// The plain scalar loops every other path is tested against.
    case reference
    /// Our SIMD code (pure Swift; works without BLAS).
    case simd
    /// OpenBLAS through CBLAS (matrix multiply only; other ops treat it as `simd`).
    case blas
}

/// GEMM on strided row-major matrix views: C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C.
///
/// `op(A)` is A or its transpose: with `transposeA` the view `a` is stored `[k, m]`. Views may be strided (leading
/// dimension larger than the column count), which is how attention reads heads out of a fused QKV buffer without
/// copying. With beta = 0, C is overwritten (its old contents, even NaN, are not read).
public enum MatmulKernel {
    @inline(__always) static func check(_ a: MatrixView, _ b: MatrixView, _ c: MutableMatrixView, _ ta: Bool, _ tb: Bool) -> (Int, Int, Int) {
        let (m, ka) = ta ? (a.columns, a.rows) : (a.rows, a.columns)
        let (kb, n) = tb ? (b.columns, b.rows) : (b.rows, b.columns)
        precondition(ka == kb, "matmul: inner dimensions differ (\(ka) vs \(kb))")
        precondition(c.rows == m && c.columns == n, "matmul: output is \(c.rows)x\(c.columns), expected \(m)x\(n)")
        return (m, n, ka)
    }

    /// Dispatches to the chosen path.
    public static func gemm(
        _ a: MatrixView, transposeA: Bool = false, _ b: MatrixView, transposeB: Bool = false, _ c: MutableMatrixView,
        alpha: Float = 1, beta: Float = 0, path: KernelPath = .blas
    ) {
        switch path {
        case .reference: gemmReference(a, transposeA: transposeA, b, transposeB: transposeB, c, alpha: alpha, beta: beta)
        case .simd: gemmSIMD(a, transposeA: transposeA, b, transposeB: transposeB, c, alpha: alpha, beta: beta)
        case .blas: gemmBLAS(a, transposeA: transposeA, b, transposeB: transposeB, c, alpha: alpha, beta: beta)
        }
    }

    /// Reference: a triple loop accumulating in Double.
    public static func gemmReference(
        _ a: MatrixView, transposeA: Bool = false, _ b: MatrixView, transposeB: Bool = false, _ c: MutableMatrixView,
        alpha: Float = 1, beta: Float = 0
    ) {
        let (m, n, k) = check(a, b, c, transposeA, transposeB)
        for i in 0..<m { for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transposeA ? a[p, i] : a[i, p]
                let bv = transposeB ? b[j, p] : b[p, j]
                s += Double(av) * Double(bv)
            }
            c[i, j] = Float(Double(alpha) * s) + (beta == 0 ? 0 : beta * c[i, j])
        } }
    }

    /// OpenBLAS `cblas_sgemm` (its own threads follow ``ComputeThreads``), or oneDNN's sgemm for large products where
    /// ``SgemmBackend/current`` is oneDNN; under bf16 ``MatmulPrecision``, products of at least
    /// ``BF16Matmul/minimumWork`` multiply-adds go to ``BF16Matmul`` instead.
    public static func gemmBLAS(
        _ a: MatrixView, transposeA: Bool = false, _ b: MatrixView, transposeB: Bool = false, _ c: MutableMatrixView,
        alpha: Float = 1, beta: Float = 0, precision: MatmulPrecision = MatmulPrecision.current
    ) {
        let (m, n, k) = check(a, b, c, transposeA, transposeB)
        if m == 0 || n == 0 { return }
        if k == 0 { scaleOutput(c, beta); return }  // BLAS would reject a leading dimension of 0
        if precision == .bf16 && m * n * k >= BF16Matmul.minimumWork {
            BF16Matmul.gemm(a, transposeA: transposeA, b, transposeB: transposeB, c, alpha: alpha, beta: beta)
            return
        }
        if SgemmBackend.backend(m: m, n: n, k: k, under: SgemmBackend.current) == .onednn, let dnnl = OneDNN.sgemmLibrary {
            SgemmBackend.gemmOneDNN(dnnl, a, transposeA: transposeA, b, transposeB: transposeB, c, m: m, n: n, k: k, alpha: alpha, beta: beta)
            return
        }
        _ = ComputeThreads.count  // make sure OpenBLAS got the knob's thread count
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a.base, Int32(a.stride), b.base, Int32(b.stride),
                    beta, c.base, Int32(c.stride))
    }

    static func scaleOutput(_ c: MutableMatrixView, _ beta: Float) {
        for i in 0..<c.rows { for j in 0..<c.columns { c[i, j] = beta == 0 ? 0 : beta * c[i, j] } }
    }

    /// Pure-Swift SIMD GEMM. Transposed operands are first packed into contiguous row-major copies; the product is
    /// then computed by a 4 x 8 register-blocked kernel over blocks of k (so a block of B stays in cache), with rows
    /// of C split over ``ComputeThreads``.
    public static func gemmSIMD(
        _ a: MatrixView, transposeA: Bool = false, _ b: MatrixView, transposeB: Bool = false, _ c: MutableMatrixView,
        alpha: Float = 1, beta: Float = 0
    ) {
        let (m, n, k) = check(a, b, c, transposeA, transposeB)
        if m == 0 || n == 0 { return }
        scaleOutput(c, beta)
        if k == 0 { return }
        withPacked(a, transposed: transposeA) { ap in
            withPacked(b, transposed: transposeB) { bp in
                multiplyAccumulate(ap, bp, c, alpha: alpha, m: m, n: n, k: k)
            }
        }
    }

    /// Calls `body` with a row-major view of op(x): x itself when not transposed, else a packed transpose.
    static func withPacked(_ x: MatrixView, transposed: Bool, _ body: (MatrixView) -> Void) {
        guard transposed else { body(x); return }
        let (r, cols) = (x.columns, x.rows)
        let buf = UnsafeMutablePointer<Float>.allocate(capacity: max(1, r * cols))
        defer { buf.deallocate() }
        transpose(x, into: MutableMatrixView(base: buf, rows: r, columns: cols, stride: cols))
        body(MatrixView(base: buf, rows: r, columns: cols, stride: cols))
    }

    /// out[i, j] = x[j, i] + beta * out[i, j], in 8 x 8 tiles to keep both sides in cache; beta 0 overwrites (the old
    /// values, even NaN, are not read).
    static func transpose(_ x: MatrixView, into out: MutableMatrixView, beta: Float = 0) {
        precondition(out.rows == x.columns && out.columns == x.rows, "transpose: \(x.rows)x\(x.columns) into \(out.rows)x\(out.columns)")
        for i0 in stride(from: 0, to: out.rows, by: 8) { for j0 in stride(from: 0, to: out.columns, by: 8) {
            for i in i0..<min(out.rows, i0 + 8) { for j in j0..<min(out.columns, j0 + 8) {
                out[i, j] = beta == 0 ? x[j, i] : x[j, i] + beta * out[i, j]
            } }
        } }
    }

    /// C += alpha * A * B for row-major A [m, k], B [k, n].
    static func multiplyAccumulate(_ a: MatrixView, _ b: MatrixView, _ c: MutableMatrixView, alpha: Float, m: Int, n: Int, k: Int) {
        let kBlock = 256
        let rowBlocks = (m + 3) / 4
        ComputeThreads.forEachChunk(rowBlocks, minPerChunk: max(1, 16_384 / max(1, n * k / 64))) { _, range in
            for k0 in stride(from: 0, to: k, by: kBlock) {
                let k1 = min(k, k0 + kBlock)
                for rb in range {
                    let i0 = rb * 4
                    if i0 + 4 <= m {
                        kernel4(a, b, c, alpha: alpha, i0: i0, n: n, k0: k0, k1: k1)
                    } else {
                        for i in i0..<m { kernel1(a, b, c, alpha: alpha, i: i, n: n, k0: k0, k1: k1) }
                    }
                }
            }
        }
    }

    /// Rows i0..<i0+4 of C, columns in steps of 8 (the tail scalar), k in k0..<k1.
    @inline(__always) static func kernel4(_ a: MatrixView, _ b: MatrixView, _ c: MutableMatrixView, alpha: Float, i0: Int, n: Int, k0: Int, k1: Int) {
        let a0 = a.base + i0 * a.stride, a1 = a0 + a.stride, a2 = a1 + a.stride, a3 = a2 + a.stride
        let c0 = c.base + i0 * c.stride, c1 = c0 + c.stride, c2 = c1 + c.stride, c3 = c2 + c.stride
        var j = 0
        while j + simdWidth <= n {
            var s0 = FloatVector(), s1 = FloatVector(), s2 = FloatVector(), s3 = FloatVector()
            var bp = b.base + k0 * b.stride + j
            for p in k0..<k1 {
                let bv = loadVector(bp, 0)
                s0 += bv * a0[p]; s1 += bv * a1[p]; s2 += bv * a2[p]; s3 += bv * a3[p]
                bp += b.stride
            }
            storeVector(loadVector(c0, j) + s0 * alpha, c0, j)
            storeVector(loadVector(c1, j) + s1 * alpha, c1, j)
            storeVector(loadVector(c2, j) + s2 * alpha, c2, j)
            storeVector(loadVector(c3, j) + s3 * alpha, c3, j)
            j += simdWidth
        }
        while j < n {
            var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
            for p in k0..<k1 {
                let bv = b.base[p * b.stride + j]
                s0 += a0[p] * bv; s1 += a1[p] * bv; s2 += a2[p] * bv; s3 += a3[p] * bv
            }
            c0[j] += alpha * s0; c1[j] += alpha * s1; c2[j] += alpha * s2; c3[j] += alpha * s3
            j += 1
        }
    }

    /// One row i of C (for the last m % 4 rows).
    @inline(__always) static func kernel1(_ a: MatrixView, _ b: MatrixView, _ c: MutableMatrixView, alpha: Float, i: Int, n: Int, k0: Int, k1: Int) {
        let ar = a.base + i * a.stride, cr = c.base + i * c.stride
        var j = 0
        while j + simdWidth <= n {
            var s = FloatVector()
            for p in k0..<k1 { s += loadVector(b.base + p * b.stride, j) * ar[p] }
            storeVector(loadVector(cr, j) + s * alpha, cr, j)
            j += simdWidth
        }
        while j < n {
            var s: Float = 0
            for p in k0..<k1 { s += ar[p] * b.base[p * b.stride + j] }
            cr[j] += alpha * s
            j += 1
        }
    }

    /// Batched GEMM: for each batch index `i`, matrices start at `base + i * batchStride` of each operand (e.g. the
    /// heads of attention, `[B*NH, T, HS]`, or heads inside a fused QKV buffer with their own row stride).
    /// The views give the shape and row stride of one matrix.
    public static func gemmBatched(
        _ a: MatrixView, batchStrideA: Int, transposeA: Bool = false, _ b: MatrixView, batchStrideB: Int, transposeB: Bool = false,
        _ c: MutableMatrixView, batchStrideC: Int, batch: Int, alpha: Float = 1, beta: Float = 0, path: KernelPath = .blas
    ) {
        for i in 0..<batch {
            gemm(MatrixView(base: a.base + i * batchStrideA, rows: a.rows, columns: a.columns, stride: a.stride), transposeA: transposeA,
                 MatrixView(base: b.base + i * batchStrideB, rows: b.rows, columns: b.columns, stride: b.stride), transposeB: transposeB,
                 MutableMatrixView(base: c.base + i * batchStrideC, rows: c.rows, columns: c.columns, stride: c.stride),
                 alpha: alpha, beta: beta, path: path)
        }
    }
}

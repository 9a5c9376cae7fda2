// bf16 compute for matrix products: inputs rounded to bfloat16 (nearest, ties to even, as PyTorch's CPU autocast
// does), products accumulated in Float32, output Float32. Two backends behind one interface: oneDNN's
// `dnnl_gemm_bf16bf16f32` (its AVX512_BF16 and AMX kernels), loaded at run time from Debian's libdnnl so that nothing
// links against it, and `rounding`, which rounds the inputs to bf16 and multiplies them with cblas_sgemm (the same
// products on any CPU, up to summation order: what tests check the plumbing and tolerances with).
// Chosen on numbers (Docs/PERFORMANCE.md, "bf16 compute"): on an AVX512_BF16/AMX Xeon, oneDNN 2.6 ran 1024-2048 bf16
// GEMMs at 2.7x OpenBLAS's sgemm on 2 cores; Debian's OpenBLAS 0.3.21 exports no sbgemm.
import COpenBLAS
import Foundation
import _EcomTensorKernels
#if canImport(Glibc)
import Glibc
#endif

/// The arithmetic of large matrix products: Float32 throughout, or bf16 inputs with Float32 accumulation.
///
/// Tools set ``processDefault`` from `--precision`; code that wants one precision for a scope uses
/// `MatmulPrecision.$override.withValue(.bf16) { ... }`. Only products of at least ``BF16Matmul/minimumWork``
/// multiply-adds switch; weights, optimizer state and everything else stay Float32.
public enum MatmulPrecision: String, Sendable, CaseIterable {
    case f32
    case bf16

    nonisolated(unsafe) private static var global: MatmulPrecision = .f32

    /// The precision of products outside any ``override`` (process-wide; Float32 unless a tool chose bf16). Setting
    /// it to bf16 where oneDNN multiplies also runs OpenBLAS single-threaded (``ComputeThreads/blasThreads``).
    public static var processDefault: MatmulPrecision {
        get { global }
        set {
            global = newValue
            ComputeThreads.applyBLASThreads()
        }
    }

    /// A per-task precision, for tests and code that mixes both.
    @TaskLocal public static var override: MatmulPrecision?

    /// The precision products run at here and now.
    public static var current: MatmulPrecision { override ?? global }

    /// Resolves a tool's `--precision` value: `f32`, `bf16` (an error where the CPU or oneDNN cannot run it), or
    /// `auto`, which is bf16 exactly where ``BF16Matmul/native`` exists (measured faster there) and f32 elsewhere.
    public static func resolve(_ option: String) throws -> MatmulPrecision {
        switch option.lowercased() {
        case "f32", "fp32", "float32": return .f32
        case "bf16", "bfloat16":
            guard BF16Matmul.native != nil else { throw BF16Unavailable(reason: BF16Matmul.unavailableReason) }
            return .bf16
        case "auto": return BF16Matmul.native != nil ? .bf16 : .f32
        default: throw BF16Unavailable(reason: "unknown precision '\(option)' (expected f32, bf16 or auto)")
        }
    }
}

extension MatmulPrecision {
    /// The help text of the tools' `--precision` option.
    public static let optionHelp = "Matrix products: f32, bf16 (inputs rounded to bfloat16, Float32 accumulation; needs AVX512_BF16 and oneDNN) or auto (bf16 where this machine has both)."

    /// What a tool does with its `--precision` value: resolves it (``resolve(_:)``), makes it the
    /// ``processDefault``, and says on standard error when products run in bf16. Throws ``BF16Unavailable`` with the
    /// reason when bf16 was asked for and cannot run.
    public static func apply(option: String) throws {
        let p = try resolve(option)
        processDefault = p
        if p == .bf16, let dnnl = OneDNN.shared {
            FileHandle.standardError.write(Data("ecom: matrix products in bf16 with Float32 accumulation (oneDNN \(dnnl.library)); --precision f32 for Float32\n".utf8))
        }
    }
}

/// A `--precision` value that cannot run here: bf16 where the CPU lacks AVX512_BF16 or oneDNN is not installed, or a
/// value that names no precision.
public struct BF16Unavailable: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public var description: String { reason }
}

/// GEMM with bf16 inputs and Float32 accumulation: C = alpha * op(A) op(B) + beta * C on row-major views, as
/// ``MatmulKernel/gemm(_:transposeA:_:transposeB:_:alpha:beta:path:)``.
public enum BF16Matmul {
    /// Which implementation multiplies.
    public enum Backend: String, Sendable {
        /// oneDNN's `dnnl_gemm_bf16bf16f32` (AVX512_BF16 / AMX-BF16 kernels).
        case onednn
        /// Inputs rounded to bf16 and multiplied with cblas_sgemm: exact bf16 products, any CPU, not faster.
        case rounding
    }

    /// Products with fewer multiply-adds than this stay Float32 under bf16 precision: 2^23 by default,
    /// ``minimumWorkOverride`` in a scope (0 puts every product in bf16). A oneDNN call costs tens of microseconds
    /// beyond its arithmetic (rounding both inputs, the call itself): attention's per-block products (64-row query
    /// blocks: at most 2^20 multiply-adds at 256 tokens, 2^22 at 1024) lost more than they gained, which made bf16
    /// training of the tiny BLOOM 0.65x as fast as Float32 with a threshold of 2^18 (AMD EPYC Zen 5, 2 threads); the
    /// linear layers' products of a 4 x 256 batch start at 2^26.
    public static var minimumWork: Int { minimumWorkOverride ?? (1 << 23) }

    /// A per-task ``minimumWork``, e.g. 0 to run a tiny test model's every product in bf16.
    @TaskLocal public static var minimumWorkOverride: Int?

    /// The fast backend on this machine: oneDNN where the CPU has AVX512_BF16 and libdnnl loads; nil elsewhere.
    public static var native: Backend? { OneDNN.shared == nil ? nil : .onednn }

    /// Why ``native`` is nil (empty when it exists).
    public static var unavailableReason: String {
        if OneDNN.shared != nil { return "" }
        return OneDNN.failure
    }

    /// Forces a backend for a scope (tests compare them); by default ``native``, else ``Backend/rounding``.
    @TaskLocal public static var backendOverride: Backend?

    /// The backend products use here and now.
    public static var backend: Backend { backendOverride ?? native ?? .rounding }

    /// C = alpha * op(A) op(B) + beta * C with A and B rounded to bf16 and Float32 accumulation.
    public static func gemm(
        _ a: MatrixView, transposeA: Bool = false, _ b: MatrixView, transposeB: Bool = false, _ c: MutableMatrixView,
        alpha: Float = 1, beta: Float = 0, backend: Backend = BF16Matmul.backend
    ) {
        let (m, n, k) = MatmulKernel.check(a, b, c, transposeA, transposeB)
        if m == 0 || n == 0 { return }
        if k == 0 { MatmulKernel.scaleOutput(c, beta); return }
        switch backend {
        case .onednn:
            guard let dnnl = OneDNN.shared else { preconditionFailure("bf16: oneDNN is not available: \(OneDNN.failure)") }
            withBF16(a) { ab, lda in withBF16(b) { bb, ldb in
                dnnl.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                          a: ab, lda: lda, b: bb, ldb: ldb, beta: beta, c: c.base, ldc: c.stride)
            } }
        case .rounding:
            withRounded(a) { ar in withRounded(b) { br in
                MatmulKernel.gemmBLAS(ar, transposeA: transposeA, br, transposeB: transposeB, c, alpha: alpha, beta: beta,
                                      precision: .f32)
            } }
        }
    }

    /// The view's values as contiguous bf16 bits (leading dimension = columns), converted by
    /// ``HalfPrecision/toBFloat16(_:_:)``: in one call when the view is contiguous, else row by row.
    static func withBF16(_ x: MatrixView, _ body: (UnsafePointer<UInt16>, Int) -> Void) {
        let count = x.rows * x.columns
        let buf = UnsafeMutablePointer<UInt16>.allocate(capacity: max(1, count))
        defer { buf.deallocate() }
        let (runs, length, stride) = x.stride == x.columns ? (1, count, 0) : (x.rows, x.columns, x.stride)
        for r in 0..<runs {
            HalfPrecision.toBFloat16(UnsafeBufferPointer(start: x.base + r * stride, count: length),
                                     UnsafeMutableBufferPointer(start: buf + r * length, count: length))
        }
        body(buf, max(1, x.columns))
    }

    /// The view's values rounded to bf16 (``withBF16(_:_:)``) and widened back to Float32, contiguous.
    static func withRounded(_ x: MatrixView, _ body: (MatrixView) -> Void) {
        let count = x.rows * x.columns
        let values = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        defer { values.deallocate() }
        withBF16(x) { bits, _ in
            HalfPrecision.fromBFloat16(UnsafeBufferPointer(start: bits, count: count), UnsafeMutableBufferPointer(start: values, count: count))
        }
        body(MatrixView(base: values, rows: x.rows, columns: x.columns, stride: max(1, x.columns)))
    }
}

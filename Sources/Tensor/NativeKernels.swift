// Run-time choice among the C kernels of _EcomTensorKernels (AVX-512, AVX2) and the portable Swift SIMD code.
import _EcomTensorKernels
#if canImport(Glibc)
import Glibc
#endif

/// The C kernels (compiled for AVX2/FMA/F16C or AVX-512 function by function, so the package still builds for
/// baseline x86-64) and the switch between them and the Swift SIMD code.
///
/// The `.simd` path of layer norm, RMSNorm, softmax, GELU, SwiGLU, the half-precision conversions and
/// ``HalfMatmulKernel`` runs the C kernels of the ``activePath`` (decided once from cpuid: AVX-512 where the CPU has
/// AVX-512 F/BW/VL/DQ, else AVX2 where it has AVX2/FMA/F16C), otherwise the pure-Swift SIMD code, which works
/// everywhere. The environment variable `ECOM_TENSOR_NATIVE` caps the choice for a process: `0` (or `swift-simd`)
/// turns the C kernels off, `avx2` keeps them at AVX2.
public enum NativeKernels {
    /// An implementation of the `.simd` kernels.
    public enum Path: String, CaseIterable, Sendable {
        /// The portable Swift SIMD code.
        case swiftSIMD = "swift-simd"
        /// The AVX2/FMA/F16C C kernels.
        case avx2
        /// The 16-lane C kernels compiled for AVX-512 F/BW/VL/DQ.
        case avx512
        /// The AVX-512 path's 16-lane source compiled for AVX2: runs on any AVX2 CPU, so that the AVX-512 code's logic
        /// is tested there too. Never chosen automatically.
        case avx2Lanes16 = "avx2-16lane"

        /// The C table's path number, nil for Swift SIMD.
        var tableIndex: Int32? {
            switch self {
            case .swiftSIMD: nil
            case .avx2: 0
            case .avx512: 1
            case .avx2Lanes16: 2
            }
        }
    }

    /// Whether this CPU (and OS) support AVX2, FMA and F16C.
    public static let isSupported: Bool = ecom_kernels_available() != 0

    /// The CPU features detected (e.g. "avx avx2 fma f16c"), for reports.
    public static let cpuFeatures: String = String(cString: ecom_kernels_cpu_features())

    /// Whether this CPU can run `path`.
    public static func canRun(_ path: Path) -> Bool {
        guard let i = path.tableIndex else { return true }
        return ecom_kernels_table(i) != nil
    }

    /// The paths this CPU can run, Swift SIMD first.
    public static var runnablePaths: [Path] { Path.allCases.filter(canRun) }

    /// The fastest path this CPU runs, within the cap of `ECOM_TENSOR_NATIVE` (`0`/`swift-simd`, `avx2`).
    public static let bestPath: Path = {
        let cap = getenv("ECOM_TENSOR_NATIVE").map { String(cString: $0) }
        if cap == "0" || cap == "swift-simd" { return .swiftSIMD }
        if cap != "avx2" && canRun(.avx512) { return .avx512 }
        return canRun(.avx2) ? .avx2 : .swiftSIMD
    }()

    /// A per-task switch, e.g. for tests and benchmarks of the Swift SIMD fallback:
    /// `NativeKernels.$isEnabled.withValue(false) { ... }` runs the Swift SIMD code. Read on the calling task
    /// (before work fans out to threads).
    @TaskLocal public static var isEnabled: Bool = true

    /// A per-task choice of path (tests and benchmarks): `NativeKernels.$pathOverride.withValue(.avx2) { ... }`.
    /// The path must be runnable (``canRun(_:)``). Wins over ``isEnabled``.
    @TaskLocal public static var pathOverride: Path?

    /// The path the `.simd` kernels take now.
    public static var activePath: Path {
        if let p = pathOverride {
            precondition(canRun(p), "the \(p.rawValue) kernels cannot run on this CPU (features: \(cpuFeatures))")
            return p
        }
        return isEnabled ? bestPath : .swiftSIMD
    }

    /// The C kernels of the active path, nil when the Swift SIMD code runs.
    static var active: UnsafePointer<ecom_kernel_table>? {
        guard let i = activePath.tableIndex else { return nil }
        return ecom_kernels_table(i)
    }

    /// Outputs of at least this many bytes (GELU, layer norm and softmax forward) are written with non-temporal
    /// stores: an output that large will not stay in cache for the next operation anyway, and streaming it skips the
    /// read-for-ownership of every cache line (a third of the memory traffic of a read-one-write-one kernel).
    public static let streamingStoreBytes = 8 << 20

    /// Whether an output of `count` floats is written with streaming stores.
    @inline(__always) static func streams(_ count: Int) -> Int32 { count * 4 >= streamingStoreBytes ? 1 : 0 }

    /// True when the `.simd` path runs C kernels now (any of them; the quantized kernels are AVX2 on every C path).
    public static var isActive: Bool { activePath != .swiftSIMD }

    /// The name of the `.simd` path that runs now: "avx512", "avx2", "avx2-16lane" or "swift-simd".
    public static var activePathName: String { activePath.rawValue }

    /// e^x over a buffer with the exp kernel that softmax, GELU and SwiGLU use on the active C path (exposed for its
    /// accuracy test). Requires a C path. Maximum relative error about 1e-7 (measured 8.5e-8) for normal results;
    /// subnormal results within one subnormal ulp.
    public static func exp(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        guard let k = active else { preconditionFailure("the exp kernel needs a C path (this CPU: \(cpuFeatures))") }
        k.pointee.exp(x, out, count)
    }
}

// Run-time choice between the AVX2/FMA/F16C C kernels (_EcomTensorKernels) and the portable Swift SIMD code.
import _EcomTensorKernels
#if canImport(Glibc)
import Glibc
#endif

/// The AVX2 + FMA + F16C kernels (written in C, compiled for those features function by function, so the package
/// still builds for baseline x86-64) and the switch between them and the Swift SIMD code.
///
/// The `.simd` path of layer norm, softmax, GELU, the half-precision conversions and ``HalfMatmulKernel`` runs the C
/// kernels when ``isSupported`` (decided once from cpuid) and ``isEnabled``; otherwise the pure-Swift SIMD code, which
/// works everywhere. Set the environment variable `ECOM_TENSOR_NATIVE=0` to turn the C kernels off for a process.
public enum NativeKernels {
    /// Whether this CPU (and OS) support AVX2, FMA and F16C.
    public static let isSupported: Bool = ecom_kernels_available() != 0

    /// The CPU features detected (e.g. "avx avx2 fma f16c"), for reports.
    public static let cpuFeatures: String = String(cString: ecom_kernels_cpu_features())

    /// Default for ``isEnabled``: on, unless `ECOM_TENSOR_NATIVE=0`.
    static let enabledByEnvironment: Bool = {
        guard let v = getenv("ECOM_TENSOR_NATIVE") else { return true }
        return String(cString: v) != "0"
    }()

    /// A per-task switch, e.g. for tests and benchmarks of the Swift SIMD fallback:
    /// `NativeKernels.$isEnabled.withValue(false) { ... }`. Read on the calling task (before work fans out to threads).
    @TaskLocal public static var isEnabled: Bool = enabledByEnvironment

    /// Outputs of at least this many bytes (GELU, layer norm and softmax forward) are written with non-temporal
    /// stores: an output that large will not stay in cache for the next operation anyway, and streaming it skips the
    /// read-for-ownership of every cache line (a third of the memory traffic of a read-one-write-one kernel).
    public static let streamingStoreBytes = 8 << 20

    /// Whether an output of `count` floats is written with streaming stores.
    @inline(__always) static func streams(_ count: Int) -> Int32 { count * 4 >= streamingStoreBytes ? 1 : 0 }

    /// True when the `.simd` path runs the C kernels now.
    public static var isActive: Bool { isSupported && isEnabled }

    /// The name of the `.simd` path that runs now: "avx2" (the C kernels) or "swift-simd".
    public static var activePathName: String { isActive ? "avx2" : "swift-simd" }

    /// e^x over a buffer with the AVX2 kernel that softmax and GELU use (exposed for its accuracy test). Requires
    /// ``isSupported``. Maximum relative error about 1e-7 (measured 8.5e-8) for normal results; subnormal results within one subnormal ulp.
    public static func exp(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        precondition(isSupported, "the AVX2 kernels need a CPU with AVX2, FMA and F16C")
        ecom_exp_f32(x, out, count)
    }
}

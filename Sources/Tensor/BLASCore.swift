// Choosing OpenBLAS's kernels on CPUs its build does not recognise. Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its
// kernels by CPU model; on newer CPUs (an Intel Xeon of family 6 model 207, say) it falls back to the generic
// `Prescott` kernels and runs sgemm 3-5x slower, although the CPU has AVX-512. Setting `OPENBLAS_CORETYPE` before the
// library initialises selects the right kernels; this file decides which, from the CPU's features.
import COpenBLAS
import Foundation

/// OpenBLAS core-type selection (a pure decision, plus the process-level helpers that apply it).
public enum BLASCore {
    /// Core names OpenBLAS reports when it falls back to kernels without AVX (generic or pre-AVX cores).
    public static let genericCores: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine", "northwood", "banias",
        "opteron", "opteron_sse3", "barcelona", "bobcat", "nano", "unknown", "generic",
    ]

    /// The `OPENBLAS_CORETYPE` to run with, or nil to leave OpenBLAS's choice alone.
    ///
    /// Only a generic core is overridden (a recognised core such as `Zen` or `Haswell` is OpenBLAS's own, better
    /// informed choice). The replacement is the best kernel family the CPU's features support: AVX-512 F, BW, VL, DQ
    /// and CD → `SkylakeX`, plus AVX512_BF16 → `Cooperlake` (measured about 7% faster than SkylakeX on such a CPU);
    /// AVX2 and FMA → `Haswell`; AVX → `Sandybridge`. `features` are cpuid names as ``NativeKernels/cpuFeatures``
    /// spells them (each only when the OS saves the registers too).
    public static func recommendedCoreType(features: Set<String>, reportedCore: String) -> String? {
        guard genericCores.contains(reportedCore.lowercased()) else { return nil }
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(features.contains) {
            return features.contains("avx512bf16") ? "Cooperlake" : "SkylakeX"
        }
        if features.contains("avx2") && features.contains("fma") { return "Haswell" }
        if features.contains("avx") { return "Sandybridge" }
        return nil
    }

    /// The core OpenBLAS runs (`openblas_get_corename()`), e.g. "Zen", "Haswell", "Prescott".
    public static var reportedCore: String { String(cString: openblas_get_corename()) }

    /// This CPU's features (cpuid, as the kernels see them).
    public static var features: Set<String> { Set(NativeKernels.cpuFeatures.split(separator: " ").map(String.init)) }

    /// The recommendation for this process, nil when `OPENBLAS_CORETYPE` is already set (a user's choice wins).
    public static var recommendationForThisProcess: String? {
        if let set = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !set.isEmpty { return nil }
        return recommendedCoreType(features: features, reportedCore: reportedCore)
    }

    /// For command-line tools, first thing in `main`: when OpenBLAS runs generic kernels on a CPU that supports
    /// better ones (and `OPENBLAS_CORETYPE` is not set), sets it, says so once on standard error, and re-executes the
    /// program so that OpenBLAS initialises with it. Returns (doing nothing) otherwise or when re-executing fails.
    public static func reexecWithBetterCoreIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard env["ECOM_BLAS_REEXEC"] == nil, let core = recommendationForThisProcess else { return }
        FileHandle.standardError.write(Data(("ecom: OpenBLAS chose its generic '\(reportedCore)' kernels on this CPU; "
            + "running with OPENBLAS_CORETYPE=\(core) (set OPENBLAS_CORETYPE yourself to choose)\n").utf8))
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("ECOM_BLAS_REEXEC", "1", 1)
        let args = CommandLine.arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cArgs.append(nil)
        execv("/proc/self/exe", &cArgs)
        for a in cArgs { free(a) }  // only reached when execv failed: carry on with the generic kernels
    }

    /// A one-time warning for programs that import the libraries (they cannot be re-executed for them).
    static let warnOnce: Void = {
        guard ProcessInfo.processInfo.environment["ECOM_BLAS_REEXEC"] == nil, let core = recommendationForThisProcess else { return }
        FileHandle.standardError.write(Data(("EcomTensor: OpenBLAS runs its generic '\(reportedCore)' kernels on this CPU "
            + "(3-5x slower matrix products); start the program with OPENBLAS_CORETYPE=\(core) set\n").utf8))
    }()
}

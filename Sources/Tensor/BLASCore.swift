// Choosing OpenBLAS's kernels on CPUs its build does not recognise. Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its
// kernels by CPU model; on newer CPUs (an Intel Xeon of family 6 model 207, say) it falls back to the generic
// `Prescott` kernels and runs sgemm 3-5x slower, although the CPU has AVX-512. Setting `OPENBLAS_CORETYPE` before the
// library initialises selects the right kernels; this file decides which, from the CPU's features. The reverse also
// happens: an environment that sets `OPENBLAS_CORETYPE=Haswell` for every process (seen on an AMD EPYC of family 26
// with AVX-512, where OpenBLAS on its own picks `Cooperlake`) halves sgemm; that setting is kept, with a warning.
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

    /// Core names of OpenBLAS's AVX and AVX2 kernel families.
    public static let avx2Cores: Set<String> = ["sandybridge", "haswell", "zen"]

    /// When `OPENBLAS_CORETYPE` is set to `setCore` (which OpenBLAS then runs, and which the tools keep: a user's
    /// setting wins), the stronger kernel family this CPU supports, or nil when the setting is as good as the CPU
    /// allows or unknown here. A generic setting is weaker than any AVX family the CPU has; an AVX/AVX2 family
    /// (`Sandybridge`, `Haswell`, `Zen`) is weaker than `SkylakeX`/`Cooperlake` on a CPU with AVX-512 F, BW, VL, DQ and
    /// CD (sgemm measured 1.8-1.9x faster with `Cooperlake` than with `Haswell` on an AMD EPYC Zen 5, 2 cores).
    public static func strongerCoreType(features: Set<String>, setCore: String) -> String? {
        let core = setCore.lowercased()
        guard let best = recommendedCoreType(features: features, reportedCore: "generic") else { return nil }
        if genericCores.contains(core) { return best }
        if avx2Cores.contains(core), best == "SkylakeX" || best == "Cooperlake" { return best }
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
    /// program so that OpenBLAS initialises with it. Otherwise returns, after the one-time warning when the
    /// environment's own `OPENBLAS_CORETYPE` is weaker than the CPU supports (``weakSettingWarning``); also when
    /// re-executing fails.
    public static func reexecWithBetterCoreIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard env["ECOM_BLAS_REEXEC"] == nil, let core = recommendationForThisProcess else {
            warnOnce
            return
        }
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

    /// The warning for a set `OPENBLAS_CORETYPE` weaker than this CPU supports (``strongerCoreType(features:setCore:)``),
    /// nil when there is none to give (not set, set by the tools' own re-execution, or as good as the CPU allows).
    public static var weakSettingWarning: String? {
        let env = ProcessInfo.processInfo.environment
        guard env["ECOM_BLAS_REEXEC"] == nil, let set = env["OPENBLAS_CORETYPE"], !set.isEmpty,
              let better = strongerCoreType(features: features, setCore: set) else { return nil }
        let meanwhile = OneDNN.sgemmLibrary.map { "; meanwhile large Float32 products run on oneDNN (\($0.library))" } ?? ""
        return "ecom: OPENBLAS_CORETYPE=\(set) is set in the environment and kept, but this CPU supports OpenBLAS's "
            + "\(better) kernels (up to 2x faster matrix products): unset OPENBLAS_CORETYPE, or set it to \(better)\(meanwhile)\n"
    }

    /// A one-time warning for programs that import the libraries (they cannot be re-executed for them), and for the
    /// tools when the environment sets a core weaker than the CPU supports.
    static let warnOnce: Void = {
        if let warning = weakSettingWarning {
            FileHandle.standardError.write(Data(warning.utf8))
            return
        }
        guard ProcessInfo.processInfo.environment["ECOM_BLAS_REEXEC"] == nil, let core = recommendationForThisProcess else { return }
        FileHandle.standardError.write(Data(("EcomTensor: OpenBLAS runs its generic '\(reportedCore)' kernels on this CPU "
            + "(3-5x slower matrix products); start the program with OPENBLAS_CORETYPE=\(core) set\n").utf8))
    }()
}

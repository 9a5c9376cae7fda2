// OpenBLAS core-type selection: the decision table (generic cores replaced by the best family the CPU supports;
// recognised cores left alone) and this machine's answer.
import EcomTensor
import Foundation
import Testing

@Suite struct BLASCoreTests {
    static let avx512 = Set(["avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"])

    @Test(arguments: [
        // The measured case: Intel Xeon (family 6, model 207) with AVX-512 and AVX512_BF16, reported as Prescott.
        ("Prescott", avx512.union(["avx512bf16", "avx512vnni"]), "Cooperlake"),
        ("Prescott", avx512, "SkylakeX"),
        ("prescott", avx512, "SkylakeX"),
        ("Nehalem", Set(["avx", "avx2", "fma", "f16c"]), "Haswell"),
        ("Core2", Set(["avx"]), "Sandybridge"),
        // AVX-512 without DQ/CD is not what SkylakeX's kernels assume: the AVX2 family instead.
        ("Prescott", Set(["avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl"]), "Haswell"),
    ] as [(String, Set<String>, String)])
    func genericCoresGetTheBestSupportedFamily(_ core: String, _ features: Set<String>, _ expected: String) {
        #expect(BLASCore.recommendedCoreType(features: features, reportedCore: core) == expected)
    }

    @Test func recognisedCoresAndOldCPUsAreLeftAlone() {
        #expect(BLASCore.recommendedCoreType(features: Self.avx512, reportedCore: "Zen") == nil)
        #expect(BLASCore.recommendedCoreType(features: Self.avx512, reportedCore: "SkylakeX") == nil)
        #expect(BLASCore.recommendedCoreType(features: ["avx", "avx2", "fma"], reportedCore: "Haswell") == nil)
        #expect(BLASCore.recommendedCoreType(features: ["sse4_2"], reportedCore: "Prescott") == nil)
    }

    @Test(arguments: [
        // The measured case: AMD EPYC of family 26 (Zen 5, AVX-512, AVX512_BF16) in an environment that sets Haswell.
        ("Haswell", avx512.union(["avx512bf16", "avx512vnni"]), "Cooperlake"),
        ("zen", avx512, "SkylakeX"),
        ("Sandybridge", avx512, "SkylakeX"),
        ("Prescott", Set(["avx", "avx2", "fma"]), "Haswell"),
    ] as [(String, Set<String>, String)])
    func weakSettingsNameTheStrongerFamily(_ set: String, _ features: Set<String>, _ expected: String) {
        #expect(BLASCore.strongerCoreType(features: features, setCore: set) == expected)
    }

    @Test func settingsAsGoodAsTheCPUAllowsGetNoWarning() {
        #expect(BLASCore.strongerCoreType(features: ["avx", "avx2", "fma"], setCore: "Haswell") == nil)
        #expect(BLASCore.strongerCoreType(features: Self.avx512, setCore: "SkylakeX") == nil)
        #expect(BLASCore.strongerCoreType(features: Self.avx512.union(["avx512bf16"]), setCore: "SkylakeX") == nil)
        #expect(BLASCore.strongerCoreType(features: Self.avx512, setCore: "Cooperlake") == nil)
        #expect(BLASCore.strongerCoreType(features: Self.avx512, setCore: "SapphireRapids") == nil)
        // AVX-512 without DQ/CD is not SkylakeX's: an AVX2 family is the best there.
        #expect(BLASCore.strongerCoreType(features: ["avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl"],
                                          setCore: "Zen") == nil)
        #expect(BLASCore.strongerCoreType(features: ["sse4_2"], setCore: "Prescott") == nil)
    }

    /// On this machine the answer follows from what OpenBLAS reports and what cpuid says (printed for the log).
    @Test func thisMachinesDecisionIsConsistent() {
        let core = BLASCore.reportedCore, features = BLASCore.features
        print("BLASCore: OpenBLAS reports '\(core)'; CPU features \(features.sorted().joined(separator: " "))")
        #expect(!core.isEmpty)
        let decision = BLASCore.recommendedCoreType(features: features, reportedCore: core)
        if !BLASCore.genericCores.contains(core.lowercased()) { #expect(decision == nil) }
        if let set = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !set.isEmpty {
            print("BLASCore: OPENBLAS_CORETYPE=\(set) is set; stronger family: "
                + (BLASCore.strongerCoreType(features: features, setCore: set) ?? "none"))
            #expect(BLASCore.recommendationForThisProcess == nil)  // the environment's setting wins
            #expect((BLASCore.weakSettingWarning != nil)
                == (BLASCore.strongerCoreType(features: features, setCore: set) != nil
                    && ProcessInfo.processInfo.environment["ECOM_BLAS_REEXEC"] == nil))
        }
    }
}

// `ecom-model system-info`: what the tools run on here (CPU, kernel path, OpenBLAS core, threads), as JSON.
import ArgumentParser
import EcomTensor
import Foundation

struct SystemInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system-info",
        abstract: "Print this machine's CPU, the kernel path and OpenBLAS core the tools use, and the thread count (JSON).",
        discussion: """
            Keys: cpu (model name), cpu_features (as the kernels detect them), path (the kernels of the element-wise \
            and 16-bit operations: avx512, avx2 or swift-simd), paths (every path this CPU runs), blas_core (the core \
            OpenBLAS runs, after the tools' own choice: see Docs/PERFORMANCE.md), openblas_coretype (the variable as \
            set, by you or by the tools), threads (the processors this process may use), bf16 (the bf16 compute \
            backend, or "none: " and why). Benchmarks put the same facts on every row (EcomTensor's MachineFacts).
            """)

    func run() throws {
        let data = try JSONSerialization.data(withJSONObject: MachineFacts.current, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

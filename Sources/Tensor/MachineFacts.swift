// What this process runs on, for reports: `ecom-model system-info` prints it and every benchmark row carries it.
import Foundation

/// The machine and the kernels this process uses, as JSON-ready values.
public enum MachineFacts {
    /// The CPU's model name as the operating system gives it (/proc/cpuinfo's first "model name"), or "unknown".
    public static let cpuModel: String = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }()

    /// `cpu` (model name), `cpu_features` (as the kernels detect them), `path` (the kernels of the element-wise and
    /// 16-bit operations now: avx512, avx2 or swift-simd), `paths` (every path this CPU runs), `blas_core` (the core
    /// OpenBLAS runs, after the tools' own choice, ``BLASCore``), `openblas_coretype` (the variable as set, or null),
    /// `threads` (``ComputeThreads/count``), `bf16` (the bf16 compute backend, e.g. "onednn libdnnl.so.2", or "none: "
    /// and why), `sgemm` (the library of large Float32 products, ``SgemmBackend``: "onednn libdnnl.so.2", or
    /// "openblas (why)").
    public static var current: [String: Any] {
        [
            "cpu": cpuModel, "cpu_features": NativeKernels.cpuFeatures, "path": NativeKernels.activePathName,
            "paths": NativeKernels.runnablePaths.map(\.rawValue), "blas_core": BLASCore.reportedCore,
            "openblas_coretype": ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? NSNull(),
            "threads": ComputeThreads.count,
            "bf16": OneDNN.shared.map { "onednn \($0.library)" } ?? "none: \(BF16Matmul.unavailableReason)",
            "sgemm": OneDNN.sgemmLibrary.flatMap { SgemmBackend.processDefault == .onednn ? "onednn \($0.library)" : nil }
                ?? (SgemmBackend.openBLASReason.isEmpty ? "openblas" : "openblas (\(SgemmBackend.openBLASReason))"),
        ]
    }
}

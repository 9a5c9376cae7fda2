// swift-tools-version: 6.0
// Ecom's benchmarks: a package apart from the library so that `swift test` never builds or runs them.
// Built in release by scripts/bench.sh; each benchmark is an executable `bench-<name>` that prints JSON Lines
// of our measurements, which scripts/bench/combine.py joins with the reference's measurements from the same run.
import PackageDescription

let package = Package(
    name: "EcomBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Ecom", path: "..")],
    targets: [
        .target(
            name: "BenchSupport", dependencies: [.product(name: "EcomTensor", package: "Ecom")], path: "Sources/BenchSupport"),
        .target(
            name: "BenchModelSupport", dependencies: ["BenchSupport", .product(name: "EcomModel", package: "Ecom")],
            path: "Sources/BenchModelSupport"),
        // Benchmarks (one executable per library, added with each issue):
        .executableTarget(
            name: "bench-data", dependencies: ["BenchSupport", .product(name: "EcomInstruct", package: "Ecom")],
            path: "Sources/bench-data"),
        .executableTarget(
            name: "bench-metrics",
            dependencies: ["BenchSupport", .product(name: "EcomMetrics", package: "Ecom")],
            path: "Sources/bench-metrics"),
        .executableTarget(
            name: "bench-model", dependencies: ["BenchSupport", "BenchModelSupport", .product(name: "EcomModel", package: "Ecom")],
            path: "Sources/bench-model"),
        .executableTarget(
            name: "bench-llama", dependencies: ["BenchSupport", "BenchModelSupport", .product(name: "EcomModel", package: "Ecom")],
            path: "Sources/bench-llama"),
        .executableTarget(
            name: "bench-train", dependencies: ["BenchSupport", .product(name: "EcomModel", package: "Ecom")],
            path: "Sources/bench-train"),
        .executableTarget(
            name: "bench-tune", dependencies: ["BenchSupport", .product(name: "EcomModel", package: "Ecom"), .product(name: "EcomTensor", package: "Ecom")],
            path: "Sources/bench-tune"),
        .executableTarget(
            name: "bench-quant", dependencies: ["BenchSupport", .product(name: "EcomTensor", package: "Ecom")],
            path: "Sources/bench-quant"),
        .executableTarget(
            name: "bench-tensor", dependencies: ["BenchSupport", .product(name: "EcomTensor", package: "Ecom")],
            path: "Sources/bench-tensor"),
        .executableTarget(
            name: "bench-tokenizer", dependencies: ["BenchSupport", .product(name: "EcomTokenizer", package: "Ecom")],
            path: "Sources/bench-tokenizer"),
    ]
)

// swift-tools-version:6.0
// libFuzzer targets for Ecom's parsers: a package of its own (beside the main one, which it imports by path) because
// every module here is built with `-sanitize=fuzzer,address -parse-as-library`, flags the main build must not get.
// Build and run them with `scripts/fuzz.sh [TARGET] [SECONDS]`; Docs/RELIABILITY.md records what they found.
import PackageDescription

let targets = ["safetensors", "gguf", "model", "tokenizer", "shard", "jsonl", "request"]

let package = Package(
    name: "EcomFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Ecom", path: "../..")],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
    ] + targets.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: ["FuzzSupport",
                           .product(name: "EcomModel", package: "Ecom"), .product(name: "EcomTokenizer", package: "Ecom"),
                           .product(name: "EcomInstruct", package: "Ecom"), .product(name: "EcomMetrics", package: "Ecom"),
                           .product(name: "EcomLoader", package: "Ecom"), .product(name: "EcomOpenAI", package: "Ecom"),
                           .product(name: "EcomServe", package: "Ecom"), .product(name: "EcomDistill", package: "Ecom"),
                           .product(name: "EcomEval", package: "Ecom")],
            path: "Sources/fuzz-\(name)")
    }
)

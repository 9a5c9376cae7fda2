// swift-tools-version: 6.0
// Ecom: domain instruction tuning of small language models on the CPU (EcomGPT and UniversalNER, rebuilt in Swift).
//
// Module names carry an `Ecom` prefix so that no module shares its name with its main type
// (`EcomTensor.Tensor`, `EcomTokenizer.Tokenizer`); the directories follow the design card (Sources/Tensor, ...).
import PackageDescription

let package = Package(
    name: "Ecom",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "EcomTokenizer", targets: ["EcomTokenizer"]),
        .library(name: "EcomTensor", targets: ["EcomTensor"]),
        .library(name: "EcomModel", targets: ["EcomModel"]),
        .library(name: "EcomTrainer", targets: ["EcomTrainer"]),
        .library(name: "EcomInstruct", targets: ["EcomInstruct"]),
        .library(name: "EcomMetrics", targets: ["EcomMetrics"]),
        .library(name: "EcomEval", targets: ["EcomEval"]),
        .library(name: "EcomLoader", targets: ["EcomLoader"]),
        .library(name: "EcomOpenAI", targets: ["EcomOpenAI"]),
        .library(name: "EcomDistill", targets: ["EcomDistill"]),
        .library(name: "EcomServe", targets: ["EcomServe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // System libraries (Debian: libopenblas-dev, libzstd-dev; installed by scripts/setup.sh).
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),

        // Libraries: each its own product, with the fewest dependencies it can have.
        .target(name: "EcomTokenizer", path: "Sources/Tokenizer"),
        .target(name: "EcomMetrics", path: "Sources/Metrics"),
        .target(name: "EcomTensor", dependencies: ["COpenBLAS", "_EcomTensorKernels"], path: "Sources/Tensor"),
        // EcomTensor's AVX2/FMA/F16C kernels in C (per-function target attributes, chosen at run time; internal).
        .target(name: "_EcomTensorKernels", path: "Sources/TensorKernels"),
        .target(name: "EcomModel", dependencies: ["EcomTensor"], path: "Sources/Model"),
        // The trainer: streams Instruct's packed shards into EcomModel's training step (kept apart so that EcomModel
        // needs nothing but EcomTensor).
        .target(name: "EcomTrainer", dependencies: ["EcomModel", "EcomInstruct"], path: "Sources/Trainer"),
        .target(
            name: "EcomInstruct", dependencies: ["EcomTokenizer", "CZstd"], path: "Sources/Instruct",
            resources: [.copy("Resources/raw_sample.jsonl")]),
        // A model with its tokenizer and chat template (HF directory or GGUF), and the GGUF import: the one library
        // on both EcomModel and EcomTokenizer, so that neither depends on the other.
        .target(name: "EcomLoader", dependencies: ["EcomModel", "EcomTokenizer"], path: "Sources/Loader"),
        // The evaluation harness needs the model, the prompts, the tokenizer and the metrics: the one library on all of them.
        .target(
            name: "EcomEval", dependencies: ["EcomModel", "EcomLoader", "EcomInstruct", "EcomMetrics", "EcomTokenizer", "EcomTensor", "EcomOpenAI"],
            path: "Sources/Eval"),

        // OpenAI's HTTP API (chat/completions, completions, models): request and response types, errors, server-sent
        // events and a retrying client; Foundation only (FoundationNetworking on Linux).
        .target(name: "EcomOpenAI", path: "Sources/OpenAI"),
        // UniversalNER's targeted distillation: passages → teacher answers (EcomOpenAI) → `.uniner` records (EcomInstruct).
        .target(name: "EcomDistill", dependencies: ["EcomOpenAI", "EcomInstruct", "EcomTokenizer"], path: "Sources/Distill"),

        // The OpenAI-compatible service (continuous batching, the API's routes) without sockets; Hummingbird only in
        // the ecom-serve tool.
        .target(name: "EcomServe", dependencies: ["EcomOpenAI", "EcomModel", "EcomLoader", "EcomTokenizer"], path: "Sources/Serve"),

        // Tools: thin @main commands composing the libraries; EcomToolSupport holds their shared input/output code.
        .target(
            name: "EcomToolSupport",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/Support"),
        .executableTarget(
            name: "ecom-data",
            dependencies: ["EcomInstruct", "EcomTokenizer", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/ecom-data"),
        .executableTarget(
            name: "ecom-model",
            dependencies: ["EcomToolSupport", "EcomModel", "EcomTensor", "EcomLoader", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/ecom-model"),
        .executableTarget(
            name: "ecom-train",
            dependencies: ["EcomTrainer", "EcomTensor", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/ecom-train"),
        .executableTarget(
            name: "ecom-generate",
            dependencies: ["EcomToolSupport", "EcomModel", "EcomTensor", "EcomLoader", "EcomTokenizer", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/ecom-generate"),
        .executableTarget(
            name: "ecom-eval",
            dependencies: ["EcomEval", "EcomInstruct", "EcomLoader", "EcomModel", "EcomTensor", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/ecom-eval"),
        .executableTarget(
            name: "ecom-distill",
            dependencies: ["EcomDistill", "EcomOpenAI", "EcomInstruct", "EcomTokenizer", "EcomLoader", "EcomModel",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/ecom-distill"),
        .executableTarget(
            name: "ecom-serve",
            dependencies: ["EcomServe", "EcomOpenAI", "EcomLoader", "EcomTensor", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/ecom-serve"),
        .executableTarget(
            name: "ecom-metrics",
            dependencies: ["EcomToolSupport", "EcomMetrics", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/ecom-metrics"),
        .executableTarget(
            name: "ecom-tokenizer",
            dependencies: ["EcomToolSupport", "EcomTokenizer", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/ecom-tokenizer"),

        // Tests: one target per library (added with each library's issue), plus shared test support (approximate equality, fixtures, shared data).
        .target(name: "EcomTestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "TokenizerTests", dependencies: ["EcomTokenizer", "EcomTestSupport"],
            path: "Tests/TokenizerTests"),
        .testTarget(
            name: "TensorTests", dependencies: ["EcomTensor", "COpenBLAS", "EcomTestSupport"],
            path: "Tests/TensorTests"),
        .testTarget(
            name: "ModelTests", dependencies: ["EcomModel", "EcomLoader", "EcomTokenizer", "EcomTestSupport"], path: "Tests/ModelTests"),
        .testTarget(
            name: "MetricsTests", dependencies: ["EcomMetrics", "EcomTestSupport"], path: "Tests/MetricsTests"),
        .testTarget(
            name: "TrainingTests", dependencies: ["EcomModel", "EcomTrainer", "EcomInstruct", "EcomTestSupport"], path: "Tests/TrainingTests"),
        .testTarget(
            name: "InstructTests", dependencies: ["EcomInstruct", "CZstd", "EcomTestSupport"],
            path: "Tests/InstructTests"),
        .testTarget(
            name: "EvalTests", dependencies: ["EcomEval", "EcomModel", "EcomInstruct", "EcomMetrics", "EcomTokenizer", "EcomOpenAI", "EcomTestSupport"],
            path: "Tests/EvalTests"),
        .testTarget(
            name: "DistillTests", dependencies: ["EcomDistill", "EcomOpenAI", "EcomInstruct", "EcomTokenizer", "EcomTestSupport"],
            path: "Tests/DistillTests"),
        .testTarget(
            name: "ServeTests", dependencies: ["EcomServe", "EcomOpenAI", "EcomLoader", "EcomModel", "EcomTokenizer", "EcomTestSupport"],
            path: "Tests/ServeTests"),
    ]
)

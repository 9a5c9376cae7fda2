// `ecom-model merge-lora`: a base model (HF directory of BLOOM or Llama, or a Llama .gguf) with a PEFT LoRA adapter
// merged in (PEFT's merge_and_unload), written as an HF directory that loads without the adapter.
import EcomModel
import Foundation

public enum LoRAMerge {
    /// What a merge wrote.
    public struct Summary: Sendable {
        public var directory: URL
        /// File names written into `directory`.
        public var files: [String]
        public var architecture: String
        public var parameters: Int
        /// Modules whose weight received an adapter.
        public var mergedModules: Int
    }

    /// Files copied from a base directory when present (tokenizer and chat template; llama's generation config is
    /// written from its configuration instead).
    static let copiedFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"]

    /// Merges the adapter in `lora` into `base` and writes `directory` (created; existing files replaced, each
    /// atomically): config.json and model.safetensors (tensors in `dtype`; BLOOM only in f32), with
    /// generation_config.json and the tokenizer files: copied from a base directory, rebuilt from a GGUF's
    /// vocabulary as `import-gguf` does. Weights are read and merged in Float32. Errors name the file at fault.
    public static func run(base: URL, lora: URL, to directory: URL, dtype: CheckpointDType = .f32) throws -> Summary {
        if directory.standardizedFileURL.resolvingSymlinksInPath().path == base.standardizedFileURL.resolvingSymlinksInPath().path {
            throw ConfigurationError(file: directory.path, message: "the output directory is the base model's; choose another")
        }
        let isGGUF = ModelLoader.isGGUF(base)
        // BLOOM checkpoints are written in f32 only: refuse before the work.
        if !isGGUF, dtype != .f32, FileManager.default.fileExists(atPath: base.appendingPathComponent("config.json").path),
           try (ConfigurationFile.modelType(directory: base) ?? "bloom") == "bloom" {
            throw bloomDType(base, dtype)
        }
        let adapter = try ModelLoader.loadAdapter(lora)
        let gguf = isGGUF ? try GGUFFile(url: base) : nil
        let model = try gguf.map { try ModelLoader.load(gguf: $0, precision: .float32) } ?? ModelLoader.load(base, precision: .float32)
        let merged = try ModelLoader.merging(adapter, directory: lora, into: model)

        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var files = ["config.json", "model.safetensors"]
        switch merged {
        case let m as LlamaModel:
            try HFDirectoryWriter.write(m.configuration, m.weights, dtype: dtype, to: directory)
            files.append("generation_config.json")
        case let m as BloomModel:
            guard dtype == .f32 else { throw bloomDType(base, dtype) }
            let layout = BloomParameterLayout(m.configuration)
            try layout.save(layout.flatten(m.weights), to: directory)
        default:
            throw ConfigurationError(file: base.path, message: "merge-lora writes bloom and llama models, not \(merged.architecture)")
        }
        if let gguf {
            files += try GGUFImport.writeTokenizerFiles(gguf, to: directory)
        } else {
            let names = copiedFiles + (merged is BloomModel ? ["generation_config.json"] : [])
            for name in names {
                let source = base.appendingPathComponent(name)
                guard let data = FileManager.default.contents(atPath: source.path) else { continue }
                try AtomicFile.write(data, to: directory.appendingPathComponent(name))
                files.append(name)
            }
        }
        return Summary(directory: directory, files: files, architecture: merged.architecture, parameters: merged.parameterCount,
                       mergedModules: adapter.tensors.count / 2)
    }

    private static func bloomDType(_ base: URL, _ dtype: CheckpointDType) -> ConfigurationError {
        ConfigurationError(file: base.path, message: "a BLOOM model is written in f32 only (got --dtype \(dtype.rawValue)); use --dtype f32")
    }
}

// The one place that maps an architecture name to a model type: HF directories by config.json's `model_type`
// (or `architectures`), GGUF files by `general.architecture`.
import Foundation

/// Loads any supported causal language model from an HF directory or a `.gguf` file.
public enum ModelLoader {
    /// Architectures Ecom runs.
    public static let architectures = ["bloom", "llama"]

    /// The model of an opened GGUF file (`precision` nil: the file's blocks kept).
    public static func load(gguf file: GGUFFile, precision: WeightPrecision? = nil) throws -> any CausalLanguageModel {
        let arch = file.metadata["general.architecture"]?.string ?? "missing"
        switch arch {
        case "llama":
            let config = try LlamaConfiguration(gguf: file)
            return LlamaModel(configuration: config, weights: try LlamaWeights.load(gguf: file, configuration: config, precision: precision ?? .native))
        default:
            throw GGUFError(file: file.path, subject: "metadata 'general.architecture'",
                            "architecture '\(arch)' is not supported (Ecom runs: \(architectures.joined(separator: ", ")))")
        }
    }

    /// True when `path` names a GGUF file (by its extension).
    public static func isGGUF(_ url: URL) -> Bool { url.pathExtension.lowercased() == "gguf" }

    /// Loads `url`: a directory (config.json + safetensors) or a `.gguf` file. `precision` nil means the
    /// architecture's default: Float32 for directories, `.native` (blocks kept) for GGUF.
    public static func load(_ url: URL, precision: WeightPrecision? = nil) throws -> any CausalLanguageModel {
        if isGGUF(url) { return try load(gguf: GGUFFile(url: url), precision: precision) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ConfigurationError(file: url.path, message: "no such model directory or file")
        }
        guard isDirectory.boolValue else {
            throw ConfigurationError(file: url.path, message: "not a model directory (config.json + safetensors) or a .gguf file")
        }
        let type = try ConfigurationFile.modelType(directory: url) ?? "bloom"
        let p = precision == .native ? WeightPrecision.native : precision ?? .float32
        switch type {
        case "bloom": return try BloomModel.load(directory: url, precision: p == .native ? .float32 : p)
        case "llama": return try LlamaModel.load(directory: url, precision: p == .native ? .float32 : p)
        default:
            throw ConfigurationError(file: url.appendingPathComponent("config.json").path,
                                     message: "model_type '\(type)' is not supported (Ecom runs: \(architectures.joined(separator: ", ")))")
        }
    }
}

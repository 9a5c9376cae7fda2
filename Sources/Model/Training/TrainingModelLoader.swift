// Loads a model for training by its architecture: Llama (HF directory or GGUF file) or BLOOM (HF directory), tuned
// in full or with LoRA adapters (new or saved).
import Foundation

public enum TrainingModelLoader {
    /// The model at `url` ready to train: every weight (`lora` and `adapterDirectory` nil), new adapters from `lora`
    /// (empty targets: every projection of the architecture), or the saved adapter in `adapterDirectory` (its
    /// `base_model_name_or_path` becomes `url`, the base it now trains on). With LoRA a Llama base keeps `precision`
    /// (`.native`: a GGUF's blocks); BLOOM's base is Float32.
    public static func load(_ url: URL, lora: LoRAConfiguration? = nil, adapterDirectory: URL? = nil,
                            precision: WeightPrecision = .native, seed: UInt64 = 42) throws -> any TrainableModel {
        let type = ModelLoader.isGGUF(url) ? "llama" : try ConfigurationFile.modelType(directory: url) ?? "bloom"
        var lora = lora
        switch type {
        case "llama":
            if lora?.targets.isEmpty == true { lora!.targets = LoRAConfiguration.llamaTargets }
            let m = try LlamaTrainingModel.load(model: url, precision: lora == nil && adapterDirectory == nil ? .float32 : precision,
                                                lora: lora, adapterDirectory: adapterDirectory, seed: seed)
            if adapterDirectory != nil { m.lora?.baseModel = url.path }
            return m
        case "bloom":
            if lora?.targets.isEmpty == true { lora!.targets = LoRAConfiguration.bloomTargets }
            let m = try BloomTrainingModel.load(directory: url, lora: lora, adapterDirectory: adapterDirectory, seed: seed)
            if adapterDirectory != nil { m.lora?.baseModel = url.path }
            return m
        default:
            throw TrainingError("\(url.path): model_type '\(type)' cannot be trained (Ecom trains: llama, bloom)")
        }
    }
}

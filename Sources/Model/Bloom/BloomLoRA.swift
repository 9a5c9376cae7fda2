// A PEFT LoRA adapter merged into BLOOM's linear layers (PEFT's `merge_and_unload()`: W ← W + s·B·A), and the one
// entry point that loads a model of either architecture with an adapter merged.
import EcomTensor
import Foundation

extension BloomWeights {
    /// HF module paths of every linear layer of the blocks (`transformer.h.L.self_attention.query_key_value`, …),
    /// block by block, as PEFT names them under BloomForCausalLM.
    public var modulePaths: [String] {
        blocks.indices.flatMap { l in Self.blockModules.map { "transformer.h.\(l).\($0.name)" } }
    }

    /// A block's linear layers: the module name below `transformer.h.L.` and where the layer lives.
    static var blockModules: [(name: String, path: WritableKeyPath<BloomBlockWeights, LinearWeights>)] {
        [("self_attention.query_key_value", \.queryKeyValue), ("self_attention.dense", \.attentionDense),
         ("mlp.dense_h_to_4h", \.mlpUp), ("mlp.dense_4h_to_h", \.mlpDown)]
    }

    /// The weights with `adapter` merged into the linear layers it targets (their matrices become Float32; biases,
    /// layer norms, embeddings and untargeted matrices are kept as they are): what PEFT's `merge_and_unload()`
    /// computes. The fused QKV matrix `[3C, C]` is adapted as one matrix, as PEFT does. `file` names the adapter in
    /// errors (a key for no module of this model, a shape that does not fit).
    public func merging(_ adapter: LoRAAdapter, file: String) throws -> BloomWeights {
        try adapter.checkKeys(modulePaths: modulePaths, file: file)
        var out = self
        for l in blocks.indices {
            var block = blocks[l]
            for (name, path) in Self.blockModules {
                if let m = try adapter.merged(modulePath: "transformer.h.\(l).\(name)", weight: block[keyPath: path].weight, file: file) {
                    block[keyPath: path].weight = m
                }
            }
            out.blocks[l] = block
        }
        return out
    }

    /// The Float32 block matrices (those a merge produced) stored in `precision` (f16 or bf16).
    func narrowingBlockMatrices(to precision: WeightPrecision) -> BloomWeights {
        var out = self
        for l in blocks.indices {
            for (_, path) in Self.blockModules where blocks[l][keyPath: path].weight.precision == .float32 {
                out.blocks[l][keyPath: path].weight = blocks[l][keyPath: path].weight.converted(to: precision)
            }
        }
        return out
    }
}

extension LlamaWeights {
    /// The Float32 layer matrices (those a merge produced) stored in `precision` (f16 or bf16).
    func narrowingLayerMatrices(to precision: WeightPrecision) -> LlamaWeights {
        var out = self
        let paths: [WritableKeyPath<LlamaLayerWeights, WeightMatrix>] = [\.query, \.key, \.value, \.output, \.gate, \.up, \.down]
        for l in layers.indices {
            for p in paths where layers[l][keyPath: p].precision == .float32 {
                out.layers[l][keyPath: p] = layers[l][keyPath: p].converted(to: precision)
            }
        }
        return out
    }
}

extension ModelLoader {
    /// Loads `url` (an HF directory or a `.gguf` file, as ``load(_:precision:)``) and, when `lora` names a PEFT
    /// adapter directory (adapter_config.json + adapter_model.safetensors), merges it into the weights.
    ///
    /// The adapted matrices are merged in Float32 and then stored in `precision` when that is f16 or bf16; with
    /// `.native` (GGUF blocks kept) they stay Float32, so that merging never requantizes. Errors name the adapter
    /// directory or file: a missing directory, an adapter for another architecture, a shape that does not fit.
    public static func load(_ url: URL, precision: WeightPrecision? = nil, lora: URL?) throws -> any CausalLanguageModel {
        guard let lora else { return try load(url, precision: precision) }
        let adapter = try loadAdapter(lora)  // read first: a bad adapter fails before the base is loaded
        return try merging(adapter, directory: lora, into: load(url, precision: precision), precision: precision)
    }

    /// The model of an opened GGUF file with the adapter in `lora` (if any) merged (see ``load(_:precision:lora:)``).
    public static func load(gguf file: GGUFFile, precision: WeightPrecision? = nil, lora: URL?) throws -> any CausalLanguageModel {
        guard let lora else { return try load(gguf: file, precision: precision) }
        let adapter = try loadAdapter(lora)
        return try merging(adapter, directory: lora, into: load(gguf: file, precision: precision), precision: precision)
    }

    /// Reads the PEFT adapter directory `directory`; errors name it.
    public static func loadAdapter(_ directory: URL) throws -> LoRAAdapter {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw TrainingError("\(directory.path): no such LoRA adapter directory")
        }
        guard isDirectory.boolValue else {
            throw TrainingError("\(directory.path): not a LoRA adapter directory (PEFT's adapter_config.json + adapter_model.safetensors)")
        }
        return try LoRAAdapter.load(directory: directory)
    }

    /// `model` with `adapter` (read from `directory`) merged into its weights, adapted matrices stored in `precision`
    /// when that is f16 or bf16. An architecture without LoRA support is an error naming the adapter directory.
    public static func merging(_ adapter: LoRAAdapter, directory: URL, into model: any CausalLanguageModel,
                               precision: WeightPrecision? = nil) throws -> any CausalLanguageModel {
        let file = directory.appendingPathComponent("adapter_model.safetensors").path
        let narrow = precision == .float16 || precision == .bfloat16 ? precision : nil
        switch model {
        case let m as LlamaModel:
            let w = try m.weights.merging(adapter, file: file)
            return LlamaModel(configuration: m.configuration, weights: narrow.map { w.narrowingLayerMatrices(to: $0) } ?? w)
        case let m as BloomModel:
            let w = try m.weights.merging(adapter, file: file)
            return BloomModel(configuration: m.configuration, weights: narrow.map { w.narrowingBlockMatrices(to: $0) } ?? w)
        default:
            throw TrainingError("\(directory.path): LoRA adapters are merged into bloom and llama models, not \(model.architecture)")
        }
    }
}

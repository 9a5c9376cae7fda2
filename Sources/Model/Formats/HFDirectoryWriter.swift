// Writing a Llama model as an HF transformers directory (config.json, model.safetensors, generation_config.json),
// as `LlamaForCausalLM.save_pretrained` lays it out; the tokenizer files come from the caller.
import EcomTensor
import Foundation

/// The dtype of the tensors written to model.safetensors.
public enum CheckpointDType: String, Sendable, CaseIterable {
    case f32, bf16, f16

    /// Parses f32/float32, bf16/bfloat16, f16/float16.
    public init?(name: String) {
        switch name.lowercased() {
        case "f32", "float32": self = .f32
        case "bf16", "bfloat16": self = .bf16
        case "f16", "float16": self = .f16
        default: return nil
        }
    }

    /// transformers' name for the dtype in config.json.
    public var torchName: String {
        switch self { case .f32: "float32"; case .bf16: "bfloat16"; case .f16: "float16" }
    }

    /// A tensor of these values in this dtype (rounded to nearest even for 16 bits).
    public func tensor(name: String, shape: [Int], values: [Float]) -> SafeTensorsTensor {
        switch self {
        case .f32: return SafeTensorsTensor(name: name, shape: shape, floats: values)
        case .bf16:
            let bits = values.map(HalfPrecision.bfloat16Bits)
            return SafeTensorsTensor(name: name, dtype: .bf16, shape: shape, data: bits.withUnsafeBytes { Data($0) })
        case .f16:
            let bits = values.map(HalfPrecision.float16Bits)
            return SafeTensorsTensor(name: name, dtype: .f16, shape: shape, data: bits.withUnsafeBytes { Data($0) })
        }
    }
}

public enum HFDirectoryWriter {
    /// Writes `directory/config.json` (with `dtype`), `model.safetensors` and `generation_config.json` for a Llama
    /// model, each atomically. A tied model gets no `lm_head.weight`, as transformers saves it.
    public static func write(_ configuration: LlamaConfiguration, _ weights: LlamaWeights, dtype: CheckpointDType, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tensors = weights.namedTensors().map { dtype.tensor(name: $0.name, shape: $0.shape, values: $0.values) }
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("model.safetensors"))

        var config = try JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration)) as! [String: Any]
        config["dtype"] = dtype.torchName
        try writeJSON(config, to: directory.appendingPathComponent("config.json"))

        var generation: [String: Any] = [:]
        if let bos = configuration.bosTokenId { generation["bos_token_id"] = bos }
        if configuration.eosTokenIds.count == 1 { generation["eos_token_id"] = configuration.eosTokenIds[0] }
        else if !configuration.eosTokenIds.isEmpty { generation["eos_token_id"] = configuration.eosTokenIds }
        if let pad = configuration.padTokenId { generation["pad_token_id"] = pad }
        try writeJSON(generation, to: directory.appendingPathComponent("generation_config.json"))
    }

    /// Writes a JSON object, keys sorted, pretty-printed, atomically.
    public static func writeJSON(_ object: [String: Any], to url: URL) throws {
        var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        data.append(0x0A)
        try AtomicFile.write(data, to: url)
    }
}

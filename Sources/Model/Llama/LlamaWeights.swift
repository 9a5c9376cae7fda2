// Llama's parameters bound to HF transformers' weight names (LlamaForCausalLM), with strict loading from safetensors:
// every expected tensor present with the shape the configuration implies, nothing unexpected.
import EcomTensor
import Foundation

/// One decoder layer's parameters (no biases: Llama's projections have none).
public struct LlamaLayerWeights: Sendable {
    public var inputNorm: [Float]
    /// `[NH*HD, C]`, `[KVH*HD, C]`, `[KVH*HD, C]`, `[C, NH*HD]`.
    public var query: WeightMatrix
    public var key: WeightMatrix
    public var value: WeightMatrix
    public var output: WeightMatrix
    public var postAttentionNorm: [Float]
    /// `[I, C]`, `[I, C]`, `[C, I]`.
    public var gate: WeightMatrix
    public var up: WeightMatrix
    public var down: WeightMatrix

    /// The layer's matrices by their HF projection names (q_proj, …), in a fixed order.
    public var matrices: [(String, WeightMatrix)] {
        [("self_attn.q_proj", query), ("self_attn.k_proj", key), ("self_attn.v_proj", value), ("self_attn.o_proj", output),
         ("mlp.gate_proj", gate), ("mlp.up_proj", up), ("mlp.down_proj", down)]
    }
}

/// All of a Llama model's parameters.
public struct LlamaWeights: Sendable {
    /// `[V, C]`, also the LM head when the embeddings are tied.
    public var embeddings: WeightMatrix
    public var layers: [LlamaLayerWeights]
    public var finalNorm: [Float]
    /// A separate LM head `[V, C]` (untied models only).
    public var lmHead: WeightMatrix?

    public init(embeddings: WeightMatrix, layers: [LlamaLayerWeights], finalNorm: [Float], lmHead: WeightMatrix?) {
        self.embeddings = embeddings; self.layers = layers; self.finalNorm = finalNorm; self.lmHead = lmHead
    }

    /// HF's names (LlamaForCausalLM) with their shapes, `lm_head.weight` only for untied models.
    public static func expectedShapes(_ c: LlamaConfiguration) -> [String: [Int]] {
        let C = c.hiddenSize, Q = c.headCount * c.headDimension, KV = c.keyValueHeadCount * c.headDimension, I = c.intermediateSize
        var out: [String: [Int]] = ["model.embed_tokens.weight": [c.vocabSize, C], "model.norm.weight": [C]]
        for l in 0..<c.layerCount {
            let p = "model.layers.\(l)."
            out[p + "input_layernorm.weight"] = [C]
            out[p + "post_attention_layernorm.weight"] = [C]
            out[p + "self_attn.q_proj.weight"] = [Q, C]
            out[p + "self_attn.k_proj.weight"] = [KV, C]
            out[p + "self_attn.v_proj.weight"] = [KV, C]
            out[p + "self_attn.o_proj.weight"] = [C, Q]
            out[p + "mlp.gate_proj.weight"] = [I, C]
            out[p + "mlp.up_proj.weight"] = [I, C]
            out[p + "mlp.down_proj.weight"] = [C, I]
        }
        if !c.tieWordEmbeddings { out["lm_head.weight"] = [c.vocabSize, C] }
        return out
    }

    /// Loads `checkpoint` strictly (F32, F16 or BF16 tensors; matrices stored in `precision`). A tied model's
    /// checkpoint may still hold `lm_head.weight` (ignored, as transformers ties it).
    public static func load(_ checkpoint: SafeTensorsCheckpoint, configuration c: LlamaConfiguration,
                            precision: WeightPrecision = .float32) throws -> LlamaWeights {
        try checkpoint.checkLayerCount(c.layerCount, tensorsPerLayer: 9, key: "num_hidden_layers", architecture: "Llama")
        let expected = expectedShapes(c)
        try checkpoint.checkNames(expected: Set(expected.keys), optional: ["lm_head.weight"], architecture: "Llama")
        func floats(_ name: String) throws -> [Float] { try checkpoint.floats(name, shape: expected[name]!, architecture: "Llama") }
        func matrix(_ name: String) throws -> WeightMatrix {
            let shape = expected[name]!
            return WeightMatrix(rows: shape[0], columns: shape[1], floats: try floats(name)).converted(to: precision)
        }
        let layers = try (0..<c.layerCount).map { l in
            let p = "model.layers.\(l)."
            return LlamaLayerWeights(
                inputNorm: try floats(p + "input_layernorm.weight"),
                query: try matrix(p + "self_attn.q_proj.weight"), key: try matrix(p + "self_attn.k_proj.weight"),
                value: try matrix(p + "self_attn.v_proj.weight"), output: try matrix(p + "self_attn.o_proj.weight"),
                postAttentionNorm: try floats(p + "post_attention_layernorm.weight"),
                gate: try matrix(p + "mlp.gate_proj.weight"), up: try matrix(p + "mlp.up_proj.weight"),
                down: try matrix(p + "mlp.down_proj.weight"))
        }
        return LlamaWeights(embeddings: try matrix("model.embed_tokens.weight"), layers: layers,
                            finalNorm: try floats("model.norm.weight"),
                            lmHead: c.tieWordEmbeddings ? nil : try matrix("lm_head.weight"))
    }

    /// Every tensor under its HF name, widened to Float32 (for writing a checkpoint).
    public func namedTensors() -> [(name: String, shape: [Int], values: [Float])] {
        var out: [(String, [Int], [Float])] = [("model.embed_tokens.weight", [embeddings.rows, embeddings.columns], embeddings.floats())]
        for (l, layer) in layers.enumerated() {
            let p = "model.layers.\(l)."
            out.append((p + "input_layernorm.weight", [layer.inputNorm.count], layer.inputNorm))
            out.append((p + "post_attention_layernorm.weight", [layer.postAttentionNorm.count], layer.postAttentionNorm))
            for (name, m) in layer.matrices { out.append((p + name + ".weight", [m.rows, m.columns], m.floats())) }
        }
        out.append(("model.norm.weight", [finalNorm.count], finalNorm))
        if let lmHead { out.append(("lm_head.weight", [lmHead.rows, lmHead.columns], lmHead.floats())) }
        return out
    }

    /// Bytes of weight data read per decoded token (every matrix once, norms included).
    public var bytesPerToken: Int {
        var n = (lmHead ?? embeddings).byteCount + finalNorm.count * 4
        for l in layers { n += l.matrices.reduce(0) { $0 + $1.1.byteCount } + (l.inputNorm.count + l.postAttentionNorm.count) * 4 }
        return n
    }

    /// The number of parameters (tied embeddings counted once).
    public var parameterCount: Int {
        var n = embeddings.rows * embeddings.columns + (lmHead.map { $0.rows * $0.columns } ?? 0) + finalNorm.count
        for l in layers { n += l.matrices.reduce(0) { $0 + $1.1.rows * $1.1.columns } + l.inputNorm.count + l.postAttentionNorm.count }
        return n
    }
}

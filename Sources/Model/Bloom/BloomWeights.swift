// BLOOM's parameters bound to HF transformers' weight names (BloomForCausalLM / BloomModel), with strict loading:
// every expected tensor present with the shape the configuration implies, nothing unexpected.
import EcomTensor
import Foundation

/// A layer norm's scale and shift (`[C]` each).
public struct LayerNormWeights: Sendable {
    public var weight: [Float]
    public var bias: [Float]
}

/// A linear layer: weight `[out, in]` and bias `[out]`.
public struct LinearWeights: Sendable {
    public var weight: WeightMatrix
    public var bias: [Float]
}

/// One transformer block's parameters.
public struct BloomBlockWeights: Sendable {
    public var inputLayerNorm: LayerNormWeights
    /// Fused QKV `[3C, C]`: output features ordered per head as (q, k, v), i.e. `[NH, 3, HS]`.
    public var queryKeyValue: LinearWeights
    public var attentionDense: LinearWeights
    public var postAttentionLayerNorm: LayerNormWeights
    public var mlpUp: LinearWeights
    public var mlpDown: LinearWeights
}

/// All of BLOOM's parameters.
public struct BloomWeights: Sendable {
    /// `[V, C]`, also the LM head when the embeddings are tied.
    public var wordEmbeddings: WeightMatrix
    public var embeddingLayerNorm: LayerNormWeights
    public var blocks: [BloomBlockWeights]
    public var finalLayerNorm: LayerNormWeights
    /// A separate LM head `[V, C]` (untied checkpoints only).
    public var lmHead: WeightMatrix?

    /// The weight names a checkpoint must hold (without the `transformer.` prefix), with their shapes.
    public static func expectedShapes(_ c: BloomConfiguration) -> [String: [Int]] {
        let C = c.hiddenSize
        var out: [String: [Int]] = ["word_embeddings.weight": [c.vocabSize, C]]
        func norm(_ p: String) { out[p + ".weight"] = [C]; out[p + ".bias"] = [C] }
        func linear(_ p: String, _ o: Int, _ i: Int) { out[p + ".weight"] = [o, i]; out[p + ".bias"] = [o] }
        norm("word_embeddings_layernorm")
        for l in 0..<c.layerCount {
            norm("h.\(l).input_layernorm")
            linear("h.\(l).self_attention.query_key_value", 3 * C, C)
            linear("h.\(l).self_attention.dense", C, C)
            norm("h.\(l).post_attention_layernorm")
            linear("h.\(l).mlp.dense_h_to_4h", 4 * C, C)
            linear("h.\(l).mlp.dense_4h_to_h", C, 4 * C)
        }
        norm("ln_f")
        return out
    }

    /// Loads the weights of `checkpoint` strictly.
    ///
    /// Names may carry the `transformer.` prefix (BloomForCausalLM) or not (BloomModel); `lm_head.weight` is
    /// accepted, and required when `tie_word_embeddings` is false. F32, F16 and BF16 tensors are widened to
    /// Float32, then matrices are stored in `precision`. Errors list every missing and unexpected key, and name
    /// the tensor whose shape or dtype does not fit.
    public static func load(_ checkpoint: SafeTensorsCheckpoint, configuration c: BloomConfiguration,
                            precision: WeightPrecision = .float32) throws -> BloomWeights {
        let prefix = checkpoint.names.contains { $0.hasPrefix("transformer.") } ? "transformer." : ""
        try checkpoint.checkLayerCount(c.layerCount, tensorsPerLayer: 12, key: "n_layer", architecture: "BLOOM")
        let expected = expectedShapes(c)
        let headName = "lm_head.weight"
        try checkpoint.checkNames(expected: Set(expected.keys.map { prefix + $0 }).union(c.tieWordEmbeddings ? [] : [headName]),
                                  optional: [headName], architecture: "BLOOM")
        func floats(_ name: String, _ shape: [Int]) throws -> [Float] {
            try checkpoint.floats(name == headName ? name : prefix + name, shape: shape, architecture: "BLOOM")
        }
        func matrix(_ name: String, _ shape: [Int]) throws -> WeightMatrix {
            WeightMatrix(rows: shape[0], columns: shape[1], floats: try floats(name, shape)).converted(to: precision)
        }
        func norm(_ p: String) throws -> LayerNormWeights {
            LayerNormWeights(weight: try floats(p + ".weight", [c.hiddenSize]), bias: try floats(p + ".bias", [c.hiddenSize]))
        }
        func linear(_ p: String) throws -> LinearWeights {
            let shape = expected[p + ".weight"]!
            return LinearWeights(weight: try matrix(p + ".weight", shape), bias: try floats(p + ".bias", [shape[0]]))
        }
        let blocks = try (0..<c.layerCount).map { l in
            BloomBlockWeights(
                inputLayerNorm: try norm("h.\(l).input_layernorm"),
                queryKeyValue: try linear("h.\(l).self_attention.query_key_value"),
                attentionDense: try linear("h.\(l).self_attention.dense"),
                postAttentionLayerNorm: try norm("h.\(l).post_attention_layernorm"),
                mlpUp: try linear("h.\(l).mlp.dense_h_to_4h"),
                mlpDown: try linear("h.\(l).mlp.dense_4h_to_h"))
        }
        let head = c.tieWordEmbeddings ? nil : try matrix(headName, [c.vocabSize, c.hiddenSize])
        return BloomWeights(
            wordEmbeddings: try matrix("word_embeddings.weight", [c.vocabSize, c.hiddenSize]),
            embeddingLayerNorm: try norm("word_embeddings_layernorm"), blocks: blocks,
            finalLayerNorm: try norm("ln_f"), lmHead: head)
    }

    /// Random weights (normal, std 0.02 as HF initialises BLOOM; layer norms 1 and 0), for benchmarks and tests.
    public static func random(_ c: BloomConfiguration, seed: UInt64, precision: WeightPrecision = .float32) -> BloomWeights {
        var rng = TensorRandom(seed: seed)
        let C = c.hiddenSize
        func matrix(_ o: Int, _ i: Int) -> WeightMatrix {
            WeightMatrix(rows: o, columns: i, floats: (0..<(o * i)).map { _ in rng.normal(std: 0.02) }).converted(to: precision)
        }
        func norm() -> LayerNormWeights { LayerNormWeights(weight: [Float](repeating: 1, count: C), bias: [Float](repeating: 0, count: C)) }
        func linear(_ o: Int, _ i: Int) -> LinearWeights { LinearWeights(weight: matrix(o, i), bias: (0..<o).map { _ in rng.normal(std: 0.02) }) }
        let blocks = (0..<c.layerCount).map { _ in
            BloomBlockWeights(inputLayerNorm: norm(), queryKeyValue: linear(3 * C, C), attentionDense: linear(C, C),
                              postAttentionLayerNorm: norm(), mlpUp: linear(4 * C, C), mlpDown: linear(C, 4 * C))
        }
        return BloomWeights(wordEmbeddings: matrix(c.vocabSize, C), embeddingLayerNorm: norm(), blocks: blocks,
                            finalLayerNorm: norm(), lmHead: c.tieWordEmbeddings ? nil : matrix(c.vocabSize, C))
    }

    /// Bytes of weight data read per decoded token (every matrix once; norms and biases included).
    public var bytesPerToken: Int {
        var n = (lmHead ?? wordEmbeddings).byteCount
        for b in blocks {
            n += [b.queryKeyValue, b.attentionDense, b.mlpUp, b.mlpDown].reduce(0) { $0 + $1.weight.byteCount + $1.bias.count * 4 }
            n += 4 * 4 * b.inputLayerNorm.weight.count
        }
        return n
    }

    /// The number of parameters (tied embeddings counted once).
    public var parameterCount: Int {
        var n = wordEmbeddings.rows * wordEmbeddings.columns + (lmHead.map { $0.rows * $0.columns } ?? 0)
        n += 2 * embeddingLayerNorm.weight.count + 2 * finalLayerNorm.weight.count
        for b in blocks {
            n += [b.queryKeyValue, b.attentionDense, b.mlpUp, b.mlpDown].reduce(0) { $0 + $1.weight.rows * $1.weight.columns + $1.bias.count }
            n += 4 * b.inputLayerNorm.weight.count
        }
        return n
    }
}

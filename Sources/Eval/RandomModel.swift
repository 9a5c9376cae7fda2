// A model directory with random BLOOM weights (HF layout: config.json, model.safetensors, tokenizer.json): the floor
// baseline of the results and the model of the evaluation tests.
import EcomModel
import EcomTokenizer
import Foundation

public enum RandomModel {
    /// The configuration for `tokenizer`'s vocabulary with special ids from its "<s>", "</s>" and "<pad>" tokens.
    public static func configuration(tokenizer: Tokenizer, hiddenSize: Int, layers: Int, heads: Int) -> BloomConfiguration {
        BloomConfiguration(vocabSize: tokenizer.vocabularySize, hiddenSize: hiddenSize, layerCount: layers, headCount: heads,
                           bosTokenId: tokenizer.id(forToken: "<s>"), eosTokenId: tokenizer.id(forToken: "</s>"),
                           padTokenId: tokenizer.id(forToken: "<pad>") ?? tokenizer.id(forToken: "</s>"))
    }

    /// The weights as HF `BloomForCausalLM` names them (tied embeddings: no `lm_head.weight`).
    public static func tensors(_ w: BloomWeights) -> [SafeTensorsTensor] {
        let p = "transformer."
        var out = [SafeTensorsTensor(name: p + "word_embeddings.weight", shape: [w.wordEmbeddings.rows, w.wordEmbeddings.columns],
                                     floats: w.wordEmbeddings.floats())]
        func norm(_ name: String, _ n: LayerNormWeights) {
            out.append(SafeTensorsTensor(name: p + name + ".weight", shape: [n.weight.count], floats: n.weight))
            out.append(SafeTensorsTensor(name: p + name + ".bias", shape: [n.bias.count], floats: n.bias))
        }
        func linear(_ name: String, _ l: LinearWeights) {
            out.append(SafeTensorsTensor(name: p + name + ".weight", shape: [l.weight.rows, l.weight.columns], floats: l.weight.floats()))
            out.append(SafeTensorsTensor(name: p + name + ".bias", shape: [l.bias.count], floats: l.bias))
        }
        norm("word_embeddings_layernorm", w.embeddingLayerNorm)
        for (i, b) in w.blocks.enumerated() {
            norm("h.\(i).input_layernorm", b.inputLayerNorm)
            linear("h.\(i).self_attention.query_key_value", b.queryKeyValue)
            linear("h.\(i).self_attention.dense", b.attentionDense)
            norm("h.\(i).post_attention_layernorm", b.postAttentionLayerNorm)
            linear("h.\(i).mlp.dense_h_to_4h", b.mlpUp)
            linear("h.\(i).mlp.dense_4h_to_h", b.mlpDown)
        }
        norm("ln_f", w.finalLayerNorm)
        if let head = w.lmHead { out.append(SafeTensorsTensor(name: "lm_head.weight", shape: [head.rows, head.columns], floats: head.floats())) }
        return out
    }

    /// Writes `dir` (created if needed) with random weights (`BloomWeights.random`, seeded) for `tokenizerFile`'s
    /// vocabulary, and a copy of the tokenizer. Returns the configuration.
    @discardableResult
    public static func write(to dir: URL, tokenizerFile: URL, hiddenSize: Int, layers: Int, heads: Int, seed: UInt64) throws -> BloomConfiguration {
        let tokenizer = try Tokenizer(contentsOf: tokenizerFile)
        let config = configuration(tokenizer: tokenizer, hiddenSize: hiddenSize, layers: layers, heads: heads)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(enc.encode(config), to: dir.appendingPathComponent("config.json"))
        try SafeTensorsWriter.write(tensors(BloomWeights.random(config, seed: seed)), metadata: ["format": "pt"],
                                    to: dir.appendingPathComponent("model.safetensors"))
        try AtomicFile.write(Data(contentsOf: tokenizerFile), to: dir.appendingPathComponent("tokenizer.json"))
        return config
    }
}

// BLOOM's trainable parameters in one flat Float32 buffer laid out in HF's named_parameters() order, with the offset
// of every tensor; conversion to and from BloomWeights and safetensors (HF BloomForCausalLM names).
import EcomTensor
import Foundation

/// Offsets (into the flat buffer) of one transformer block's tensors.
public struct BloomBlockOffsets: Sendable {
    public var ln1Weight = 0, ln1Bias = 0, qkvWeight = 0, qkvBias = 0, denseWeight = 0, denseBias = 0
    public var ln2Weight = 0, ln2Bias = 0, upWeight = 0, upBias = 0, downWeight = 0, downBias = 0
}

/// Where each BLOOM parameter lives in a flat buffer (parameters, gradients and optimizer moments share the layout).
///
/// Order (HF `BloomForCausalLM.named_parameters()`): word embeddings `[V, C]`, embedding layer norm, per block
/// (input layer norm, fused QKV `[3C, C]` + bias, dense `[C, C]` + bias, post-attention layer norm, `dense_h_to_4h`
/// `[4C, C]` + bias, `dense_4h_to_h` `[C, 4C]` + bias), final layer norm, then `lm_head.weight` only when untied.
public struct BloomParameterLayout: Sendable {
    /// One tensor: HF name, shape, offset.
    public typealias Entry = ParameterEntry
    public let configuration: BloomConfiguration
    public private(set) var entries: [Entry] = []
    public private(set) var count = 0
    public private(set) var wordEmbeddings = 0, embeddingNormWeight = 0, embeddingNormBias = 0
    public private(set) var blocks: [BloomBlockOffsets] = []
    public private(set) var finalNormWeight = 0, finalNormBias = 0
    /// The LM head's offset (the word embeddings when tied).
    public private(set) var lmHead = 0

    public init(_ c: BloomConfiguration) {
        configuration = c
        let C = c.hiddenSize
        func add(_ name: String, _ shape: [Int]) -> Int {
            let o = count
            entries.append(Entry(name: name, shape: shape, offset: o))
            count += shape.reduce(1, *)
            return o
        }
        wordEmbeddings = add("transformer.word_embeddings.weight", [c.vocabSize, C])
        embeddingNormWeight = add("transformer.word_embeddings_layernorm.weight", [C])
        embeddingNormBias = add("transformer.word_embeddings_layernorm.bias", [C])
        for l in 0..<c.layerCount {
            let p = "transformer.h.\(l)."
            var b = BloomBlockOffsets()
            b.ln1Weight = add(p + "input_layernorm.weight", [C]); b.ln1Bias = add(p + "input_layernorm.bias", [C])
            b.qkvWeight = add(p + "self_attention.query_key_value.weight", [3 * C, C])
            b.qkvBias = add(p + "self_attention.query_key_value.bias", [3 * C])
            b.denseWeight = add(p + "self_attention.dense.weight", [C, C]); b.denseBias = add(p + "self_attention.dense.bias", [C])
            b.ln2Weight = add(p + "post_attention_layernorm.weight", [C]); b.ln2Bias = add(p + "post_attention_layernorm.bias", [C])
            b.upWeight = add(p + "mlp.dense_h_to_4h.weight", [4 * C, C]); b.upBias = add(p + "mlp.dense_h_to_4h.bias", [4 * C])
            b.downWeight = add(p + "mlp.dense_4h_to_h.weight", [C, 4 * C]); b.downBias = add(p + "mlp.dense_4h_to_h.bias", [C])
            blocks.append(b)
        }
        finalNormWeight = add("transformer.ln_f.weight", [C])
        finalNormBias = add("transformer.ln_f.bias", [C])
        lmHead = c.tieWordEmbeddings ? wordEmbeddings : add("lm_head.weight", [c.vocabSize, C])
    }

    /// The entry named `name` (with or without the `transformer.` prefix).
    public func entry(_ name: String) -> Entry? {
        entries.first { $0.name == name || $0.name == "transformer." + name }
    }
}

/// A flat, owned Float32 buffer (parameters, gradients, optimizer moments), zero-initialised.
public final class FlatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>
    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }
    deinit { pointer.deallocate() }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public func zero() { pointer.update(repeating: 0, count: count) }
    public var array: [Float] { Array(buffer) }
    public func copy(from other: FlatBuffer) {
        precondition(other.count == count, "buffer sizes differ")
        pointer.update(from: other.pointer, count: count)
    }
    /// Values `[offset, offset + n)`.
    public func slice(_ offset: Int, _ n: Int) -> [Float] { Array(UnsafeBufferPointer(start: pointer + offset, count: n)) }
}

extension BloomParameterLayout {
    /// Flattens `weights` (widened to Float32) into a new buffer in this layout.
    public func flatten(_ w: BloomWeights) -> FlatBuffer {
        let out = FlatBuffer(count: count)
        func put(_ o: Int, _ v: [Float]) { v.withUnsafeBufferPointer { (out.pointer + o).update(from: $0.baseAddress!, count: v.count) } }
        put(wordEmbeddings, w.wordEmbeddings.floats())
        put(embeddingNormWeight, w.embeddingLayerNorm.weight); put(embeddingNormBias, w.embeddingLayerNorm.bias)
        for (b, o) in zip(w.blocks, blocks) {
            put(o.ln1Weight, b.inputLayerNorm.weight); put(o.ln1Bias, b.inputLayerNorm.bias)
            put(o.qkvWeight, b.queryKeyValue.weight.floats()); put(o.qkvBias, b.queryKeyValue.bias)
            put(o.denseWeight, b.attentionDense.weight.floats()); put(o.denseBias, b.attentionDense.bias)
            put(o.ln2Weight, b.postAttentionLayerNorm.weight); put(o.ln2Bias, b.postAttentionLayerNorm.bias)
            put(o.upWeight, b.mlpUp.weight.floats()); put(o.upBias, b.mlpUp.bias)
            put(o.downWeight, b.mlpDown.weight.floats()); put(o.downBias, b.mlpDown.bias)
        }
        put(finalNormWeight, w.finalLayerNorm.weight); put(finalNormBias, w.finalLayerNorm.bias)
        if let head = w.lmHead, !configuration.tieWordEmbeddings { put(lmHead, head.floats()) }
        return out
    }

    /// BloomWeights (Float32) holding a copy of the flat parameters, for inference.
    public func weights(_ p: FlatBuffer) -> BloomWeights {
        let C = configuration.hiddenSize
        func v(_ o: Int, _ n: Int) -> [Float] { p.slice(o, n) }
        func m(_ o: Int, _ r: Int, _ c: Int) -> WeightMatrix { WeightMatrix(rows: r, columns: c, floats: v(o, r * c)) }
        func norm(_ w: Int, _ b: Int) -> LayerNormWeights { LayerNormWeights(weight: v(w, C), bias: v(b, C)) }
        let blocks = self.blocks.map { o in
            BloomBlockWeights(
                inputLayerNorm: norm(o.ln1Weight, o.ln1Bias),
                queryKeyValue: LinearWeights(weight: m(o.qkvWeight, 3 * C, C), bias: v(o.qkvBias, 3 * C)),
                attentionDense: LinearWeights(weight: m(o.denseWeight, C, C), bias: v(o.denseBias, C)),
                postAttentionLayerNorm: norm(o.ln2Weight, o.ln2Bias),
                mlpUp: LinearWeights(weight: m(o.upWeight, 4 * C, C), bias: v(o.upBias, 4 * C)),
                mlpDown: LinearWeights(weight: m(o.downWeight, C, 4 * C), bias: v(o.downBias, C)))
        }
        let V = configuration.vocabSize
        return BloomWeights(wordEmbeddings: m(wordEmbeddings, V, C), embeddingLayerNorm: norm(embeddingNormWeight, embeddingNormBias),
                            blocks: blocks, finalLayerNorm: norm(finalNormWeight, finalNormBias),
                            lmHead: configuration.tieWordEmbeddings ? nil : m(lmHead, V, C))
    }

    /// Writes `directory/config.json` and `directory/model.safetensors` (HF BloomForCausalLM names, F32; the tied LM
    /// head omitted as `save_pretrained` does), each atomically.
    public func save(_ p: FlatBuffer, to directory: URL) throws {
        let tensors = entries.map { SafeTensorsTensor(name: $0.name, shape: $0.shape, floats: p.slice($0.offset, $0.count)) }
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("model.safetensors"))
        var config = try JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration)) as! [String: Any]
        config["architectures"] = ["BloomForCausalLM"]
        config["hidden_dropout"] = 0.0
        config["attention_dropout"] = 0.0
        config["dtype"] = "float32"
        config["use_cache"] = true
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: directory.appendingPathComponent("config.json"))
    }
}

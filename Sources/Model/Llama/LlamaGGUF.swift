// A Llama model read from a GGUF file (llama.cpp's layout): the configuration from `llama.*` metadata and the
// weights from ggml tensor names, undoing the row permutation of q/k that llama.cpp's converter applies (as
// transformers' GGUF loader does), with Q4_0/Q4_1/Q8_0 matrices kept in their blocks when asked.
import EcomTensor
import Foundation

extension LlamaConfiguration {
    /// The configuration a GGUF file's metadata describes (`general.architecture` must be "llama").
    public init(gguf file: GGUFFile) throws {
        func fail(_ key: String, _ message: String) -> GGUFError { GGUFError(file: file.path, subject: "metadata '\(key)'", message) }
        let arch = file.metadata["general.architecture"]?.string
        guard arch == "llama" else {
            throw GGUFError(file: file.path, subject: "metadata 'general.architecture'",
                            "architecture '\(arch ?? "missing")' is not supported here (expected 'llama')")
        }
        func int(_ key: String) throws -> Int {
            guard let v = file.metadata["llama." + key]?.int else { throw fail("llama." + key, "missing or not an integer") }
            guard v > 0 else { throw fail("llama." + key, "must be positive, got \(v)") }
            return v
        }
        func optionalInt(_ key: String) -> Int? { file.metadata[key]?.int }
        if let scaling = file.metadata["llama.rope.scaling.type"]?.string, scaling != "none" {
            throw fail("llama.rope.scaling.type", "rope scaling '\(scaling)' is not supported")
        }
        let heads = try int("attention.head_count")
        let hidden = try int("embedding_length")
        let tokens = file.metadata["tokenizer.ggml.tokens"]?.array?.count
        guard let vocab = file.metadata["llama.vocab_size"]?.int ?? tokens ?? file.tensor(named: "token_embd.weight")?.shape.first else {
            throw fail("llama.vocab_size", "missing (and no tokenizer.ggml.tokens to count)")
        }
        let headDim = file.metadata["llama.attention.key_length"]?.int ?? file.metadata["llama.rope.dimension_count"]?.int ?? hidden / heads
        self.init(vocabSize: vocab, hiddenSize: hidden, intermediateSize: try int("feed_forward_length"),
                  layerCount: try int("block_count"), headCount: heads,
                  keyValueHeadCount: file.metadata["llama.attention.head_count_kv"]?.int ?? heads, headDimension: headDim,
                  rmsNormEpsilon: file.metadata["llama.attention.layer_norm_rms_epsilon"]?.float ?? 1e-5,
                  ropeTheta: file.metadata["llama.rope.freq_base"]?.double ?? 10_000,
                  maxPositionEmbeddings: file.metadata["llama.context_length"]?.int ?? 2048,
                  tieWordEmbeddings: file.tensor(named: "output.weight") == nil,
                  bosTokenId: optionalInt("tokenizer.ggml.bos_token_id"),
                  eosTokenIds: optionalInt("tokenizer.ggml.eos_token_id").map { [$0] } ?? [],
                  padTokenId: optionalInt("tokenizer.ggml.padding_token_id"))
        guard keyValueHeadCount > 0, headDimension > 0, headCount % keyValueHeadCount == 0, headDimension % 2 == 0 else {
            throw fail("llama.attention.head_count_kv", "\(headCount) heads, \(keyValueHeadCount) key/value heads, head size \(headDimension): not a valid grouped-query layout")
        }
    }
}

extension LlamaWeights {
    /// GGUF tensor names of llama.cpp's Llama layout, with the HF name each stands for.
    static func ggufNames(_ c: LlamaConfiguration) -> [(gguf: String, hf: String)] {
        var out = [("token_embd.weight", "model.embed_tokens.weight"), ("output_norm.weight", "model.norm.weight")]
        if !c.tieWordEmbeddings { out.append(("output.weight", "lm_head.weight")) }
        let parts = [("attn_norm", "input_layernorm"), ("ffn_norm", "post_attention_layernorm"), ("attn_q", "self_attn.q_proj"),
                     ("attn_k", "self_attn.k_proj"), ("attn_v", "self_attn.v_proj"), ("attn_output", "self_attn.o_proj"),
                     ("ffn_gate", "mlp.gate_proj"), ("ffn_up", "mlp.up_proj"), ("ffn_down", "mlp.down_proj")]
        for l in 0..<c.layerCount { for (g, h) in parts { out.append(("blk.\(l).\(g).weight", "model.layers.\(l).\(h).weight")) } }
        return out
    }

    /// Loads the weights of a GGUF file strictly: every tensor the configuration implies with its shape, nothing
    /// unexpected (`rope_freqs.weight`, which some converters add for unscaled RoPE, is ignored).
    ///
    /// `.native` keeps Q4_0/Q4_1/Q8_0 matrices as blocks and F16/BF16 as 16 bits, and widens every other type to
    /// Float32; other precisions dequantize and convert. q/k rows are put back in HF's order: the converter stores
    /// HF row (h, j, i) — head h, half j of the rotated pair, index i < d/2 — at row h·d + 2i + j.
    public static func load(gguf file: GGUFFile, configuration c: LlamaConfiguration,
                            precision: WeightPrecision = .native) throws -> LlamaWeights {
        // Each layer has 9 tensors: a block count the file cannot hold is an error before any name list is built.
        guard c.layerCount <= file.tensors.count / 9 else {
            throw GGUFError(file: file.path, subject: "metadata 'llama.block_count'",
                            "\(c.layerCount) layers need \(c.layerCount.multipliedReportingOverflow(by: 9).overflow ? "more" : String(c.layerCount * 9)) layer tensors; the file holds \(file.tensors.count) tensors in all")
        }
        let names = ggufNames(c)
        let expectedShapes = expectedShapes(c)
        let known = Set(names.map(\.gguf))
        let missing = names.map(\.gguf).filter { file.tensor(named: $0) == nil }
        let unexpected = file.tensors.map(\.name).filter { !known.contains($0) && $0 != "rope_freqs.weight" }
        if !missing.isEmpty || !unexpected.isEmpty {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing tensors: " + missing.prefix(12).joined(separator: ", ")) }
            if !unexpected.isEmpty { parts.append("unexpected tensors: " + unexpected.prefix(12).joined(separator: ", ")) }
            throw GGUFError(file: file.path, "tensors do not match the Llama configuration: " + parts.joined(separator: "; "))
        }
        var hfName: [String: String] = [:]
        for (g, h) in names { hfName[g] = h }

        func info(_ name: String) throws -> GGUFTensorInfo {
            let t = file.tensor(named: name)!
            let want = expectedShapes[hfName[name]!]!
            guard t.shape == want else {
                throw GGUFError(file: file.path, subject: "tensor '\(name)'", "has shape \(t.shape), the configuration implies \(want)")
            }
            return t
        }
        func vector(_ name: String) throws -> [Float] { _ = try info(name); return try file.floats(of: name) }
        func matrix(_ name: String, permuteHeads: Int? = nil) throws -> WeightMatrix {
            let t = try info(name)
            let rows = t.shape[0], cols = t.shape[1]
            let order = permuteHeads.map { unpermutedRows(rows: rows, heads: $0) }
            if let format = BlockFormat(ggml: t.type) {
                // Blocks are kept (rows reordered whole) and widened afterwards when another precision is asked for.
                let raw = file.rawBytes(of: t)
                guard let order else { return WeightMatrix(rows: rows, columns: cols, format: format, bytes: raw).converted(to: precision) }
                let rowBytes = format.byteCount(values: cols)
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: raw.count, alignment: 64)
                defer { buffer.deallocate() }
                for (r, src) in order.enumerated() {
                    (buffer.baseAddress! + r * rowBytes).copyMemory(from: raw.baseAddress! + src * rowBytes, byteCount: rowBytes)
                }
                return WeightMatrix(rows: rows, columns: cols, format: format, bytes: UnsafeRawBufferPointer(buffer)).converted(to: precision)
            }
            var values = try file.floats(of: name)
            if let order {
                let source = values
                for (r, src) in order.enumerated() { values[(r * cols)..<((r + 1) * cols)] = source[(src * cols)..<((src + 1) * cols)] }
            }
            let m = WeightMatrix(rows: rows, columns: cols, floats: values)
            if precision == .native {
                switch t.type {
                case .f16: return m.converted(to: .float16)
                case .bf16: return m.converted(to: .bfloat16)
                default: return m
                }
            }
            return m.converted(to: precision)
        }
        let layers = try (0..<c.layerCount).map { l in
            let p = "blk.\(l)."
            return LlamaLayerWeights(
                inputNorm: try vector(p + "attn_norm.weight"),
                query: try matrix(p + "attn_q.weight", permuteHeads: c.headCount),
                key: try matrix(p + "attn_k.weight", permuteHeads: c.keyValueHeadCount),
                value: try matrix(p + "attn_v.weight"), output: try matrix(p + "attn_output.weight"),
                postAttentionNorm: try vector(p + "ffn_norm.weight"),
                gate: try matrix(p + "ffn_gate.weight"), up: try matrix(p + "ffn_up.weight"), down: try matrix(p + "ffn_down.weight"))
        }
        return LlamaWeights(embeddings: try matrix("token_embd.weight"), layers: layers, finalNorm: try vector("output_norm.weight"),
                            lmHead: c.tieWordEmbeddings ? nil : try matrix("output.weight"))
    }

    /// For each HF row r of a q or k projection with `heads` heads, the GGUF row that holds it.
    static func unpermutedRows(rows: Int, heads: Int) -> [Int] {
        let d = rows / heads, half = d / 2
        return (0..<rows).map { r in
            let h = r / d, j = (r % d) / half, i = r % half
            return h * d + 2 * i + j
        }
    }
}

extension LlamaModel {
    /// Loads a Llama model from a GGUF file (`.native` keeps the file's block quantization in memory).
    public static func load(gguf url: URL, precision: WeightPrecision = .native) throws -> LlamaModel {
        let file = try GGUFFile(url: url)
        let config = try LlamaConfiguration(gguf: file)
        return LlamaModel(configuration: config, weights: try LlamaWeights.load(gguf: file, configuration: config, precision: precision))
    }
}

extension BlockFormat {
    /// The block format EcomTensor multiplies directly for a ggml type, if any.
    public init?(ggml type: GGMLType) {
        switch type {
        case .q4_0: self = .q4_0
        case .q4_1: self = .q4_1
        case .q8_0: self = .q8_0
        default: return nil
        }
    }
}

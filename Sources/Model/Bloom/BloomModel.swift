// BLOOM's forward pass (transformers' BloomForCausalLM): embeddings + layer norm, blocks of ALiBi self-attention with
// a fused QKV projection and a GELU MLP, final layer norm, LM head tied to the embeddings; incremental with a KV cache.
import EcomTensor
import Foundation

/// A BLOOM causal language model ready for inference.
///
/// Forward passes reuse one scratch workspace (so decoding allocates nothing per token); calls from several threads
/// are serialised by a lock. Give each thread its own model to run them in parallel.
public final class BloomModel: LaneModel, @unchecked Sendable {
    public let configuration: BloomConfiguration
    public let weights: BloomWeights
    let slopes: [Float]
    let workspace = Workspace()

    public init(configuration: BloomConfiguration, weights: BloomWeights) {
        self.configuration = configuration
        self.weights = weights
        slopes = ALiBi.slopes(numHeads: configuration.headCount)
    }

    /// Loads `directory` (config.json and model.safetensors or a sharded index) strictly.
    public static func load(directory: URL, precision: WeightPrecision = .float32) throws -> BloomModel {
        let config = try BloomConfiguration.load(directory: directory)
        let checkpoint = try SafeTensorsCheckpoint(directory: directory)
        return BloomModel(configuration: config, weights: try BloomWeights.load(checkpoint, configuration: config, precision: precision))
    }

    public var vocabularySize: Int { configuration.vocabSize }
    public var architecture: String { "bloom" }
    public var specialTokens: SpecialTokenIds {
        SpecialTokenIds(bos: configuration.bosTokenId.map(Int32.init), eos: configuration.eosTokenId.map { [Int32($0)] } ?? [],
                        pad: configuration.padTokenId.map(Int32.init))
    }
    public var parameterCount: Int { weights.parameterCount }
    public var bytesPerToken: Int { weights.bytesPerToken }
    public func makeCache(batch: Int, capacity: Int) -> KVCache { KVCache(configuration: configuration, batch: batch, capacity: capacity) }
    public func encodedConfiguration() throws -> Data { try ConfigurationFile.encoded(configuration) }
    public func sharingWeights() -> any CausalLanguageModel { BloomModel(configuration: configuration, weights: weights) }

    /// The forward pass of `lanes` into the workspace (their masks recorded, their caches' lengths not yet advanced);
    /// returns logits `[N, V]` (or one row per lane with `last`), valid until the next call.
    func forward(ids: [Int32], lanes: [Lane], last: Bool) -> UnsafeMutablePointer<Float> {
        let c = configuration
        let C = c.hiddenSize, NH = c.headCount, HS = c.headDimension, V = c.vocabSize
        let N = ids.count
        let decoding = lanes.allSatisfy { $0.count == 1 }  // every row its own sequence (see WeightMatrix.multiply)
        let ws = workspace
        let hidden = ws.hidden.ensure(N * C)   // [N, C] residual stream
        let normed = ws.normed.ensure(N * C)   // [N, C] layer-norm output
        let qkv = ws.qkv.ensure(N * 3 * C)     // [N, NH, 3, HS]
        let context = ws.context.ensure(N * C) // [N, C] attention output before the dense projection
        let mlp = ws.mlp.ensure(N * 4 * C)     // [N, 4C]
        let scores = ws.scores.ensure(lanes.map { NH * $0.count * $0.visible }.max()!)  // one lane's [NH, T, TK]
        var biasOffsets: [Int] = [], biasCount = 0  // per lane: [NH, TK] ALiBi + -inf at padding
        for lane in lanes { biasOffsets.append(biasCount); biasCount += NH * lane.visible }
        let bias = ws.bias.ensure(biasCount)

        // ALiBi over key positions (cumsum(mask) - 1) * mask, -inf at padded keys (transformers' build_alibi_tensor).
        for (li, lane) in lanes.enumerated() {
            let cache = lane.cache, TK = lane.visible, laneBias = bias + biasOffsets[li]
            var count: Int32 = 0
            for j in 0..<TK {
                let m = cache.mask[lane.b * cache.capacity + j]
                count += m
                let position = Float((count - 1) * m)
                for h in 0..<NH { laneBias[h * TK + j] = m == 0 ? -.infinity : slopes[h] * position }
            }
        }

        for (n, id) in ids.enumerated() { weights.wordEmbeddings.copyRow(Int(id), to: hidden + n * C) }
        layerNorm(hidden, weights.embeddingLayerNorm, hidden, rows: N)

        let invNorm = 1 / Float(HS).squareRoot()
        for (l, block) in weights.blocks.enumerated() {
            layerNorm(hidden, block.inputLayerNorm, normed, rows: N)
            block.queryKeyValue.weight.multiply(normed, rows: N, into: qkv, bias: block.queryKeyValue.bias, sequences: decoding)
            for (li, lane) in lanes.enumerated() {
                let cache = lane.cache, P = lane.past, T = lane.count, TK = lane.visible, b = lane.b
                // Append k and v of the new positions to the cache.
                for h in 0..<NH {
                    let kDst = cache.keys(layer: l, b: b, h: h) + P * HS, vDst = cache.values(layer: l, b: b, h: h) + P * HS
                    for i in 0..<T {
                        let src = qkv + (lane.row + i) * 3 * C + h * 3 * HS
                        (kDst + i * HS).update(from: src + HS, count: HS)
                        (vDst + i * HS).update(from: src + 2 * HS, count: HS)
                    }
                }
                // Several new positions: heads side by side where OpenBLAS is single-threaded (CausalBlocks.forEachHead);
                // one position's products are too small to share out.
                func eachHead(_ body: (Int) -> Void) {
                    if T > 1 { CausalBlocks.forEachHead(NH, body) } else { for h in 0..<NH { body(h) } }
                }
                eachHead { h in
                    let q = MatrixView(base: qkv + lane.row * 3 * C + h * 3 * HS, rows: T, columns: HS, stride: 3 * C)
                    let k = MatrixView(base: cache.keys(layer: l, b: b, h: h), rows: TK, columns: HS, stride: HS)
                    let s = MutableMatrixView(base: scores + h * T * TK, rows: T, columns: TK, stride: TK)
                    MatmulKernel.gemm(q, k, transposeB: true, s)
                }
                // softmax(QKᵀ / sqrt(HS) + alibi) with the causal mask shifted by the cached length (HF's baddbmm).
                SoftmaxKernel.forward(scores, scores, rows: NH * T, cols: TK, scale: invNorm, bias: bias + biasOffsets[li],
                                      rowsPerBias: T, causalOffset: P)
                eachHead { h in
                    let p = MatrixView(base: scores + h * T * TK, rows: T, columns: TK, stride: TK)
                    let v = MatrixView(base: cache.values(layer: l, b: b, h: h), rows: TK, columns: HS, stride: HS)
                    MatmulKernel.gemm(p, v, MutableMatrixView(base: context + lane.row * C + h * HS, rows: T, columns: HS, stride: C))
                }
            }
            // Dense projection + residual (the normed input when apply_residual_connection_post_layernorm).
            let attention = mlp  // reuse: [N, C] fits in [N, 4C]
            block.attentionDense.weight.multiply(context, rows: N, into: attention, bias: block.attentionDense.bias, sequences: decoding)
            ElementwiseKernel.add(attention, c.applyResidualConnectionPostLayernorm ? normed : hidden, hidden, count: N * C)
            layerNorm(hidden, block.postAttentionLayerNorm, normed, rows: N)
            block.mlpUp.weight.multiply(normed, rows: N, into: mlp, bias: block.mlpUp.bias, sequences: decoding)
            GELUKernel.forward(mlp, mlp, count: N * 4 * C)
            block.mlpDown.weight.multiply(mlp, rows: N, into: context, bias: block.mlpDown.bias, sequences: decoding)
            ElementwiseKernel.add(context, c.applyResidualConnectionPostLayernorm ? normed : hidden, hidden, count: N * C)
        }

        // Final layer norm and LM head on the rows that need logits.
        let rows = last ? lanes.count : N
        if last {
            for (i, lane) in lanes.enumerated() { (normed + i * C).update(from: hidden + (lane.row + lane.count - 1) * C, count: C) }
            layerNorm(normed, weights.finalLayerNorm, normed, rows: rows)
        } else {
            layerNorm(hidden, weights.finalLayerNorm, normed, rows: N)
        }
        let logits = ws.logits.ensure(rows * V)
        (weights.lmHead ?? weights.wordEmbeddings).multiply(normed, rows: rows, into: logits, sequences: last || decoding)
        return logits
    }

    private func layerNorm(_ x: UnsafePointer<Float>, _ w: LayerNormWeights, _ out: UnsafeMutablePointer<Float>, rows: Int) {
        w.weight.withUnsafeBufferPointer { g in
            w.bias.withUnsafeBufferPointer { b in
                LayerNormKernel.forward(x, gamma: g.baseAddress!, beta: b.baseAddress!, out, mean: nil, rstd: nil,
                                        rows: rows, cols: configuration.hiddenSize, eps: configuration.layerNormEpsilon)
            }
        }
    }
}

// Llama's forward pass (transformers' LlamaForCausalLM): token embeddings, decoder layers of RMSNorm, grouped-query
// self-attention with rotary embeddings and a SwiGLU MLP (each with a residual), final RMSNorm, LM head (tied or
// not); incremental with a KV cache, positions from the attention mask as transformers' generate computes them.
import EcomTensor
import Foundation

/// A Llama-family causal language model ready for inference.
///
/// Forward passes reuse one scratch workspace; calls from several threads are serialised by a lock. Use
/// ``sharingWeights()`` to run in parallel.
public final class LlamaModel: LaneModel, @unchecked Sendable {
    public let configuration: LlamaConfiguration
    public let weights: LlamaWeights
    /// Query rows per block of the prefill attention (the masked triangle outside the blocks is skipped).
    static let attentionBlock = 128
    /// Multiply-adds per chunk, at least, when decoding heads run side by side (a chunk of less waits longer for the
    /// pool than it computes).
    static let decodeAttentionChunkWork = 8192
    let rotary: RotaryEmbedding
    let workspace = Workspace()

    public init(configuration: LlamaConfiguration, weights: LlamaWeights) {
        self.configuration = configuration
        self.weights = weights
        rotary = RotaryEmbedding(dimension: configuration.headDimension, base: configuration.ropeTheta)
    }

    /// Loads an HF directory (config.json and model.safetensors or a sharded index) strictly.
    public static func load(directory: URL, precision: WeightPrecision = .float32) throws -> LlamaModel {
        let config = try LlamaConfiguration.load(directory: directory)
        let checkpoint = try SafeTensorsCheckpoint(directory: directory)
        return LlamaModel(configuration: config, weights: try LlamaWeights.load(checkpoint, configuration: config, precision: precision))
    }

    public var vocabularySize: Int { configuration.vocabSize }
    public var architecture: String { "llama" }
    public var specialTokens: SpecialTokenIds {
        SpecialTokenIds(bos: configuration.bosTokenId.map(Int32.init), eos: configuration.eosTokenIds.map(Int32.init),
                        pad: configuration.padTokenId.map(Int32.init))
    }
    public var parameterCount: Int { weights.parameterCount }
    public var bytesPerToken: Int { weights.bytesPerToken }
    public func encodedConfiguration() throws -> Data { try ConfigurationFile.encoded(configuration) }
    public func sharingWeights() -> any CausalLanguageModel { LlamaModel(configuration: configuration, weights: weights) }
    public func makeCache(batch: Int, capacity: Int) -> KVCache {
        let c = configuration
        return KVCache(layerCount: c.layerCount, headCount: c.keyValueHeadCount, headDimension: c.headDimension, batch: batch, capacity: capacity)
    }

    /// The forward pass of `lanes` into the workspace (their masks recorded, their caches' lengths not yet advanced);
    /// returns logits `[N, V]` (or one row per lane with `last`), valid until the next call.
    func forward(ids: [Int32], lanes: [Lane], last: Bool) -> UnsafeMutablePointer<Float> {
        let c = configuration
        let C = c.hiddenSize, NH = c.headCount, KVH = c.keyValueHeadCount
        let HS = c.headDimension, I = c.intermediateSize, V = c.vocabSize, group = NH / KVH
        let N = ids.count
        let decoding = lanes.allSatisfy { $0.count == 1 }  // every row its own sequence (see WeightMatrix.multiply)
        let ws = workspace
        let hidden = ws.hidden.ensure(N * C)            // [N, C] residual stream
        let normed = ws.normed.ensure(N * C)            // [N, C] RMSNorm output
        let q = ws.qkv.ensure(N * NH * HS)              // [N, NH, HS]
        let k = ws.keys.ensure(N * KVH * HS)            // [N, KVH, HS]
        let v = ws.values.ensure(N * KVH * HS)          // [N, KVH, HS]
        let context = ws.context.ensure(N * NH * HS)    // [N, NH*HS] attention output before o_proj
        let gate = ws.mlp.ensure(N * I)                 // [N, I]
        let up = ws.up.ensure(N * I)                    // [N, I]
        // One query block's scores per head, so heads can run side by side (CausalBlocks.forEachHead); and one row of
        // scores per head of every lane with a single new position, whose attention runs after the other lanes'.
        let blockScores = lanes.map { min($0.count, Self.attentionBlock) * $0.visible }.max()!
        let singles = lanes.indices.filter { lanes[$0].count == 1 }
        let singleScores = singles.map { lanes[$0].visible }.max() ?? 0
        // With `last`, the last layer computes its queries, attention, o_proj and MLP for each lane's last position
        // only (every position's keys and values still go to the cache), as llama.cpp prunes its unused outputs: a
        // row of scores per head of every lane there.
        let pruneLast = last && N > lanes.count && !weights.layers.isEmpty
        let lastScores = pruneLast ? lanes.map(\.visible).max()! : 0
        let scores = ws.scores.ensure(max(NH * blockScores, singles.count * NH * singleScores, lanes.count * NH * lastScores))
        var biasOffsets: [Int] = [], biasCount = 0      // per lane: [visible] 0 for tokens, -inf for padded keys
        for lane in lanes { biasOffsets.append(biasCount); biasCount += lane.visible }
        let bias = ws.bias.ensure(biasCount)
        let half = HS / 2
        let cosTable = ws.cos.ensure(N * half), sinTable = ws.sin.ensure(N * half)  // [N, HS/2]

        // Positions: cumsum(mask) - 1 over every position so far (1 at padding), as transformers' generate builds
        // position_ids for a left-padded batch; padded keys get -inf.
        for (li, lane) in lanes.enumerated() {
            let cache = lane.cache, laneBias = bias + biasOffsets[li]
            var count = 0
            for j in 0..<lane.visible {
                let m = cache.mask[lane.b * cache.capacity + j]
                count += Int(m)
                laneBias[j] = m == 0 ? -.infinity : 0
                if j >= lane.past {
                    let n = lane.row + j - lane.past
                    rotary.angles(position: m == 0 ? 1 : count - 1, cos: cosTable + n * half, sin: sinTable + n * half)
                }
            }
        }

        for (n, id) in ids.enumerated() { weights.embeddings.copyRow(Int(id), to: hidden + n * C) }

        let scale = 1 / Float(HS).squareRoot()
        for (l, layer) in weights.layers.enumerated() {
            let pruned = pruneLast && l == weights.layers.count - 1
            let R = pruned ? lanes.count : N  // rows of queries, context, o_proj and MLP
            layer.inputNorm.withUnsafeBufferPointer {
                RMSNormKernel.forward(hidden, weight: $0.baseAddress!, normed, rows: N, cols: C, eps: c.rmsNormEpsilon)
            }
            if !pruned { layer.query.multiply(normed, rows: N, into: q, sequences: decoding) }
            layer.key.multiply(normed, rows: N, into: k, sequences: decoding)
            layer.value.multiply(normed, rows: N, into: v, sequences: decoding)
            for n in 0..<N {
                if !pruned { rotary.apply(q + n * NH * HS, heads: NH, cos: cosTable + n * half, sin: sinTable + n * half) }
                rotary.apply(k + n * KVH * HS, heads: KVH, cos: cosTable + n * half, sin: sinTable + n * half)
            }
            if pruned {
                // Row i becomes lane i's last position (its source row is never below i, so earlier moves do not
                // overwrite later sources); its queries are computed from there.
                for (i, lane) in lanes.enumerated() where lane.row + lane.count - 1 != i {
                    let src = lane.row + lane.count - 1
                    (normed + i * C).update(from: normed + src * C, count: C)
                    (hidden + i * C).update(from: hidden + src * C, count: C)
                    (cosTable + i * half).update(from: cosTable + src * half, count: half)
                    (sinTable + i * half).update(from: sinTable + src * half, count: half)
                }
                layer.query.multiply(normed, rows: R, into: q, floatActivations: true)
                for n in 0..<R { rotary.apply(q + n * NH * HS, heads: NH, cos: cosTable + n * half, sin: sinTable + n * half) }
            }
            for (li, lane) in lanes.enumerated() {
                let cache = lane.cache, P = lane.past, T = lane.count, laneBias = bias + biasOffsets[li]
                // Append the new keys and values to the cache.
                for h in 0..<KVH {
                    let kDst = cache.keys(layer: l, b: lane.b, h: h) + P * HS, vDst = cache.values(layer: l, b: lane.b, h: h) + P * HS
                    for i in 0..<T {
                        let src = (lane.row + i) * KVH * HS + h * HS
                        (kDst + i * HS).update(from: k + src, count: HS)
                        (vDst + i * HS).update(from: v + src, count: HS)
                    }
                }
                // softmax(Q Kᵀ / sqrt(HS) + padding) with the causal mask shifted by the cached length; query head h
                // reads key/value head h / group (transformers' repeat_kv).
                if T == 1 || pruned { continue }  // below, with every other single-position lane
                // Several new positions: query blocks of `attentionBlock` rows, each against the keys it can see
                // (the cached ones and its own block's prefix), so the masked triangle is neither computed nor read.
                // Heads run side by side where OpenBLAS is single-threaded (as in training), each in its own scores.
                CausalBlocks.forEachHead(NH) { h in
                    let kBase = cache.keys(layer: l, b: lane.b, h: h / group), vBase = cache.values(layer: l, b: lane.b, h: h / group)
                    let scores = scores + h * blockScores
                    for q0 in stride(from: 0, to: T, by: Self.attentionBlock) {
                        let rows = min(Self.attentionBlock, T - q0), visible = P + q0 + rows
                        let qh = MatrixView(base: q + (lane.row + q0) * NH * HS + h * HS, rows: rows, columns: HS, stride: NH * HS)
                        let block = MutableMatrixView(base: scores, rows: rows, columns: visible, stride: visible)
                        MatmulKernel.gemm(qh, MatrixView(base: kBase, rows: visible, columns: HS, stride: HS), transposeB: true, block)
                        SoftmaxKernel.forward(scores, scores, rows: rows, cols: visible, scale: scale, bias: laneBias,
                                              rowsPerBias: rows, causalOffset: P + q0)
                        MatmulKernel.gemm(MatrixView(base: scores, rows: rows, columns: visible, stride: visible),
                                          MatrixView(base: vBase, rows: visible, columns: HS, stride: HS),
                                          MutableMatrixView(base: context + (lane.row + q0) * NH * HS + h * HS, rows: rows, columns: HS, stride: NH * HS))
                    }
                }
            }
            // Decoding: one query row per head, plain SIMD loops instead of two BLAS calls per head; the heads of all
            // such lanes side by side on the compute threads (each its own row of scores; bit-identical either way).
            // In the pruned layer every lane has one query row (row i for lane i), as a decoding lane has.
            let attending = pruned ? Array(lanes.indices) : singles, span = pruned ? lastScores : singleScores
            if !attending.isEmpty {
                let work = span * HS  // multiply-adds of one of a head's two products, the longest lane's
                ComputeThreads.forEachChunk(attending.count * NH, minPerChunk: max(1, Self.decodeAttentionChunkWork / max(1, work))) { _, pairs in
                    for pair in pairs {
                        let li = attending[pair / NH], h = pair % NH, lane = lanes[li], cache = lane.cache
                        let row = pruned ? li : lane.row
                        DecodeAttention.head(query: q + row * NH * HS + h * HS, keys: cache.keys(layer: l, b: lane.b, h: h / group),
                                             values: cache.values(layer: l, b: lane.b, h: h / group), count: lane.visible,
                                             dimension: HS, scale: scale, bias: bias + biasOffsets[li],
                                             scores: scores + pair * span, out: context + row * NH * HS + h * HS)
                    }
                }
            }
            let attention = normed  // the normed input is no longer needed: o_proj writes over it
            layer.output.multiply(context, rows: R, into: attention, sequences: decoding, floatActivations: pruned)
            ElementwiseKernel.add(attention, hidden, hidden, count: R * C)
            layer.postAttentionNorm.withUnsafeBufferPointer {
                RMSNormKernel.forward(hidden, weight: $0.baseAddress!, normed, rows: R, cols: C, eps: c.rmsNormEpsilon)
            }
            layer.gate.multiply(normed, rows: R, into: gate, sequences: decoding, floatActivations: pruned)
            layer.up.multiply(normed, rows: R, into: up, sequences: decoding, floatActivations: pruned)
            SwiGLUKernel.forward(gate: gate, up: up, gate, count: R * I)
            layer.down.multiply(gate, rows: R, into: normed, sequences: decoding, floatActivations: pruned)
            ElementwiseKernel.add(normed, hidden, hidden, count: R * C)
        }

        // Final norm and LM head on the rows that need logits (after a pruned last layer, the first rows of hidden).
        let rows = last ? lanes.count : N
        if last && !pruneLast {
            for (i, lane) in lanes.enumerated() { (normed + i * C).update(from: hidden + (lane.row + lane.count - 1) * C, count: C) }
        }
        weights.finalNorm.withUnsafeBufferPointer {
            RMSNormKernel.forward(last && !pruneLast ? normed : hidden, weight: $0.baseAddress!, normed, rows: rows, cols: C, eps: c.rmsNormEpsilon)
        }
        let logits = ws.logits.ensure(rows * V)
        (weights.lmHead ?? weights.embeddings).multiply(normed, rows: rows, into: logits, sequences: last || decoding)
        return logits
    }
}

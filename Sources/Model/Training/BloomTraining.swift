// BLOOM training forward and backward (transformers' BloomForCausalLM without dropout), llm.c style: paired
// *Forward / *Backward functions over raw buffers, a forward that keeps the activations the backward needs, and a
// block-diagonal causal attention for packed sequences (attention stays inside each run of equal document ids).
//
// Shape legend: B batch, T sequence length, N = B*T, C hidden size, NH heads, HS = C/NH, V vocabulary, L layers.
import EcomTensor
import Foundation

/// BLOOM with flat parameters and gradients; computes the loss and accumulates gradients for a batch. Trains every
/// weight, or LoRA adapters (PEFT's) on a frozen base whose weights then get no gradient.
///
/// Not thread-safe: one model per training loop. Activations are kept in grow-only buffers between calls.
public final class BloomTrainingModel: @unchecked Sendable {
    public let configuration: BloomConfiguration
    public let layout: BloomParameterLayout
    /// The model's weights in ``layout`` (the same buffer as ``parameters`` when every weight is trained).
    public let values: FlatBuffer
    /// The trained values: ``values`` in full training, the adapters (``parameterEntries``) with LoRA.
    public let parameters: FlatBuffer
    /// Gradients in the layout of ``parameters``, accumulated (+=) by ``forwardBackward(_:normalizer:)``; zero them
    /// between steps.
    public let gradients: FlatBuffer
    /// The adapters' settings, or nil when every weight is trained.
    public internal(set) var lora: LoRAConfiguration?
    public let parameterEntries: [ParameterEntry]
    /// Per block, the adapters of query_key_value, dense, dense_h_to_4h, dense_4h_to_h (nil where not targeted).
    var adapters: [[Adapter?]] = []
    /// Offsets of A `[r, in]` and B `[out, r]` in ``parameters`` (and ``gradients``), with the layer's shape.
    struct Adapter { var a: Int, b: Int, inFeatures: Int, outFeatures: Int }
    /// x Aᵀ of every adapter `[L, 4, N, r]`, d(x Aᵀ) `[N, r]`, and a sink for frozen norms' gradients.
    let loraActs = Workspace.Buffer()
    let slopes: [Float]
    let acts = Activations()
    /// When set, seconds spent per part of the pass are added to it (for the benchmark's breakdown).
    public var profile: TrainingProfile?

    public init(configuration c: BloomConfiguration, parameters: FlatBuffer) {
        precondition(!c.applyResidualConnectionPostLayernorm, "training supports apply_residual_connection_post_layernorm = false (every BLOOM)")
        configuration = c
        layout = BloomParameterLayout(c)
        precondition(parameters.count == layout.count, "parameters: \(parameters.count) values, layout needs \(layout.count)")
        values = parameters
        self.parameters = parameters
        gradients = FlatBuffer(count: layout.count)
        lora = nil
        parameterEntries = layout.entries
        slopes = ALiBi.slopes(numHeads: c.headCount)
    }

    /// LoRA on a frozen base (`values` in the layout): adapters from `adapter` when given, else PEFT's default
    /// initialisation (A Kaiming-uniform from `seed`, B zero).
    public init(configuration c: BloomConfiguration, values: FlatBuffer, lora: LoRAConfiguration, adapter: LoRAAdapter? = nil,
                adapterFile: String = "adapter", seed: UInt64 = 42) throws {
        precondition(!c.applyResidualConnectionPostLayernorm, "training supports apply_residual_connection_post_layernorm = false (every BLOOM)")
        guard lora.rank > 0 else { throw TrainingError("LoRA rank must be positive") }
        configuration = c
        layout = BloomParameterLayout(c)
        self.values = values
        self.lora = lora
        slopes = ALiBi.slopes(numHeads: c.headCount)
        let C = c.hiddenSize, r = lora.rank
        let shapes = [(3 * C, C), (C, C), (4 * C, C), (C, 4 * C)]
        var entries: [ParameterEntry] = [], count = 0
        var paths: [String] = []
        for l in 0..<c.layerCount {
            var row: [Adapter?] = []
            for (i, name) in Self.moduleNames.enumerated() {
                let path = "transformer.h.\(l).\(name)"
                paths.append(path)
                guard lora.targets(modulePath: path) else { row.append(nil); continue }
                let (out, inp) = shapes[i]
                entries.append(ParameterEntry(name: LoRAConfiguration.key(modulePath: path, .A), shape: [r, inp], offset: count)); count += r * inp
                entries.append(ParameterEntry(name: LoRAConfiguration.key(modulePath: path, .B), shape: [out, r], offset: count)); count += out * r
                row.append(Adapter(a: count - out * r - r * inp, b: count - out * r, inFeatures: inp, outFeatures: out))
            }
            adapters.append(row)
        }
        guard count > 0 else {
            throw TrainingError("\(adapter == nil ? "" : adapterFile + ": ")LoRA targets \(lora.targets.joined(separator: ",")) match no BLOOM module (use \(LoRAConfiguration.bloomTargets.joined(separator: ",")))")
        }
        parameterEntries = entries
        parameters = FlatBuffer(count: count)
        gradients = FlatBuffer(count: count)
        var rng = TensorRandom(seed: seed)
        for l in 0..<c.layerCount {
            for (i, name) in Self.moduleNames.enumerated() {
                guard let ad = adapters[l][i] else { continue }
                let path = "transformer.h.\(l).\(name)"
                let saved = try adapter?.matrices(modulePath: path, rows: ad.outFeatures, columns: ad.inFeatures, file: adapterFile)
                if adapter != nil && saved == nil {
                    throw TrainingError("\(adapterFile): no lora_A/lora_B for \(path), which adapter_config.json targets")
                }
                pair(ad).initialize(from: saved, rng: &rng)
            }
        }
        if let adapter { try adapter.checkKeys(modulePaths: paths, file: adapterFile) }
    }

    /// Module paths of a block's linear layers inside `transformer.h.L.`, in the order of ``adapters``.
    static let moduleNames = ["self_attention.query_key_value", "self_attention.dense", "mlp.dense_h_to_4h", "mlp.dense_4h_to_h"]

    public convenience init(configuration c: BloomConfiguration, weights: BloomWeights) {
        self.init(configuration: c, parameters: BloomParameterLayout(c).flatten(weights))
    }

    /// Loads an HF BLOOM directory (config.json + safetensors) for training: every weight, or LoRA with a new
    /// adapter (`lora`) or a saved one (`adapterDirectory`).
    public static func load(directory: URL, lora: LoRAConfiguration? = nil, adapterDirectory: URL? = nil, seed: UInt64 = 42) throws -> BloomTrainingModel {
        let c = try BloomConfiguration.load(directory: directory)
        let weights = try BloomWeights.load(SafeTensorsCheckpoint(directory: directory), configuration: c)
        if let dir = adapterDirectory {
            let adapter = try LoRAAdapter.load(directory: dir)
            return try BloomTrainingModel(configuration: c, values: BloomParameterLayout(c).flatten(weights), lora: adapter.configuration,
                                          adapter: adapter, adapterFile: dir.appendingPathComponent("adapter_model.safetensors").path, seed: seed)
        }
        if let lora { return try BloomTrainingModel(configuration: c, values: BloomParameterLayout(c).flatten(weights), lora: lora, seed: seed) }
        return BloomTrainingModel(configuration: c, weights: weights)
    }

    /// The model's weights with the adapters merged (W + s B A; PEFT's merge_and_unload), or ``values`` itself.
    public func mergedValues() -> FlatBuffer {
        guard lora != nil else { return values }
        let out = FlatBuffer(count: values.count)
        out.copy(from: values)
        for (l, row) in adapters.enumerated() {
            let o = layout.blocks[l]
            for (ad, w) in zip(row, [o.qkvWeight, o.denseWeight, o.upWeight, o.downWeight]) {
                guard let ad else { continue }
                let pair = pair(ad)
                LoRAPair.merge(a: pair.a, b: pair.b, rank: pair.rank, scale: pair.scale, into: out.pointer + w,
                               rows: ad.outFeatures, columns: ad.inFeatures)
            }
        }
        return out
    }

    /// The pair at `ad`'s offsets.
    func pair(_ ad: Adapter) -> LoRAPair {
        LoRAPair(a: parameters.pointer + ad.a, b: parameters.pointer + ad.b, gradA: gradients.pointer + ad.a,
                 gradB: gradients.pointer + ad.b, rank: lora!.rank, scale: lora!.scaling,
                 inFeatures: ad.inFeatures, outFeatures: ad.outFeatures)
    }


    /// An inference model holding a copy of the current parameters.
    public func inferenceModel() -> BloomModel { BloomModel(configuration: configuration, weights: layout.weights(mergedValues())) }

    /// The loss of `batch` without gradients: (sum over learned tokens of -log p, number of learned tokens).
    public func loss(_ batch: TrainingBatch) -> (sum: Double, count: Int) {
        run(batch, backward: false, normalizer: 1)
    }

    /// Forward and backward: adds to ``gradients`` the gradient of (sum of token losses) / `normalizer` (default: the
    /// batch's own learned tokens, i.e. the mean loss as HF computes it). Returns the loss sum and the token count.
    @discardableResult
    public func forwardBackward(_ batch: TrainingBatch, normalizer: Int? = nil) -> (sum: Double, count: Int) {
        run(batch, backward: true, normalizer: normalizer ?? max(1, batch.learnedTokens))
    }

    // MARK: - The pass

    typealias Segment = AttentionSegment

    private func run(_ batch: TrainingBatch, backward: Bool, normalizer: Int) -> (sum: Double, count: Int) {
        let t0 = profile == nil ? 0 : TrainingProfile.now()
        defer { profile?.add(.total, since: t0) }
        let c = configuration
        let C = c.hiddenSize, V = c.vocabSize, L = c.layerCount, NH = c.headCount
        for id in batch.ids { precondition(id >= 0 && Int(id) < V, "token id \(id) outside the vocabulary (\(V))") }
        let (segments, ids, targets, attPerLayer, longest) = batch.compacted(headCount: NH)
        let N = ids.count
        guard N > 0 else { return (0, 0) }
        let a = acts.prepare(N: N, C: C, V: V, L: L, attPerLayer: attPerLayer, longest: longest, NH: NH)
        let p = values.pointer, lay = layout
        let g: UnsafeMutablePointer<Float>? = lora == nil ? gradients.pointer : nil
        let sink = lora == nil ? nil : prepareLoRA(N: N)
        /// Where a norm's gradient goes: its place in ``gradients``, or a sink when the base is frozen.
        func gn(_ o: Int, _ k: Int) -> UnsafeMutablePointer<Float> { g.map { $0 + o } ?? sink! + k * C }

        // Embeddings and their layer norm.
        ids.withUnsafeBufferPointer { ids in
            EmbeddingKernel.forward(p + lay.wordEmbeddings, ids: ids.baseAddress!, a.emb, count: N, vocab: V, dim: C)
        }
        LayerNormKernel.forward(a.emb, gamma: p + lay.embeddingNormWeight, beta: p + lay.embeddingNormBias, a.resid(0),
                                mean: a.ln0Mean, rstd: a.ln0Rstd, rows: N, cols: C, eps: c.layerNormEpsilon)
        for l in 0..<L { blockForward(l, a, segments, N: N) }
        LayerNormKernel.forward(a.resid(L), gamma: p + lay.finalNormWeight, beta: p + lay.finalNormBias, a.lnf,
                                mean: a.lnfMean, rstd: a.lnfRstd, rows: N, cols: C, eps: c.layerNormEpsilon)
        // The LM head and the loss run only on the M rows that have a target: rows without one (prompt tokens of
        // instruction data, padding, each row's last position) need no logits and get no gradient from the head.
        // Those rows are gathered into a.dctx (free until the blocks' backward); all rows are used as they are
        // when every row has a target.
        let kept = (0..<N).filter { targets[$0] != CrossEntropyKernel.ignoreIndex }
        let M = kept.count, gathered = M < N
        let headInput = gathered ? a.dctx : a.lnf
        if gathered { for (i, r) in kept.enumerated() { (headInput + i * C).update(from: a.lnf + r * C, count: C) } }
        let headTargets = gathered ? kept.map { targets[$0] } : targets
        // logits [M, V] = head input [M, C] · Wᵀ [C, V]
        linearForward(headInput, weight: p + lay.lmHead, bias: nil, a.logits, rows: M, inFeatures: C, outFeatures: V)
        let learned = M
        let tLoss = profile == nil ? 0 : TrainingProfile.now()
        let (meanLoss, count) = M == 0 ? (0, 0) : headTargets.withUnsafeBufferPointer { t in
            CrossEntropyKernel.forwardBackward(a.logits, targets: t.baseAddress!, rows: M, vocab: V,
                                               dLogits: backward ? a.logits : nil, dLoss: Float(Double(learned) / Double(normalizer)))
        }
        profile?.add(.loss, since: tLoss)
        let sum = Double(meanLoss) * Double(count)
        guard backward else { return (sum, count) }

        // Backward. dlogits (in a.logits) -> dlnf [N, C] (in a.dln, zero on rows without a target) and the LM
        // head's gradient.
        if gathered {
            linearBackward(a.logits, input: headInput, weight: p + lay.lmHead, dInput: a.dresid, dWeight: g.map { $0 + lay.lmHead }, dBias: nil,
                           rows: M, inFeatures: C, outFeatures: V)
            a.dln.update(repeating: 0, count: N * C)
            for (i, r) in kept.enumerated() { (a.dln + r * C).update(from: a.dresid + i * C, count: C) }
        } else {
            linearBackward(a.logits, input: a.lnf, weight: p + lay.lmHead, dInput: a.dln, dWeight: g.map { $0 + lay.lmHead }, dBias: nil,
                           rows: N, inFeatures: C, outFeatures: V)
        }
        LayerNormKernel.backward(a.dln, a.resid(L), gamma: p + lay.finalNormWeight, mean: a.lnfMean, rstd: a.lnfRstd,
                                 dx: a.dresid, dGamma: gn(lay.finalNormWeight, 0), dBeta: gn(lay.finalNormBias, 1), rows: N, cols: C)
        for l in stride(from: L - 1, through: 0, by: -1) { blockBackward(l, a, segments, N: N) }
        // dresid now holds the gradient of resid(0), the embedding layer norm's output.
        LayerNormKernel.backward(a.dresid, a.emb, gamma: p + lay.embeddingNormWeight, mean: a.ln0Mean, rstd: a.ln0Rstd,
                                 dx: a.dln, dGamma: gn(lay.embeddingNormWeight, 0), dBeta: gn(lay.embeddingNormBias, 1), rows: N, cols: C)
        if let g {
            ids.withUnsafeBufferPointer { ids in
                EmbeddingKernel.backward(a.dln, ids: ids.baseAddress!, dTable: g + lay.wordEmbeddings, count: N, vocab: V, dim: C)
            }
        }
        return (sum, count)
    }

    // MARK: - Blocks

    /// One block: out = resid2 + MLP(LN2(resid2)), resid2 = x + Attention(LN1(x)).
    private func blockForward(_ l: Int, _ a: Activations.Pointers, _ segments: [Segment], N: Int) {
        let c = configuration, C = c.hiddenSize, p = values.pointer, o = layout.blocks[l], eps = c.layerNormEpsilon
        let x = a.resid(l), ln1 = a.ln1(l), qkv = a.qkv(l), ctx = a.ctx(l), resid2 = a.resid2(l), ln2 = a.ln2(l)
        let fch = a.fch(l), fchGelu = a.fchGelu(l)
        LayerNormKernel.forward(x, gamma: p + o.ln1Weight, beta: p + o.ln1Bias, ln1, mean: a.ln1Mean(l), rstd: a.ln1Rstd(l), rows: N, cols: C, eps: eps)
        linearForward(ln1, weight: p + o.qkvWeight, bias: p + o.qkvBias, qkv, rows: N, inFeatures: C, outFeatures: 3 * C, lora: adapterOf(l, 0, N))
        attentionForward(qkv, a.att(l), ctx, a.bias, segments)
        linearForward(ctx, weight: p + o.denseWeight, bias: p + o.denseBias, resid2, rows: N, inFeatures: C, outFeatures: C, lora: adapterOf(l, 1, N))
        ElementwiseKernel.add(resid2, x, resid2, count: N * C)
        LayerNormKernel.forward(resid2, gamma: p + o.ln2Weight, beta: p + o.ln2Bias, ln2, mean: a.ln2Mean(l), rstd: a.ln2Rstd(l), rows: N, cols: C, eps: eps)
        linearForward(ln2, weight: p + o.upWeight, bias: p + o.upBias, fch, rows: N, inFeatures: C, outFeatures: 4 * C, lora: adapterOf(l, 2, N))
        GELUKernel.forward(fch, fchGelu, count: N * 4 * C)
        let out = a.resid(l + 1)
        linearForward(fchGelu, weight: p + o.downWeight, bias: p + o.downBias, out, rows: N, inFeatures: 4 * C, outFeatures: C, lora: adapterOf(l, 3, N))
        ElementwiseKernel.add(out, resid2, out, count: N * C)
    }

    /// On entry `a.dresid` is d out (the block's output); on exit it is d x (the block's input).
    private func blockBackward(_ l: Int, _ a: Activations.Pointers, _ segments: [Segment], N: Int) {
        let C = configuration.hiddenSize, p = values.pointer, o = layout.blocks[l]
        let g: UnsafeMutablePointer<Float>? = lora == nil ? gradients.pointer : nil, sink = lora == nil ? nil : prepareLoRA(N: N)
        func gv(_ o: Int) -> UnsafeMutablePointer<Float>? { g.map { $0 + o } }
        func gn(_ o: Int, _ k: Int) -> UnsafeMutablePointer<Float> { g.map { $0 + o } ?? sink! + k * C }
        let dresid = a.dresid
        // MLP: d fchGelu [N, 4C] = dout · W_down; then through GELU in place; then d ln2 [N, C] = d fch · W_up.
        linearBackward(dresid, input: a.fchGelu(l), weight: p + o.downWeight, dInput: a.dfch, dWeight: gv(o.downWeight),
                       dBias: gv(o.downBias), rows: N, inFeatures: 4 * C, outFeatures: C, lora: adapterOf(l, 3, N))
        GELUKernel.backward(a.dfch, a.fch(l), a.dfch, count: N * 4 * C)
        linearBackward(a.dfch, input: a.ln2(l), weight: p + o.upWeight, dInput: a.dln, dWeight: gv(o.upWeight),
                       dBias: gv(o.upBias), rows: N, inFeatures: C, outFeatures: 4 * C, lora: adapterOf(l, 2, N))
        // d resid2 = dout (residual) + LN2'ᵀ d ln2.
        LayerNormKernel.backward(a.dln, a.resid2(l), gamma: p + o.ln2Weight, mean: a.ln2Mean(l), rstd: a.ln2Rstd(l), dx: dresid,
                                 dGamma: gn(o.ln2Weight, 0), dBeta: gn(o.ln2Bias, 1), rows: N, cols: C, accumulate: true)
        // Attention: d ctx [N, C] = d resid2 · W_dense; then d qkv [N, 3C]; then d ln1 = d qkv · W_qkv.
        linearBackward(dresid, input: a.ctx(l), weight: p + o.denseWeight, dInput: a.dctx, dWeight: gv(o.denseWeight),
                       dBias: gv(o.denseBias), rows: N, inFeatures: C, outFeatures: C, lora: adapterOf(l, 1, N))
        attentionBackward(a.dctx, qkv: a.qkv(l), att: a.att(l), dqkv: a.dqkv, datt: a.datt, segments)
        linearBackward(a.dqkv, input: a.ln1(l), weight: p + o.qkvWeight, dInput: a.dln, dWeight: gv(o.qkvWeight),
                       dBias: gv(o.qkvBias), rows: N, inFeatures: C, outFeatures: 3 * C, lora: adapterOf(l, 0, N))
        // d x = d resid2 (residual) + LN1'ᵀ d ln1.
        LayerNormKernel.backward(a.dln, a.resid(l), gamma: p + o.ln1Weight, mean: a.ln1Mean(l), rstd: a.ln1Rstd(l), dx: dresid,
                                 dGamma: gn(o.ln1Weight, 0), dBeta: gn(o.ln1Bias, 1), rows: N, cols: C, accumulate: true)
    }

    // MARK: - Linear

    /// An adapter for one pass: its pair, its saved x Aᵀ `[N, r]` and the d(x Aᵀ) scratch.
    struct AdapterPass {
        var pair: LoRAPair
        var xa, dxa: UnsafeMutablePointer<Float>
    }

    /// LoRA scratch for `N` rows: x Aᵀ for every adapter, d(x Aᵀ), and (returned) a `[2, C]` sink for the gradients
    /// of frozen norms.
    @discardableResult
    func prepareLoRA(N: Int) -> UnsafeMutablePointer<Float> {
        let r = lora!.rank, L = configuration.layerCount
        return loraActs.ensure(L * 4 * N * r + N * r + 2 * configuration.hiddenSize) + L * 4 * N * r + N * r
    }

    /// The adapter on linear layer `slot` of block `l` (0 qkv, 1 dense, 2 up, 3 down) for a pass over `N` rows.
    func adapterOf(_ l: Int, _ slot: Int, _ N: Int) -> AdapterPass? {
        guard let lora, let ad = adapters[l][slot] else { return nil }
        let r = lora.rank, base = loraActs.pointer
        return AdapterPass(pair: pair(ad), xa: base + (l * 4 + slot) * N * r, dxa: base + configuration.layerCount * 4 * N * r)
    }

    /// y [rows, out] = x [rows, in] · Wᵀ (W [out, in]) + bias [out] (+ s (x Aᵀ) Bᵀ with an adapter, x Aᵀ kept).
    func linearForward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
                       rows: Int, inFeatures: Int, outFeatures: Int, lora ad: AdapterPass? = nil) {
        let t0 = profile == nil ? 0 : TrainingProfile.now()
        defer { profile?.add(.matmul, since: t0) }
        let xv = MatrixView(base: x, rows: rows, columns: inFeatures, stride: inFeatures)
        let yv = MutableMatrixView(base: y, rows: rows, columns: outFeatures, stride: outFeatures)
        MatmulKernel.gemm(xv, MatrixView(base: weight, rows: outFeatures, columns: inFeatures, stride: inFeatures), transposeB: true, yv)
        if let bias { ElementwiseKernel.addRow(y, bias, y, rows: rows, cols: outFeatures) }
        if let ad { ad.pair.forward(xv, xa: ad.xa, addingTo: yv) }
    }

    /// dx [rows, in] = dy · W (overwritten) (+ the adapter's path); dW [out, in] += dyᵀ · x and dbias [out] += column
    /// sums of dy when given (trained weights); an adapter's dB += s dyᵀ (x Aᵀ), dA += (s dy B)ᵀ x.
    func linearBackward(_ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>,
                        dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?, rows: Int, inFeatures: Int, outFeatures: Int,
                        lora ad: AdapterPass? = nil) {
        let t0 = profile == nil ? 0 : TrainingProfile.now()
        defer { profile?.add(.matmul, since: t0) }
        let dyv = MatrixView(base: dy, rows: rows, columns: outFeatures, stride: outFeatures)
        let xv = MatrixView(base: x, rows: rows, columns: inFeatures, stride: inFeatures)
        let dxv = MutableMatrixView(base: dInput, rows: rows, columns: inFeatures, stride: inFeatures)
        MatmulKernel.gemm(dyv, MatrixView(base: weight, rows: outFeatures, columns: inFeatures, stride: inFeatures), dxv)
        if let dWeight {
            MatmulKernel.gemm(dyv, transposeA: true, xv, MutableMatrixView(base: dWeight, rows: outFeatures, columns: inFeatures, stride: inFeatures), beta: 1)
        }
        if let dBias { ElementwiseKernel.sumRows(dy, dBias, rows: rows, cols: outFeatures) }
        if let ad { ad.pair.backward(dy: dyv, x: xv, xa: ad.xa, scratch: ad.dxa, addingTo: dxv) }
    }

    // MARK: - Attention

    /// The query-block size of causal attention: block `[q0, q0 + n)` needs keys `[0, q0 + n)` only, so the scores
    /// above the diagonal blocks (the masked upper triangle) are neither computed nor read. At 256 tokens and the
    /// default 64 this does 62.5% of the full product's work. Any value gives the same results up to rounding.
    public var attentionBlock = 64 {
        didSet { precondition(attentionBlock > 0, "attentionBlock must be positive") }
    }

    var causal: CausalBlocks { CausalBlocks(size: attentionBlock) }

    /// Causal self-attention with ALiBi inside each segment. qkv [N, NH, 3, HS] (BLOOM's fused layout), ctx [N, C].
    ///
    /// Per segment and head: S = Q Kᵀ [Ls, Ls]; P = softmax(S / sqrt(HS) + slope * j) over keys j <= i (the ALiBi term
    /// uses key positions within the segment: the document's own positions; a per-row constant shift would not change
    /// the softmax anyway); ctx = P V. P is kept for the backward (zero above the diagonal). The products run by
    /// query block (``attentionBlock``) over the keys the block can see.
    func attentionForward(_ qkv: UnsafePointer<Float>, _ att: UnsafeMutablePointer<Float>, _ ctx: UnsafeMutablePointer<Float>,
                          _ bias: UnsafeMutablePointer<Float>, _ segments: [Segment]) {
        let t0 = profile == nil ? 0 : TrainingProfile.now()
        defer { profile?.add(.attention, since: t0) }
        let c = configuration, C = c.hiddenSize, NH = c.headCount, HS = c.headDimension
        let invNorm = 1 / Float(HS).squareRoot()
        for s in segments {
            let Ls = s.length, row0 = s.row0
            for h in 0..<NH { for j in 0..<Ls { bias[h * Ls + j] = slopes[h] * Float(j) } }
            let base = qkv + row0 * 3 * C, scores = att + s.attOffset
            CausalBlocks.forEachHead(NH) { h in
                let (q, k, _) = headViews(base, head: h, rows: Ls)
                causal.scores(q, k, into: scores + h * Ls * Ls)
            }
            SoftmaxKernel.forward(scores, scores, rows: NH * Ls, cols: Ls, scale: invNorm, bias: bias, rowsPerBias: Ls, causalOffset: 0)
            CausalBlocks.forEachHead(NH) { h in
                let (_, _, v) = headViews(base, head: h, rows: Ls)
                causal.weightedSum(scores + h * Ls * Ls, v, into: MutableMatrixView(base: ctx + row0 * C + h * HS, rows: Ls, columns: HS, stride: C))
            }
        }
    }

    /// Views of head `h`'s query, key and value `[rows, HS]` inside fused QKV rows `[rows, NH, 3, HS]` at `base`.
    @inline(__always) func headViews(_ base: UnsafePointer<Float>, head h: Int, rows: Int) -> (MatrixView, MatrixView, MatrixView) {
        let C = configuration.hiddenSize, HS = configuration.headDimension, o = base + h * 3 * HS
        return (MatrixView(base: o, rows: rows, columns: HS, stride: 3 * C), MatrixView(base: o + HS, rows: rows, columns: HS, stride: 3 * C),
                MatrixView(base: o + 2 * HS, rows: rows, columns: HS, stride: 3 * C))
    }

    /// Backward of ``attentionForward``: dP = dctx Vᵀ, dV = Pᵀ dctx, dS = softmax'(dP) (scaled), dQ = dS K,
    /// dK = dSᵀ Q, each over the causal blocks only. Every row of dqkv belongs to exactly one segment, so it is
    /// written (not accumulated).
    func attentionBackward(_ dctx: UnsafePointer<Float>, qkv: UnsafePointer<Float>, att: UnsafePointer<Float>,
                           dqkv: UnsafeMutablePointer<Float>, datt: UnsafeMutablePointer<Float>, _ segments: [Segment]) {
        let t0 = profile == nil ? 0 : TrainingProfile.now()
        defer { profile?.add(.attention, since: t0) }
        let c = configuration, C = c.hiddenSize, NH = c.headCount, HS = c.headDimension
        let invNorm = 1 / Float(HS).squareRoot()
        for s in segments {
            let Ls = s.length, row0 = s.row0
            let base = qkv + row0 * 3 * C, probs = att + s.attOffset
            // d q, d k, d v of head h: [Ls, HS] views into the fused dqkv rows.
            let dView = { (h: Int, part: Int) in MutableMatrixView(base: dqkv + row0 * 3 * C + h * 3 * HS + part * HS, rows: Ls, columns: HS, stride: 3 * C) }
            CausalBlocks.forEachHead(NH) { h in
                let dc = MatrixView(base: dctx + row0 * C + h * HS, rows: Ls, columns: HS, stride: C)
                let (_, _, v) = headViews(base, head: h, rows: Ls)
                causal.scores(dc, v, into: datt + h * Ls * Ls)
                causal.transposedSum(probs + h * Ls * Ls, dc, into: dView(h, 2))
            }
            SoftmaxKernel.backward(datt, probs, datt, rows: NH * Ls, cols: Ls, scale: invNorm, rowsPerGroup: Ls, causalOffset: 0)
            CausalBlocks.forEachHead(NH) { h in
                let (q, k, _) = headViews(base, head: h, rows: Ls)
                causal.weightedSum(datt + h * Ls * Ls, k, into: dView(h, 0))
                causal.transposedSum(datt + h * Ls * Ls, q, into: dView(h, 1))
            }
        }
    }
}

/// The activations a training step keeps (grow-only buffers, reused across steps).
final class Activations: @unchecked Sendable {
    private let storage = Workspace.Buffer()

    /// Pointers into one allocation; per-layer tensors are `L` consecutive slices.
    struct Pointers {
        var N: Int, C: Int, attPerLayer: Int
        var emb, ln0Mean, ln0Rstd, resids, ln1s, ln1Means, ln1Rstds, qkvs, atts, ctxs, resid2s, ln2s, ln2Means, ln2Rstds: UnsafeMutablePointer<Float>
        var fchs, fchGelus, lnf, lnfMean, lnfRstd, logits, dresid, dln, dqkv, dctx, dfch, datt, bias: UnsafeMutablePointer<Float>
        func resid(_ l: Int) -> UnsafeMutablePointer<Float> { resids + l * N * C }       // [L+1, N, C]
        func ln1(_ l: Int) -> UnsafeMutablePointer<Float> { ln1s + l * N * C }           // [L, N, C]
        func ln1Mean(_ l: Int) -> UnsafeMutablePointer<Float> { ln1Means + l * N }       // [L, N]
        func ln1Rstd(_ l: Int) -> UnsafeMutablePointer<Float> { ln1Rstds + l * N }       // [L, N]
        func qkv(_ l: Int) -> UnsafeMutablePointer<Float> { qkvs + l * N * 3 * C }       // [L, N, 3C]
        func att(_ l: Int) -> UnsafeMutablePointer<Float> { atts + l * attPerLayer }     // [L, segments' NH*Ls*Ls]
        func ctx(_ l: Int) -> UnsafeMutablePointer<Float> { ctxs + l * N * C }           // [L, N, C]
        func resid2(_ l: Int) -> UnsafeMutablePointer<Float> { resid2s + l * N * C }     // [L, N, C]
        func ln2(_ l: Int) -> UnsafeMutablePointer<Float> { ln2s + l * N * C }           // [L, N, C]
        func ln2Mean(_ l: Int) -> UnsafeMutablePointer<Float> { ln2Means + l * N }       // [L, N]
        func ln2Rstd(_ l: Int) -> UnsafeMutablePointer<Float> { ln2Rstds + l * N }       // [L, N]
        func fch(_ l: Int) -> UnsafeMutablePointer<Float> { fchs + l * N * 4 * C }       // [L, N, 4C]
        func fchGelu(_ l: Int) -> UnsafeMutablePointer<Float> { fchGelus + l * N * 4 * C } // [L, N, 4C]
    }

    func prepare(N: Int, C: Int, V: Int, L: Int, attPerLayer: Int, longest: Int, NH: Int) -> Pointers {
        let sizes: [Int] = [
            N * C, N, N,                                  // emb, ln0 mean/rstd
            (L + 1) * N * C, L * N * C, L * N, L * N,     // resids, ln1, ln1 mean/rstd
            L * N * 3 * C, L * attPerLayer, L * N * C,    // qkv, att, ctx
            L * N * C, L * N * C, L * N, L * N,           // resid2, ln2, ln2 mean/rstd
            L * N * 4 * C, L * N * 4 * C,                 // fch, fchGelu
            N * C, N, N, N * V,                           // lnf, mean, rstd, logits (then dlogits)
            N * C, N * C, N * 3 * C, N * C, N * 4 * C,    // dresid, dln, dqkv, dctx, dfch
            NH * longest * longest, NH * longest,         // datt (one segment), ALiBi bias rows
        ]
        // Each region starts 64-byte aligned.
        let rounded = sizes.map { ($0 + 15) / 16 * 16 }
        let base = storage.ensure(rounded.reduce(0, +))
        var ptrs: [UnsafeMutablePointer<Float>] = []
        var o = 0
        for r in rounded { ptrs.append(base + o); o += r }
        return Pointers(N: N, C: C, attPerLayer: attPerLayer,
                        emb: ptrs[0], ln0Mean: ptrs[1], ln0Rstd: ptrs[2], resids: ptrs[3], ln1s: ptrs[4], ln1Means: ptrs[5],
                        ln1Rstds: ptrs[6], qkvs: ptrs[7], atts: ptrs[8], ctxs: ptrs[9], resid2s: ptrs[10], ln2s: ptrs[11],
                        ln2Means: ptrs[12], ln2Rstds: ptrs[13], fchs: ptrs[14], fchGelus: ptrs[15], lnf: ptrs[16],
                        lnfMean: ptrs[17], lnfRstd: ptrs[18], logits: ptrs[19], dresid: ptrs[20], dln: ptrs[21],
                        dqkv: ptrs[22], dctx: ptrs[23], dfch: ptrs[24], datt: ptrs[25], bias: ptrs[26])
    }
}

/// Seconds spent per part of the training pass (matmuls of the linear layers and LM head, attention, the loss's
/// softmax, and the whole pass; element-wise work is the rest).
public final class TrainingProfile: @unchecked Sendable {
    public enum Part: String, CaseIterable, Sendable { case total, matmul, attention, loss }
    public private(set) var seconds: [Part: Double] = [:]
    public init() {}
    func add(_ p: Part, since t0: Double) { seconds[p, default: 0] += Self.now() - t0 }
    public func reset() { seconds = [:] }
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

extension BloomTrainingModel: TrainableModel {
    public var vocabularySize: Int { configuration.vocabSize }
    /// Full training: config.json and model.safetensors (see ``BloomParameterLayout/save(_:to:)``). LoRA: PEFT's
    /// adapter_config.json and adapter_model.safetensors.
    public func save(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let lora {
            try saveAdapter(lora, to: directory)
        } else {
            try layout.save(values, to: directory)
        }
    }
}

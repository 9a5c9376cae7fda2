// Llama training forward and backward (transformers' LlamaForCausalLM in training, PEFT's LoRA layers when adapters
// are attached), llm.c style as the BLOOM pass: a forward that keeps what the backward needs, then the backward over
// raw buffers. Packed sequences attend inside each document run, whose positions (for the rotary embeddings) start
// at 0, as if every document were its own sequence.
//
// Shape legend: N tokens of the compacted batch, C hidden, NH query heads, KVH key/value heads (NH / KVH share
// each), HS head size, Q = NH*HS, KV = KVH*HS, I intermediate, V vocabulary, L layers, r LoRA rank.
import EcomTensor
import Foundation

/// Llama tuned in full (every weight a Float32 parameter) or with LoRA adapters over a frozen base that stays in its
/// compact storage (f32, f16, bf16 or a GGUF block quantization: QLoRA-style). Frozen weights get no gradient; only
/// the input gradients flow through them.
///
/// Not thread-safe: one model per training loop.
public final class LlamaTrainingModel: TrainableModel, @unchecked Sendable {
    public let configuration: LlamaConfiguration
    /// The adapters' settings, or nil for full fine-tuning.
    public internal(set) var lora: LoRAConfiguration?
    public let parameters: FlatBuffer
    public let gradients: FlatBuffer
    public let parameterEntries: [ParameterEntry]
    /// When set, seconds spent per part of the pass are added to it.
    public var profile: TrainingProfile?
    /// Query rows per block of the causal attention products.
    public var attentionBlock = 64 {
        didSet { precondition(attentionBlock > 0, "attentionBlock must be positive") }
    }
    /// Values of a frozen compact matrix widened to Float32 at a time for a product (default 2^20, 4 MiB): each of
    /// SmolLM2's projections in one panel, its tied head in panels of 1,820 rows. Panels of 256 rows made the
    /// activations' bf16 rounding repeat per panel and the products narrow: a bf16 LoRA step of SmolLM2 ran 1.2x
    /// faster with whole projections (AMD EPYC Zen 5, 2 threads: 622-720 -> 822-870 tokens/s; f32 563-571 -> 585-616).
    public var panelValues = 1 << 20 {
        didSet { precondition(panelValues > 0, "panelValues must be positive") }
    }

    /// Rows per panel of a matrix with `columns` columns (at least 16).
    func panelRows(columns: Int) -> Int { max(16, panelValues / max(1, columns)) }

    /// A linear layer `[rows (out), columns (in)]`: trainable Float32 values (full fine-tuning) or a frozen matrix,
    /// plus an optional LoRA pair.
    struct Linear {
        var rows: Int, columns: Int
        var weight: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?
        var frozen: WeightMatrix?
        var lora: Adapter?
        /// The LoRA pair; `slot` indexes the saved x Aᵀ of the layer.
        struct Adapter { var pair: LoRAPair; var slot: Int }
    }
    /// A norm's weight vector and, when trained, its gradient.
    struct Vector { var values: UnsafeMutablePointer<Float>; var grad: UnsafeMutablePointer<Float>? }
    struct Layer {
        var inputNorm: Vector, postNorm: Vector
        var q, k, v, o, gate, up, down: Linear
        var all: [Linear] { [q, k, v, o, gate, up, down] }
    }

    var layers: [Layer] = []
    var embeddings: Linear
    var head: Linear
    var finalNorm: Vector
    /// Norm weights that are not trained (LoRA).
    let frozenVectors: FlatBuffer
    /// LoRA slots per layer (saved x Aᵀ products of `[N, r]`).
    let loraSlots: Int
    let rotary: RotaryEmbedding
    private let storage = Workspace.Buffer()
    private let panel = Workspace.Buffer()
    /// The base weights as loaded (kept alive: frozen matrices point into them).
    public let base: LlamaWeights

    /// A model over `weights`: full fine-tuning when `lora` is nil (every weight copied into ``parameters``), else
    /// adapters on the targeted projections, initialised from `adapter` when given, otherwise as PEFT does (A
    /// Kaiming-uniform from `seed`, B zero).
    public init(configuration c: LlamaConfiguration, weights: LlamaWeights, lora: LoRAConfiguration? = nil,
                adapter: LoRAAdapter? = nil, adapterFile: String = "adapter", seed: UInt64 = 42) throws {
        configuration = c
        self.lora = lora
        base = weights
        rotary = RotaryEmbedding(dimension: c.headDimension, base: c.ropeTheta)
        let C = c.hiddenSize
        // Entries: HF named_parameters() order for full fine-tuning, PEFT's for adapters.
        var entries: [ParameterEntry] = []
        var count = 0
        func add(_ name: String, _ shape: [Int]) -> Int {
            let o = count
            entries.append(ParameterEntry(name: name, shape: shape, offset: o))
            count += shape.reduce(1, *)
            return o
        }
        let matrixNames = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
        var offsets: [String: Int] = [:]
        if let lora {
            guard lora.rank > 0 else { throw TrainingError("LoRA rank must be positive") }
            var slots = 0
            for l in weights.layers.indices {
                var s = 0
                for (name, m) in weights.layers[l].matrices {
                    let path = "model.layers.\(l).\(name)"
                    guard lora.targets(modulePath: path) else { continue }
                    offsets[path + ".A"] = add(LoRAConfiguration.key(modulePath: path, .A), [lora.rank, m.columns])
                    offsets[path + ".B"] = add(LoRAConfiguration.key(modulePath: path, .B), [m.rows, lora.rank])
                    s += 1
                }
                slots = max(slots, s)
            }
            guard count > 0 else {
                throw TrainingError("\(adapter == nil ? "" : adapterFile + ": ")LoRA targets \(lora.targets.joined(separator: ",")) match no Llama projection (use \(LoRAConfiguration.llamaTargets.joined(separator: ",")))")
            }
            loraSlots = slots
            frozenVectors = FlatBuffer(count: (2 * weights.layers.count + 1) * C)
        } else {
            offsets["model.embed_tokens.weight"] = add("model.embed_tokens.weight", [c.vocabSize, C])
            for (l, layer) in weights.layers.enumerated() {
                for (name, m) in layer.matrices { offsets["model.layers.\(l).\(name)"] = add("model.layers.\(l).\(name).weight", [m.rows, m.columns]) }
                offsets["model.layers.\(l).input_layernorm"] = add("model.layers.\(l).input_layernorm.weight", [C])
                offsets["model.layers.\(l).post_attention_layernorm"] = add("model.layers.\(l).post_attention_layernorm.weight", [C])
            }
            offsets["model.norm"] = add("model.norm.weight", [C])
            if let h = weights.lmHead { offsets["lm_head"] = add("lm_head.weight", [h.rows, h.columns]) }
            loraSlots = 0
            frozenVectors = FlatBuffer(count: 0)
        }
        parameterEntries = entries
        parameters = FlatBuffer(count: count)
        gradients = FlatBuffer(count: count)
        let p = parameters.pointer, g = gradients.pointer
        var frozenUsed = 0
        let frozenVectors = self.frozenVectors
        func vector(_ key: String, _ values: [Float]) -> Vector {
            if let o = offsets[key] {
                values.withUnsafeBufferPointer { (p + o).update(from: $0.baseAddress!, count: values.count) }
                return Vector(values: p + o, grad: g + o)
            }
            let dst = frozenVectors.pointer + frozenUsed
            values.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: values.count) }
            frozenUsed += values.count
            return Vector(values: dst, grad: nil)
        }
        func linear(_ key: String, _ m: WeightMatrix) -> Linear {
            if let o = offsets[key] {
                let f = m.floats()
                f.withUnsafeBufferPointer { (p + o).update(from: $0.baseAddress!, count: f.count) }
                return Linear(rows: m.rows, columns: m.columns, weight: p + o, weightGrad: g + o)
            }
            return Linear(rows: m.rows, columns: m.columns, frozen: m)
        }
        embeddings = linear("model.embed_tokens.weight", weights.embeddings)
        head = weights.lmHead.map { linear("lm_head", $0) } ?? embeddings
        var rng = TensorRandom(seed: seed)
        var fromAdapter: Set<String> = []
        for (l, w) in weights.layers.enumerated() {
            let pre = "model.layers.\(l)."
            var layer = Layer(inputNorm: vector(pre + "input_layernorm", w.inputNorm), postNorm: vector(pre + "post_attention_layernorm", w.postAttentionNorm),
                              q: linear(pre + "self_attn.q_proj", w.query), k: linear(pre + "self_attn.k_proj", w.key),
                              v: linear(pre + "self_attn.v_proj", w.value), o: linear(pre + "self_attn.o_proj", w.output),
                              gate: linear(pre + "mlp.gate_proj", w.gate), up: linear(pre + "mlp.up_proj", w.up),
                              down: linear(pre + "mlp.down_proj", w.down))
            var slot = 0
            for (i, kp) in [\Layer.q, \.k, \.v, \.o, \.gate, \.up, \.down].enumerated() {
                let path = pre + matrixNames[i]
                guard let oa = offsets[path + ".A"], let ob = offsets[path + ".B"] else { continue }
                let rows = layer[keyPath: kp].rows, cols = layer[keyPath: kp].columns
                let pair = LoRAPair(a: p + oa, b: p + ob, gradA: g + oa, gradB: g + ob, rank: lora!.rank, scale: lora!.scaling,
                                    inFeatures: cols, outFeatures: rows)
                let saved = try adapter?.matrices(modulePath: path, rows: rows, columns: cols, file: adapterFile)
                if saved != nil { fromAdapter.insert(path) }
                pair.initialize(from: saved, rng: &rng)
                layer[keyPath: kp].lora = Linear.Adapter(pair: pair, slot: slot)
                slot += 1
            }
            layers.append(layer)
        }
        finalNorm = vector("model.norm", weights.finalNorm)
        if let adapter {
            try adapter.checkKeys(modulePaths: weights.modulePaths, file: adapterFile)
            let expected = Set(offsets.keys.filter { $0.hasSuffix(".A") }.map { String($0.dropLast(2)) })
            if let missing = expected.subtracting(fromAdapter).sorted().first {
                throw TrainingError("\(adapterFile): no lora_A/lora_B for \(missing), which adapter_config.json targets")
            }
        }
    }

    /// Loads an HF Llama directory or a GGUF file (matrices kept in `precision`; `.native` keeps GGUF blocks) for
    /// training, with a new adapter (`lora`), a saved one (`adapterDirectory`), or in full (neither).
    public static func load(model url: URL, precision: WeightPrecision = .native, lora: LoRAConfiguration? = nil,
                            adapterDirectory: URL? = nil, seed: UInt64 = 42) throws -> LlamaTrainingModel {
        let loaded = try ModelLoader.load(url, precision: precision)
        guard let llama = loaded as? LlamaModel else {
            throw TrainingError("\(url.path): a \(loaded.architecture) model; this trainer handles Llama-family models")
        }
        if let dir = adapterDirectory {
            let adapter = try LoRAAdapter.load(directory: dir)
            return try LlamaTrainingModel(configuration: llama.configuration, weights: llama.weights, lora: adapter.configuration,
                                          adapter: adapter, adapterFile: dir.appendingPathComponent("adapter_model.safetensors").path, seed: seed)
        }
        return try LlamaTrainingModel(configuration: llama.configuration, weights: llama.weights, lora: lora, seed: seed)
    }

    public var vocabularySize: Int { configuration.vocabSize }

    /// The trained weights as LlamaWeights: full fine-tuning's parameters, or the base with the adapters merged.
    public func currentWeights() throws -> LlamaWeights {
        if lora != nil { return try base.merging(adapter(), file: "adapter") }
        func m(_ x: Linear) -> WeightMatrix { WeightMatrix(rows: x.rows, columns: x.columns, floats: Array(UnsafeBufferPointer(start: x.weight!, count: x.rows * x.columns))) }
        func v(_ x: Vector) -> [Float] { Array(UnsafeBufferPointer(start: x.values, count: configuration.hiddenSize)) }
        let ls = layers.map { l in
            LlamaLayerWeights(inputNorm: v(l.inputNorm), query: m(l.q), key: m(l.k), value: m(l.v), output: m(l.o),
                              postAttentionNorm: v(l.postNorm), gate: m(l.gate), up: m(l.up), down: m(l.down))
        }
        return LlamaWeights(embeddings: m(embeddings), layers: ls, finalNorm: v(finalNorm), lmHead: base.lmHead == nil ? nil : m(head))
    }

    /// The adapters as PEFT tensors (LoRA only).
    public func adapter() -> LoRAAdapter {
        var t: [String: (shape: [Int], values: [Float])] = [:]
        for e in parameterEntries { t[e.name] = (e.shape, parameters.slice(e.offset, e.count)) }
        return LoRAAdapter(configuration: lora!, tensors: t)
    }

    /// LoRA: adapter_config.json + adapter_model.safetensors (PEFT's layout). Full: config.json + model.safetensors
    /// (LlamaForCausalLM's names, F32).
    public func save(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let lora {
            try saveAdapter(lora, to: directory)
        } else {
            try HFDirectoryWriter.write(configuration, try currentWeights(), dtype: .f32, to: directory)
        }
    }

    public func loss(_ batch: TrainingBatch) -> (sum: Double, count: Int) { run(batch, backward: false, normalizer: 1) }

    @discardableResult
    public func forwardBackward(_ batch: TrainingBatch, normalizer: Int? = nil) -> (sum: Double, count: Int) {
        run(batch, backward: true, normalizer: normalizer ?? max(1, batch.learnedTokens))
    }

    // MARK: - Activations

    /// Pointers into one allocation; per-layer tensors are `L` consecutive slices.
    struct Acts {
        var N: Int, C: Int, Q: Int, KV: Int, I: Int, R: Int, slots: Int, attPerLayer: Int
        var resids, n1s, rstd1s, qs, ks, vs, atts, ctxs, resid2s, n2s, rstd2s, gates, ups, xas: UnsafeMutablePointer<Float>
        var lnf, rstdf, headIn, logits, dresid, dn, dq, dk, dv, dctx, h, dh, dgate, dup, datt, dxa, cos, sin: UnsafeMutablePointer<Float>
        func resid(_ l: Int) -> UnsafeMutablePointer<Float> { resids + l * N * C }
        func n1(_ l: Int) -> UnsafeMutablePointer<Float> { n1s + l * N * C }
        func rstd1(_ l: Int) -> UnsafeMutablePointer<Float> { rstd1s + l * N }
        func q(_ l: Int) -> UnsafeMutablePointer<Float> { qs + l * N * Q }
        func k(_ l: Int) -> UnsafeMutablePointer<Float> { ks + l * N * KV }
        func v(_ l: Int) -> UnsafeMutablePointer<Float> { vs + l * N * KV }
        func att(_ l: Int) -> UnsafeMutablePointer<Float> { atts + l * attPerLayer }
        func ctx(_ l: Int) -> UnsafeMutablePointer<Float> { ctxs + l * N * Q }
        func resid2(_ l: Int) -> UnsafeMutablePointer<Float> { resid2s + l * N * C }
        func n2(_ l: Int) -> UnsafeMutablePointer<Float> { n2s + l * N * C }
        func rstd2(_ l: Int) -> UnsafeMutablePointer<Float> { rstd2s + l * N }
        func gate(_ l: Int) -> UnsafeMutablePointer<Float> { gates + l * N * I }
        func up(_ l: Int) -> UnsafeMutablePointer<Float> { ups + l * N * I }
        func xa(_ l: Int, _ slot: Int) -> UnsafeMutablePointer<Float> { xas + (l * slots + slot) * N * R }
    }

    private func prepare(N: Int, M: Int, attPerLayer: Int, longest: Int) -> Acts {
        let c = configuration, C = c.hiddenSize, L = c.layerCount, HS = c.headDimension
        let Q = c.headCount * HS, KV = c.keyValueHeadCount * HS, I = c.intermediateSize, V = c.vocabSize
        let R = lora?.rank ?? 0, S = loraSlots, half = HS / 2
        let widest = max(C, Q, I)
        let sizes: [Int] = [
            (L + 1) * N * C, L * N * C, L * N, L * N * Q, L * N * KV, L * N * KV,   // resid, n1, rstd1, q, k, v
            L * attPerLayer, L * N * Q, L * N * C, L * N * C, L * N,                // att, ctx, resid2, n2, rstd2
            L * N * I, L * N * I, L * S * N * R,                                    // gate, up, x Aᵀ
            N * C, N, M * C, M * V,                                                 // lnf, rstdf, head input, logits
            N * widest, N * widest, N * Q, N * KV, N * KV, N * Q,                   // dresid, dn, dq, dk, dv, dctx
            N * I, N * I, N * I, N * I, c.headCount * longest * longest, N * R,     // h, dh, dgate, dup, datt, d(x Aᵀ)
            N * half, N * half,                                                     // cos, sin
        ]
        let rounded = sizes.map { ($0 + 15) / 16 * 16 }
        let base = storage.ensure(rounded.reduce(0, +))
        var ptrs: [UnsafeMutablePointer<Float>] = []
        var o = 0
        for r in rounded { ptrs.append(base + o); o += r }
        return Acts(N: N, C: C, Q: Q, KV: KV, I: I, R: R, slots: S, attPerLayer: attPerLayer,
                    resids: ptrs[0], n1s: ptrs[1], rstd1s: ptrs[2], qs: ptrs[3], ks: ptrs[4], vs: ptrs[5], atts: ptrs[6],
                    ctxs: ptrs[7], resid2s: ptrs[8], n2s: ptrs[9], rstd2s: ptrs[10], gates: ptrs[11], ups: ptrs[12], xas: ptrs[13],
                    lnf: ptrs[14], rstdf: ptrs[15], headIn: ptrs[16], logits: ptrs[17], dresid: ptrs[18], dn: ptrs[19],
                    dq: ptrs[20], dk: ptrs[21], dv: ptrs[22], dctx: ptrs[23], h: ptrs[24], dh: ptrs[25], dgate: ptrs[26],
                    dup: ptrs[27], datt: ptrs[28], dxa: ptrs[29], cos: ptrs[30], sin: ptrs[31])
    }

    // MARK: - The pass

    private func run(_ batch: TrainingBatch, backward: Bool, normalizer: Int) -> (sum: Double, count: Int) {
        let t0 = profile == nil ? 0 : TrainingProfile.now()
        defer { profile?.add(.total, since: t0) }
        let c = configuration, C = c.hiddenSize, V = c.vocabSize, L = c.layerCount, half = c.headDimension / 2
        for id in batch.ids { precondition(id >= 0 && Int(id) < V, "token id \(id) outside the vocabulary (\(V))") }
        let (segments, ids, targets, attPerLayer, longest) = batch.compacted(headCount: c.headCount)
        let N = ids.count
        guard N > 0 else { return (0, 0) }
        let kept = (0..<N).filter { targets[$0] != CrossEntropyKernel.ignoreIndex }
        let M = kept.count
        let a = prepare(N: N, M: max(1, M), attPerLayer: attPerLayer, longest: longest)

        // Rotary tables: positions restart at 0 in every segment.
        for s in segments { for t in 0..<s.length { rotary.angles(position: t, cos: a.cos + (s.row0 + t) * half, sin: a.sin + (s.row0 + t) * half) } }
        // Embeddings.
        for (n, id) in ids.enumerated() {
            if let w = embeddings.weight { (a.resid(0) + n * C).update(from: w + Int(id) * C, count: C) }
            else { embeddings.frozen!.copyRow(Int(id), to: a.resid(0) + n * C) }
        }
        for l in 0..<L { layerForward(l, a, segments) }
        RMSNormKernel.forward(a.resid(L), weight: finalNorm.values, a.lnf, rows: N, cols: C, eps: c.rmsNormEpsilon, rstd: a.rstdf)
        // The LM head and the loss on the M rows with a target only.
        for (i, r) in kept.enumerated() { (a.headIn + i * C).update(from: a.lnf + r * C, count: C) }
        let headTargets = kept.map { targets[$0] }
        if M > 0 { forward(head, a.headIn, rows: M, into: a.logits, xa: nil) }
        let tLoss = profile == nil ? 0 : TrainingProfile.now()
        let (meanLoss, count) = M == 0 ? (0, 0) : headTargets.withUnsafeBufferPointer { t in
            CrossEntropyKernel.forwardBackward(a.logits, targets: t.baseAddress!, rows: M, vocab: V,
                                               dLogits: backward ? a.logits : nil, dLoss: Float(Double(M) / Double(normalizer)))
        }
        profile?.add(.loss, since: tLoss)
        let sum = Double(meanLoss) * Double(count)
        guard backward, M > 0 else { return (sum, count) }

        // Head backward into dn (rows without a target get zero), then the final norm into dresid.
        backwardLinear(head, dy: a.logits, x: a.headIn, xa: nil, rows: M, dx: a.dresid, a)
        a.dn.update(repeating: 0, count: N * C)
        for (i, r) in kept.enumerated() { (a.dn + r * C).update(from: a.dresid + i * C, count: C) }
        RMSNormKernel.backward(a.dn, a.resid(L), weight: finalNorm.values, rstd: a.rstdf, dx: a.dresid, dWeight: finalNorm.grad, rows: N, cols: C)
        for l in stride(from: L - 1, through: 0, by: -1) { layerBackward(l, a, segments) }
        if let g = embeddings.weightGrad {
            ids.withUnsafeBufferPointer { ids in
                EmbeddingKernel.backward(a.dresid, ids: ids.baseAddress!, dTable: g, count: N, vocab: V, dim: C)
            }
        }
        return (sum, count)
    }

    // MARK: - Layers

    /// resid2 = x + o_proj(attention(RMSNorm1(x))); out = resid2 + down(silu(gate(n2)) * up(n2)), n2 = RMSNorm2(resid2).
    private func layerForward(_ l: Int, _ a: Acts, _ segments: [AttentionSegment]) {
        let c = configuration, N = a.N, C = c.hiddenSize, I = c.intermediateSize, eps = c.rmsNormEpsilon, w = layers[l]
        let half = c.headDimension / 2
        RMSNormKernel.forward(a.resid(l), weight: w.inputNorm.values, a.n1(l), rows: N, cols: C, eps: eps, rstd: a.rstd1(l))
        forward(w.q, a.n1(l), rows: N, into: a.q(l), xa: xaPointer(w.q, l, a))
        forward(w.k, a.n1(l), rows: N, into: a.k(l), xa: xaPointer(w.k, l, a))
        forward(w.v, a.n1(l), rows: N, into: a.v(l), xa: xaPointer(w.v, l, a))
        for n in 0..<N {
            rotary.apply(a.q(l) + n * a.Q, heads: c.headCount, cos: a.cos + n * half, sin: a.sin + n * half)
            rotary.apply(a.k(l) + n * a.KV, heads: c.keyValueHeadCount, cos: a.cos + n * half, sin: a.sin + n * half)
        }
        attentionForward(l, a, segments)
        forward(w.o, a.ctx(l), rows: N, into: a.resid2(l), xa: xaPointer(w.o, l, a))
        ElementwiseKernel.add(a.resid2(l), a.resid(l), a.resid2(l), count: N * C)
        RMSNormKernel.forward(a.resid2(l), weight: w.postNorm.values, a.n2(l), rows: N, cols: C, eps: eps, rstd: a.rstd2(l))
        forward(w.gate, a.n2(l), rows: N, into: a.gate(l), xa: xaPointer(w.gate, l, a))
        forward(w.up, a.n2(l), rows: N, into: a.up(l), xa: xaPointer(w.up, l, a))
        SwiGLUKernel.forward(gate: a.gate(l), up: a.up(l), a.h, count: N * I)
        let out = a.resid(l + 1)
        forward(w.down, a.h, rows: N, into: out, xa: xaPointer(w.down, l, a))
        ElementwiseKernel.add(out, a.resid2(l), out, count: N * C)
    }

    /// On entry `a.dresid` is d out; on exit d x.
    private func layerBackward(_ l: Int, _ a: Acts, _ segments: [AttentionSegment]) {
        let c = configuration, N = a.N, C = c.hiddenSize, I = c.intermediateSize, w = layers[l], half = c.headDimension / 2
        // MLP. h is recomputed from gate and up (cheaper than keeping it).
        SwiGLUKernel.forward(gate: a.gate(l), up: a.up(l), a.h, count: N * I)
        backwardLinear(w.down, dy: a.dresid, x: a.h, xa: xaPointer(w.down, l, a), rows: N, dx: a.dh, a)
        SwiGLUKernel.backward(a.dh, gate: a.gate(l), up: a.up(l), dGate: a.dgate, dUp: a.dup, count: N * I)
        backwardLinear(w.gate, dy: a.dgate, x: a.n2(l), xa: xaPointer(w.gate, l, a), rows: N, dx: a.dn, a)
        backwardLinear(w.up, dy: a.dup, x: a.n2(l), xa: xaPointer(w.up, l, a), rows: N, dx: a.dn, a, accumulate: true)
        RMSNormKernel.backward(a.dn, a.resid2(l), weight: w.postNorm.values, rstd: a.rstd2(l), dx: a.dresid, dWeight: w.postNorm.grad,
                               rows: N, cols: C, accumulate: true)
        // Attention.
        backwardLinear(w.o, dy: a.dresid, x: a.ctx(l), xa: xaPointer(w.o, l, a), rows: N, dx: a.dctx, a)
        attentionBackward(l, a, segments)
        for n in 0..<N {
            rotary.applyInverse(a.dq + n * a.Q, heads: c.headCount, cos: a.cos + n * half, sin: a.sin + n * half)
            rotary.applyInverse(a.dk + n * a.KV, heads: c.keyValueHeadCount, cos: a.cos + n * half, sin: a.sin + n * half)
        }
        backwardLinear(w.q, dy: a.dq, x: a.n1(l), xa: xaPointer(w.q, l, a), rows: N, dx: a.dn, a)
        backwardLinear(w.k, dy: a.dk, x: a.n1(l), xa: xaPointer(w.k, l, a), rows: N, dx: a.dn, a, accumulate: true)
        backwardLinear(w.v, dy: a.dv, x: a.n1(l), xa: xaPointer(w.v, l, a), rows: N, dx: a.dn, a, accumulate: true)
        RMSNormKernel.backward(a.dn, a.resid(l), weight: w.inputNorm.values, rstd: a.rstd1(l), dx: a.dresid, dWeight: w.inputNorm.grad,
                               rows: N, cols: C, accumulate: true)
    }

    private func xaPointer(_ x: Linear, _ l: Int, _ a: Acts) -> UnsafeMutablePointer<Float>? { x.lora.map { a.xa(l, $0.slot) } }

    // MARK: - Attention

    /// Per segment and query head h (reading key/value head h / (NH / KVH)): P = softmax(Q Kᵀ / sqrt(HS)) over keys
    /// j <= i, ctx = P V. P is kept for the backward.
    private func attentionForward(_ l: Int, _ a: Acts, _ segments: [AttentionSegment]) {
        let t0 = profile == nil ? 0 : TrainingProfile.now()
        defer { profile?.add(.attention, since: t0) }
        let c = configuration, NH = c.headCount, HS = c.headDimension, group = NH / c.keyValueHeadCount
        let causal = CausalBlocks(size: attentionBlock), scale = 1 / Float(HS).squareRoot()
        for s in segments {
            let Ls = s.length, scores = a.att(l) + s.attOffset
            CausalBlocks.forEachHead(NH) { h in
                let (q, k, _) = headViews(a.q(l), a.k(l), a.v(l), a, s, h, group)
                causal.scores(q, k, into: scores + h * Ls * Ls)
            }
            SoftmaxKernel.forward(scores, scores, rows: NH * Ls, cols: Ls, scale: scale, rowsPerBias: Ls, causalOffset: 0)
            CausalBlocks.forEachHead(NH) { h in
                let (_, _, v) = headViews(a.q(l), a.k(l), a.v(l), a, s, h, group)
                causal.weightedSum(scores + h * Ls * Ls, v, into: MutableMatrixView(base: a.ctx(l) + s.row0 * a.Q + h * HS, rows: Ls, columns: HS, stride: a.Q))
            }
        }
    }

    /// Head h's query `[Ls, HS]` and its key/value head's rows inside q `[N, Q]`, k and v `[N, KV]`.
    @inline(__always) private func headViews(_ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ a: Acts,
                                             _ s: AttentionSegment, _ h: Int, _ group: Int) -> (MatrixView, MatrixView, MatrixView) {
        let HS = configuration.headDimension, kv = (h / group) * HS
        return (MatrixView(base: q + s.row0 * a.Q + h * HS, rows: s.length, columns: HS, stride: a.Q),
                MatrixView(base: k + s.row0 * a.KV + kv, rows: s.length, columns: HS, stride: a.KV),
                MatrixView(base: v + s.row0 * a.KV + kv, rows: s.length, columns: HS, stride: a.KV))
    }

    /// dP = dctx Vᵀ, dV += Pᵀ dctx, dS = softmax'(dP) (scaled), dQ = dS K, dK += dSᵀ Q; key/value heads sum the
    /// gradients of the query heads that share them. Writes a.dq, a.dk, a.dv.
    private func attentionBackward(_ l: Int, _ a: Acts, _ segments: [AttentionSegment]) {
        let t0 = profile == nil ? 0 : TrainingProfile.now()
        defer { profile?.add(.attention, since: t0) }
        let c = configuration, NH = c.headCount, HS = c.headDimension, group = NH / c.keyValueHeadCount
        let causal = CausalBlocks(size: attentionBlock), scale = 1 / Float(HS).squareRoot()
        a.dk.update(repeating: 0, count: a.N * a.KV)
        a.dv.update(repeating: 0, count: a.N * a.KV)
        for s in segments {
            let Ls = s.length, probs = a.att(l) + s.attOffset
            CausalBlocks.forEachHead(NH, group: group) { h in
                let dc = MatrixView(base: a.dctx + s.row0 * a.Q + h * HS, rows: Ls, columns: HS, stride: a.Q)
                let (_, _, v) = headViews(a.q(l), a.k(l), a.v(l), a, s, h, group)
                causal.scores(dc, v, into: a.datt + h * Ls * Ls)
                let (_, _, dv) = headViews(a.dq, a.dk, a.dv, a, s, h, group)
                causal.transposedSum(probs + h * Ls * Ls, dc, into: MutableMatrixView(base: UnsafeMutablePointer(mutating: dv.base), rows: Ls, columns: HS, stride: a.KV), beta: 1)
            }
            SoftmaxKernel.backward(a.datt, probs, a.datt, rows: NH * Ls, cols: Ls, scale: scale, rowsPerGroup: Ls, causalOffset: 0)
            CausalBlocks.forEachHead(NH, group: group) { h in
                let (q, k, _) = headViews(a.q(l), a.k(l), a.v(l), a, s, h, group)
                let (dq, dk, _) = headViews(a.dq, a.dk, a.dv, a, s, h, group)
                causal.weightedSum(a.datt + h * Ls * Ls, k, into: MutableMatrixView(base: UnsafeMutablePointer(mutating: dq.base), rows: Ls, columns: HS, stride: a.Q))
                causal.transposedSum(a.datt + h * Ls * Ls, q, into: MutableMatrixView(base: UnsafeMutablePointer(mutating: dk.base), rows: Ls, columns: HS, stride: a.KV), beta: 1)
            }
        }
    }

    // MARK: - Linear layers

    /// y [rows, out] = x Wᵀ (+ s · (x Aᵀ) Bᵀ, x Aᵀ saved in `xa`).
    private func forward(_ lin: Linear, _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, xa: UnsafeMutablePointer<Float>?) {
        let t0 = profile == nil ? 0 : TrainingProfile.now()
        defer { profile?.add(.matmul, since: t0) }
        let xv = MatrixView(base: x, rows: rows, columns: lin.columns, stride: lin.columns)
        if let w = lin.weight {
            MatmulKernel.gemm(xv, MatrixView(base: w, rows: lin.rows, columns: lin.columns, stride: lin.columns), transposeB: true,
                              MutableMatrixView(base: y, rows: rows, columns: lin.rows, stride: lin.rows))
        } else {
            withPanels(lin.frozen!) { r0, n, w in
                MatmulKernel.gemm(xv, MatrixView(base: w, rows: n, columns: lin.columns, stride: lin.columns), transposeB: true,
                                  MutableMatrixView(base: y + r0, rows: rows, columns: n, stride: lin.rows))
            }
        }
        if let ad = lin.lora, let xa {
            ad.pair.forward(xv, xa: xa, addingTo: MutableMatrixView(base: y, rows: rows, columns: lin.rows, stride: lin.rows))
        }
    }

    /// dx [rows, in] = dy W (+ the adapter's path), written or added (`accumulate`); trainable weights get
    /// dW += dyᵀ x, adapters dB += s dyᵀ (x Aᵀ) and dA += (s dy B)ᵀ x.
    private func backwardLinear(_ lin: Linear, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, xa: UnsafeMutablePointer<Float>?,
                                rows: Int, dx: UnsafeMutablePointer<Float>, _ a: Acts, accumulate: Bool = false) {
        let t0 = profile == nil ? 0 : TrainingProfile.now()
        defer { profile?.add(.matmul, since: t0) }
        let dyv = MatrixView(base: dy, rows: rows, columns: lin.rows, stride: lin.rows)
        let xv = MatrixView(base: x, rows: rows, columns: lin.columns, stride: lin.columns)
        let dxv = MutableMatrixView(base: dx, rows: rows, columns: lin.columns, stride: lin.columns)
        if let w = lin.weight {
            MatmulKernel.gemm(dyv, MatrixView(base: w, rows: lin.rows, columns: lin.columns, stride: lin.columns), dxv, beta: accumulate ? 1 : 0)
            MatmulKernel.gemm(dyv, transposeA: true, xv, MutableMatrixView(base: lin.weightGrad!, rows: lin.rows, columns: lin.columns, stride: lin.columns), beta: 1)
        } else {
            var first = !accumulate
            withPanels(lin.frozen!) { r0, n, w in
                MatmulKernel.gemm(MatrixView(base: dy + r0, rows: rows, columns: n, stride: lin.rows),
                                  MatrixView(base: w, rows: n, columns: lin.columns, stride: lin.columns), dxv, beta: first ? 0 : 1)
                first = false
            }
        }
        if let ad = lin.lora, let xa { ad.pair.backward(dy: dyv, x: xv, xa: xa, scratch: a.dxa, addingTo: dxv) }
    }

    /// Calls `body(firstRow, rows, values)` over the matrix in Float32 panels of up to ``panelRows`` rows: the stored
    /// values for Float32 storage, else rows widened (dequantized) into a scratch panel, in parallel.
    private func withPanels(_ m: WeightMatrix, _ body: (Int, Int, UnsafePointer<Float>) -> Void) {
        if case .float32(let f) = m.storage {
            f.withUnsafeBufferPointer { body(0, m.rows, $0.baseAddress!) }
            return
        }
        let rows = min(m.rows, panelRows(columns: m.columns))
        let scratch = panel.ensure(rows * m.columns)
        for r0 in stride(from: 0, to: m.rows, by: rows) {
            let n = min(rows, m.rows - r0)
            ComputeThreads.forEachChunk(n, minPerChunk: 16) { _, range in
                for i in range { m.copyRow(r0 + i, to: scratch + i * m.columns) }
            }
            body(r0, n, scratch)
        }
    }
}

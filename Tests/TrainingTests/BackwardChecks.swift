// Backward checks without PyTorch: central finite differences for every kind of parameter (in a tiny random model,
// on a packed batch so the document mask is exercised), and the document-boundary mask (a packed sequence of two
// documents gives the same loss and gradients as the two documents run separately).
import EcomModel
import EcomTrainer
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

@Suite struct BackwardChecks {
    static let config = BloomConfiguration(vocabSize: 23, hiddenSize: 12, layerCount: 2, headCount: 3)

    static func randomModel(seed: UInt64) -> BloomTrainingModel {
        // Larger than default init so that every path carries signal; layer norms perturbed from (1, 0).
        let layout = BloomParameterLayout(config)
        var rng = SplitMix64(seed: seed)
        let p = FlatBuffer(count: layout.count)
        for e in layout.entries {
            let isNormWeight = e.name.hasSuffix("layernorm.weight") || e.name.hasSuffix("ln_f.weight")
            for i in 0..<e.count {
                let u = Float(Double(rng.next() >> 11) * 0x1p-53) * 2 - 1
                p.pointer[e.offset + i] = isNormWeight ? 1 + 0.3 * u : 0.3 * u
            }
        }
        return BloomTrainingModel(configuration: config, parameters: p)
    }

    /// Two rows: one packed with three documents and trailing padding, one a single document.
    static let batch: TrainingBatch = {
        let ids: [Int32] = [5, 9, 1, 17, 4, 4, 8, 2, 3, 3, 11, 6, 7, 19, 20, 2, 14, 13, 12, 1]
        let mask: [UInt8] = [0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1]
        let docs: [UInt16] = [1, 1, 1, 1, 2, 2, 2, 3, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        return TrainingBatch(packed: [(Array(ids[0..<10]), Array(mask[0..<10]), Array(docs[0..<10])),
                                      (Array(ids[10...]), Array(mask[10...]), Array(docs[10...]))])
    }()

    @Test(arguments: ["word_embeddings.weight", "word_embeddings_layernorm.weight", "word_embeddings_layernorm.bias",
                      "h.0.input_layernorm.weight", "h.0.input_layernorm.bias", "h.0.self_attention.query_key_value.weight",
                      "h.1.self_attention.query_key_value.bias", "h.0.self_attention.dense.weight", "h.1.self_attention.dense.bias",
                      "h.1.post_attention_layernorm.weight", "h.0.post_attention_layernorm.bias", "h.0.mlp.dense_h_to_4h.weight",
                      "h.1.mlp.dense_h_to_4h.bias", "h.1.mlp.dense_4h_to_h.weight", "h.0.mlp.dense_4h_to_h.bias",
                      "ln_f.weight", "ln_f.bias"])
    func finiteDifferences(_ name: String) throws {
        let model = Self.randomModel(seed: 3)
        model.attentionBlock = 3  // several causal blocks per document, so the blocked products are checked too
        let e = try #require(model.layout.entry(name))
        // Loss sum (normalizer 1) in Float32: central differences with h = 1e-2 are accurate to ~1e-3 relative here.
        model.gradients.zero()
        model.forwardBackward(Self.batch, normalizer: 1)
        var rng = SplitMix64(seed: 99)
        let picks = (0..<6).map { _ in Int(rng.next() % UInt64(e.count)) } + (name.contains("query_key_value") ? [e.count - 1, e.count / 3 + 1] : [])
        let h: Float = 1e-2
        for i in picks {
            let p = model.parameters.pointer + e.offset + i
            let saved = p.pointee
            p.pointee = saved + h
            let up = model.loss(Self.batch).sum
            p.pointee = saved - h
            let down = model.loss(Self.batch).sum
            p.pointee = saved
            let numeric = (up - down) / Double(2 * h)
            let analytic = Double(model.gradients.pointer[e.offset + i])
            #expect(abs(numeric - analytic) <= 2e-3 * max(1, abs(numeric)), "\(name)[\(i)]: analytic \(analytic), numeric \(numeric) (seed 3)")
        }
    }

    @Test func documentsPackedTogetherEqualDocumentsRunSeparately() throws {
        let model = Self.randomModel(seed: 5)
        let docA: [Int32] = [3, 14, 15, 9, 2, 6], docB: [Int32] = [5, 3, 5, 8, 9, 7, 9, 3]
        let maskA: [UInt8] = [0, 0, 1, 1, 1, 1], maskB: [UInt8] = [0, 1, 0, 1, 1, 1, 1, 1]
        let packed = TrainingBatch(packed: [(docA + docB, maskA + maskB, [UInt16](repeating: 1, count: 6) + [UInt16](repeating: 2, count: 8))])
        model.gradients.zero()
        let together = model.forwardBackward(packed, normalizer: 1)
        let gTogether = model.gradients.array
        model.gradients.zero()
        let a = model.forwardBackward(TrainingBatch(packed: [(docA, maskA, [UInt16](repeating: 1, count: 6))]), normalizer: 1)
        let b = model.forwardBackward(TrainingBatch(packed: [(docB, maskB, [UInt16](repeating: 1, count: 8))]), normalizer: 1)
        #expect(together.count == a.count + b.count)
        #expect(isClose(together.sum, a.sum + b.sum, rtol: 1e-6))
        #expect(firstMismatch(gTogether, model.gradients.array, rtol: 1e-4, atol: 1e-6) == nil)
        // Without document ids the second document would see the first: the loss differs.
        let unmasked = TrainingBatch(ids: packed.ids, targets: packed.targets, documents: nil, batch: 1, length: 14)
        #expect(abs(model.loss(unmasked).sum - together.sum) > 1e-3)
    }

    /// Padding is skipped, not computed: a document followed by padding gives the document's own loss and gradients,
    /// and padding that carries a target (not produced by packing, but allowed) is still trained on.
    @Test func paddingAddsNothing() throws {
        let model = Self.randomModel(seed: 21)
        let doc: [Int32] = [3, 14, 15, 9, 2, 6, 5], mask: [UInt8] = [0, 0, 1, 1, 1, 1, 1]
        model.gradients.zero()
        let alone = model.forwardBackward(TrainingBatch(packed: [(doc, mask, [UInt16](repeating: 1, count: 7))]), normalizer: 1)
        let gAlone = model.gradients.array
        model.gradients.zero()
        let padded = model.forwardBackward(TrainingBatch(packed: [(doc + [0, 0, 0], mask + [0, 0, 0], [UInt16](repeating: 1, count: 7) + [0, 0, 0])]),
                                           normalizer: 1)
        #expect(padded.count == alone.count && isClose(padded.sum, alone.sum, rtol: 1e-6))
        #expect(firstMismatch(model.gradients.array, gAlone, rtol: 1e-5, atol: 1e-7) == nil)
        // A target inside a 0-run keeps that run in the pass.
        let targeted = TrainingBatch(ids: doc + [4, 5, 6], targets: [Int32](repeating: -100, count: 7) + [5, 6, -100],
                                     documents: [UInt16](repeating: 1, count: 7) + [0, 0, 0], batch: 1, length: 10)
        #expect(model.loss(targeted).count == 2)
    }

    /// Causal attention by query blocks (the masked upper triangle skipped) against one block per document (the
    /// whole score matrix), on documents longer than a block and crossing block boundaries.
    @Test(arguments: [1, 7, 64])
    func blockedAttentionEqualsTheFullProduct(block: Int) throws {
        let model = Self.randomModel(seed: 13)
        let T = 150
        var rng = SplitMix64(seed: 14)
        var rows: [(ids: [Int32], lossMask: [UInt8], documentIDs: [UInt16])] = []
        for docs in [[(1, 70), (2, 61), (0, 19)], [(1, 150)]] as [[(UInt16, Int)]] {
            let ids = (0..<T).map { _ in Int32(rng.next() % 23) }
            let mask = (0..<T).map { _ in UInt8(rng.next() % 3 == 0 ? 0 : 1) }
            rows.append((ids, mask, docs.flatMap { [UInt16](repeating: $0.0, count: $0.1) }))
        }
        let batch = TrainingBatch(packed: rows)
        model.attentionBlock = Int.max
        model.gradients.zero()
        let full = model.forwardBackward(batch, normalizer: 1)
        let gFull = model.gradients.array
        model.attentionBlock = block
        model.gradients.zero()
        let blocked = model.forwardBackward(batch, normalizer: 1)
        #expect(blocked.count == full.count)
        #expect(isClose(blocked.sum, full.sum, rtol: 1e-5), "block \(block): loss \(blocked.sum) vs \(full.sum)")
        #expect(firstMismatch(model.gradients.array, gFull, rtol: 1e-3, atol: 1e-5) == nil, "block \(block)")
    }

    /// With OpenBLAS single-threaded (as under bf16 compute through oneDNN) attention runs its heads side by side on
    /// the compute threads; the gradients are those of heads one after another.
    @Test func headsSideBySideGiveTheSameGradients() throws {
        let model = Self.randomModel(seed: 17)
        var rng = SplitMix64(seed: 18)
        let rows = (0..<2).map { _ in
            (ids: (0..<70).map { _ in Int32(rng.next() % 23) }, lossMask: [UInt8](repeating: 1, count: 70),
             documentIDs: [UInt16](repeating: 1, count: 40) + [UInt16](repeating: 2, count: 30))
        }
        let batch = TrainingBatch(packed: rows)
        model.attentionBlock = 16
        model.gradients.zero()
        let inOrder = model.forwardBackward(batch, normalizer: 1)
        let gInOrder = model.gradients.array
        model.gradients.zero()
        let sideBySide = ComputeThreads.withBLASThreads(1) {
            ComputeThreads.$override.withValue(2) { model.forwardBackward(batch, normalizer: 1) }
        }
        #expect(isClose(sideBySide.sum, inOrder.sum, rtol: 1e-6), "loss \(sideBySide.sum) vs \(inOrder.sum)")
        #expect(firstMismatch(model.gradients.array, gInOrder, rtol: 1e-5, atol: 1e-7) == nil)
    }

    @Test func gradToolOutputMatchesTheFixture() throws {
        let ref = TrainReference.shared.grad
        let lines = zip(ref.batch.ids, ref.batch.labels).map { ids, labels in
            String(decoding: try! JSONSerialization.data(withJSONObject: ["ids": ids, "labels": labels]), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
        let model = try TinyTraining.model()
        let batch = try GradientReport.parseBatch(Data(lines.utf8), source: "test", vocabSize: 64)
        let adamw = try #require(GradientReport.parseAdamW("1e-2,0.9,0.999,1e-8,0.1"))
        let object = GradientReport.run(model, batch: batch, adamw: adamw)
        // Round-trip through JSON as the tool prints it.
        let json = try JSONSerialization.jsonObject(with: JSONSerialization.data(withJSONObject: object)) as! [String: Any]
        #expect(isClose(json["loss"] as! Double, ref.expected.loss, rtol: 1e-5))
        let grads = json["grads"] as! [String: [String: Any]]
        #expect(Set(grads.keys) == Set(ref.expected.grads.keys))
        for (name, want) in ref.expected.grads {
            #expect(isClose(grads[name]!["norm"] as! Double, want.norm, rtol: 1e-4), "\(name)")
        }
        #expect((json["after_step_head"] as! [String: [Double]]).count == ref.expected.after_step_head.count)
        // Bad input names the line.
        #expect { try GradientReport.parseBatch(Data("{\"ids\": [1, 2]}\n{\"ids\": [1], \"labels\": [1, 2]}\n".utf8), source: "in.jsonl", vocabSize: 64) }
            throws: { "\($0)".hasPrefix("in.jsonl:1:") }
        #expect { try GradientReport.parseBatch(Data("{\"ids\": [1, 2], \"labels\": [-100, 99]}\n".utf8), source: "in.jsonl", vocabSize: 64) }
            throws: { "\($0)".contains("label 99") }
    }
}

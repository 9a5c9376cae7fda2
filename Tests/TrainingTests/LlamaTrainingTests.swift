// Llama's backward pass and LoRA against HF transformers + PEFT (scripts/reference/gen_lora.py): the loss and every
// gradient on a packed, prompt-masked batch (full fine-tuning and adapters), one AdamW step, 20 steps of losses,
// logits of the adapted and merged model; plus our adapter files read back and the quantized base.
import EcomModel
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

enum LlamaLoRASupport {
    static var ref: LoRAReference.Part { LoRAReference.shared.llama }
    static func base() throws -> LlamaModel { try LlamaModel.load(directory: ref.modelURL) }
    static func adapted() throws -> LlamaTrainingModel {
        try LlamaTrainingModel.load(model: ref.modelURL, precision: .float32, adapterDirectory: ref.adapterURL)
    }

}

@Suite struct LlamaTrainingTests {
    typealias S = LlamaLoRASupport

    @Test func loraLossAndGradientsMatchPEFT() throws { S.ref.checkGradients(try S.adapted(), full: false) }

    @Test func fullGradientsMatchTransformers() throws {
        let base = try S.base()
        S.ref.checkGradients(try LlamaTrainingModel(configuration: base.configuration, weights: base.weights), full: true)
    }

    @Test func smallAttentionBlocksGiveTheSameGradients() throws {
        let a = try S.adapted(), b = try S.adapted()
        b.attentionBlock = 3
        // One OpenBLAS thread count for both passes: its Haswell kernels' last bits depend on it, and an evaluation
        // test beside this one may change it for a while.
        ComputeThreads.withSteadyBLASThreads {
            a.forwardBackward(S.ref.batch.trainingBatch); b.forwardBackward(S.ref.batch.trainingBatch)
        }
        // Blocks change the summation order only: 6.3e-7 at gradients up to 0.44 here (Zen 5, OpenBLAS Haswell kernels),
        // 0 with its SkylakeX kernels; a masking or rescaling slip moves them by far more.
        let g = a.gradients.array, scale = g.reduce(0.0) { max($0, Double(abs($1))) }
        #expect(maxAbsDifference(g, b.gradients.array) < 1e-5 * scale, "largest gradient \(scale)")
    }

    /// Heads side by side (OpenBLAS single-threaded, two compute threads; key/value heads' groups kept together for
    /// their summed gradients) give the gradients of heads one after another.
    @Test func headsSideBySideGiveTheSameGradients() throws {
        let a = try S.adapted(), b = try S.adapted()
        #expect(a.configuration.headCount > a.configuration.keyValueHeadCount, "the fixture should share key/value heads")
        a.forwardBackward(S.ref.batch.trainingBatch)
        ComputeThreads.withBLASThreads(1) {
            ComputeThreads.$override.withValue(2) { _ = b.forwardBackward(S.ref.batch.trainingBatch) }
        }
        #expect(maxAbsDifference(a.gradients.array, b.gradients.array) < 1e-6)
    }

    @Test func oneAdamWStepMatchesTorch() throws { try S.ref.checkAdamWStep(try S.adapted()) }

    @Test func twentyStepsOfLossesMatchPEFT() throws { S.ref.checkRun(try S.adapted()) }

    @Test func mergedWeightsAndLogitsMatchPEFT() throws {
        let adapter = try LoRAAdapter.load(directory: S.ref.adapterURL)
        let base = try S.base()
        let merged = try base.weights.merging(adapter, file: "fixture")
        let named = Dictionary(uniqueKeysWithValues: merged.namedTensors().map { ($0.name, $0.values) })
        for (name, want) in S.ref.merged {
            let v = try #require(named[name])
            #expect(isClose(v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), want.norm, rtol: 1e-5), "\(name)")
            #expect(maxAbsDifference(v.prefix(want.head.count), want.head) < 1e-6, "\(name)")
        }
        let model = LlamaModel(configuration: base.configuration, weights: merged)
        for (row, ids) in S.ref.logits.ids.enumerated() {
            let logits = model.forward(ids: ids, batch: 1).storage
            for t in ids.indices {
                let v = Array(logits[(t * model.vocabularySize)..<(t * model.vocabularySize + 16)])
                #expect(maxAbsDifference(v, S.ref.logits.values[row][t]) < 1e-4, "row \(row) position \(t)")
                #expect(maxAbsDifference(v, S.ref.merged_values[row][t]) < 1e-4)
            }
        }
    }

    @Test func savedAdapterReadsBackWithPEFTNames() throws { try S.ref.checkSavedAdapter(try S.adapted()) }

    @Test func newAdaptersStartAsPEFTDoes() throws {
        let base = try S.base()
        let lora = LoRAConfiguration(rank: 8, alpha: 16, targets: ["q_proj", "v_proj"])
        let model = try LlamaTrainingModel(configuration: base.configuration, weights: base.weights, lora: lora, seed: 7)
        #expect(model.parameterEntries.count == 2 * 2 * base.configuration.layerCount)
        for e in model.parameterEntries {
            let v = model.parameters.slice(e.offset, e.count)
            if e.name.contains("lora_B") { #expect(v.allSatisfy { $0 == 0 }) }
            else {
                let bound = 1 / Float(e.shape[1]).squareRoot()
                #expect(v.allSatisfy { abs($0) <= bound } && Set(v).count > v.count / 2, "\(e.name)")
            }
        }
        // B = 0: the adapted model computes the base model's loss.
        let plain = try LlamaTrainingModel(configuration: base.configuration, weights: base.weights, lora: LoRAConfiguration(rank: 1, alpha: 1, targets: ["o_proj"]))
        #expect(model.loss(S.ref.batch.trainingBatch).sum == plain.loss(S.ref.batch.trainingBatch).sum)
    }

    @Test func quantizedBaseTrainsLikeItsDequantizedCopy() throws {
        // QLoRA-style: the base stays in Q4/Q8 blocks; the products equal those of the dequantized Float32 weights.
        let gguf = TestPaths.fixture("llama/tiny.gguf")
        let lora = LoRAConfiguration(rank: 4, alpha: 8, targets: LoRAConfiguration.llamaTargets)
        let q = try LlamaTrainingModel.load(model: gguf, precision: .native, lora: lora, seed: 3)
        let f = try LlamaTrainingModel.load(model: gguf, precision: .float32, lora: lora, seed: 3)
        #expect(q.base.layers[0].query.storageName != "f32")
        for m in [q, f] {
            for e in m.parameterEntries where e.name.contains("lora_B") { for i in 0..<e.count { m.parameters.pointer[e.offset + i] = Float(i % 7) * 0.01 } }
        }
        let batch = S.ref.batch.trainingBatch
        let batchQ = TrainingBatch(ids: batch.ids.map { $0 % Int32(q.vocabularySize) }, targets: batch.targets.map { $0 < 0 ? $0 : $0 % Int32(q.vocabularySize) },
                                   documents: batch.documents, batch: batch.batch, length: batch.length)
        let a = q.forwardBackward(batchQ), b = f.forwardBackward(batchQ)
        #expect(isClose(a.sum, b.sum, rtol: 1e-5))
        #expect(maxAbsDifference(q.gradients.array, f.gradients.array) < 1e-5)
        // Panels of 16 rows (several per matrix, the last one short) give the same products as one panel each.
        let q16 = try LlamaTrainingModel.load(model: gguf, precision: .native, lora: lora, seed: 3)
        q16.parameters.pointer.update(from: q.parameters.pointer, count: q.parameters.count)
        q16.panelValues = 16 * q.configuration.hiddenSize
        #expect(q.configuration.intermediateSize > 16 && q.configuration.vocabSize % 16 != 0, "the fixture should need several panels, the last one short")
        let c = q16.forwardBackward(batchQ)
        #expect(isClose(c.sum, a.sum, rtol: 1e-5))
        #expect(maxAbsDifference(q16.gradients.array, q.gradients.array) < 1e-5)
    }

    @Test func badAdaptersAreClearErrors() throws {
        let dir = try TestPaths.makeTemporaryDirectory("lora-bad")
        #expect(throws: TrainingError.self) { try LoRAAdapter.load(directory: dir) }
        try Data(#"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"], "use_dora": true}"#.utf8)
            .write(to: dir.appendingPathComponent("adapter_config.json"))
        do { _ = try LoRAConfiguration.read(directory: dir); Issue.record("DoRA accepted") } catch { #expect("\(error)".contains("use_dora")) }
        // BLOOM's adapter on the Llama base: its keys match no module.
        do {
            _ = try LlamaTrainingModel.load(model: S.ref.modelURL, precision: .float32, adapterDirectory: LoRAReference.shared.bloom.adapterURL)
            Issue.record("a BLOOM adapter loaded onto Llama")
        } catch { #expect("\(error)".contains("match no")) }
    }
}

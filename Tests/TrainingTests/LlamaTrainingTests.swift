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

    /// Compares one tensor's gradient with the reference summary: norm 1e-4 relative, first values 1e-5 absolute.
    static func expectGradient(_ model: any TrainableModel, _ name: String, _ want: LoRAReference.Grad, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let e = model.entry(name) else { Issue.record("no parameter \(name)", sourceLocation: sourceLocation); return }
        let g = model.gradients.slice(e.offset, e.count)
        let norm = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(isClose(norm, want.norm, rtol: 1e-4, atol: 1e-7), "\(name): norm \(norm) vs \(want.norm)", sourceLocation: sourceLocation)
        #expect(maxAbsDifference(g.prefix(want.head.count), want.head) < 1e-5, "\(name): \(Array(g.prefix(4))) vs \(Array(want.head.prefix(4)))", sourceLocation: sourceLocation)
    }
}

@Suite struct LlamaTrainingTests {
    typealias S = LlamaLoRASupport

    @Test func loraLossAndGradientsMatchPEFT() throws {
        let model = try S.adapted()
        #expect(Set(model.parameterEntries.map(\.name)) == Set(S.ref.expected.lora_grads.keys))
        let (sum, count) = model.forwardBackward(S.ref.batch.trainingBatch)
        #expect(count == S.ref.expected.count)
        #expect(isClose(sum / Double(count), S.ref.expected.loss, rtol: 1e-5))
        for (name, want) in S.ref.expected.lora_grads { S.expectGradient(model, name, want) }
    }

    @Test func fullGradientsMatchTransformers() throws {
        let base = try S.base()
        let model = try LlamaTrainingModel(configuration: base.configuration, weights: base.weights)
        #expect(model.parameterEntries.map(\.name).sorted() == S.ref.expected.full_grads.keys.sorted())
        let (sum, count) = model.forwardBackward(S.ref.batch.trainingBatch)
        #expect(isClose(sum / Double(count), S.ref.expected.full_loss, rtol: 1e-5))
        for (name, want) in S.ref.expected.full_grads { S.expectGradient(model, name, want) }
    }

    @Test func smallAttentionBlocksGiveTheSameGradients() throws {
        let a = try S.adapted(), b = try S.adapted()
        b.attentionBlock = 3
        a.forwardBackward(S.ref.batch.trainingBatch); b.forwardBackward(S.ref.batch.trainingBatch)
        #expect(maxAbsDifference(a.gradients.array, b.gradients.array) < 1e-6)
    }

    @Test func oneAdamWStepMatchesTorch() throws {
        let model = try S.adapted(), r = S.ref.adamw
        model.forwardBackward(S.ref.batch.trainingBatch)
        let opt = AdamWOptimizer(model: model, config: AdamWConfig(learningRate: r.lr, beta1: r.beta1, beta2: r.beta2, eps: r.eps, weightDecay: r.weight_decay))
        opt.update(parameters: model.parameters, gradients: model.gradients, learningRate: r.lr)
        for (name, want) in S.ref.expected.after_step_head {
            let e = try #require(model.entry(name))
            #expect(maxAbsDifference(model.parameters.slice(e.offset, want.count), want) < 1e-6, "\(name)")
        }
    }

    @Test func twentyStepsOfLossesMatchPEFT() throws {
        let model = try S.adapted(), run = S.ref.run
        let opt = AdamWOptimizer(model: model, config: AdamWConfig(learningRate: Float(run.lr), beta1: run.beta1, beta2: run.beta2, eps: run.eps, weightDecay: run.weight_decay))
        let schedule = LearningRateSchedule(kind: .cosine, peak: run.lr, warmupSteps: run.warmup_steps, totalSteps: run.steps)
        for (i, b) in run.batches.enumerated() {
            let lr = schedule.rate(at: i)
            #expect(isClose(lr, run.learning_rates[i], rtol: 1e-9, atol: 1e-12))
            model.gradients.zero()
            let (sum, count) = model.forwardBackward(b.trainingBatch)
            let (norm, scale) = clipCoefficient(model.gradients, maxNorm: run.clip)
            opt.update(parameters: model.parameters, gradients: model.gradients, learningRate: Float(lr), gradientScale: scale)
            #expect(isClose(sum / Double(count), run.losses[i], rtol: 1e-3), "step \(i)")
            #expect(isClose(Double(norm), run.grad_norms_before_clip[i], rtol: 1e-3), "step \(i) norm")
        }
    }

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

    @Test func savedAdapterReadsBackWithPEFTNames() throws {
        let model = try S.adapted()
        let dir = try TestPaths.makeTemporaryDirectory("lora-save")
        try model.save(to: dir)
        let mine = try LoRAAdapter.load(directory: dir), theirs = try LoRAAdapter.load(directory: S.ref.adapterURL)
        #expect(Set(mine.tensors.keys) == Set(theirs.tensors.keys))
        for (k, v) in theirs.tensors { #expect(mine.tensors[k]?.values == v.values && mine.tensors[k]?.shape == v.shape, "\(k)") }
        #expect(mine.configuration.rank == theirs.configuration.rank && mine.configuration.alpha == theirs.configuration.alpha)
        #expect(Set(mine.configuration.targets) == Set(theirs.configuration.targets))
    }

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

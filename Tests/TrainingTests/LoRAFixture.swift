// The parts of Tests/Fixtures/lora/lora_reference.json (scripts/reference/gen_lora.py: HF transformers + PEFT on
// torch) the LoRA tests read, for the tiny Llama and the tiny BLOOM.
import EcomModel
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

struct LoRAReference: Decodable {
    struct Batch: Decodable {
        var ids: [[Int32]]; var targets: [[Int32]]; var documents: [[UInt16]]
        var trainingBatch: TrainingBatch {
            TrainingBatch(ids: ids.flatMap { $0 }, targets: targets.flatMap { $0 }, documents: documents.flatMap { $0 },
                          batch: ids.count, length: ids[0].count)
        }
    }
    struct Grad: Decodable { var norm: Double; var head: [Float] }
    struct Expected: Decodable {
        var loss: Double; var count: Int; var lora_grads: [String: Grad]; var full_loss: Double; var full_grads: [String: Grad]
        var after_step_head: [String: [Float]]
    }
    struct LoRA: Decodable { var r: Int; var alpha: Double; var targets: [String] }
    struct AdamW: Decodable { var lr: Float; var beta1: Float; var beta2: Float; var eps: Float; var weight_decay: Float }
    struct Run: Decodable {
        var steps: Int; var lr: Double; var warmup_steps: Int; var weight_decay: Float; var clip: Float
        var beta1: Float; var beta2: Float; var eps: Float
        var batches: [Batch]; var losses: [Double]; var learning_rates: [Double]; var grad_norms_before_clip: [Double]
    }
    struct Logits: Decodable { var ids: [[Int32]]; var argmax: [[Int]]; var values: [[[Float]]]; var base_values: [[[Float]]] }
    struct Part: Decodable {
        var model: String; var adapter: String; var lora: LoRA; var batch: Batch; var expected: Expected; var adamw: AdamW
        var run: Run; var logits: Logits; var merged: [String: Grad]; var merged_values: [[[Float]]]
        var modelURL: URL { TestPaths.packageRoot.appendingPathComponent(model) }
        var adapterURL: URL { TestPaths.packageRoot.appendingPathComponent(adapter) }
    }
    var llama: Part
    var bloom: Part

    static let shared: LoRAReference = try! JSONDecoder().decode(
        LoRAReference.self, from: Data(contentsOf: TestPaths.fixture("lora/lora_reference.json")))
}

/// The checks both architectures share, each against one part of the fixture.
extension LoRAReference.Part {
    /// One tensor's gradient against the reference summary: norm 1e-4 relative, first values 1e-5 absolute.
    func expectGradient(_ model: any TrainableModel, _ name: String, _ want: LoRAReference.Grad, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let e = model.entry(name) else { Issue.record("no parameter \(name)", sourceLocation: sourceLocation); return }
        let g = model.gradients.slice(e.offset, e.count)
        let norm = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(isClose(norm, want.norm, rtol: 1e-4, atol: 1e-7), "\(name): norm \(norm) vs \(want.norm)", sourceLocation: sourceLocation)
        #expect(maxAbsDifference(g.prefix(want.head.count), want.head) < 1e-5, "\(name): \(Array(g.prefix(4))) vs \(Array(want.head.prefix(4)))", sourceLocation: sourceLocation)
    }

    /// Loss and gradients of the fixture batch: the adapters' (`full` false) or every weight's.
    func checkGradients(_ model: any TrainableModel, full: Bool) {
        let grads = full ? expected.full_grads : expected.lora_grads
        #expect(Set(model.parameterEntries.map(\.name)) == Set(grads.keys))
        let (sum, count) = model.forwardBackward(batch.trainingBatch, normalizer: nil)
        #expect(count == expected.count)
        #expect(isClose(sum / Double(count), full ? expected.full_loss : expected.loss, rtol: 1e-5))
        for (name, want) in grads { expectGradient(model, name, want) }
    }

    /// One AdamW step from the adapter's gradients.
    func checkAdamWStep(_ model: any TrainableModel) throws {
        model.forwardBackward(batch.trainingBatch, normalizer: nil)
        let r = adamw
        let opt = AdamWOptimizer(model: model, config: AdamWConfig(learningRate: r.lr, beta1: r.beta1, beta2: r.beta2, eps: r.eps, weightDecay: r.weight_decay))
        opt.update(parameters: model.parameters, gradients: model.gradients, learningRate: r.lr)
        for (name, want) in expected.after_step_head {
            let e = try #require(model.entry(name))
            #expect(maxAbsDifference(model.parameters.slice(e.offset, want.count), want) < 1e-6, "\(name)")
        }
    }

    /// 20 steps (warm-up + cosine, clipping): losses and gradient norms within 1e-3 relative.
    func checkRun(_ model: any TrainableModel) {
        let opt = AdamWOptimizer(model: model, config: AdamWConfig(learningRate: Float(run.lr), beta1: run.beta1, beta2: run.beta2, eps: run.eps, weightDecay: run.weight_decay))
        let schedule = LearningRateSchedule(kind: .cosine, peak: run.lr, warmupSteps: run.warmup_steps, totalSteps: run.steps)
        for (i, b) in run.batches.enumerated() {
            let lr = schedule.rate(at: i)
            #expect(isClose(lr, run.learning_rates[i], rtol: 1e-9, atol: 1e-12))
            model.gradients.zero()
            let (sum, count) = model.forwardBackward(b.trainingBatch, normalizer: nil)
            let (norm, scale) = clipCoefficient(model.gradients, maxNorm: run.clip)
            opt.update(parameters: model.parameters, gradients: model.gradients, learningRate: Float(lr), gradientScale: scale)
            #expect(isClose(sum / Double(count), run.losses[i], rtol: 1e-3), "step \(i)")
            #expect(isClose(Double(norm), run.grad_norms_before_clip[i], rtol: 1e-3), "step \(i) norm")
        }
    }

    /// Our saved adapter reads back with the fixture adapter's keys, shapes and values, and its settings.
    func checkSavedAdapter(_ model: any TrainableModel) throws {
        let dir = try TestPaths.makeTemporaryDirectory("lora-save")
        try model.save(to: dir)
        let mine = try LoRAAdapter.load(directory: dir), theirs = try LoRAAdapter.load(directory: adapterURL)
        #expect(Set(mine.tensors.keys) == Set(theirs.tensors.keys))
        for (k, v) in theirs.tensors { #expect(mine.tensors[k]?.values == v.values && mine.tensors[k]?.shape == v.shape, "\(k)") }
        #expect(mine.configuration.rank == theirs.configuration.rank && mine.configuration.alpha == theirs.configuration.alpha)
        #expect(Set(mine.configuration.targets) == Set(theirs.configuration.targets))
    }
}

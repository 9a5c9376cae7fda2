// Loss, every parameter's gradient and one AdamW step against HF transformers + torch (scripts/reference/gen_train.py),
// and the 20-step run (warm-up + cosine, clipping) on the fixture's fixed batches.
import EcomModel
import EcomTrainer
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

/// The parts of Tests/Fixtures/train/train_reference.json the tests read.
struct TrainReference: Decodable {
    struct Batch: Decodable { var ids: [[Int32]]; var labels: [[Int32]] }
    struct Grad: Decodable { var norm: Double; var head: [Float] }
    struct Expected: Decodable { var loss: Double; var grads: [String: Grad]; var after_step_head: [String: [Float]] }
    struct AdamW: Decodable { var lr: Float; var beta1: Float; var beta2: Float; var eps: Float; var weight_decay: Float }
    struct GradPart: Decodable { var batch: Batch; var adamw: AdamW; var expected: Expected }
    struct Run: Decodable {
        var steps: Int; var lr: Double; var warmup_steps: Int; var weight_decay: Float; var clip: Float
        var beta1: Float; var beta2: Float; var eps: Float; var batch: Int; var seq_len: Int
        var batches: [Batch]; var losses: [Double]; var learning_rates: [Double]; var grad_norms_before_clip: [Double]

        /// AdamW with the run's settings, for `model`'s parameters.
        func optimizer(for model: BloomTrainingModel) -> AdamWOptimizer {
            AdamWOptimizer(layout: model.layout, config: AdamWConfig(
                learningRate: Float(lr), beta1: beta1, beta2: beta2, eps: eps, weightDecay: weight_decay))
        }

        /// The run's cosine schedule with warmup.
        var schedule: LearningRateSchedule { LearningRateSchedule(kind: .cosine, peak: lr, warmupSteps: warmup_steps, totalSteps: steps) }
    }
    var grad: GradPart
    var run: Run

    static let shared: TrainReference = try! JSONDecoder().decode(
        TrainReference.self, from: Data(contentsOf: TestPaths.fixture("train/train_reference.json")))
}

func fixtureBatch(_ b: TrainReference.Batch) -> TrainingBatch {
    TrainingBatch(ids: b.ids.flatMap { $0 }, labels: b.labels.flatMap { $0 }, batch: b.ids.count, length: b.ids[0].count)
}

enum TinyTraining {
    static let directory = TestPaths.fixture("model/tiny-f32")
    static func model() throws -> BloomTrainingModel { try BloomTrainingModel.load(directory: directory) }
}

@Suite struct GradientFixtureTests {
    @Test func lossAndEveryGradientMatchTorch() throws {
        let ref = TrainReference.shared.grad
        let model = try TinyTraining.model()
        let (sum, count) = model.forwardBackward(fixtureBatch(ref.batch))
        #expect(isClose(Float(sum / Double(count)), Float(ref.expected.loss), rtol: 1e-5, atol: 1e-6))
        #expect(Set(model.layout.entries.map(\.name)) == Set(ref.expected.grads.keys))
        for e in model.layout.entries {
            let want = try #require(ref.expected.grads[e.name])
            let norm = ReductionKernel.sumOfSquares(model.gradients.pointer + e.offset, count: e.count).squareRoot()
            #expect(abs(norm - want.norm) <= 1e-4 * want.norm + 1e-9, "\(e.name): norm \(norm) vs \(want.norm)")
            let head = model.gradients.slice(e.offset, want.head.count)
            #expect(firstMismatch(head, want.head, rtol: 0, atol: 1e-5) == nil, "\(e.name): \(head) vs \(want.head)")
        }
    }

    @Test func oneAdamWStepMatchesTorch() throws {
        let ref = TrainReference.shared.grad
        let model = try TinyTraining.model()
        let a = ref.adamw
        let report = GradientReport.run(model, batch: fixtureBatch(ref.batch),
                                        adamw: AdamWConfig(learningRate: a.lr, beta1: a.beta1, beta2: a.beta2, eps: a.eps, weightDecay: a.weight_decay))
        let after = try #require(report["after_step_head"] as? [String: [Double]])
        for (name, want) in ref.expected.after_step_head {
            let got = try #require(after[name]).map(Float.init)
            #expect(firstMismatch(got, want, rtol: 1e-6, atol: 1e-6) == nil, "\(name): \(got) vs \(want)")
        }
    }

    @Test func twentyStepRunMatchesTorch() throws {
        let run = TrainReference.shared.run
        let model = try TinyTraining.model()
        let opt = run.optimizer(for: model), schedule = run.schedule
        for step in 0..<run.steps {
            let lr = schedule.rate(at: step)
            #expect(isClose(Float(lr), Float(run.learning_rates[step]), rtol: 1e-7, atol: 1e-12))
            model.gradients.zero()
            let (sum, count) = model.forwardBackward(fixtureBatch(run.batches[step]))
            let loss = sum / Double(count)
            let norm = clipGradients(model.gradients, maxNorm: run.clip)
            #expect(abs(loss - run.losses[step]) <= 1e-3 * abs(run.losses[step]), "step \(step): loss \(loss) vs \(run.losses[step])")
            #expect(abs(Double(norm) - run.grad_norms_before_clip[step]) <= 1e-3 * run.grad_norms_before_clip[step],
                    "step \(step): grad norm \(norm) vs \(run.grad_norms_before_clip[step])")
            opt.update(parameters: model.parameters, gradients: model.gradients, learningRate: Float(lr))
        }
    }
}

// Training under bf16 matrix products (every product; Float32 master weights, gradients and AdamW) against the torch
// fixture's Float32 run: 20 steps' losses within 1e-2 relative (issue 19's tolerance).
import EcomModel
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

@Suite struct BF16TrainingTests {
    @Test func twentyStepLossesStayWithinTolerance() throws {
        let run = TrainReference.shared.run
        let model = try TinyTraining.model()
        let opt = run.optimizer(for: model), schedule = run.schedule
        var worst = 0.0
        try MatmulPrecision.$override.withValue(.bf16) { try BF16Matmul.$minimumWorkOverride.withValue(0) {
            for step in 0..<run.steps {
                model.gradients.zero()
                let (sum, count) = model.forwardBackward(fixtureBatch(run.batches[step]))
                let loss = sum / Double(count)
                let relative = abs(loss - run.losses[step]) / abs(run.losses[step])
                worst = max(worst, relative)
                #expect(relative <= 1e-2, "step \(step): loss \(loss) vs \(run.losses[step])")
                try #require(loss.isFinite)
                _ = clipGradients(model.gradients, maxNorm: run.clip)
                opt.update(parameters: model.parameters, gradients: model.gradients, learningRate: Float(schedule.rate(at: step)))
            }
        } }
        print("bf16 training (\(BF16Matmul.backend.rawValue)): worst relative loss difference over \(run.steps) steps \(worst)")
        #expect(worst >= 1e-7, "losses equal Float32's to \(worst): bf16 was not used")
    }
}

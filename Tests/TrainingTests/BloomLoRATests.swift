// BLOOM's LoRA against PEFT (scripts/reference/gen_lora.py): loss and adapter gradients on a packed, prompt-masked
// batch, every weight's gradient on the same batch, one AdamW step, 20 steps, our adapter files, and the merge.
import EcomModel
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

@Suite struct BloomLoRATests {
    static var ref: LoRAReference.Part { LoRAReference.shared.bloom }
    static func adapted() throws -> BloomTrainingModel {
        try BloomTrainingModel.load(directory: ref.modelURL, adapterDirectory: ref.adapterURL)
    }

    @Test func loraLossAndGradientsMatchPEFT() throws { Self.ref.checkGradients(try Self.adapted(), full: false) }
    @Test func fullGradientsOnAPackedBatchMatchTransformers() throws {
        Self.ref.checkGradients(try BloomTrainingModel.load(directory: Self.ref.modelURL), full: true)
    }
    @Test func oneAdamWStepMatchesTorch() throws { try Self.ref.checkAdamWStep(try Self.adapted()) }
    @Test func twentyStepsOfLossesMatchPEFT() throws { Self.ref.checkRun(try Self.adapted()) }
    @Test func savedAdapterReadsBackWithPEFTNames() throws { try Self.ref.checkSavedAdapter(try Self.adapted()) }

    @Test func mergedModelGivesPEFTLogits() throws {
        let model = try Self.adapted().inferenceModel()
        for (row, ids) in Self.ref.logits.ids.enumerated() {
            let logits = model.forward(ids: ids, batch: 1).storage
            for t in ids.indices {
                let v = Array(logits[(t * model.vocabularySize)..<(t * model.vocabularySize + 16)])
                #expect(maxAbsDifference(v, Self.ref.logits.values[row][t]) < 1e-4, "row \(row) position \(t)")
            }
        }
    }

    @Test func frozenBaseGetsNoGradientAndNewAdaptersStartAtTheBase() throws {
        let lora = LoRAConfiguration(rank: 2, alpha: 4, targets: ["query_key_value"])
        let model = try BloomTrainingModel.load(directory: Self.ref.modelURL, lora: lora, seed: 5)
        let full = try BloomTrainingModel.load(directory: Self.ref.modelURL)
        #expect(model.parameters.count == model.configuration.layerCount * 2 * (3 * model.configuration.hiddenSize + model.configuration.hiddenSize))
        let base = model.values.array
        let (a, b) = ComputeThreads.withSteadyBLASThreads {  // bit equality: one OpenBLAS thread count for both
            (model.forwardBackward(Self.ref.batch.trainingBatch), full.loss(Self.ref.batch.trainingBatch))
        }
        #expect(a.sum == b.sum)  // B = 0
        #expect(model.values.array == base)
        #expect(model.gradients.array.contains { $0 != 0 })
    }
}

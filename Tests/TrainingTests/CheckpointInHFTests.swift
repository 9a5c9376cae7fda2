// A checkpoint our trainer wrote (Tests/Fixtures/train/ours-ckpt) loads in HF transformers (scripts/reference/
// gen_train_ckpt.py asserts no missing/unexpected keys) and HF's logits on it equal ours.
import EcomModel
import EcomTrainer
import EcomTestSupport
import Foundation
import Testing

@Suite struct CheckpointInHFTests {
    struct Reference: Decodable {
        struct Case: Decodable { var ids: [Int32]; var logits: [[Float]] }
        var loading_info: [String: [String]]
        var cases: [Case]
    }

    @Test func hfLogitsOnOurCheckpointEqualOurs() throws {
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: TestPaths.fixture("train/ours_ckpt_logits.json")))
        #expect(ref.loading_info.values.allSatisfy { $0.isEmpty })
        let dir = TestPaths.fixture("train/ours-ckpt")
        let model = try BloomModel.load(directory: dir)
        let training = try BloomTrainingModel.load(directory: dir)
        for c in ref.cases {
            let ours = model.forward(ids: c.ids, batch: 1)
            #expect(firstMismatch(ours.storage, c.logits.flatMap { $0 }, rtol: 1e-4, atol: 1e-4) == nil, "length \(c.ids.count)")
            // The training forward agrees too (loss over all next tokens from HF's logits).
            if c.ids.count > 1 {
                let batch = TrainingBatch(ids: c.ids, labels: c.ids, batch: 1, length: c.ids.count)
                var nll = 0.0
                for t in 0..<(c.ids.count - 1) {
                    let row = c.logits[t].map(Double.init), m = row.max()!
                    nll += m + log(row.reduce(0) { $0 + exp($1 - m) }) - row[Int(c.ids[t + 1])]
                }
                #expect(isClose(training.loss(batch).sum, nll, rtol: 1e-5))
            }
        }
    }

    @Test func savedWeightsRoundTripExactly() throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let m = try TinyTraining.model()
        try m.layout.save(m.parameters, to: dir)
        let back = try BloomTrainingModel.load(directory: dir)
        #expect(back.parameters.array == m.parameters.array)
        #expect(back.configuration == m.configuration)
    }
}

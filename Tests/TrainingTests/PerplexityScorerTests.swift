// The perplexity scorer against perplexities computed from the inference model's logits, and plugged into
// EcomInstruct's RecordFilter.
import EcomInstruct
import EcomModel
import EcomTrainer
import EcomTestSupport
import Foundation
import Testing

/// One token per byte (ids 4...63), end-of-sequence 2.
struct ByteEncoder: TokenEncoder {
    var endOfSequenceID: Int { 2 }
    func tokenize(_ text: String) -> (ids: [Int], offsets: [Range<Int>]) {
        let b = Array(text.utf8)
        return (b.map { 4 + Int($0) % 60 }, b.indices.map { $0..<($0 + 1) })
    }
}

@Suite struct PerplexityScorerTests {
    func record(_ id: String, _ input: String, _ output: String) -> InstructionRecord {
        InstructionRecord(id: id, taskDescription: "Classify.", prompt: "{sentences}", input: input, output: output,
                          template: .ecomgpt, provenance: Provenance(dataset: "t", task: "t", taskType: "t", language: "en"))
    }

    @Test func scoresAreResponsePerplexitiesAndFilterUsesThem() throws {
        let model = try TinyTraining.model()
        let scorer = PerplexityScorer(model: model, encoder: ByteEncoder(), maxLength: 512)
        let records = [record("a", "good phone", "positive"), record("b", "bad", "negative"), record("c", "x", "y")]
        let scores = try scorer.scores(records)
        // Independent: the inference forward's logits, -log softmax at each learned token.
        let inference = try BloomModel.load(directory: TinyTraining.directory)
        for (r, s) in zip(records, scores) {
            let (ids, mask) = tokenizeDocument(r.rendered(), with: ByteEncoder())
            let n = min(512, ids.count)
            let logits = inference.forward(ids: ids.prefix(n).map { Int32($0) }, batch: 1)
            var nll = 0.0, count = 0
            for t in 1..<n where mask[t] == 1 {
                let row = logits.storage[((t - 1) * 64)..<(t * 64)].map(Double.init)
                let m = row.max()!
                nll += m + log(row.reduce(0) { $0 + exp($1 - m) }) - row[ids[t]]
                count += 1
            }
            #expect(isClose(s, exp(nll / Double(count)), rtol: 1e-4), "\(r.id): \(s) vs \(exp(nll / Double(count)))")
        }
        var config = FilterConfig()
        config.maxScore = scores.sorted()[1]
        let (kept, report, _) = try RecordFilter(config: config, scorer: scorer).run(records)
        #expect(kept.count == 2)
        #expect(report.kept == 2)
    }
}

// The trainer on small packed data: gradient accumulation equals one large batch, exact resume, the output directory
// contract, stopping on a request or a time budget, and clear errors for mismatched settings.
import EcomInstruct
import EcomModel
import EcomTrainer
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

/// Random packed sequences (documents of random lengths, prompt tokens unlearned) written as a packed shard directory
/// with a minimal tokenizer.json (64 tokens, the tiny fixture model's vocabulary) beside them.
enum PackedFixture {
    static func sequences(_ n: Int, length: Int, seed: UInt64) -> [PackedSequence] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in
            var ids: [Int32] = [], mask: [UInt8] = [], docs: [UInt16] = []
            var doc: UInt16 = 1
            while ids.count < length {
                let len = min(length - ids.count, 3 + Int(rng.next() % 10))
                let prompt = 1 + Int(rng.next() % UInt64(max(1, len - 1)))
                for i in 0..<len {
                    ids.append(Int32(4 + rng.next() % 60)); mask.append(i >= prompt ? 1 : 0); docs.append(doc)
                }
                doc += 1
                if rng.next() % 4 == 0 && ids.count < length {  // some padding at the end
                    let pad = length - ids.count
                    ids += [Int32](repeating: 3, count: pad); mask += [UInt8](repeating: 0, count: pad); docs += [UInt16](repeating: 0, count: pad)
                }
            }
            return PackedSequence(ids: ids, lossMask: mask, documentIDs: docs)
        }
    }

    /// Writes `root/packed` (train + validation) and `root/tokenizer.json`; returns the packed directory.
    static func write(root: URL, train: Int = 48, validation: Int = 8, length: Int = 16, seed: UInt64 = 7) throws -> URL {
        let vocab = Dictionary(uniqueKeysWithValues: (0..<64).map { ("t\($0)", $0) })
        let tok: [String: Any] = ["version": "1.0", "model": ["type": "BPE", "vocab": vocab, "merges": [String]()], "added_tokens": [[String: Any]]()]
        let tokURL = root.appendingPathComponent("tokenizer.json")
        try JSONSerialization.data(withJSONObject: tok, options: [.sortedKeys]).write(to: tokURL)
        let dir = root.appendingPathComponent("packed")
        var shards: [ShardInfo] = []
        for (split, n, s) in [("train", train, seed), ("validation", validation, seed + 1)] {
            let w = try ShardWriter(directory: dir, prefix: split, kind: .packed, targetShardBytes: 1500, blockBytes: 600)
            for q in sequences(n, length: length, seed: s) { try w.append(q.encoded()) }
            shards += try w.finish(split: split)
        }
        try ShardManifest(kind: .packed, compressionLevel: 3, shards: shards, tokenizerHash: try PackPipeline.fileHash(tokURL),
                          sequenceLength: length).write(to: dir)
        return dir
    }

    static func options(root: URL, out: String = "out") throws -> TrainerOptions {
        let data = try write(root: root)
        var o = TrainerOptions(data: data, out: root.appendingPathComponent(out))
        o.initFrom = TinyTraining.directory
        o.batch = 2; o.steps = 6; o.learningRate = 3e-3; o.warmupRatio = 0.2; o.logEvery = 0
        return o
    }
}

@Suite struct TrainerTests {
    @Test func accumulationOf4x2EqualsOneBatchOf8() throws {
        let seqs = PackedFixture.sequences(8, length: 16, seed: 11).map { ($0.ids, $0.lossMask, $0.documentIDs) }
        let big = TrainingBatch(packed: seqs)
        let a = try TinyTraining.model(), b = try TinyTraining.model()
        let cfg = AdamWConfig(learningRate: 1e-2, weightDecay: 0.1)
        let oa = AdamWOptimizer(layout: a.layout, config: cfg), ob = AdamWOptimizer(layout: b.layout, config: cfg)
        let one = Trainer.step(model: a, optimizer: oa, microBatches: [big], learningRate: 1e-2, clip: 1)
        let four = Trainer.step(model: b, optimizer: ob, microBatches: (0..<4).map { big.rows(($0 * 2)..<($0 * 2 + 2)) }, learningRate: 1e-2, clip: 1)
        #expect(isClose(one.loss, four.loss, rtol: 1e-6))
        #expect(isClose(one.gradNorm, four.gradNorm, rtol: 1e-5))
        // The clipped gradients the update used (the step applies the clip factor as it reads them) agree to rounding. (Parameters after AdamW's first step are not a
        // good comparison: the first update is lr * g / (|g| + eps), which amplifies rounding in near-zero gradients.)
        let clipped = { (m: BloomTrainingModel) in
            let scale = clipCoefficient(m.gradients, maxNorm: 1).scale
            return m.gradients.array.map { $0 * scale }
        }
        #expect(firstMismatch(clipped(a), clipped(b), rtol: 1e-4, atol: 1e-8) == nil)
        // A mean of per-micro-batch means would differ (the micro-batches learn different numbers of tokens).
        let counts = (0..<4).map { big.rows(($0 * 2)..<($0 * 2 + 2)).learnedTokens }
        #expect(Set(counts).count > 1, "fixture should have unequal learned-token counts: \(counts)")
    }

    /// Clipping inside the update (the trainer's way) gives the same parameters, bit for bit, as torch's order:
    /// clip_grad_norm_ rewriting the gradients, then AdamW.
    @Test func clippingInsideTheUpdateEqualsClippingFirst() throws {
        let batch = TrainingBatch(packed: PackedFixture.sequences(4, length: 16, seed: 12).map { ($0.ids, $0.lossMask, $0.documentIDs) })
        let a = try TinyTraining.model(), b = try TinyTraining.model()
        let cfg = AdamWConfig(learningRate: 1e-2, weightDecay: 0.1)
        let oa = AdamWOptimizer(layout: a.layout, config: cfg), ob = AdamWOptimizer(layout: b.layout, config: cfg)
        // Bit equality of two models' passes needs one OpenBLAS thread count for both (an evaluation test beside
        // this one may change it for a while).
        try ComputeThreads.withSteadyBLASThreads {
            for _ in 0..<3 {
                for (m, o) in [(a, oa), (b, ob)] { m.gradients.zero(); m.forwardBackward(batch) }
                let (norm, scale) = clipCoefficient(a.gradients, maxNorm: 0.5)
                oa.update(parameters: a.parameters, gradients: a.gradients, learningRate: 1e-2, gradientScale: scale)
                let normB = clipGradients(b.gradients, maxNorm: 0.5)
                ob.update(parameters: b.parameters, gradients: b.gradients, learningRate: 1e-2)
                #expect(norm == normB && scale < 1, "the fixture's norm \(norm) should exceed 0.5 so that clipping acts")
                #expect(a.parameters.array == b.parameters.array)
            }
        }
        #expect(clipCoefficient(a.gradients, maxNorm: 0).scale == 1 && clipCoefficient(a.gradients, maxNorm: 1e9).scale == 1)
    }

    @Test func resumeContinuesExactly() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        var straight = try PackedFixture.options(root: root, out: "straight")
        straight.evalEvery = 2
        let s = try Trainer(options: straight)
        #expect(try s.run() == .finished)

        var first = straight
        first.out = root.appendingPathComponent("split"); first.stepLimit = 3
        let a = try Trainer(options: first)
        #expect(try a.run() == .interrupted)
        var second = first
        second.stepLimit = nil; second.resume = true
        let b = try Trainer(options: second)
        #expect(b.state.step == 3)
        #expect(try b.run() == .finished)
        #expect(a.losses + b.losses == s.losses, "straight \(s.losses) vs \(a.losses) + \(b.losses)")
        let m1 = try MetricsRecord.read(straight.out.appendingPathComponent("metrics.jsonl"))
        let m2 = try MetricsRecord.read(first.out.appendingPathComponent("metrics.jsonl"))
        #expect(m1.map(\.loss) == m2.map(\.loss))
        #expect(m1.map(\.split) == m2.map(\.split))
        #expect(m1.filter { $0.split == "validation" }.count == 3)
    }

    @Test func outputDirectoryIsAnHFModelPlusState() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        var o = try PackedFixture.options(root: root)
        o.steps = 2; o.evalEvery = 1
        _ = try Trainer(options: o).run()
        for f in ["config.json", "model.safetensors", "tokenizer.json", "trainer_state.bin", "metrics.jsonl", "loss.svg"] {
            #expect(FileManager.default.fileExists(atPath: o.out.appendingPathComponent(f).path), "\(f) missing")
        }
        let model = try BloomModel.load(directory: o.out)
        #expect(model.configuration.vocabSize == 64)
        let metrics = try MetricsRecord.read(o.out.appendingPathComponent("metrics.jsonl"))
        #expect(metrics.map(\.split) == ["train", "validation", "train", "validation"])
        #expect(metrics.allSatisfy { $0.loss.isFinite && $0.loss > 0 })
        let svg = try String(contentsOf: o.out.appendingPathComponent("loss.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("polyline"))
        #expect(try Data(contentsOf: o.out.appendingPathComponent("tokenizer.json")) == Data(contentsOf: root.appendingPathComponent("tokenizer.json")))
    }

    @Test func stopRequestAndTimeBudgetSaveAndExitCleanly() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        var o = try PackedFixture.options(root: root)
        o.timeBudget = 0
        #expect(try Trainer(options: o).run() == .budgetSpent)
        #expect(FileManager.default.fileExists(atPath: o.out.appendingPathComponent("trainer_state.bin").path))
        o.timeBudget = nil; o.resume = true
        let stop = StopFlag(); stop.request()
        let t = try Trainer(options: o)
        #expect(try t.run(stop: stop) == .interrupted)
        #expect(t.state.step == 0)
    }

    @Test func mismatchedSettingsAreClearErrors() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        var o = try PackedFixture.options(root: root)
        o.sequenceLength = 32
        #expect { try Trainer(options: o) } throws: { "\($0)".contains("--seq-len 32 differs") }
        o.sequenceLength = nil
        o.steps = 1
        _ = try Trainer(options: o).run()
        o.resume = true; o.batch = 4
        #expect { try Trainer(options: o) } throws: { "\($0)".contains("resume with the same settings") }
        // A corrupt state file names itself.
        try Data("garbage".utf8).write(to: o.out.appendingPathComponent("trainer_state.bin"))
        o.batch = 2
        #expect { try Trainer(options: o) } throws: { "\($0)".contains("trainer_state.bin") }
    }
}

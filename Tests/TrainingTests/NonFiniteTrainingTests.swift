// Hostile numbers in training (Docs/RELIABILITY.md): NaN or infinity in the weights to train, a step whose loss and
// gradients go non-finite (stopped with the step and tensor named, the last checkpoint untouched, or skipped with
// --skip-nonfinite), and packed token ids outside the model's vocabulary.
import EcomInstruct
import EcomModel
import EcomTestSupport
import EcomTrainer
import Foundation
import Testing

@Suite struct NonFiniteTrainingTests {
    /// Overwrites the first value of `tensor` in a safetensors file with `value` (F32 files only).
    static func poke(_ url: URL, tensor: String, _ value: Float) throws {
        let file = try SafeTensorsFile(contentsOf: url)
        guard let e = file.entries[tensor], e.dtype == .f32 else { throw TrainingError("no F32 tensor \(tensor) in \(url.path)") }
        let bytes = try Data(contentsOf: url)
        let header = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
        var changed = bytes
        withUnsafeBytes(of: value.bitPattern.littleEndian) { v in
            for i in 0..<4 { changed[8 + header + e.range.lowerBound + i] = v[i] }
        }
        try changed.write(to: url)
    }

    @Test func nonFiniteWeightsAreRefusedBeforeTraining() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        var o = try PackedFixture.options(root: root)
        o.stepLimit = 1
        _ = try Trainer(options: o).run()
        try Self.poke(o.out.appendingPathComponent("model.safetensors"), tensor: "transformer.h.1.mlp.dense_4h_to_h.weight", .nan)
        o.resume = true; o.stepLimit = nil
        #expect { _ = try Trainer(options: o) } throws: { e in
            "\(e)".contains("h.1.mlp.dense_4h_to_h.weight") && "\(e)".contains("NaN or infinity") && "\(e)".contains("nothing was trained")
        }
    }

    @Test func aNonFiniteStepStopsAndKeepsTheLastCheckpoint() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        var o = try PackedFixture.options(root: root)
        o.stepLimit = 2; o.saveEvery = 1
        _ = try Trainer(options: o).run()
        let files = ["model.safetensors", "trainer_state.bin", "metrics.jsonl"]
        let before = try files.map { try Data(contentsOf: o.out.appendingPathComponent($0)) }
        o.resume = true; o.stepLimit = nil
        let t = try Trainer(options: o)
        // Weights that overflowed in memory after the last save: the next step's loss and gradients are infinite.
        t.model.parameters.pointer[0] = .infinity
        #expect { _ = try t.run() } throws: { e in
            "\(e)".contains("step 3") && "\(e)".contains("gradient of") && "\(e)".contains("checkpoint of step 2") && "\(e)".contains("--skip-nonfinite")
        }
        let after = try files.map { try Data(contentsOf: o.out.appendingPathComponent($0)) }
        #expect(before == after, "the checkpoint of step 2 changed")
        #expect(t.losses.isEmpty)
    }

    @Test func skipNonFiniteSkipsStepsAndRefusesToSaveBrokenWeights() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        var o = try PackedFixture.options(root: root)
        o.stepLimit = 2
        _ = try Trainer(options: o).run()
        let saved = try Data(contentsOf: o.out.appendingPathComponent("model.safetensors"))
        o.resume = true; o.stepLimit = nil; o.skipNonFinite = true
        let t = try Trainer(options: o)
        t.model.parameters.pointer[0] = .infinity
        #expect { _ = try t.run() } throws: { e in "\(e)".contains("holds NaN or infinity after the update; not saved") }
        #expect(t.skippedSteps == 4 && t.state.step == 6, "\(t.skippedSteps) skipped, at step \(t.state.step)")
        #expect(try Data(contentsOf: o.out.appendingPathComponent("model.safetensors")) == saved)
    }

    /// A packed shard whose ids exceed the model's vocabulary (packed with another tokenizer, or corrupt) is an error
    /// naming the sequence, not a precondition failure in the embedding.
    @Test func tokenIdsPastTheVocabularyAreAnError() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        var o = try PackedFixture.options(root: root)
        let dir = o.data
        let bad = PackedSequence(ids: [5, 6, 70_000, 7] + [Int32](repeating: 3, count: 12), lossMask: [UInt8](repeating: 1, count: 16),
                                 documentIDs: [UInt16](repeating: 1, count: 16))
        try FileManager.default.removeItem(at: dir)
        let w = try ShardWriter(directory: dir, prefix: "train", kind: .packed)
        for _ in 0..<4 { try w.append(bad.encoded()) }
        try ShardManifest(kind: .packed, compressionLevel: 3, shards: try w.finish(split: "train"),
                          tokenizerHash: try PackPipeline.fileHash(root.appendingPathComponent("tokenizer.json")), sequenceLength: 16).write(to: dir)
        o.steps = 1
        #expect { _ = try Trainer(options: o).run() } throws: { e in
            "\(e)".contains("token id 70000 at position 2") && "\(e)".contains("outside the model's vocabulary of 64")
        }
    }
}

// The trainer tuning the tiny Llama: LoRA runs write PEFT adapters and resume exactly (the base found from the
// adapter's config), gradient accumulation equals one large batch, and full fine-tuning writes a loadable HF checkpoint.
import EcomInstruct
import EcomModel
import EcomTrainer
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

@Suite struct LlamaTrainerTests {
    static let base = TestPaths.fixture("llama/tiny-hf")

    static func loraOptions(root: URL, out: String) throws -> TrainerOptions {
        var o = try PackedFixture.options(root: root, out: out)
        o.initFrom = base
        o.lora = LoRAConfiguration(rank: 4, alpha: 8, targets: [])
        o.learningRate = 1e-2
        return o
    }

    @Test func loraRunWritesAPEFTAdapterAndResumesExactly() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        let straightOptions = try Self.loraOptions(root: root, out: "straight")
        let straight = try Trainer(options: straightOptions)
        #expect(try straight.run() == .finished)
        #expect(straight.losses.last! < straight.losses.first!)
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: straightOptions.out.path))
        #expect(files.isSuperset(of: ["adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "trainer_state.bin", "metrics.jsonl", "loss.svg"]))
        #expect(!files.contains("model.safetensors"))
        let adapter = try LoRAAdapter.load(directory: straightOptions.out)
        #expect(adapter.tensors.count == 2 * 7 * 2 && adapter.configuration.baseModel == Self.base.path)

        var first = straightOptions
        first.out = root.appendingPathComponent("split"); first.stepLimit = 2
        let a = try Trainer(options: first)
        #expect(try a.run() == .interrupted)
        var second = first
        second.stepLimit = nil; second.resume = true; second.initFrom = nil  // the base comes from adapter_config.json
        let b = try Trainer(options: second)
        #expect(b.state.step == 2)
        #expect(try b.run() == .finished)
        #expect(a.losses + b.losses == straight.losses)
        let resumed = try LoRAAdapter.load(directory: first.out)
        for (k, v) in adapter.tensors { #expect(resumed.tensors[k]?.values == v.values, "\(k)") }
    }

    @Test func accumulationEqualsOneLargeBatch() throws {
        let seqs = PackedFixture.sequences(8, length: 16, seed: 11).map { ($0.ids, $0.lossMask, $0.documentIDs) }
        let big = TrainingBatch(packed: seqs)
        let lora = LoRAConfiguration(rank: 4, alpha: 8, targets: [])
        let a = try TrainingModelLoader.load(Self.base, lora: lora, seed: 1), b = try TrainingModelLoader.load(Self.base, lora: lora, seed: 1)
        for m in [a, b] { for e in m.parameterEntries where e.name.contains("lora_B") { for i in 0..<e.count { m.parameters.pointer[e.offset + i] = Float(i % 5) * 0.02 } } }
        let cfg = AdamWConfig(learningRate: 1e-2, weightDecay: 0.1)
        let one = Trainer.step(model: a, optimizer: AdamWOptimizer(model: a, config: cfg), microBatches: [big], learningRate: 1e-2, clip: 1)
        let four = Trainer.step(model: b, optimizer: AdamWOptimizer(model: b, config: cfg), microBatches: (0..<4).map { big.rows(($0 * 2)..<($0 * 2 + 2)) },
                                learningRate: 1e-2, clip: 1)
        #expect(isClose(one.loss, four.loss, rtol: 1e-6))
        #expect(isClose(one.gradNorm, four.gradNorm, rtol: 1e-5))
        // Summation order differs (rows of 2 against 8): elements agree to 1e-6 absolute (gradients here are up to ~1e-1).
        #expect(firstMismatch(a.gradients.array, b.gradients.array, rtol: 1e-4, atol: 1e-6) == nil)
    }

    @Test func fullFineTuningWritesALoadableHFCheckpoint() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        var o = try PackedFixture.options(root: root, out: "full")
        o.initFrom = Self.base; o.steps = 2
        let t = try Trainer(options: o)
        #expect(try t.run() == .finished)
        let trained = try #require(t.model as? LlamaTrainingModel)
        let loaded = try LlamaModel.load(directory: o.out)
        let want = try trained.currentWeights()
        #expect(loaded.weights.layers[1].down.floats() == want.layers[1].down.floats())
        #expect(loaded.weights.embeddings.floats() != (try LlamaModel.load(directory: Self.base)).weights.embeddings.floats())
    }

    @Test func loraInitStartsFromTheSavedAdapterAndNamesTheNewBase() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        var first = try Self.loraOptions(root: root, out: "first")
        first.steps = 2
        #expect(try Trainer(options: first).run() == .finished)
        // The base moves (a copy elsewhere): the continued adapter must name the base it was trained on.
        let copy = root.appendingPathComponent("base-copy")
        try FileManager.default.copyItem(at: Self.base, to: copy)
        var next = first
        next.out = root.appendingPathComponent("next"); next.initFrom = copy; next.lora = nil; next.loraInit = first.out
        next.steps = 1; next.learningRate = 0  // lr 0: the saved adapter comes back unchanged
        let t = try Trainer(options: next)
        #expect(try t.run() == .finished)
        let saved = try LoRAAdapter.load(directory: first.out), continued = try LoRAAdapter.load(directory: next.out)
        #expect(continued.configuration.baseModel == copy.path && continued.configuration.rank == 4)
        #expect(Set(continued.tensors.keys) == Set(saved.tensors.keys))
        for (k, v) in saved.tensors { #expect(continued.tensors[k]?.values == v.values, "\(k)") }
        // Its first loss is the loss of the saved adapter, not of fresh adapters (whose B is zero: the base's loss).
        let fresh = try Trainer(options: { var o = next; o.out = root.appendingPathComponent("fresh"); o.loraInit = nil
                                            o.lora = LoRAConfiguration(rank: 4, alpha: 8, targets: []); return o }())
        _ = try fresh.run()
        #expect(t.losses[0] != fresh.losses[0])
        var both = next
        both.lora = LoRAConfiguration(rank: 4, alpha: 8, targets: [])
        #expect(throws: TrainingError.self) { _ = try Trainer(options: both) }
    }

    @Test func loraWithoutAPretrainedModelIsAnError() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        var o = try Self.loraOptions(root: root, out: "x")
        o.initFrom = nil
        #expect(throws: TrainingError.self) { _ = try Trainer(options: o) }
    }
}

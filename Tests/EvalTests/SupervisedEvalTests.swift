// Build and evaluation agree on the supervised split (the trained examples are never evaluated), UniversalNER sets
// held out of a build, and the choice of UniversalNER files to evaluate.
import EcomEval
import EcomInstruct
import EcomTestSupport
import Foundation
import Testing

@Suite struct SupervisedEvalTests {
    let world = EvalFixture.world

    @Test func buildAndEvaluationAgreeOnTheSupervisedSplit() throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        var o = BuildOptions()
        o.ecomgpt = world.ecomgpt
        o.uniner = world.uniner
        o.uniNERHeldOut = ["CrossNER_AI"]
        o.heldOut = try SplitAssigner.readHeldOut(world.ecomgpt.appendingPathComponent("held_out_tasks.txt"))
        o.seed = 7
        o.supervised = SupervisedSplit(trainCount: 2, seed: 7)
        o.validationFraction = 0
        _ = try DatasetBuilder.build(o, out: dir.appendingPathComponent("d"), progress: { _ in })
        let records = try DatasetBuilder.records(in: dir.appendingPathComponent("d"))
        let trained = Set(records.filter { $0.provenance.split != .test && $0.provenance.atomicKind == nil && o.heldOut.contains($0.provenance.task) }.map(\.id))
        let evaluated = try EvalItems.ecomGPT(root: world.ecomgpt, seed: 7, supervised: o.supervised).map { "\($0.task)#\($0.id)" }
        // Each held-out task (4 CLS and 3 NER examples): 2 trained, the rest evaluated, no overlap, nothing missed.
        #expect(trained.count == 4 && evaluated.count == 3)
        #expect(trained.isDisjoint(with: evaluated))
        let all = Set(records.filter { o.heldOut.contains($0.provenance.task) && $0.provenance.atomicKind == nil }.map(\.id))
        #expect(trained.union(evaluated) == all && all.count == 7)
        // The trained CLS records show sampled candidates, in the task's own EcomGPT format.
        #expect(records.filter { trained.contains($0.id) }.allSatisfy { $0.template == .ecomgpt })
        // Without the split every example is evaluated (the default is unchanged).
        #expect(try EvalItems.ecomGPT(root: world.ecomgpt, seed: 7).count == 7)
        // The held-out UniversalNER set, and the atomic records derived from it, are test only.
        let uniner = records.filter { $0.provenance.task == "UniNER-CrossNER_AI" }
        #expect(!uniner.isEmpty && uniner.allSatisfy { $0.provenance.split == .test })
        // A held-out set that is not there is an error naming it.
        o.uniNERHeldOut = ["CrossNER_XX"]
        #expect(throws: InstructError.self) { try DatasetBuilder.build(o, out: dir.appendingPathComponent("e"), progress: { _ in }) }
    }

    @Test func uniNERFilesChooseTheSetsEvaluated() throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let ai = world.uniner.appendingPathComponent("CrossNER_AI.json")
        try FileManager.default.copyItem(at: ai, to: dir.appendingPathComponent("CrossNER_AI.json"))
        try FileManager.default.copyItem(at: ai, to: dir.appendingPathComponent("mit-restaurant.json"))
        #expect(Set(try EvalItems.uniNER(directory: dir).map(\.task)) == ["UniNER-CrossNER_AI", "UniNER-mit-restaurant"])
        let chosen = try EvalItems.uniNER(directory: dir, limit: 2, files: ["CrossNER_AI"])
        #expect(chosen.map(\.task) == ["UniNER-CrossNER_AI", "UniNER-CrossNER_AI"])
        #expect(throws: EvalError.self) { try EvalItems.uniNER(directory: dir, files: ["CrossNER_XX"]) }
    }
}

// The supervised split (SupervisedSplit) and the build's --no-atomic option.
import EcomInstruct
import EcomTestSupport
import Foundation
import Testing

@Suite struct SupervisedSplitTests {
    @Test func splitPartitionsEachTaskBySeededShuffle() {
        let s = SupervisedSplit(trainCount: 300, seed: 4)
        let train = s.trainIndices(task: "EN-ABSA-CLS-review_topic_category", count: 500)
        let test = s.testIndices(task: "EN-ABSA-CLS-review_topic_category", count: 500)
        #expect(train.count == 300 && test.count == 200)
        #expect(Set(train).isDisjoint(with: test) && Set(train + test) == Set(0..<500))
        // A shuffle, not the file's first 300; reproducible; keyed by the task and the seed.
        #expect(train != Array(0..<300) && Set(train) != Set(0..<300))
        #expect(train == SupervisedSplit(trainCount: 300, seed: 4).trainIndices(task: "EN-ABSA-CLS-review_topic_category", count: 500))
        #expect(train != s.trainIndices(task: "EN-Lenovo-NER-NER", count: 500))
        #expect(train != SupervisedSplit(trainCount: 300, seed: 5).trainIndices(task: "EN-ABSA-CLS-review_topic_category", count: 500))
        // A task smaller than the training part has no test part.
        #expect(s.testIndices(task: "t", count: 10).isEmpty && s.trainIndices(task: "t", count: 10).count == 10)
    }

    @Test func tasksOutsideTheTrainedOnesTrainNothingAndKeepTheirTestPart() {
        let all = SupervisedSplit(trainCount: 300, seed: 4)
        let some = SupervisedSplit(trainCount: 300, seed: 4, trainedTasks: ["EN-Lenovo-NER-NER"])
        #expect(some.trainIndices(task: "EN-ABSA-CLS-review_topic_category", count: 500).isEmpty)
        #expect(some.testIndices(task: "EN-ABSA-CLS-review_topic_category", count: 500) == all.testIndices(task: "EN-ABSA-CLS-review_topic_category", count: 500))
        #expect(some.trainIndices(task: "EN-Lenovo-NER-NER", count: 500) == all.trainIndices(task: "EN-Lenovo-NER-NER", count: 500))
    }

    @Test func supervisedTrainingPartGoesToTrainTheRestToTest() {
        let records = (0..<10).map { i in
            InstructionRecord(id: "Held#\(i)", taskDescription: "d", prompt: "p {sentences}", input: "x\(i)", output: "y", template: .ecomgpt,
                              provenance: Provenance(dataset: "D", task: "Held", taskType: "CLS", language: "en"))
        }
        let split = SupervisedSplit(trainCount: 6, seed: 2)
        let ids = DatasetBuilder.supervisedTrainIDs(records, heldOut: ["Held"], split: split)
        #expect(ids == Set(split.trainIndices(task: "Held", count: 10).map { "Held#\($0)" }))
        var a = SplitAssigner(heldOut: ["Held"], validationFraction: 0.5, seed: 2)
        a.supervisedTrain = ids
        let (out, _) = a.assign(records)
        #expect(out.filter { $0.provenance.split == .train }.map(\.id).sorted() == ids.sorted())
        #expect(out.filter { $0.provenance.split == .test }.count == 4)
    }

    @Test func noAtomicLeavesOutEveryAtomicRecord() throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        var o = BuildOptions()
        o.seed = 3
        o.atomic = false
        let s = try DatasetBuilder.build(o, out: dir.appendingPathComponent("d"), progress: { _ in })
        let all = try DatasetBuilder.records(in: dir.appendingPathComponent("d"))
        #expect(!all.isEmpty && all.count == s.filter.kept)
        #expect(all.allSatisfy { $0.provenance.atomicKind == nil })
        // The same build with atomic tasks has them (so the option is what removed them).
        o.atomic = true
        _ = try DatasetBuilder.build(o, out: dir.appendingPathComponent("e"), progress: { _ in })
        #expect(try DatasetBuilder.records(in: dir.appendingPathComponent("e")).contains { $0.provenance.atomicKind != nil })
    }
}

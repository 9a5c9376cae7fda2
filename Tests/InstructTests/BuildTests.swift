// The build pipeline behind `ecom-data build`: the embedded sample end to end, and held-out tasks kept out of training.
import EcomInstruct
import EcomTestSupport
import Foundation
import Testing

@Suite struct BuildTests {
    @Test func embeddedSampleBuildsAndReadsBack() throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        var o = BuildOptions()
        o.seed = 3
        o.filter.reviewEvery = 10
        let s = try DatasetBuilder.build(o, out: dir.appendingPathComponent("d"), progress: { _ in })
        let d = dir.appendingPathComponent("d")
        #expect(s.filter.kept == (s.splits["train"] ?? 0) + (s.splits["validation"] ?? 0))
        #expect(s.splits["train"]! > 200)
        let all = try DatasetBuilder.records(in: d)
        #expect(all.count == s.filter.kept)
        #expect(try DatasetBuilder.records(in: d, split: "validation").allSatisfy { $0.provenance.split == .validation })
        #expect(try DatasetBuilder.records(in: d, limit: 5).count == 5)
        let review = try String(contentsOf: d.appendingPathComponent(DatasetBuilder.reviewFile), encoding: .utf8)
        #expect(review.components(separatedBy: "\n==== ").count == s.filter.reviewSample)
        let info = try DatasetBuilder.inspect(d)
        #expect(info["records"] as? Int == all.count)
        #expect((info["by_language"] as? [String: Int])?.keys.sorted() == ["en", "zh"])
        // The same seed builds the same records.
        _ = try DatasetBuilder.build(o, out: dir.appendingPathComponent("e"), progress: { _ in })
        #expect(try DatasetBuilder.records(in: dir.appendingPathComponent("e")) == all)
    }

    @Test(.enabled(if: SharedData.shouldRun, "needs ../shared/data"))
    func heldOutTasksNeverEnterTraining() throws {
        let root = try SharedData.require("ecomgpt")
        let recs = try DatasetBuilder.ecomGPTRecords(root, heldOut: Set(SplitAssigner.ecomGPTHeldOut), seed: 1, progress: { _ in })
        let (out, _) = SplitAssigner(seed: 1).assign(recs)
        let train = out.filter { $0.provenance.split != .test }
        #expect(!train.isEmpty && train.allSatisfy { $0.provenance.task == "ZH-Multi_CPR-CLS-query_item_matching" })
        // Every example of the 12 held-out tasks (500 lines each in this release), and the NER atomic tasks derived from them, is test.
        #expect(out.filter { $0.provenance.split == .test && $0.provenance.atomicKind == nil }.count == 12 * 500)
        #expect(out.filter { $0.provenance.atomicKind != nil }.allSatisfy { $0.provenance.split == .test })
    }
}

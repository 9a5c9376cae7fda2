// A build or pack stopped part way over an earlier complete output (found by scripts/soak.sh, killing ecom-data) leaves
// no manifest: the earlier manifest must not go on describing shards that the new run has already replaced.
import EcomInstruct
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing

@Suite struct InterruptedWriteTests {
    let fm = FileManager.default

    /// Makes the validation shard's final name a non-empty directory, so that the run fails after the train shard
    /// has been moved into place (as a kill between the two would leave it); returns a function that clears it.
    func obstruct(_ dir: URL) throws -> () throws -> Void {
        let v = dir.appendingPathComponent("validation-00000.ecs")
        try fm.removeItem(at: v)
        try fm.createDirectory(at: v.appendingPathComponent("x"), withIntermediateDirectories: true)
        return { try fm.removeItem(at: v) }
    }

    @Test func rebuildStoppedPartWayLeavesNoManifest() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? fm.removeItem(at: root) }
        let out = root.appendingPathComponent("d"), ref = root.appendingPathComponent("ref")
        var o = BuildOptions()
        o.seed = 1
        _ = try DatasetBuilder.build(o, out: out, progress: { _ in })
        let clear = try obstruct(out)
        o.seed = 0
        #expect(throws: (any Error).self) { try DatasetBuilder.build(o, out: out, progress: { _ in }) }
        // Before the fix the seed-1 manifest stayed beside the seed-0 train shard (a size and checksum mismatch).
        #expect(!fm.fileExists(atPath: out.appendingPathComponent(ShardManifest.fileName).path))
        #expect(try fm.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".tmp") }.isEmpty)
        try clear()
        _ = try DatasetBuilder.build(o, out: out, progress: { _ in })
        _ = try DatasetBuilder.build(o, out: ref, progress: { _ in })
        try ShardManifest.read(from: out).verify(in: out)
        #expect(try Data(contentsOf: out.appendingPathComponent(ShardManifest.fileName)) == Data(contentsOf: ref.appendingPathComponent(ShardManifest.fileName)))
    }

    @Test func repackStoppedPartWayLeavesNoManifest() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? fm.removeItem(at: root) }
        var o = BuildOptions()
        o.seed = 4
        let rec = root.appendingPathComponent("rec"), out = root.appendingPathComponent("packed")
        _ = try DatasetBuilder.build(o, out: rec, progress: { _ in })
        let url = TestPaths.fixture("tokenizer/bloom_small.json")
        let tok = try Tokenizer(contentsOf: url)
        func pack(seed: UInt64) throws {
            _ = try PackPipeline.pack(input: rec, out: out, encoder: tok, tokenizerHash: try PackPipeline.fileHash(url),
                                      config: PackingConfig(sequenceLength: 128, padID: tok.paddingID), seed: seed, progress: { _ in })
        }
        try pack(seed: 1)
        let earlier = try ShardManifest.read(from: out)
        let clear = try obstruct(out)
        #expect(throws: (any Error).self) { try pack(seed: 0) }
        #expect(!fm.fileExists(atPath: out.appendingPathComponent(ShardManifest.fileName).path))
        try clear()
        try pack(seed: 0)
        let m = try ShardManifest.read(from: out)
        try m.verify(in: out)
        #expect(m.shards.first { $0.split == "train" }?.xxh64 != earlier.shards.first { $0.split == "train" }?.xxh64)
        #expect { try PackPipeline.pack(input: rec, out: rec, encoder: tok, tokenizerHash: "", config: PackingConfig(sequenceLength: 128, padID: tok.paddingID), progress: { _ in }) }
            throws: { "\($0)".contains("must not be the input directory") }
    }
}

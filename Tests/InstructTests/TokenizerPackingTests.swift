// Packing with a real tokenizer.json (the tokenizer library's small BLOOM-style fixture, and BLOOM's own when the
// shared data is present): masks start exactly at the token that covers the prompt/response boundary.
import EcomInstruct
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing

@Suite struct TokenizerPackingTests {
    /// Checks that the learned tokens are exactly those whose byte range reaches past the prompt, plus the EOS.
    func checkMask(_ tok: Tokenizer, _ r: InstructionRecord) throws {
        let doc = r.rendered()
        let (ids, mask) = tokenizeDocument(doc, with: tok)
        let enc = tok.encodeWithOffsets(doc.text)
        let boundary = doc.prompt.utf8.count
        #expect(ids == enc.ids + [tok.endOfSequenceID])
        let expected = enc.offsets.map { $0.upperBound > boundary ? UInt8(1) : 0 } + [1]
        #expect(mask == expected, "\(r.id)")
        let first = try #require(mask.firstIndex(of: 1))
        #expect(enc.offsets[first].lowerBound <= boundary && enc.offsets[first].upperBound > boundary)
        // The learned tokens decode to the response (whole, since the boundary token is learned), plus EOS.
        let learned = zip(ids, mask).filter { $0.1 == 1 }.map(\.0).dropLast()
        #expect(tok.decode(Array(learned)).hasSuffix(r.output))
    }

    func sampleRecords() throws -> [InstructionRecord] {
        let c = try RawCorpus.embeddedSample()
        return Array(c.primaryRecords(seed: 2).prefix(40)) + Array(AtomicTasks.fromRaw(c, seed: 2).prefix(20))
    }

    @Test func masksWithSmallBloomTokenizer() throws {
        let tok = try Tokenizer(contentsOf: TestPaths.fixture("tokenizer/bloom_small.json"))
        #expect(tok.endOfSequenceID == 2 && tok.paddingID == 3)
        for r in try sampleRecords() { try checkMask(tok, r) }
        var p = Packer(encoder: tok, config: PackingConfig(sequenceLength: 256, padID: tok.paddingID))
        var seqs: [PackedSequence] = []
        for r in try sampleRecords() { seqs += p.add(r.rendered()) }
        seqs += p.finish()
        #expect(p.stats.documents == 60 && p.stats.truncated == 0)
        #expect(seqs.allSatisfy { $0.ids.count == 256 })
        #expect(p.stats.learnedTokens == seqs.reduce(0) { $0 + $1.lossMask.reduce(0) { $0 + Int($1) } })
    }

    @Test func packPipelineWritesManifestWithTokenizerHash() throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        var o = BuildOptions()
        o.seed = 4
        _ = try DatasetBuilder.build(o, out: dir.appendingPathComponent("rec"), progress: { _ in })
        let url = TestPaths.fixture("tokenizer/bloom_small.json")
        let tok = try Tokenizer(contentsOf: url)
        let stats = try PackPipeline.pack(input: dir.appendingPathComponent("rec"), out: dir.appendingPathComponent("packed"),
                                          encoder: tok, tokenizerHash: try PackPipeline.fileHash(url),
                                          config: PackingConfig(sequenceLength: 128, padID: tok.paddingID), progress: { _ in })
        let m = try ShardManifest.read(from: dir.appendingPathComponent("packed"))
        let hash = try PackPipeline.fileHash(url)
        #expect(m.kind == "packed" && m.sequenceLength == 128 && m.tokenizerHash == hash)
        #expect(m.recordCount == (stats["train"]?.sequences ?? 0) + (stats["validation"]?.sequences ?? 0))
        let r = try ShardReader(url: dir.appendingPathComponent("packed").appendingPathComponent(m.shards[0].file))
        let seq = try r.readAll()[0].withUnsafeBytes { try PackedSequence.decode($0, place: "t") }
        #expect(seq.ids.count == 128 && seq.lossMask.contains(1) && seq.documentIDs[0] == 1)
    }

    @Test func packingOrderMixesSources() throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        _ = try DatasetBuilder.build(BuildOptions(), out: dir.appendingPathComponent("rec"), progress: { _ in })
        let records = try DatasetBuilder.records(in: dir.appendingPathComponent("rec"), split: "train")
        let order = PackPipeline.documentOrder(count: records.count, seed: 0, split: "train")
        #expect(order.sorted() == Array(0..<records.count), "a permutation")
        #expect(order == PackPipeline.documentOrder(count: records.count, seed: 0, split: "train"), "deterministic")
        #expect(order != PackPipeline.documentOrder(count: records.count, seed: 1, split: "train"), "seeded")
        // Sources stored in blocks (as a build of several datasets writes them) are interleaved in packing order:
        // three blocks of 100 have 297 same-source neighbours; a random order has about 100.
        let blocks = (0..<300).map { $0 / 100 }
        let mixed = PackPipeline.documentOrder(count: 300, seed: 0, split: "train").map { blocks[$0] }
        let same = zip(mixed, mixed.dropFirst()).filter { $0 == $1 }.count
        #expect(same < 140, "seed 0: \(same) of 299 neighbours share a source after shuffling")
        #expect(Set(mixed.prefix(20)).count == 3, "seed 0: the first 20 packed documents come from every source")

        // The packed shards follow that order: the first sequence differs from packing in stored order.
        let url = TestPaths.fixture("tokenizer/bloom_small.json")
        let tok = try Tokenizer(contentsOf: url)
        func firstSequence(shuffle: Bool, _ name: String) throws -> [Int32] {
            let out = dir.appendingPathComponent(name)
            _ = try PackPipeline.pack(input: dir.appendingPathComponent("rec"), out: out, encoder: tok,
                                      tokenizerHash: try PackPipeline.fileHash(url),
                                      config: PackingConfig(sequenceLength: 128, padID: tok.paddingID), shuffle: shuffle, progress: { _ in })
            let m = try ShardManifest.read(from: out)
            let first = try ShardReader(url: out.appendingPathComponent(m.shards.first { $0.split == "train" }!.file)).readAll()[0]
            return try first.withUnsafeBytes { try PackedSequence.decode($0, place: name) }.ids
        }
        #expect(try firstSequence(shuffle: true, "mixed") != firstSequence(shuffle: false, "stored"))
    }

    @Test(.enabled(if: SharedData.shouldRun, "needs ../shared/data"))
    func masksWithBloomTokenizerOnGoldenPrompts() throws {
        let tok = try Tokenizer(contentsOf: SharedData.require("bloom/tokenizer.json"))
        let root = try SharedData.require("ecomgpt")
        for dir in try EcomGPTTask.taskFolders(in: root) {
            try checkMask(tok, try EcomGPTTask.load(dir).record(0))
        }
    }
}

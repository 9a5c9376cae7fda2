// XXH64 against zstd's frame checksums; shard round trip, manifest, corruption and truncation errors; the streaming
// reader's shuffling, epochs and exact resume.
import CZstd
import EcomInstruct
import EcomTestSupport
import Foundation
import Testing

/// zstd's frame checksum: the low 32 bits of XXH64 (seed 0) of the content, in the frame's last 4 bytes.
func zstdFrameChecksum(_ input: [UInt8]) -> UInt32 {
    let cctx = ZSTD_createCCtx()!
    defer { ZSTD_freeCCtx(cctx) }
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
    var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
    let n = ZSTD_compress2(cctx, &out, out.count, input, input.count)
    precondition(ZSTD_isError(n) == 0)
    return out.readU32(at: n - 4)
}

extension Array where Element == UInt8 {
    func readU32(at i: Int) -> UInt32 { UInt32(self[i]) | UInt32(self[i + 1]) << 8 | UInt32(self[i + 2]) << 16 | UInt32(self[i + 3]) << 24 }
}

@Suite struct ShardTests {
    func payloads(_ n: Int, seed: UInt64) -> [[UInt8]] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { i in
            let len = Int(rng.next() % 300)
            return Array("record \(i):".utf8) + (0..<len).map { _ in UInt8(97 + rng.next() % 6) }
        }
    }

    func writeDir(_ dir: URL, _ items: [[UInt8]], shardBytes: Int = 4000, blockBytes: Int = 1500) throws {
        let w = try ShardWriter(directory: dir, prefix: "train", kind: .records, targetShardBytes: shardBytes, blockBytes: blockBytes)
        for p in items { try w.append(p) }
        try ShardManifest(kind: .records, compressionLevel: 3, shards: try w.finish(split: "train")).write(to: dir)
    }

    @Test func xxh64MatchesZstdFrameChecksums() {
        #expect(XXH64.hash([UInt8]()) == 0xEF46_DB37_51D8_E999)
        var rng = SplitMix64(seed: 1)
        for n in Array(0..<70) + [100, 1000, 4097, 12345] {
            let input = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(UInt32(truncatingIfNeeded: XXH64.hash(input)) == zstdFrameChecksum(input), "length \(n), seed 1")
        }
    }

    @Test func roundTripAcrossShardsAndBlocks() throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let items = payloads(400, seed: 2) + [[]]
        try writeDir(dir, items)
        let m = try ShardManifest.read(from: dir)
        #expect(m.shards.count > 2, "expected several shards, got \(m.shards.count)")
        #expect(m.recordCount == items.count)
        try m.verify(in: dir)
        var back: [[UInt8]] = []
        for s in m.shards {
            let r = try ShardReader(url: dir.appendingPathComponent(s.file))
            #expect(r.blocks.count > 1 || s.records < 10)
            back += try r.readAll()
        }
        #expect(back == items)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test func corruptionAndTruncationNameTheShard() throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        try writeDir(dir, payloads(200, seed: 3))
        let m = try ShardManifest.read(from: dir)
        let url = dir.appendingPathComponent(m.shards[0].file)
        let original = try Data(contentsOf: url)
        // A flipped byte inside the first block's compressed data.
        var bad = original
        bad[40] ^= 0x5A
        try bad.write(to: url)
        do { _ = try ShardReader(url: url).readAll(); Issue.record("corruption not detected") } catch let e as InstructError {
            #expect(e.message.contains(m.shards[0].file) && e.message.contains("block 0"), "\(e.message)")
        }
        #expect(throws: InstructError.self) { try m.verify(in: dir) }
        // Truncated.
        try original.prefix(original.count - 30).write(to: url)
        do { _ = try ShardReader(url: url); Issue.record("truncation not detected") } catch let e as InstructError {
            #expect(e.message.contains(m.shards[0].file) && e.message.contains("truncated"), "\(e.message)")
        }
        // Not a shard.
        try Data(String(repeating: "this is not a shard file at all. ", count: 4).utf8).write(to: url)
        do { _ = try ShardReader(url: url); Issue.record("bad magic not detected") } catch let e as InstructError {
            #expect(e.message.contains("ECOMSHRD"), "\(e.message)")
        }
        try original.write(to: url)
        try m.verify(in: dir)
    }

    /// Footers with numbers no real shard has (found by scripts/fuzz.sh shard): a block count whose byte size
    /// overflowed Int, and a block that claims to decompress to 2^40 bytes. Both are errors before any allocation.
    @Test func hostileFootersAreErrors() throws {
        let found = TestPaths.fixture("fuzz/shard/footer-count-overflow.ecs")
        do { _ = try ShardReader(url: found); Issue.record("an overflowing footer was accepted") } catch let e as InstructError {
            #expect(e.message.contains(found.path) && e.message.contains("does not fit the file"), "\(e.message)")
        }
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        try writeDir(dir, payloads(20, seed: 5))
        let url = dir.appendingPathComponent(try ShardManifest.read(from: dir).shards[0].file)
        var bytes = [UInt8](try Data(contentsOf: url))
        // The trailer's second word is the footer's offset; the first entry's third word its uncompressed size.
        let footer = Int(bytes[(bytes.count - 16)..<(bytes.count - 8)].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) })
        withUnsafeBytes(of: (UInt64(1) << 40).littleEndian) { for (i, b) in $0.enumerated() { bytes[footer + 16 + i] = b } }
        try Data(bytes).write(to: url)
        do { _ = try ShardReader(url: url); Issue.record("a 1 TiB block was accepted") } catch let e as InstructError {
            #expect(e.message.contains("block 0") && e.message.contains("more than zstd can expand"), "\(e.message)")
        }
    }

    @Test func streamShufflesDeterministicallyAndResumesExactly() throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let items = payloads(300, seed: 4)
        try writeDir(dir, items)
        func drain(_ s: ShardStream) throws -> [[UInt8]] { var out: [[UInt8]] = []; while let r = try s.next() { out.append(r) }; return out }
        let full = try drain(ShardStream(directory: dir, seed: 7, bufferSize: 32, epochs: 2))
        #expect(full.count == 600)
        let e1 = Array(full[..<300]), e2 = Array(full[300...])
        #expect(e1.sorted { $0.lexicographicallyPrecedes($1) } == items.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(e1 != items, "seed 7: the first epoch should be shuffled")
        #expect(e1 != e2, "seed 7: epochs should differ in order")
        #expect(try drain(ShardStream(directory: dir, seed: 7, bufferSize: 32, epochs: 2)) == full)
        #expect(try drain(ShardStream(directory: dir, seed: 8, bufferSize: 32, epochs: 2)) != full)
        // Stop at several points, save the position, resume in a fresh reader: the rest equals the uninterrupted run.
        for stop in [0, 1, 31, 32, 150, 299, 300, 301, 477] {
            let a = try ShardStream(directory: dir, seed: 7, bufferSize: 32, epochs: 2)
            var head: [[UInt8]] = []
            for _ in 0..<stop { head.append(try #require(try a.next())) }
            let saved = try JSONDecoder().decode(StreamPosition.self, from: JSONEncoder().encode(a.position))
            let b = try ShardStream(directory: dir, seed: 7, bufferSize: 32, epochs: 2)
            try b.restore(saved)
            #expect(head + (try drain(b)) == full, "resume after \(stop) records")
        }
    }
}

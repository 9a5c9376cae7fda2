// The packing pipeline behind `ecom-data pack`: record shards → rendered records → packed token shards with a manifest
// naming the tokenizer's hash and the sequence length.
import EcomTokenizer
import Foundation

public enum PackPipeline {
    /// Packs the train and validation records of `input` into `out` (one shard series per split); returns the stats
    /// per split. Records are rendered with their own instruction templates, or as conversations in `chat`'s format
    /// (see ``InstructionRecord/rendered(chat:)``).
    ///
    /// Records are packed in a seeded random order (``documentOrder(count:seed:split:)``) unless `shuffle` is false.
    /// `ecom-data build` writes records grouped by source, and a training stream shuffles only within a window of
    /// consecutive sequences, so without this a model would see the sources one block after another.
    public static func pack(input: URL, out: URL, encoder: TokenEncoder, tokenizerHash: String, config: PackingConfig,
                            shardBytes: Int = 64 << 20, seed: UInt64 = 0, shuffle: Bool = true,
                            chat: ChatTemplate = ChatTemplate(kind: .plain),
                            progress: (String) -> Void) throws -> [String: PackingStats] {
        guard chat.kind != .plain || encoder.endOfSequenceID >= 0 else {
            throw InstructError("the tokenizer has no end-of-sequence token ('</s>' or '<|endoftext|>'); packing needs one")
        }
        guard input.standardizedFileURL.path != out.standardizedFileURL.path else {
            throw InstructError("\(out.path): the packed output must not be the input directory")
        }
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try ShardManifest.beginWriting(in: out)
        var shards: [ShardInfo] = []
        var all: [String: PackingStats] = [:]
        var notes: [String: Int] = [:]
        for split in [Split.train, .validation] {
            var records = try DatasetBuilder.records(in: input, split: split.rawValue)
            guard !records.isEmpty else { continue }
            if shuffle { records = documentOrder(count: records.count, seed: seed, split: split.rawValue).map { records[$0] } }
            let w = try ShardWriter(directory: out, prefix: split.rawValue, kind: .packed, targetShardBytes: shardBytes)
            var packer = Packer(encoder: encoder, config: config)
            for (i, r) in records.enumerated() {
                for s in packer.add(r.rendered(chat: chat)) { try w.append(s.encoded()) }
                if (i + 1) % 1000 == 0 { progress("pack \(split.rawValue): \(i + 1) of \(records.count) records") }
            }
            for s in packer.finish() { try w.append(s.encoded()) }
            shards += try w.finish(split: split.rawValue)
            all[split.rawValue] = packer.stats
            notes["\(split.rawValue)_sequences"] = packer.stats.sequences
            notes["\(split.rawValue)_documents"] = packer.stats.documents
            notes["\(split.rawValue)_truncated"] = packer.stats.truncated
            progress("pack \(split.rawValue): \(packer.stats.sequences) sequences from \(packer.stats.documents) documents")
        }
        try ShardManifest(kind: .packed, compressionLevel: 3, shards: shards, tokenizerHash: tokenizerHash,
                          sequenceLength: config.sequenceLength, notes: notes).write(to: out)
        return all
    }

    /// XXH64 of a file's bytes as hex (the tokenizer hash recorded in packed manifests).
    /// The seeded order in which `count` records of `split` are packed: a permutation of `0..<count`.
    public static func documentOrder(count: Int, seed: UInt64, split: String) -> [Int] {
        var order = Array(0..<count)
        var rng = SeededGenerator(seed: seed, key: "pack-\(split)")
        rng.shuffle(&order)
        return order
    }

    public static func fileHash(_ url: URL) throws -> String {
        XXH64.hex(try readFile(url).withUnsafeBytes { XXH64.hash($0) })
    }
}

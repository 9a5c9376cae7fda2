// The packing pipeline behind `ecom-data pack`: record shards → rendered records → packed token shards with a manifest
// naming the tokenizer's hash and the sequence length.
import Foundation

public enum PackPipeline {
    /// Packs the train and validation records of `input` into `out` (one shard series per split); returns the stats
    /// per split.
    public static func pack(input: URL, out: URL, encoder: TokenEncoder, tokenizerHash: String, config: PackingConfig,
                            shardBytes: Int = 64 << 20, progress: (String) -> Void) throws -> [String: PackingStats] {
        guard encoder.endOfSequenceID >= 0 else {
            throw InstructError("the tokenizer has no end-of-sequence token ('</s>' or '<|endoftext|>'); packing needs one")
        }
        var shards: [ShardInfo] = []
        var all: [String: PackingStats] = [:]
        var notes: [String: Int] = [:]
        for split in [Split.train, .validation] {
            let records = try DatasetBuilder.records(in: input, split: split.rawValue)
            guard !records.isEmpty else { continue }
            let w = try ShardWriter(directory: out, prefix: split.rawValue, kind: .packed, targetShardBytes: shardBytes)
            var packer = Packer(encoder: encoder, config: config)
            for (i, r) in records.enumerated() {
                for s in packer.add(r.rendered()) { try w.append(s.encoded()) }
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
    public static func fileHash(_ url: URL) throws -> String {
        XXH64.hex(try readFile(url).withUnsafeBytes { XXH64.hash($0) })
    }
}

// `ecom-data pack`: record shards → packed token shards (fixed length, loss masks, document ids) for training.
import ArgumentParser
import EcomInstruct
import EcomTokenizer
import Foundation

struct Pack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tokenize the train and validation records and pack them into fixed-length sequences with loss masks.")

    @Argument(help: "A directory written by `ecom-data build`.") var dir: String
    @Option(help: "tokenizer.json (HF format).") var tokenizer: String
    @Option(name: .customLong("seq-len"), help: "Tokens per packed sequence.") var seqLen: Int
    @Option(help: "Output directory for the packed shards and their manifest.") var out: String
    @Flag(name: .customLong("padding-only"), help: "One document per sequence, padded, instead of packing several.") var paddingOnly = false
    @Option(name: .customLong("shard-mb"), help: "Target shard size in MiB.") var shardMB = 64
    @Option(help: "Seed of the order in which records are packed (records are shuffled so that sources mix).") var seed: UInt64 = 0
    @Flag(name: .customLong("no-shuffle"), help: "Pack records in their stored order (grouped by source).") var noShuffle = false

    func run() throws {
        try reportingErrors {
            guard seqLen > 1 else { throw InstructError("--seq-len must be at least 2, got \(seqLen)") }
            let url = URL(fileURLWithPath: tokenizer)
            let tok: Tokenizer
            do { tok = try Tokenizer(contentsOf: url) } catch { throw InstructError("\(url.path): \(error)") }
            let stats = try PackPipeline.pack(
                input: URL(fileURLWithPath: dir), out: URL(fileURLWithPath: out), encoder: tok,
                tokenizerHash: try PackPipeline.fileHash(url),
                config: PackingConfig(sequenceLength: seqLen, padID: tok.paddingID, paddingOnly: paddingOnly),
                shardBytes: max(1, shardMB) << 20, seed: seed, shuffle: !noShuffle, progress: progress)
            let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(stats))
            try printJSON(["output": out, "sequence_length": seqLen, "splits": json])
        }
    }
}

// `ecom-data pack`: record shards → packed token shards (fixed length, loss masks, document ids) for training.
import ArgumentParser
import EcomInstruct
import EcomTokenizer
import Foundation

struct Pack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tokenize the train and validation records and pack them into fixed-length sequences with loss masks.")

    @Argument(help: "A directory written by `ecom-data build`.") var dir: String
    @Option(help: "tokenizer.json (HF format), or a model directory holding one (its chat template is then used by --template auto).") var tokenizer: String
    @Option(help: ArgumentHelp("How records become text: auto (the model directory's chat template when it has one, else each record's own template), chatml, or plain (each record's own template).",
                               valueName: "auto|chatml|plain")) var template = "auto"
    @Option(name: .customLong("seq-len"), help: "Tokens per packed sequence.") var seqLen: Int
    @Option(help: "Output directory for the packed shards and their manifest.") var out: String
    @Flag(name: .customLong("padding-only"), help: "One document per sequence, padded, instead of packing several.") var paddingOnly = false
    @Option(name: .customLong("shard-mb"), help: "Target shard size in MiB.") var shardMB = 64
    @Option(help: "Seed of the order in which records are packed (records are shuffled so that sources mix).") var seed: UInt64 = 0
    @Flag(name: .customLong("no-shuffle"), help: "Pack records in their stored order (grouped by source).") var noShuffle = false

    func run() throws {
        try reportingErrors {
            guard seqLen > 1 else { throw InstructError("--seq-len must be at least 2, got \(seqLen)") }
            var url = URL(fileURLWithPath: tokenizer)
            var isDirectory: ObjCBool = false
            let modelDirectory = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue ? url : nil
            if let dir = modelDirectory { url = dir.appendingPathComponent("tokenizer.json") }
            let tok: Tokenizer
            do { tok = try Tokenizer(contentsOf: url) } catch { throw InstructError("\(url.path): \(error)") }
            let chat: ChatTemplate
            switch template {
            case "plain": chat = ChatTemplate(kind: .plain)
            case "chatml": chat = try ChatTemplate(template: modelDirectory.flatMap { try? ChatTemplate.templateText(directory: $0) }, force: .chatml)
            case "auto": chat = try modelDirectory.map { try ChatTemplate(template: ChatTemplate.templateText(directory: $0)) } ?? ChatTemplate(kind: .plain)
            default: throw InstructError("--template must be auto, chatml or plain, got '\(template)'")
            }
            if chat.kind == .chatml, tok.id(forToken: ChatTemplate.imStart) == nil || tok.id(forToken: ChatTemplate.imEnd) == nil {
                throw InstructError("\(url.path): has no \(ChatTemplate.imStart)/\(ChatTemplate.imEnd) tokens; ChatML needs them (use --template plain)")
            }
            progress("pack: records rendered as \(chat.kind == .chatml ? "ChatML conversations (loss on the assistant's turns)" : "their instruction templates")")
            let stats = try PackPipeline.pack(
                input: URL(fileURLWithPath: dir), out: URL(fileURLWithPath: out), encoder: tok,
                tokenizerHash: try PackPipeline.fileHash(url),
                config: PackingConfig(sequenceLength: seqLen, padID: tok.paddingID, paddingOnly: paddingOnly),
                shardBytes: max(1, shardMB) << 20, seed: seed, shuffle: !noShuffle, chat: chat, progress: progress)
            let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(stats))
            try printJSON(["output": out, "sequence_length": seqLen, "splits": json])
        }
    }
}

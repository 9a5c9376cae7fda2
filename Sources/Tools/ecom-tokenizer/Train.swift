// `ecom-tokenizer train`: byte-level BPE training from text or JSON Lines files into tokenizer.json.
import ArgumentParser
import EcomTokenizer
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a byte-level BPE; .jsonl corpus files give their \"text\" field, other files their lines.")
    @Option(parsing: .upToNextOption, help: "Corpus files.") var corpus: [String]
    @Option(help: "Target vocabulary size (special tokens and the 256 bytes included).") var vocabSize: Int
    @Option(help: "Output tokenizer.json (written atomically).") var output: String
    @Option(help: "Minimum pair count for a merge.") var minFrequency = 0
    @Option(parsing: .upToNextOption, help: "Special tokens (default: <unk> <s> </s> <pad>).") var specialTokens: [String] = []
    @Option(help: "Configuration: bloom or gpt2.") var preset: String = "bloom"

    func run() throws {
        guard let p = BPETrainer.Preset(rawValue: preset) else { throw ValidationError("--preset must be bloom or gpt2") }
        guard !corpus.isEmpty else { throw ValidationError("--corpus needs at least one file") }
        let texts = try BPETrainer.readCorpus(corpus.map { URL(fileURLWithPath: $0) })
        let trainer = BPETrainer(vocabSize: vocabSize, minFrequency: minFrequency,
                                 specialTokens: specialTokens.isEmpty ? ["<unk>", "<s>", "</s>", "<pad>"] : specialTokens, preset: p)
        try trainer.train(texts: texts).write(to: URL(fileURLWithPath: output), options: .atomic)
    }
}

// ecom-tokenizer: encode, decode and train byte-level BPE tokenizers (HF tokenizer.json). Logic lives in EcomTokenizer.
import ArgumentParser
import EcomTokenizer
import EcomToolSupport
import Foundation

@main
struct EcomTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecom-tokenizer",
        abstract: "Encode, decode and train byte-level BPE tokenizers (HF tokenizer.json).",
        subcommands: [Encode.self, Decode.self, Train.self])
}

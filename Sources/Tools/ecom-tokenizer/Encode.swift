// `ecom-tokenizer encode`: {"text": str} lines -> {"ids": [int]} lines.
import ArgumentParser
import EcomTokenizer
import EcomToolSupport
import Foundation

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Encode JSON Lines {\"text\": str} into {\"ids\": [int]}.")
    @Option(help: "The tokenizer.json file.") var tokenizer: String
    @Flag(help: "Run the post-processor (add BOS/EOS etc.); without it, as HF's add_special_tokens=False.") var addSpecialTokens = false
    @OptionGroup var stream: StreamOptions

    func run() throws {
        let tok = try Tokenizer(contentsOf: URL(fileURLWithPath: tokenizer))
        let (data, source) = try stream.read()
        try stream.write(tok.encodeJSONLines(data, source: source, addSpecialTokens: addSpecialTokens))
    }
}

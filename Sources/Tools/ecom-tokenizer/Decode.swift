// `ecom-tokenizer decode`: {"ids": [int]} lines -> {"text": str} lines.
import ArgumentParser
import EcomTokenizer
import EcomToolSupport
import Foundation

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decode JSON Lines {\"ids\": [int]} into {\"text\": str}.")
    @Option(help: "The tokenizer.json file.") var tokenizer: String
    @Flag(help: "Drop special tokens from the text.") var skipSpecialTokens = false
    @OptionGroup var stream: StreamOptions

    func run() throws {
        let tok = try Tokenizer(contentsOf: URL(fileURLWithPath: tokenizer))
        let (data, source) = try stream.read()
        try stream.write(tok.decodeJSONLines(data, source: source, skipSpecialTokens: skipSpecialTokens))
    }
}

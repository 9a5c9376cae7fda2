// ecom-tokenizer: encode, decode and train byte-level BPE tokenizers (HF tokenizer.json). Logic lives in EcomTokenizer.
import ArgumentParser
import EcomTokenizer
import Foundation

@main
struct EcomTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecom-tokenizer",
        abstract: "Encode, decode and train byte-level BPE tokenizers (HF tokenizer.json).",
        subcommands: [Encode.self, Decode.self, Train.self])
}

/// Input and output options shared by encode and decode.
struct StreamOptions: ParsableArguments {
    @Option(help: "JSON Lines input file (default: standard input).") var input: String?
    @Option(help: "Output file, written atomically (default: standard output).") var output: String?

    func read() throws -> (Data, String) {
        if let input {
            do { return (try Data(contentsOf: URL(fileURLWithPath: input)), input) } catch {
                throw ValidationError("cannot read \(input): \(error.localizedDescription)")
            }
        }
        return (FileHandle.standardInput.readDataToEndOfFile(), "<stdin>")
    }

    func write(_ data: Data) throws {
        if let output { try data.write(to: URL(fileURLWithPath: output), options: .atomic) } else {
            FileHandle.standardOutput.write(data)
        }
    }
}

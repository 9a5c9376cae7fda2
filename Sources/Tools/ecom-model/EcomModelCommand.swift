// ecom-model: run a BLOOM checkpoint's forward pass on JSON Lines, or describe it. Logic lives in EcomModel.
import ArgumentParser
import EcomModel
import Foundation

@main
struct EcomModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecom-model",
        abstract: "BLOOM checkpoints (HF config.json + safetensors): logits and a summary.",
        subcommands: [Forward.self, Info.self, Grad.self])
}

/// Input and output options: JSON Lines from a file or standard input, to a file (atomic) or standard output.
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
}

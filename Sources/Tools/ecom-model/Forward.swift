// `ecom-model forward`: {"ids", "attention_mask"?} lines -> {"logits": [[float]]} lines.
import ArgumentParser
import EcomModel
import EcomToolSupport
import Foundation

struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Logits for JSON Lines {\"ids\": [int], \"attention_mask\": [0|1] (optional)}: {\"logits\": [[float]]}.")
    @Option(help: "Model directory (config.json, model.safetensors or model.safetensors.index.json).") var model: String
    @Flag(help: "Only the last position's logits (one row).") var last = false
    @OptionGroup var stream: StreamOptions

    func run() throws {
        let m = try BloomModel.load(directory: URL(fileURLWithPath: model))
        let (data, source) = try stream.read()
        let requests = try ModelRequests.parse(data, source: source, field: .ids, vocabSize: m.configuration.vocabSize)
        if let output = stream.output {
            let text = requests.map { ModelRequests.forwardLine(m, $0, lastOnly: last) }.joined()
            try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: output))
        } else {
            for r in requests { FileHandle.standardOutput.write(Data(ModelRequests.forwardLine(m, r, lastOnly: last).utf8)) }
        }
    }
}

// `ecom-model forward`: {"ids", "attention_mask"?} lines -> {"logits": [[float]]} lines.
import ArgumentParser
import EcomLoader
import EcomModel
import EcomToolSupport
import Foundation

struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Logits for JSON Lines {\"ids\": [int], \"attention_mask\": [0|1] (optional)}: {\"logits\": [[float]]}.")
    @Option(help: "Model: an HF directory (config.json + safetensors, BLOOM or Llama) or a .gguf file.") var model: String
    @Option(help: "Weights in memory: native, f32, f16 or bf16 (default: f32 for directories, native blocks for GGUF).") var weights: String?
    @Option(help: ArgumentHelp("A PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors) merged into the model's weights before the forward pass.", valueName: "dir")) var lora: String?
    @Flag(help: "Only the last position's logits (one row).") var last = false
    @OptionGroup var stream: StreamOptions

    func run() throws {
        let m = try ModelLoader.load(URL(fileURLWithPath: model), precision: ModelBundle.weights(named: weights),
                                     lora: lora.map { URL(fileURLWithPath: $0) })
        let (data, source) = try stream.read()
        let requests = try ModelRequests.parse(data, source: source, field: .ids, vocabSize: m.vocabularySize)
        if let output = stream.output {
            let text = requests.map { ModelRequests.forwardLine(m, $0, lastOnly: last) }.joined()
            try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: output))
        } else {
            for r in requests { FileHandle.standardOutput.write(Data(ModelRequests.forwardLine(m, r, lastOnly: last).utf8)) }
        }
    }
}

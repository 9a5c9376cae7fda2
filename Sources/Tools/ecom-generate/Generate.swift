// ecom-generate: continue prompts with a BLOOM or Llama model (greedy, beam search or sampling), ids or text, optionally
// as chat turns rendered with the model's chat template.
import ArgumentParser
import EcomLoader
import EcomModel
import EcomToolSupport
import EcomTokenizer
import EcomTensor
import Foundation

@main
struct Generate: ParsableCommand {
    /// OpenBLAS's kernels are chosen for this CPU (re-executing once with OPENBLAS_CORETYPE when it fell back to generic
    /// ones), then the arguments are parsed and the command run.
    static func main() {
        BLASCore.reexecWithBetterCoreIfNeeded()
        main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "ecom-generate",
        abstract: "Generate continuations: {\"prompt\": str} -> {\"completion\": str}, or with --ids {\"ids\": [int]} -> {\"ids\": [int]} (generated ids only).")
    @Option(help: "Model: an HF directory (config.json, safetensors, tokenizer.json) or a .gguf file.") var model: String
    @Option(help: ArgumentHelp("A PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors) merged into the model's weights; the tokenizer and chat template stay the model's.", valueName: "dir")) var lora: String?
    @Option(help: "tokenizer.json for text prompts (default: the model's).") var tokenizer: String?
    @Flag(help: "Send each prompt as a user turn rendered with the model's chat template; answers stop at its end-of-turn token.") var chat = false
    @Option(help: "Chat template: chatml or plain (default: recognised from the model).") var template: String?
    @Flag(help: "Read and write token ids instead of text.") var ids = false
    @Option(help: "Maximum number of generated tokens.") var maxNewTokens = 20
    @Option(help: "Beam search with K beams (1: greedy or sampling).") var beams = 1
    @Option(help: "Beam search length penalty (score / length^penalty).") var lengthPenalty: Float = 1
    @Option(help: "Beam search early stopping: true, false or never (HF's early_stopping).") var earlyStopping = "false"
    @Flag(help: "Sample instead of choosing the most likely token.") var sample = false
    @Option(help: "Sampling temperature.") var temperature: Float = 1
    @Option(help: "Sampling: keep the K most likely tokens (0: all).") var topK = 50
    @Option(help: "Sampling: keep the most likely tokens up to probability P.") var topP: Float = 1
    @Option(help: "Sampling seed.") var seed: UInt64 = 0
    @Option(help: "Repetition penalty (1: none).") var repetitionPenalty: Float = 1
    @Option(help: "Stop a sequence when its text contains this string (repeatable; text mode).") var stop: [String] = []
    @Option(help: "Prompts generated together, left-padded (greedy and sampling).") var batchSize = 1
    @Flag(help: "Generate a batch's prompts packed instead of left-padded: no padding is computed and finished prompts leave the batch (faster; each prompt's tokens are those it gets alone up to the rounding of batched products; with GGUF blocks a short prompt alone takes the 8-bit kernel path, packed the batched one).") var packed = false
    @Option(help: "Weights in memory: native (GGUF blocks kept), f32, f16 or bf16 (default: f32 for directories, native for GGUF).") var weights: String?
    @Flag(help: "Stream tokens to standard error as they are generated.") var stream = false
    @Option(help: ArgumentHelp(MatmulPrecision.optionHelp)) var precision = "f32"
    @Option(help: "JSON Lines input file (default: standard input).") var input: String?
    @Option(help: "Output file, written atomically (default: standard output).") var output: String?

    func run() throws {
        guard let early = EarlyStopping(rawValue: earlyStopping.lowercased()) else {
            throw ValidationError("--early-stopping must be true, false or never")
        }
        try MatmulPrecision.apply(option: precision)
        let weightPrecision = try ModelBundle.weights(named: weights)
        let forced = try ModelBundle.template(named: template)
        guard beams >= 1, batchSize >= 1, maxNewTokens >= 0 else { throw ValidationError("--beams and --batch-size must be >= 1") }
        let bundle = try ModelBundle.load(URL(fileURLWithPath: model), precision: weightPrecision,
                                          tokenizerFile: tokenizer.map { URL(fileURLWithPath: $0) }, template: forced,
                                          lora: lora.map { URL(fileURLWithPath: $0) })
        let m = bundle.model
        if !ids && bundle.tokenizer == nil {
            throw ValidationError("\(model): no tokenizer.json for text prompts (give --tokenizer FILE, or use --ids)")
        }
        let tok: Tokenizer? = ids ? nil : bundle.tokenizer
        var options = chat ? bundle.generationOptions(maxNewTokens: maxNewTokens) : GenerationOptions(model: m, maxNewTokens: maxNewTokens)
        options.numBeams = beams
        options.lengthPenalty = lengthPenalty
        options.earlyStopping = early
        options.repetitionPenalty = repetitionPenalty
        if sample { options.sampling = SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed) }
        let stopStrings = tok.map { t in StopStrings(stop) { t.decode($0.map(Int.init), skipSpecialTokens: true) } }
        if let stopStrings, !stop.isEmpty { options.stop = stopStrings.condition }

        let (data, source) = try readToolInput(input)
        var requests = try ModelRequests.parse(data, source: source, field: ids ? .ids : .prompt,
                                               vocabSize: m.vocabularySize, allowMask: false)
        if let tok {
            for i in requests.indices {
                let text = chat ? bundle.prompt(user: requests[i].prompt!) : requests[i].prompt!
                requests[i].ids = tok.encode(text, addSpecialTokens: !chat).map(Int32.init)
            }
        }
        if let bad = requests.first(where: { $0.ids.isEmpty }) {
            throw ValidationError("\(source):\(bad.line): the prompt encodes to no tokens")
        }

        var out = ""
        for start in stride(from: 0, to: requests.count, by: batchSize) {
            let batch = Array(requests[start..<min(requests.count, start + batchSize)])
            var shown = [String](repeating: "", count: batch.count)
            var partial = [[Int32]](repeating: [], count: batch.count)
            let onToken: (Int, Int32) -> Void = { i, token in
                guard stream else { return }
                partial[i].append(token)
                if let tok {
                    let text = tok.decode(partial[i].map(Int.init), skipSpecialTokens: true)
                    if text.hasPrefix(shown[i]) { FileHandle.standardError.write(Data(text.dropFirst(shown[i].count).utf8)) }
                    shown[i] = text
                } else {
                    FileHandle.standardError.write(Data("\(token) ".utf8))
                }
            }
            let generated = packed ? m.generatePacked(prompts: batch.map(\.ids), options: options, onToken: onToken)
                                   : m.generate(prompts: batch.map(\.ids), options: options, onToken: onToken)
            if stream { FileHandle.standardError.write(Data("\n".utf8)) }
            for g in generated {
                let line: String
                if let tok, let stopStrings {
                    line = ModelRequests.completionLine(stopStrings.truncate(tok.decode(g.map(Int.init), skipSpecialTokens: true)))
                } else {
                    line = ModelRequests.idsLine(g)
                }
                if output == nil { FileHandle.standardOutput.write(Data(line.utf8)) } else { out += line }
            }
        }
        if let output { try AtomicFile.write(Data(out.utf8), to: URL(fileURLWithPath: output)) }
    }
}

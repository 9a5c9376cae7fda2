// ecom-generate: continue prompts with a BLOOM checkpoint (greedy, beam search or sampling), ids or text.
import ArgumentParser
import EcomModel
import EcomToolSupport
import EcomTokenizer
import Foundation

@main
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecom-generate",
        abstract: "Generate continuations: {\"prompt\": str} -> {\"completion\": str}, or with --ids {\"ids\": [int]} -> {\"ids\": [int]} (generated ids only).")
    @Option(help: "Model directory (config.json and safetensors; tokenizer.json for text).") var model: String
    @Option(help: "tokenizer.json for text prompts (default: the model directory's).") var tokenizer: String?
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
    @Option(help: "Weights in memory: float32, float16 or bfloat16 (16-bit halves the bytes read per token).") var precision = "float32"
    @Flag(help: "Stream tokens to standard error as they are generated.") var stream = false
    @Option(help: "JSON Lines input file (default: standard input).") var input: String?
    @Option(help: "Output file, written atomically (default: standard output).") var output: String?

    func run() throws {
        guard let early = EarlyStopping(rawValue: earlyStopping.lowercased()) else {
            throw ValidationError("--early-stopping must be true, false or never")
        }
        guard let weightPrecision = WeightPrecision(rawValue: precision) else {
            throw ValidationError("--precision must be float32, float16 or bfloat16")
        }
        guard beams >= 1, batchSize >= 1, maxNewTokens >= 0 else { throw ValidationError("--beams and --batch-size must be >= 1") }
        let dir = URL(fileURLWithPath: model)
        let m = try BloomModel.load(directory: dir, precision: weightPrecision)
        let tok: Tokenizer? = ids ? nil : try Tokenizer(contentsOf: tokenizer.map { URL(fileURLWithPath: $0) } ?? dir.appendingPathComponent("tokenizer.json"))
        var options = GenerationOptions(configuration: m.configuration, maxNewTokens: maxNewTokens)
        options.numBeams = beams
        options.lengthPenalty = lengthPenalty
        options.earlyStopping = early
        options.repetitionPenalty = repetitionPenalty
        if sample { options.sampling = SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed) }
        let stopStrings = tok.map { t in StopStrings(stop) { t.decode($0.map(Int.init), skipSpecialTokens: true) } }
        if let stopStrings, !stop.isEmpty { options.stop = stopStrings.condition }

        let (data, source) = try readToolInput(input)
        var requests = try ModelRequests.parse(data, source: source, field: ids ? .ids : .prompt,
                                               vocabSize: m.configuration.vocabSize, allowMask: false)
        if let tok { for i in requests.indices { requests[i].ids = tok.encode(requests[i].prompt!, addSpecialTokens: true).map(Int32.init) } }
        if let bad = requests.first(where: { $0.ids.isEmpty }) {
            throw ValidationError("\(source):\(bad.line): the prompt encodes to no tokens")
        }

        var out = ""
        for start in stride(from: 0, to: requests.count, by: batchSize) {
            let batch = Array(requests[start..<min(requests.count, start + batchSize)])
            var shown = [String](repeating: "", count: batch.count)
            var partial = [[Int32]](repeating: [], count: batch.count)
            let generated = m.generate(prompts: batch.map(\.ids), options: options) { i, token in
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

// ecom-eval: evaluate a model (or an OpenAI-compatible server) on EcomGPT's held-out tasks and UniversalNER's sets;
// table, predictions, summary, report.
import ArgumentParser
import EcomEval
import EcomInstruct
import EcomLoader
import EcomModel
import EcomTensor
import Foundation

@main
struct EcomEvalCommand: AsyncParsableCommand {
    /// OpenBLAS's kernels are chosen for this CPU (re-executing once with OPENBLAS_CORETYPE when it fell back to generic
    /// ones), then the arguments are parsed and the command run (`run` is async: evaluation through an endpoint).
    static func main() async {
        BLASCore.reexecWithBetterCoreIfNeeded()
        await main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "ecom-eval",
        abstract: "Evaluate a model on EcomGPT's held-out tasks and UniversalNER's sets.",
        subcommands: [Run.self, Compare.self, RandomModelCommand.self], defaultSubcommand: Run.self)
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Generate, score and report (resumes a partly finished evaluation in --out).",
        discussion: """
        Writes OUT/predictions.jsonl (one object per example, appended as examples finish), OUT/summary.json and \
        OUT/report.html, and prints the table (each score with its 95% percentile bootstrap interval). Rerunning \
        with the same model and settings skips finished examples; other settings are refused unless --restart. \
        With --endpoint instead of --model, an OpenAI-compatible server generates (greedy only: compare with local \
        runs made with --beams 1).
        """)
    @Option(help: "Model: an HF directory (config.json, safetensors, tokenizer.json; metrics.jsonl for the loss curve) or a .gguf file.") var model: String?
    @Option(help: ArgumentHelp("Evaluate through an OpenAI-compatible server instead of --model: its API root (e.g. http://127.0.0.1:8080/v1).", valueName: "url")) var endpoint: String?
    @Option(name: .customLong("endpoint-model"), help: ArgumentHelp("With --endpoint: the requests' model name.", valueName: "name")) var endpointModel: String?
    @Option(name: .customLong("endpoint-api"), help: ArgumentHelp("With --endpoint: chat (chat/completions with the examples' turns; the server renders them) or completions (the prompt text rendered here with --template).", valueName: "api")) var endpointAPI = "chat"
    @Option(name: .customLong("api-key-env"), help: ArgumentHelp("With --endpoint: the environment variable holding the API key (sent as a bearer token).", valueName: "var")) var apiKeyEnv: String?
    @Option(help: "With --endpoint: requests in flight at once.") var concurrency = 4
    @Option(name: .customLong("template-model"), help: ArgumentHelp("With --endpoint-api completions: a local copy of the served model (HF directory or .gguf) whose chat template renders the prompts, default system turn included, as a local evaluation of it does.", valueName: "model")) var templateModel: String?
    @Option(help: ArgumentHelp("A PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors) merged into the model's weights; its files are part of the settings a rerun must match.", valueName: "dir")) var lora: String?
    @Option(help: "tokenizer.json (default: the model's).") var tokenizer: String?
    @Option(help: "Prompt template: chatml or plain (default: the model's chat template when it has one, else the papers' plain prompts).") var template: String?
    @Option(help: "EcomGPT data directory (task folders and held_out_tasks.txt).") var ecomgpt: String?
    @Option(help: "UniversalNER directory of *.json sets.") var uniner: String?
    @Option(help: "Task list, one task folder a line (default: <ecomgpt>/held_out_tasks.txt).") var tasks: String?
    @Option(name: .customLong("uniner-files"), parsing: .upToNextOption,
            help: "UniversalNER sets to evaluate (file names without .json, e.g. CrossNER_AI; default: all).") var uninerFiles: [String] = []
    @Option(name: .customLong("supervised-split"), help: ArgumentHelp(
        "Evaluate only the examples a supervised build (ecom-data build --supervised-split N --seed S) held back: each task's examples after the first N of the seeded shuffle (give the build's seed as --seed).",
        valueName: "N")) var supervisedSplit: Int?
    @Option(help: "Examples per task (default: all).") var limit: Int?
    @Option(help: "Beam search beams for EcomGPT prompts (1: greedy; default 4, and 1 with --endpoint, which can only decode greedily).") var beams: Int?
    @Option(help: ArgumentHelp("New tokens at most for EcomGPT prompts: a number, or auto (each task's budget from its reference answers in the model's tokens: 1.25 x their 95th percentile + 8, at most 512; local models only).", valueName: "n|auto")) var maxNewTokens = "164"
    @Option(help: "Prompt tokens at most (prompts are truncated from the left; with --endpoint they are sent whole and only counted).") var maxPromptTokens = PromptEncoding.defaultMaxTokens
    @Option(help: "New tokens at most for UniversalNER prompts (greedy).") var uninerMaxNewTokens = 256
    @Option(help: "Seed of the classification candidates' sampling (and of --supervised-split's shuffle).") var seed: UInt64 = 0
    @Option(help: "Examples generated in parallel (each worker its own workspace).") var workers = 2
    @Option(help: "Compute threads per worker (0: cores / workers).") var threads = 0
    @Option(help: ArgumentHelp(MatmulPrecision.optionHelp)) var precision = "f32"
    @Option(help: "Prompts generated together for greedy decoding (packed: no padding is computed, finished prompts leave the batch).") var batchSize = 8
    @Option(help: "Weights in memory: native (GGUF blocks kept), f32, f16 or bf16 (default: f32 for directories, native for GGUF).") var weights: String?
    @Option(help: "Bootstrap resamples of each task's examples for the scores' 95% intervals (0: no intervals).") var resamples = 1000
    @Option(help: "Seed of the bootstrap's resampled example indices.") var bootstrapSeed: UInt64 = 0
    @Flag(help: "Discard earlier predictions in --out (needed when the model or settings changed).") var restart = false
    @Flag(help: "No progress bar.") var quiet = false
    @Flag(name: .customLong("uniner-balanced"), help: "With --limit: half the UniversalNER questions with entities, half with an empty answer (most released questions are empty).") var uninerBalanced = false
    @Option(help: "The report's title.") var title = "Ecom evaluation"
    @Option(help: "Output directory.") var out: String

    func run() async throws {
        if endpoint != nil {
            guard model == nil else { throw ValidationError("give --model or --endpoint, not both") }
            return try await runEndpoint()
        }
        guard let model else { throw ValidationError("give --model (a model directory or .gguf file) or --endpoint (an OpenAI-compatible server)") }
        for (name, given) in [("--endpoint-model", endpointModel != nil), ("--api-key-env", apiKeyEnv != nil), ("--template-model", templateModel != nil)]
        where given {
            throw ValidationError("\(name) needs --endpoint")
        }
        try MatmulPrecision.apply(option: precision)
        let p = try ModelBundle.weights(named: weights)
        let forced = try ModelBundle.template(named: template)
        func url(_ s: String?) -> URL? { s.map { URL(fileURLWithPath: $0) } }
        var r = EvalRunRequest(modelDirectory: URL(fileURLWithPath: model), outDirectory: URL(fileURLWithPath: out))
        r.lora = url(lora)
        r.tokenizerFile = url(tokenizer)
        r.ecomGPTDirectory = url(ecomgpt)
        r.uniNERDirectory = url(uniner)
        r.tasksFile = url(tasks)
        r.limit = limit
        r.uniNERFiles = uninerFiles.isEmpty ? nil : uninerFiles
        r.uniNERBalanced = uninerBalanced
        r.title = title
        if let n = supervisedSplit {
            guard n >= 0 else { throw ValidationError("--supervised-split must not be negative") }
            r.supervised = SupervisedSplit(trainCount: n, seed: seed)
        }
        r.seed = seed
        r.precision = p
        r.template = forced
        r.restart = restart
        guard resamples >= 0 else { throw ValidationError("--resamples must not be negative") }
        r.bootstrap = BootstrapSettings(resamples: resamples, seed: bootstrapSeed)
        r.settings.beams = beams ?? 4
        try applyBudget(&r.settings)
        r.settings.maxPromptTokens = maxPromptTokens
        r.settings.uniNERMaxNewTokens = uninerMaxNewTokens
        r.settings.workers = workers
        r.settings.threadsPerWorker = threads
        r.settings.batchSize = batchSize
        r.settings.showProgress = !quiet
        printResult(try EvalRun.run(r, log: logLine))
    }

    /// Evaluation through an OpenAI-compatible server: the same examples, files and scores; options that name local
    /// files or decoding the API cannot do are errors.
    func runEndpoint() async throws {
        guard let endpoint, let base = URL(string: endpoint), let scheme = base.scheme?.lowercased(), ["http", "https"].contains(scheme),
              base.host != nil else {
            throw ValidationError("--endpoint must be an http(s) URL, the API root (e.g. http://127.0.0.1:8080/v1), got '\(endpoint ?? "")'")
        }
        guard let endpointModel, !endpointModel.isEmpty else { throw ValidationError("--endpoint needs --endpoint-model NAME (the requests' model)") }
        guard let api = EndpointAPI(rawValue: endpointAPI) else {
            throw ValidationError("--endpoint-api must be chat or completions, got '\(endpointAPI)'")
        }
        for (name, given) in [("--lora", lora != nil), ("--tokenizer", tokenizer != nil), ("--weights", weights != nil)] where given {
            throw ValidationError("\(name) names local model files: it does not apply with --endpoint")
        }
        if let beams, beams != 1 {
            throw ValidationError("--beams \(beams): beam search cannot be asked of an endpoint (greedy only); use --beams 1, and --beams 1 locally to compare")
        }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        if api == .chat && (template != nil || templateModel != nil) {
            throw ValidationError("--template and --template-model apply to --endpoint-api completions: with chat the server renders the turns with its own template")
        }
        let chat = try EndpointTarget.completionsTemplate(model: templateModel.map { URL(fileURLWithPath: $0) },
                                                          force: ModelBundle.template(named: template))
        var key: String?
        if let apiKeyEnv {
            guard let value = ProcessInfo.processInfo.environment[apiKeyEnv], !value.isEmpty else {
                throw ValidationError("--api-key-env \(apiKeyEnv): the environment variable is not set (or empty)")
            }
            key = value
        }
        let target = EndpointTarget(baseURL: base, apiKey: key, model: endpointModel, api: api, template: chat,
                                    concurrency: concurrency, log: { logLine($0) })
        func url(_ s: String?) -> URL? { s.map { URL(fileURLWithPath: $0) } }
        var r = EndpointEvalRequest(target: target, outDirectory: URL(fileURLWithPath: out))
        r.ecomGPTDirectory = url(ecomgpt)
        r.uniNERDirectory = url(uniner)
        r.tasksFile = url(tasks)
        r.limit = limit
        r.uniNERFiles = uninerFiles.isEmpty ? nil : uninerFiles
        r.uniNERBalanced = uninerBalanced
        r.title = title
        if let n = supervisedSplit {
            guard n >= 0 else { throw ValidationError("--supervised-split must not be negative") }
            r.supervised = SupervisedSplit(trainCount: n, seed: seed)
        }
        r.seed = seed
        r.restart = restart
        guard resamples >= 0 else { throw ValidationError("--resamples must not be negative") }
        r.bootstrap = BootstrapSettings(resamples: resamples, seed: bootstrapSeed)
        try applyBudget(&r.settings)
        r.settings.maxPromptTokens = maxPromptTokens
        r.settings.uniNERMaxNewTokens = uninerMaxNewTokens
        r.settings.showProgress = !quiet
        printResult(try await EvalRun.run(r, log: logLine))
    }

    /// `--max-new-tokens`: a fixed budget, or `auto` (per-task budgets, at most ``AnswerBudget/maximum``).
    func applyBudget(_ s: inout EvalSettings) throws {
        if maxNewTokens == "auto" {
            s.autoMaxNewTokens = true
            s.maxNewTokens = AnswerBudget.maximum
        } else if let n = Int(maxNewTokens), n >= 1 {
            s.maxNewTokens = n
        } else {
            throw ValidationError("--max-new-tokens must be a positive number or auto, got '\(maxNewTokens)'")
        }
    }

    /// The table on standard output, the run's counts and the report's path on standard error.
    func printResult(_ result: EvalRunResult) {
        print(result.table, terminator: "")
        let st = result.stats
        FileHandle.standardError.write(Data("""
            eval: \(st.generated) examples generated in \(ProgressBar.clock(st.seconds)) (\(st.generatedTokens) tokens), \(st.alreadyDone) resumed, \(st.remaining) left
            eval: report: \(result.reportURL.path)\n
            """.utf8))
    }
}

/// A note on standard error (errors, EvalError and the libraries' own, name the file or setting; ArgumentParser
/// prints them and exits 1).
@Sendable func logLine(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

struct RandomModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "random-model",
        abstract: "Write a model directory with random BLOOM weights for a tokenizer (a floor baseline).")
    @Option(help: "tokenizer.json whose vocabulary the model uses (copied into the directory).") var tokenizer: String
    @Option(help: "Hidden size.") var hidden = 256
    @Option(help: "Layers.") var layers = 4
    @Option(help: "Attention heads.") var heads = 4
    @Option(help: "Seed of the weights.") var seed: UInt64 = 0
    @Option(help: "Output directory.") var out: String

    func run() throws {
        guard hidden > 0, layers > 0, heads > 0, hidden % heads == 0 else { throw ValidationError("--hidden must be a positive multiple of --heads") }
        let c = try RandomModel.write(to: URL(fileURLWithPath: out), tokenizerFile: URL(fileURLWithPath: tokenizer),
                                      hiddenSize: hidden, layers: layers, heads: heads, seed: seed)
        print("{\"out\": \"\(out)\", \"vocab_size\": \(c.vocabSize), \"hidden_size\": \(c.hiddenSize), \"n_layer\": \(c.layerCount), \"n_head\": \(c.headCount)}")
    }
}

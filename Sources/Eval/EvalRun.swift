// One evaluation from start to report (what `ecom-eval` runs): load the model and examples, check the directory's
// configuration, generate what is missing, score, write summary.json and report.html. The example selection, the
// predictions directory and the scoring are shared with evaluations through an endpoint (EndpointEvaluator.swift).
import EcomInstruct
import EcomLoader
import EcomModel
import EcomTokenizer
import Foundation

/// What local and endpoint evaluations share: the examples asked for, the settings and where the results go.
protocol EvalExampleRequest {
    var ecomGPTDirectory: URL? { get }
    var tasksFile: URL? { get }
    var uniNERDirectory: URL? { get }
    var uniNERFiles: [String]? { get }
    var uniNERBalanced: Bool { get }
    var title: String { get }
    var supervised: SupervisedSplit? { get }
    var limit: Int? { get }
    var seed: UInt64 { get }
    var settings: EvalSettings { get }
    var outDirectory: URL { get }
    var restart: Bool { get }
    var bootstrap: BootstrapSettings { get }
}

/// What to evaluate and where.
public struct EvalRunRequest: Sendable, EvalExampleRequest {
    /// An HF directory (BLOOM or Llama) or a `.gguf` file.
    public var modelDirectory: URL
    /// A PEFT LoRA adapter directory merged into the model's weights (nil: none).
    public var lora: URL?
    /// tokenizer.json (default: the model's: the directory's tokenizer.json, or rebuilt from the GGUF).
    public var tokenizerFile: URL?
    /// The EcomGPT data directory (task folders) and the task list (default: its held_out_tasks.txt).
    public var ecomGPTDirectory: URL?
    public var tasksFile: URL?
    /// A directory of UniversalNER `*.json` sets.
    public var uniNERDirectory: URL?
    /// UniversalNER sets to evaluate (file names without `.json`; nil: every set in the directory).
    public var uniNERFiles: [String]?
    /// With a limit, half the UniversalNER questions with entities and half without (see ``EvalItems/uniNER(_:dataset:limit:balanced:)``).
    public var uniNERBalanced = false
    /// The report's title.
    public var title = "Ecom evaluation"
    /// Evaluate only the test part of each EcomGPT task under this supervised split (the build's split and seed).
    public var supervised: SupervisedSplit?
    /// Examples per task (nil: all).
    public var limit: Int?
    public var seed: UInt64 = 0
    /// Weights in memory (nil: Float32 for directories, the file's blocks for GGUF).
    public var precision: WeightPrecision?
    /// Forces the prompt template (nil: the model's chat template when it has one, else the papers' plain prompts).
    public var template: ChatTemplate.Kind?
    public var settings = EvalSettings()
    public var outDirectory: URL
    /// Clears earlier predictions made with other settings instead of refusing.
    public var restart = false
    /// The scores' bootstrap intervals (`resamples` 0: none).
    public var bootstrap = BootstrapSettings()

    public init(modelDirectory: URL, outDirectory: URL) {
        self.modelDirectory = modelDirectory; self.outDirectory = outDirectory
    }
}

/// What an evaluation produced.
public struct EvalRunResult: Sendable {
    public var rows: [TaskScoreRow]
    public var average: TaskScoreRow?
    public var stats: EvalRunStats
    public var summary: EvalSummary
    /// The results table (as printed).
    public var table: String
    public var reportURL: URL
}

public enum EvalRun {
    /// The loss curve of the report: the adapter's training metrics.jsonl when a LoRA adapter has one, else the model's.
    static func trainingMetrics(_ r: EvalRunRequest) -> [TrainingMetric] {
        if let lora = r.lora {
            let metrics = EvalReport.trainingMetrics(modelDirectory: lora)
            if !metrics.isEmpty { return metrics }
        }
        return EvalReport.trainingMetrics(modelDirectory: r.modelDirectory)
    }

    /// Runs (or resumes) the evaluation. `log` receives human-readable notes (for stderr).
    public static func run(_ r: EvalRunRequest, log: (String) -> Void = { _ in }) throws -> EvalRunResult {
        try checkSelection(r)
        let s = r.settings
        guard s.beams >= 1, s.maxNewTokens >= 1, s.maxPromptTokens >= 1, s.uniNERMaxNewTokens >= 1, s.batchSize >= 1, s.workers >= 1 else {
            throw EvalError("beams, token limits, batch size and workers must be at least 1")
        }
        let isGGUF = ModelLoader.isGGUF(r.modelDirectory)
        let tokenizerURL = r.tokenizerFile ?? (isGGUF ? r.modelDirectory : r.modelDirectory.appendingPathComponent("tokenizer.json"))
        guard FileManager.default.fileExists(atPath: tokenizerURL.path) else {
            throw EvalError("\(tokenizerURL.path): no tokenizer (the model directory should hold tokenizer.json; or give --tokenizer)")
        }
        let bundle = try ModelBundle.load(r.modelDirectory, precision: r.precision, tokenizerFile: r.tokenizerFile, template: r.template,
                                          lora: r.lora)
        let model = bundle.model
        guard let tokenizer = bundle.tokenizer else { throw EvalError("\(tokenizerURL.path): no tokenizer") }
        let precisionName = r.precision?.rawValue ?? (isGGUF ? WeightPrecision.native.rawValue : WeightPrecision.float32.rawValue)
        let modelFingerprint = try Fingerprint.model(r.modelDirectory)
        let (items, tasks) = try examples(r, tokenizer: tokenizer)
        let config = EvalConfiguration(
            model: r.modelDirectory.standardizedFileURL.path, modelFingerprint: modelFingerprint,
            // A GGUF carries its own tokenizer: its bytes were just hashed as the model's.
            tokenizerFingerprint: tokenizerURL == r.modelDirectory ? modelFingerprint : try Fingerprint.files([tokenizerURL]), precision: precisionName, beams: s.beams,
            maxNewTokens: s.maxNewTokens, maxPromptTokens: s.maxPromptTokens, uniNERMaxNewTokens: s.uniNERMaxNewTokens, seed: r.seed,
            template: bundle.chatTemplate.kind.rawValue, lora: r.lora?.standardizedFileURL.path,
            loraFingerprint: try r.lora.map(Fingerprint.adapter), maxNewTokensByTask: budgets(items, settings: s))
        let store = try openStore(r, config: config, items: items, log: log)
        let stats = try Evaluator(model: model, tokenizer: tokenizer, chatTemplate: bundle.chatTemplate).run(items, store: store, settings: s)
        var notes = [
            "model: \(config.model) (\(model.architecture), \(model.parameterCount) parameters, weights \(precisionName), files \(config.modelFingerprint))",
        ]
        if let lora = config.lora, let f = config.loraFingerprint { notes.append("LoRA adapter merged: \(lora) (files \(f))") }
        notes += [
            "prompts: \(bundle.chatTemplate.kind == .plain ? "the papers' plain prompt text" : "rendered with the model's \(bundle.chatTemplate.kind.rawValue) chat template")",
            "EcomGPT prompts: \(s.beams == 1 ? "greedy" : "beam search with \(s.beams) beams"), \(budgetNote(config)), prompts left-truncated to \(s.maxPromptTokens) tokens; candidate seed \(r.seed)",
        ]
        return try finish(r, config: config, items: items, tasks: tasks, store: store, stats: stats, notes: notes,
                          training: trainingMetrics(r))
    }

    /// Checks what a request selects: a source, and a limit of at least 1.
    static func checkSelection(_ r: some EvalExampleRequest) throws {
        guard r.ecomGPTDirectory != nil || r.uniNERDirectory != nil else {
            throw EvalError("nothing to evaluate: give an EcomGPT data directory (--ecomgpt) or a UniversalNER one (--uniner)")
        }
        if let limit = r.limit, limit < 1 { throw EvalError("the limit must be at least 1") }
    }

    /// The request's examples (EcomGPT tasks, then UniversalNER sets) and their tasks in order. With
    /// `settings.autoMaxNewTokens`, each EcomGPT task's examples get the budget of its answers in `tokenizer`'s tokens.
    static func examples(_ r: some EvalExampleRequest, tokenizer: Tokenizer? = nil) throws -> (items: [EvalItem], tasks: [String]) {
        var items: [EvalItem] = []
        if let root = r.ecomGPTDirectory {
            var budget: (([String]) -> Int)?
            if r.settings.autoMaxNewTokens {
                guard let tokenizer else { throw EvalError("per-task budgets of new tokens (auto) need the model's tokenizer") }
                budget = { AnswerBudget.tokens(forAnswers: $0, tokenizer: tokenizer) }
            }
            items += try EvalItems.ecomGPT(root: root, tasksFile: r.tasksFile, limit: r.limit, seed: r.seed, supervised: r.supervised,
                                           budget: budget)
        }
        if let dir = r.uniNERDirectory { items += try EvalItems.uniNER(directory: dir, limit: r.limit, files: r.uniNERFiles, balanced: r.uniNERBalanced) }
        var tasks: [String] = []
        for i in items where tasks.last != i.task { tasks.append(i.task) }
        return (items, tasks)
    }

    /// Each EcomGPT task's budget of new tokens when budgets are per task (nil: the settings' one budget).
    static func budgets(_ items: [EvalItem], settings s: EvalSettings) -> [String: Int]? {
        guard s.autoMaxNewTokens else { return nil }
        var out: [String: Int] = [:]
        for item in items where item.suite == .ecomgpt { out[item.task] = item.maxNewTokens }
        return out
    }

    /// How many new tokens EcomGPT prompts may take, for the report's notes (per-task budgets listed).
    static func budgetNote(_ config: EvalConfiguration) -> String {
        guard let byTask = config.maxNewTokensByTask else { return config.budgetSummary }
        return config.budgetSummary + " (1.25 x their 95th percentile + 8: "
            + byTask.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
    }

    /// Opens the output directory's predictions, checks them against `config` (a rerun with other settings is
    /// refused unless the request restarts, which discards them) and records `config`.
    static func openStore(_ r: some EvalExampleRequest, config: EvalConfiguration, items: [EvalItem], log: (String) -> Void) throws -> PredictionStore {
        let out = r.outDirectory
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let store = try PredictionStore(directory: out)
        if store.droppedTornLine { log("eval: dropped a torn last line of \(store.url.path) (an interrupted write)") }
        if let old = try EvalConfiguration.load(from: out), old != config {
            let diffs = config.differences(from: old)
            if !diffs.isEmpty {
                guard r.restart else {
                    throw EvalError("\(out.path) holds predictions made with other settings (\(diffs.joined(separator: "; "))); "
                                    + "rerun with --restart to discard them, or choose another --out")
                }
                log("eval: settings changed (\(diffs.joined(separator: "; "))): restarting, earlier predictions discarded")
                try store.clear()
            }
        } else if r.restart {
            try store.clear()
        }
        try config.save(to: out)
        let resumed = items.filter { store.contains($0.key) }.count
        if resumed > 0 { log("eval: resuming: \(resumed) of \(items.count) examples already done") }
        return store
    }

    /// Scores the stored predictions of `items`, writes summary.json and report.html (`notes` first, then the
    /// examples, the UniversalNER decoding, the intervals and what is left) and returns the result.
    static func finish(_ r: some EvalExampleRequest, config: EvalConfiguration, items: [EvalItem], tasks: [String], store: PredictionStore,
                       stats: EvalRunStats, notes head: [String], training: [TrainingMetric]) throws -> EvalRunResult {
        let s = r.settings, out = r.outDirectory
        let byTask = EvalScoring.predictionsByTask(items: items, predictions: store.predictions)
        let (rows, average) = try Bootstrap.withIntervals(
            rows: try tasks.compactMap { t in try byTask[t].map { try EvalScoring.score(task: t, $0) } },
            predictions: byTask, settings: r.bootstrap)
        let summary = EvalSummary(configuration: config, tasks: rows, ecomGPTAverage: average, limit: r.limit,
                                  examples: items.count, generatedThisRun: stats.generated, secondsThisRun: stats.seconds,
                                  bootstrap: r.bootstrap.resamples > 0 ? r.bootstrap : nil)
        try AtomicFile.write(summary.encoded(), to: out.appendingPathComponent(EvalSummary.fileName))
        var notes = head
        notes.append("examples per task: \(r.limit.map(String.init) ?? "all")\(r.supervised.map { " of the test part after the first \($0.trainCount) of a seeded shuffle (supervised split, seed \($0.seed))" } ?? ""); \(items.count) examples, \(store.predictions.count) predictions stored")
        if r.uniNERDirectory != nil { notes.append("UniversalNER prompts: greedy, up to \(s.uniNERMaxNewTokens) new tokens") }
        if r.bootstrap.resamples > 0 {
            notes.append("intervals: \(Bootstrap.describe(r.bootstrap))")
        }
        if stats.remaining > 0 { notes.append("incomplete: \(stats.remaining) examples not yet generated; rerun to finish") }
        let html = EvalReport.html(title: r.title, notes: notes, rows: rows, average: average, training: training)
        let reportURL = out.appendingPathComponent(EvalReport.fileName)
        try AtomicFile.write(Data(html.utf8), to: reportURL)
        return EvalRunResult(rows: rows, average: average, stats: stats, summary: summary,
                             table: EvalScoring.table(rows + (average.map { [$0] } ?? [])), reportURL: reportURL)
    }
}

// A paired comparison of two evaluations of the same examples (a base and a tuned model): per task and for the
// EcomGPT average, both scores, their difference and paired percentile bootstrap intervals (Efron & Tibshirani 1993,
// ch. 13; each resample draws the same examples for both sides, so the difference's interval reflects the pairing).
import Foundation

/// One evaluation directory as a comparison reads it: its predictions and, when readable, its configuration.
public struct EvalDirectoryContents: Sendable {
    public var directory: URL
    /// Every prediction in predictions.jsonl (file order, one per example).
    public var predictions: [EvalPrediction]
    /// From summary.json, else eval-config.json (nil when neither is readable).
    public var configuration: EvalConfiguration?
    /// The rows' task order in summary.json (empty without one).
    public var taskOrder: [String]
    /// Examples summary.json says were scored (nil without one).
    public var summarizedExamples: Int?
    /// Notes on what was odd while reading (a torn last line, an unreadable summary.json).
    public var warnings: [String]

    public init(directory: URL, predictions: [EvalPrediction], configuration: EvalConfiguration? = nil, taskOrder: [String] = [],
                summarizedExamples: Int? = nil, warnings: [String] = []) {
        self.directory = directory; self.predictions = predictions; self.configuration = configuration
        self.taskOrder = taskOrder; self.summarizedExamples = summarizedExamples; self.warnings = warnings
    }

    /// Reads `dir/predictions.jsonl` (required; read only), `dir/summary.json` and `dir/eval-config.json` (optional).
    public static func load(_ dir: URL) throws -> EvalDirectoryContents {
        let (predictions, torn) = try PredictionStore.read(directory: dir)
        var out = EvalDirectoryContents(directory: dir, predictions: predictions)
        if torn { out.warnings.append("\(dir.path)/\(PredictionStore.fileName): a torn last line (an interrupted write) was skipped") }
        let summaryURL = dir.appendingPathComponent(EvalSummary.fileName)
        if FileManager.default.fileExists(atPath: summaryURL.path) {
            do {
                let s = try JSONDecoder().decode(EvalSummary.self, from: Data(contentsOf: summaryURL))
                out.configuration = s.configuration
                out.taskOrder = s.tasks.map(\.task)
                out.summarizedExamples = s.examples
            } catch {
                out.warnings.append("\(summaryURL.path): not readable as a summary (\(error)); its configuration is not shown")
            }
        }
        if out.configuration == nil { out.configuration = try? EvalConfiguration.load(from: dir) }
        return out
    }
}

/// Per-metric values keyed by the metrics' JSON names ("micro_f1", "macro_f1", "rouge_l", "cjk_rouge_l"; for
/// UniversalNER sets also "precision" and "recall").
public typealias MetricValues = [String: Double]

/// The intervals of a paired comparison's three quantities, keyed by metric JSON names.
public struct PairedIntervals: Codable, Sendable, Equatable {
    public var base: [String: ScoreInterval]
    public var tuned: [String: ScoreInterval]
    public var difference: [String: ScoreInterval]
}

/// One task (or the EcomGPT average) in a comparison.
public struct PairedScores: Codable, Sendable, Equatable {
    public var task: String
    public var suite: EvalSuite
    public var taskType: String
    /// Examples compared (in both evaluations; for the average, over all its tasks).
    public var count: Int
    public var base: MetricValues
    public var tuned: MetricValues
    /// tuned − base, for the metrics both sides have.
    public var difference: MetricValues
    public var intervals: PairedIntervals

    enum CodingKeys: String, CodingKey {
        case task, suite, base, tuned, difference, intervals
        case taskType = "task_type", count = "n"
    }

    public func base(_ m: ScoreMetric) -> Double? { base[m.rawValue] }
    public func tuned(_ m: ScoreMetric) -> Double? { tuned[m.rawValue] }
    public func difference(_ m: ScoreMetric) -> Double? { difference[m.rawValue] }
}

/// An example shown side by side on the comparison page.
public struct ExamplePair: Sendable, Equatable {
    public var task: String
    public var id: String
    public var prompt: String
    public var reference: String
    public var base: String
    public var tuned: String
    /// Whether each answer equals the gold after ``ExampleJudgement/normalized(_:)`` (nil: not judged, free text).
    public var baseCorrect: Bool?
    public var tunedCorrect: Bool?
}

/// A side of the comparison as the JSON records it.
public struct ComparisonSide: Codable, Sendable, Equatable {
    public var directory: String
    public var configuration: EvalConfiguration?
    /// Predictions in its predictions.jsonl.
    public var predictions: Int
    /// Of those, left out because the other side has no prediction for the example.
    public var dropped: Int
}

/// The result of ``Comparisons/compare(base:tuned:settings:examples:)``; encodes as the comparison JSON.
public struct Comparison: Codable, Sendable {
    public var base: ComparisonSide
    public var tuned: ComparisonSide
    public var bootstrap: BootstrapSettings
    /// Examples in both evaluations (all tasks).
    public var matched: Int
    public var tasks: [PairedScores]
    public var ecomGPTAverage: PairedScores?
    public var warnings: [String]
    /// Examples per task for the page (not encoded).
    public var examples: [String: [ExamplePair]] = [:]
    /// The tuned model's (or adapter's) training metrics for the loss curves (not encoded).
    public var training: [TrainingMetric] = []

    enum CodingKeys: String, CodingKey {
        case base, tuned, bootstrap, matched, tasks, warnings
        case ecomGPTAverage = "ecomgpt_average"
    }

    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }
}

/// The per-example judgement of the page: exact match after normalisation.
public enum ExampleJudgement {
    /// Case-folded, white space collapsed and trimmed, trailing "." / "。" removed.
    public static func normalized(_ s: String) -> String {
        var t = s.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
        while let last = t.last, last == "." || last == "。" { t.removeLast() }
        return t.trimmingCharacters(in: .whitespaces)
    }

    /// Whether `prediction` is judged correct (nil for free-text generation, where exact match says little).
    public static func isCorrect(_ p: EvalPrediction) -> Bool? {
        guard p.taskType != "Generate" else { return nil }
        return normalized(p.prediction) == normalized(p.reference)
    }
}

public enum Comparisons {
    /// Compares two evaluation directories (see ``compare(base:tuned:settings:examples:)``).
    public static func compare(baseDirectory: URL, tunedDirectory: URL, settings: BootstrapSettings = BootstrapSettings(),
                               examples: Int = 3) throws -> Comparison {
        var c = try compare(base: EvalDirectoryContents.load(baseDirectory), tuned: EvalDirectoryContents.load(tunedDirectory),
                            settings: settings, examples: examples)
        c.training = trainingMetrics(c.tuned.configuration)
        return c
    }

    /// The loss curves of the tuned side: its LoRA adapter directory's metrics.jsonl, else its model directory's (none
    /// for an evaluation through an endpoint).
    public static func trainingMetrics(_ config: EvalConfiguration?) -> [TrainingMetric] {
        guard let config, config.endpoint == nil else { return [] }
        if let lora = config.lora {
            let m = EvalReport.trainingMetrics(modelDirectory: URL(fileURLWithPath: lora))
            if !m.isEmpty { return m }
        }
        return EvalReport.trainingMetrics(modelDirectory: URL(fileURLWithPath: config.model))
    }

    /// The generation settings that differ between the sides (the model and adapter aside), "name: base -> tuned".
    static func settingDifferences(_ a: EvalConfiguration, _ b: EvalConfiguration) -> [String] {
        var same = b
        same.modelFingerprint = a.modelFingerprint; same.loraFingerprint = a.loraFingerprint
        same.model = a.model; same.lora = a.lora
        // An endpoint's URL and model name identify the model too; its API and prompts stay compared.
        if var e = same.endpoint, let ae = a.endpoint { e.url = ae.url; e.model = ae.model; same.endpoint = e } else { same.endpoint = a.endpoint }
        return same.differences(from: a)
    }

    /// Compares the predictions both sides hold (matched by task and id). Per task and for the EcomGPT average: both
    /// scores (``EvalScoring/score(task:_:)`` on the matched examples), tuned − base, and paired bootstrap intervals:
    /// each resample draws the same example indices (``Bootstrap/indexSets(task:count:settings:)``, examples in
    /// ``Bootstrap/canonicalOrder(_:)``) for both sides, scores both and takes the difference; the average's
    /// resample is the mean over EcomGPT tasks of their resamples. `examples` per task (the first by id) are kept for
    /// the page. Errors when no example matches, naming both directories.
    public static func compare(base: EvalDirectoryContents, tuned: EvalDirectoryContents, settings: BootstrapSettings = BootstrapSettings(),
                               examples: Int = 3) throws -> Comparison {
        guard settings.resamples >= 1 else { throw EvalError("the number of resamples must be at least 1") }
        guard settings.confidence > 0 && settings.confidence < 1 else { throw EvalError("the confidence must be between 0 and 1") }
        let tunedByKey = Dictionary(tuned.predictions.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let common = base.predictions.filter { tunedByKey[$0.key] != nil }
        let basePath = base.directory.path, tunedPath = tuned.directory.path
        guard !common.isEmpty else {
            throw EvalError("no example is in both \(basePath)/\(PredictionStore.fileName) (\(base.predictions.count) predictions) and "
                            + "\(tunedPath)/\(PredictionStore.fileName) (\(tuned.predictions.count) predictions): compare two "
                            + "evaluations of the same examples (same tasks and ids)")
        }
        var warnings = base.warnings + tuned.warnings
        let droppedBase = base.predictions.count - common.count, droppedTuned = tuned.predictions.count - common.count
        if droppedBase > 0 || droppedTuned > 0 {
            warnings.append("compared the \(common.count) examples both evaluations hold; left out \(droppedBase) of \(basePath) "
                            + "and \(droppedTuned) of \(tunedPath)")
        }
        for side in [base, tuned] {
            if let n = side.summarizedExamples, n < side.predictions.count {
                warnings.append("\(side.directory.path): predictions.jsonl holds \(side.predictions.count) predictions, summary.json scored "
                                + "\(n); every shared prediction is compared")
            }
        }
        if let a = base.configuration, let b = tuned.configuration {
            let diffs = settingDifferences(a, b)
            if !diffs.isEmpty { warnings.append("the evaluations' settings differ (base -> tuned: \(diffs.joined(separator: "; ")))") }
        }
        let promptMismatches = common.filter { $0.prompt != tunedByKey[$0.key]!.prompt }.count
        if promptMismatches > 0 { warnings.append("\(promptMismatches) shared examples have different prompts in the two evaluations") }

        // Tasks: summary.json's order, then first appearance in the base predictions.
        var order: [String] = [], seen = Set<String>()
        let byTask = Dictionary(grouping: common, by: \.task)
        for t in base.taskOrder + common.map(\.task) where byTask[t] != nil && seen.insert(t).inserted { order.append(t) }
        var pairs: [(task: String, base: [EvalPrediction], tuned: [EvalPrediction])] = []
        for t in order {
            let b = Bootstrap.canonicalOrder(byTask[t]!)
            let u = b.map { tunedByKey[$0.key]! }
            if let m = zip(b, u).first(where: { $0.0.suite != $0.1.suite || $0.0.taskType != $0.1.taskType }) {
                throw EvalError("\(t): example \(m.0.id) is a \(m.0.suite.rawValue) \(m.0.taskType) example in \(basePath) but a "
                                + "\(m.1.suite.rawValue) \(m.1.taskType) one in \(tunedPath)")
            }
            pairs.append((t, b, u))
        }

        struct TaskResult: Sendable {
            var baseRow: TaskScoreRow, tunedRow: TaskScoreRow
            var baseResampled: [TaskScoreRow], tunedResampled: [TaskScoreRow]
        }
        let work = pairs
        let results = try Bootstrap.parallelMap(work.count) { i in
            let (task, b, u) = work[i]
            let sets = Bootstrap.indexSets(task: task, count: b.count, settings: settings)
            return TaskResult(baseRow: try EvalScoring.score(task: task, b), tunedRow: try EvalScoring.score(task: task, u),
                              baseResampled: try Bootstrap.resampledRows(task: task, predictions: b, indexSets: sets),
                              tunedResampled: try Bootstrap.resampledRows(task: task, predictions: u, indexSets: sets))
        }
        let tasks = results.map { paired(base: $0.baseRow, tuned: $0.tunedRow, baseResampled: $0.baseResampled,
                                         tunedResampled: $0.tunedResampled, settings: settings) }
        var average: PairedScores?
        let ecom = results.filter { $0.baseRow.suite == .ecomgpt }
        if let ab = EvalScoring.ecomGPTAverage(ecom.map(\.baseRow)), let at = EvalScoring.ecomGPTAverage(ecom.map(\.tunedRow)) {
            average = paired(base: ab, tuned: at, baseResampled: Bootstrap.averageRows(ecom.map(\.baseResampled), resamples: settings.resamples),
                             tunedResampled: Bootstrap.averageRows(ecom.map(\.tunedResampled), resamples: settings.resamples),
                             settings: settings)
        }
        var shown: [String: [ExamplePair]] = [:]
        for (task, b, u) in pairs {
            shown[task] = zip(b, u).prefix(max(0, examples)).map { x, y in
                ExamplePair(task: task, id: x.id, prompt: x.prompt, reference: x.reference, base: x.prediction, tuned: y.prediction,
                            baseCorrect: ExampleJudgement.isCorrect(x), tunedCorrect: ExampleJudgement.isCorrect(y))
            }
        }
        return Comparison(
            base: ComparisonSide(directory: basePath, configuration: base.configuration, predictions: base.predictions.count, dropped: droppedBase),
            tuned: ComparisonSide(directory: tunedPath, configuration: tuned.configuration, predictions: tuned.predictions.count, dropped: droppedTuned),
            bootstrap: settings, matched: common.count, tasks: tasks, ecomGPTAverage: average, warnings: warnings, examples: shown)
    }

    /// A row's metric values by JSON name (precision and recall included when present).
    static func values(_ r: TaskScoreRow) -> MetricValues {
        var out: MetricValues = [:]
        for m in ScoreMetric.allCases { if let v = m.value(r), v.isFinite { out[m.rawValue] = v } }
        if let p = r.precision, p.isFinite { out["precision"] = p }
        if let q = r.recall, q.isFinite { out["recall"] = q }
        return out
    }

    /// The paired scores of two rows with their resamples (`baseResampled[b]` and `tunedResampled[b]` drawn alike).
    static func paired(base: TaskScoreRow, tuned: TaskScoreRow, baseResampled: [TaskScoreRow], tunedResampled: [TaskScoreRow],
                       settings: BootstrapSettings) -> PairedScores {
        let bv = values(base), tv = values(tuned)
        var diff: MetricValues = [:]
        for (k, v) in tv { if let b = bv[k] { diff[k] = v - b } }
        var diffs: [ScoreMetric: [Double]] = [:]
        for m in ScoreMetric.allCases {
            let d = zip(baseResampled, tunedResampled).compactMap { b, t -> Double? in
                guard let x = m.value(b), let y = m.value(t), x.isFinite, y.isFinite else { return nil }
                return y - x
            }
            if !d.isEmpty { diffs[m] = d }
        }
        let c = settings.confidence
        return PairedScores(task: base.task, suite: base.suite, taskType: base.taskType, count: base.count, base: bv, tuned: tv,
                            difference: diff,
                            intervals: PairedIntervals(base: Bootstrap.intervals(Bootstrap.metricValues(baseResampled), confidence: c) ?? [:],
                                                       tuned: Bootstrap.intervals(Bootstrap.metricValues(tunedResampled), confidence: c) ?? [:],
                                                       difference: Bootstrap.intervals(diffs, confidence: c) ?? [:]))
    }

    /// The table printed on stdout: task, n, base and tuned micro-F1, their difference with its interval, the same for
    /// Rouge-L (percent; "-" where a metric does not apply), the EcomGPT average last.
    public static func table(_ c: Comparison) -> String {
        let header = ["task", "n", "base micro-F1", "tuned micro-F1", "Δ micro-F1 [95%]", "base Rouge-L", "tuned Rouge-L", "Δ Rouge-L [95%]"]
        let rows = c.tasks + (c.ecomGPTAverage.map { [$0] } ?? [])
        let cells = rows.map { r in
            [r.task, "\(r.count)"] + [ScoreMetric.microF1, .rougeL].flatMap { m in
                [EvalScoring.percent(r.base(m)), EvalScoring.percent(r.tuned(m)), signedPercent(r.difference(m), r.intervals.difference[m.rawValue])]
            }
        }
        return EvalScoring.aligned(header: header, cells: cells)
    }

    /// A difference in percent with a sign and its interval, "+5.20 [+1.10, +9.80]" ("-" for nil).
    public static func signedPercent(_ v: Double?, _ ci: ScoreInterval?) -> String {
        guard let v else { return "-" }
        return String(format: "%+.2f", v * 100) + (ci.map { String(format: " [%+.2f, %+.2f]", $0.low * 100, $0.high * 100) } ?? "")
    }
}

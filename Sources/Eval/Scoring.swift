// Per-task scores of stored predictions with EcomMetrics: EcomGPT's paper-compatible metrics per task type (micro-F1,
// macro-F1, Rouge-L F of the `rouge` package) plus our CJK-aware Rouge-L; UniversalNER's evaluator for its sets.
import EcomMetrics
import Foundation

/// One row of the results table. Scores are fractions in [0, 1]; nil where the metric does not apply.
public struct TaskScoreRow: Codable, Sendable, Equatable {
    public var task: String
    public var suite: EvalSuite
    public var taskType: String
    public var count: Int
    public var microF1: Double
    public var macroF1: Double?
    public var rougeL: Double?
    public var cjkRougeL: Double?
    /// UniversalNER's micro precision and recall (nil for EcomGPT tasks).
    public var precision: Double?
    public var recall: Double?
    /// Bootstrap intervals (``Bootstrap``) keyed by the metrics' JSON names ("micro_f1", ...); nil when not computed
    /// (absent from the JSON, as in summary.json files written before intervals).
    public var intervals: [String: ScoreInterval]? = nil

    enum CodingKeys: String, CodingKey {
        case task, suite, precision, recall, intervals
        case taskType = "task_type", count = "n", microF1 = "micro_f1", macroF1 = "macro_f1", rougeL = "rouge_l"
        case cjkRougeL = "cjk_rouge_l"
    }
}

public enum EvalScoring {
    /// Scores one task's predictions. EcomGPT tasks use ``ecomTaskScores(type:predictions:references:texts:labelSeparator:emptyHypothesis:)``
    /// with empty hypotheses scored as "error" (the paper's code crashed there) and the CJK Rouge-L F averaged over
    /// the raw answers; UniversalNER sets use ``UniversalNER/evaluate(predictions:references:)``.
    public static func score(task: String, _ ps: [EvalPrediction]) throws -> TaskScoreRow {
        guard let first = ps.first else { throw EvalError("\(task): no predictions to score") }
        let preds = ps.map(\.prediction), refs = ps.map(\.reference)
        switch first.suite {
        case .uniner:
            let s = UniversalNER.evaluate(predictions: preds, references: refs)
            return TaskScoreRow(task: task, suite: .uniner, taskType: first.taskType, count: ps.count, microF1: s.f1,
                                precision: s.precision, recall: s.recall)
        case .ecomgpt:
            guard let type = EcomTaskType(rawValue: first.taskType) else {
                throw EvalError("\(task): unknown EcomGPT task type '\(first.taskType)'")
            }
            do {
                let s = try ecomTaskScores(type: type, predictions: preds, references: refs, texts: ps.map(\.text),
                                           labelSeparator: first.labelSeparator, emptyHypothesis: .substituteError)
                let cjk = try RougeL(flavor: .cjk).score(predictions: preds, references: refs).average.f
                return TaskScoreRow(task: task, suite: .ecomgpt, taskType: first.taskType, count: ps.count, microF1: s.microF1,
                                    macroF1: s.macroF1, rougeL: s.rougeLF, cjkRougeL: cjk)
            } catch {
                throw EvalError("\(task): scoring failed: \(error)")
            }
        }
    }

    /// Rows for `tasks` in that order (tasks without predictions are left out), each over the predictions of the
    /// examples in `items` (so that a smaller limit scores only its examples, whatever else the file holds).
    public static func rows(tasks: [String], items: [EvalItem], predictions: [EvalPrediction]) throws -> [TaskScoreRow] {
        let byTask = predictionsByTask(items: items, predictions: predictions)
        return try tasks.compactMap { t in try byTask[t].map { try score(task: t, $0) } }
    }

    /// The predictions of the examples in `items`, by task (what ``rows(tasks:items:predictions:)`` scores).
    public static func predictionsByTask(items: [EvalItem], predictions: [EvalPrediction]) -> [String: [EvalPrediction]] {
        let wanted = Set(items.map(\.key))
        return Dictionary(grouping: predictions.filter { wanted.contains($0.key) }, by: \.task)
    }

    /// The mean of each metric over EcomGPT rows (nil when none).
    public static func ecomGPTAverage(_ rows: [TaskScoreRow]) -> TaskScoreRow? {
        let e = rows.filter { $0.suite == .ecomgpt }
        guard !e.isEmpty else { return nil }
        func mean(_ f: (TaskScoreRow) -> Double?) -> Double? {
            let v = e.compactMap(f)
            return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
        }
        return TaskScoreRow(task: "EcomGPT average", suite: .ecomgpt, taskType: "-", count: e.reduce(0) { $0 + $1.count },
                            microF1: mean(\.microF1)!, macroF1: mean(\.macroF1), rougeL: mean(\.rougeL), cjkRougeL: mean(\.cjkRougeL))
    }

    /// The table printed on stdout: task, n, micro-F1, macro-F1, Rouge-L, CJK Rouge-L (in percent; "-" where n/a),
    /// each followed by its bootstrap interval when the row has one ("45.20 [38.10, 52.30]").
    public static func table(_ rows: [TaskScoreRow]) -> String {
        let header = ["task", "n"] + ScoreMetric.allCases.map(\.label)
        let cells = rows.map { r in [r.task, "\(r.count)"] + ScoreMetric.allCases.map { withInterval(r, $0) } }
        return aligned(header: header, cells: cells)
    }

    /// A metric's value in percent, with its interval when the row has one.
    public static func withInterval(_ r: TaskScoreRow, _ m: ScoreMetric) -> String {
        guard let v = m.value(r) else { return "-" }
        return percent(v) + (r.intervals?[m.rawValue].map { " " + $0.percentText } ?? "")
    }

    /// Columns padded to their widest cell: the first left-aligned, the others right-aligned; a rule under the header.
    public static func aligned(header: [String], cells: [[String]]) -> String {
        let widths = header.indices.map { c in ([header] + cells).map { $0[c].count }.max()! }
        func line(_ row: [String]) -> String {
            row.enumerated().map { c, v in c == 0 ? v.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[c] - v.count) + v }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + cells.map(line)).joined(separator: "\n") + "\n"
    }

    /// A score as a percentage with two decimals, "-" for nil.
    public static func percent(_ v: Double?) -> String { v.map { String(format: "%.2f", $0 * 100) } ?? "-" }
}

/// DIR/summary.json: the configuration, the rows, the EcomGPT average and how the run went.
public struct EvalSummary: Codable, Sendable {
    public var configuration: EvalConfiguration
    public var tasks: [TaskScoreRow]
    public var ecomGPTAverage: TaskScoreRow?
    /// Examples per task asked for (nil: all).
    public var limit: Int?
    public var examples: Int
    public var generatedThisRun: Int
    public var secondsThisRun: Double
    /// How the rows' intervals were drawn (nil: no intervals).
    public var bootstrap: BootstrapSettings? = nil

    enum CodingKeys: String, CodingKey {
        case configuration, tasks, limit, examples, bootstrap
        case ecomGPTAverage = "ecomgpt_average", generatedThisRun = "generated_this_run", secondsThisRun = "seconds_this_run"
    }

    public static let fileName = "summary.json"

    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }
}

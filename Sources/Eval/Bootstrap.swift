// Percentile bootstrap intervals of the scores (Efron & Tibshirani 1993, An Introduction to the Bootstrap, ch. 13):
// a task's examples resampled with replacement, each resample rescored as EvalScoring.score does (fast, from
// per-example statistics: ResampleScoring.swift), the 2.5th and 97.5th percentiles of the resampled scores taken as
// the 95% interval.
import EcomInstruct
import Foundation

/// A confidence interval of a score, in the score's units (fractions in [0, 1]; differences in [-1, 1]).
public struct ScoreInterval: Codable, Sendable, Equatable {
    public var low: Double
    public var high: Double
    public init(low: Double, high: Double) { self.low = low; self.high = high }

    public func contains(_ v: Double) -> Bool { low <= v && v <= high }
    /// The interval in percent with two decimals, "[38.10, 52.30]".
    public var percentText: String { "[\(EvalScoring.percent(low)), \(EvalScoring.percent(high))]" }
}

/// The scores that get intervals, by their JSON names in summary.json (precision and recall do not).
public enum ScoreMetric: String, CaseIterable, Sendable {
    case microF1 = "micro_f1", macroF1 = "macro_f1", rougeL = "rouge_l", cjkRougeL = "cjk_rouge_l"

    public func value(_ r: TaskScoreRow) -> Double? {
        switch self {
        case .microF1: return r.microF1
        case .macroF1: return r.macroF1
        case .rougeL: return r.rougeL
        case .cjkRougeL: return r.cjkRougeL
        }
    }

    /// The column heading ("micro-F1").
    public var label: String {
        switch self {
        case .microF1: return "micro-F1"
        case .macroF1: return "macro-F1"
        case .rougeL: return "Rouge-L"
        case .cjkRougeL: return "CJK Rouge-L"
        }
    }
}

/// How the intervals are drawn: resamples, the seed of the index sets, the confidence level.
public struct BootstrapSettings: Codable, Sendable, Equatable {
    public var resamples: Int
    public var seed: UInt64
    public var confidence: Double

    public init(resamples: Int = 1000, seed: UInt64 = 0, confidence: Double = 0.95) {
        self.resamples = resamples; self.seed = seed; self.confidence = confidence
    }
}

public enum Bootstrap {
    /// A task's predictions in the order the resample indices refer to: by id (numbers by value, "12" before "100";
    /// others by code points), then by key. Two evaluations of the same examples thus put them in the same order,
    /// whatever order their predictions.jsonl files hold them in.
    public static func canonicalOrder(_ ps: [EvalPrediction]) -> [EvalPrediction] {
        ps.sorted { a, b in
            if a.id != b.id { return idPrecedes(a.id, b.id) }
            return a.key.unicodeScalars.lexicographicallyPrecedes(b.key.unicodeScalars)
        }
    }

    /// Ids compare by their leading decimal number when both have one ("12" < "100", "2:field" < "10:field"), then by
    /// code points.
    public static func idPrecedes(_ a: String, _ b: String) -> Bool {
        func lead(_ s: String) -> Int? {
            let digits = s.unicodeScalars.prefix { $0.value >= 48 && $0.value <= 57 }
            return digits.isEmpty || digits.count > 18 ? nil : Int(String(String.UnicodeScalarView(digits)))
        }
        if let na = lead(a), let nb = lead(b), na != nb { return na < nb }
        return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars)
    }

    /// The `settings.resamples` index sets of a task of `count` examples: each `count` draws with replacement from
    /// 0..<count, from a SplitMix64 stream seeded by the seed and the task's name. They depend on nothing else, so the
    /// same task with as many examples gets the same sets in every evaluation (the pairing of a comparison).
    public static func indexSets(task: String, count: Int, settings: BootstrapSettings) -> [[Int]] {
        guard count > 0 else { return [] }
        var g = SeededGenerator(seed: settings.seed, key: "bootstrap\u{1F}" + task)
        return (0..<settings.resamples).map { _ in (0..<count).map { _ in g.below(count) } }
    }

    /// The row of each resample: `rows[b]` scores `predictions` at `indexSets[b]` (predictions in canonical order),
    /// as ``referenceResampledRows(task:predictions:indexSets:)`` does, from per-example statistics
    /// (ResampleScoring.swift) when they reproduce the task's score on all its examples.
    public static func resampledRows(task: String, predictions: [EvalPrediction], indexSets: [[Int]]) throws -> [TaskScoreRow] {
        guard !indexSets.isEmpty else { return [] }
        if let fast = try? ResampleScorer(task: task, predictions: predictions),
           fast.reproduces(try EvalScoring.score(task: task, predictions)) {
            return indexSets.map(fast.score)
        }
        return try referenceResampledRows(task: task, predictions: predictions, indexSets: indexSets)
    }

    /// The reference: each resample's predictions scored with ``EvalScoring/score(task:_:)``.
    public static func referenceResampledRows(task: String, predictions: [EvalPrediction], indexSets: [[Int]]) throws -> [TaskScoreRow] {
        try indexSets.map { idx in try EvalScoring.score(task: task, idx.map { predictions[$0] }) }
    }

    /// The central `confidence` interval of `values` by percentiles (linear interpolation between order statistics,
    /// numpy's default); non-finite values (a macro average over no type) are left out; nil when none is left.
    public static func percentileInterval(_ values: [Double], confidence: Double = 0.95) -> ScoreInterval? {
        let v = values.filter(\.isFinite).sorted()
        guard !v.isEmpty else { return nil }
        let tail = (1 - confidence) / 2
        return ScoreInterval(low: percentile(sorted: v, tail), high: percentile(sorted: v, 1 - tail))
    }

    /// The q-quantile (0...1) of sorted values: position h = (n - 1) q, linear between the order statistics around it.
    static func percentile(sorted v: [Double], _ q: Double) -> Double {
        let h = Double(v.count - 1) * q
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, v.count - 1)
        let frac = h - Double(lo)
        // Equal neighbours give the value itself exactly (no rounding from the interpolation).
        return v[lo] == v[hi] ? v[lo] : v[lo] + frac * (v[hi] - v[lo])
    }

    /// The intervals of each metric over resampled values, keyed by the metric's JSON name (metrics without values
    /// left out; nil when none has any).
    public static func intervals(_ values: [ScoreMetric: [Double]], confidence: Double) -> [String: ScoreInterval]? {
        var out: [String: ScoreInterval] = [:]
        for (m, v) in values { if let i = percentileInterval(v, confidence: confidence) { out[m.rawValue] = i } }
        return out.isEmpty ? nil : out
    }

    /// Each metric's values over resampled rows.
    public static func metricValues(_ rows: [TaskScoreRow]) -> [ScoreMetric: [Double]] {
        var out: [ScoreMetric: [Double]] = [:]
        for m in ScoreMetric.allCases {
            let v = rows.compactMap(m.value)
            if !v.isEmpty { out[m] = v }
        }
        return out
    }

    /// Runs `body` for 0..<count on the cores, collecting results in order (the first error is rethrown).
    static func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
        let box = ParallelResults<T>(count)
        DispatchQueue.concurrentPerform(iterations: count) { i in
            do {
                let r = try body(i)
                box.lock.lock(); box.results[i] = r; box.lock.unlock()
            } catch {
                box.lock.lock(); if box.error == nil { box.error = error }; box.lock.unlock()
            }
        }
        if let e = box.error { throw e }
        return box.results.map { $0! }
    }

    /// Results of ``parallelMap(_:_:)``'s iterations, written under the lock.
    final class ParallelResults<T>: @unchecked Sendable {
        var results: [T?]
        var error: Error?
        let lock = NSLock()
        init(_ n: Int) { results = Array(repeating: nil, count: n) }
    }

    /// Each task's resampled rows (tasks in parallel): `out[t][b]` for `tasks[t]`, predictions in canonical order.
    static func resampledRows(tasks: [(task: String, predictions: [EvalPrediction])], settings: BootstrapSettings) throws -> [[TaskScoreRow]] {
        try parallelMap(tasks.count) { t in
            let (task, ps) = tasks[t]
            return try resampledRows(task: task, predictions: ps,
                                     indexSets: indexSets(task: task, count: ps.count, settings: settings))
        }
    }

    /// The EcomGPT average of each resample: the mean over tasks of their b-th resampled rows (nil without EcomGPT tasks).
    static func averageRows(_ perTask: [[TaskScoreRow]], resamples: Int) -> [TaskScoreRow] {
        (0..<resamples).compactMap { b in EvalScoring.ecomGPTAverage(perTask.map { $0[b] }) }
    }

    /// `rows` with their intervals, and their EcomGPT average (``EvalScoring/ecomGPTAverage(_:)``) with its own: each
    /// row's task resampled from `predictions[task]` (the predictions it was scored on, any order), the average's
    /// intervals from the mean over EcomGPT tasks of each resample (each task resampled independently). Rows without
    /// predictions, and everything when `settings.resamples` is 0, keep no intervals.
    public static func withIntervals(rows: [TaskScoreRow], predictions: [String: [EvalPrediction]],
                                     settings: BootstrapSettings = BootstrapSettings()) throws -> (rows: [TaskScoreRow], average: TaskScoreRow?) {
        var average = EvalScoring.ecomGPTAverage(rows)
        guard settings.resamples > 0 else { return (rows, average) }
        let scored = rows.indices.filter { !(predictions[rows[$0].task] ?? []).isEmpty }
        let perTask = try resampledRows(tasks: scored.map { (rows[$0].task, canonicalOrder(predictions[rows[$0].task]!)) }, settings: settings)
        var out = rows
        for (i, resampled) in zip(scored, perTask) {
            out[i].intervals = intervals(metricValues(resampled), confidence: settings.confidence)
        }
        let ecom = zip(scored, perTask).filter { rows[$0.0].suite == .ecomgpt }.map(\.1)
        if average != nil, !ecom.isEmpty {
            average!.intervals = intervals(metricValues(averageRows(ecom, resamples: settings.resamples)), confidence: settings.confidence)
        }
        return (out, average)
    }

    /// "95% percentile bootstrap intervals, 1000 resamples, seed 0".
    public static func describe(_ s: BootstrapSettings, paired: Bool = false) -> String {
        "\(String(format: "%g", s.confidence * 100))% \(paired ? "paired " : "")percentile bootstrap intervals, \(s.resamples) resamples of each task's examples, seed \(s.seed)"
    }
}

// Bootstrap intervals of the scores on hand-made predictions: they hold the point estimate, are fixed by the seed,
// narrow with more examples, collapse to [1, 1] when everything is right, ignore the predictions' order; the average's
// resamples are the means of the tasks'; old summary.json files (no intervals) still decode.
@testable import EcomEval
import EcomTestSupport
import Foundation
import Testing

/// Hand-made predictions (no model, no shared data).
enum Made {
    static let labels = ["good", "bad", "neutral"]

    /// One prediction; the text is the reference (NER needs one).
    static func prediction(_ task: String, _ id: Int, _ pred: String, _ ref: String, type: String = "CLS",
                           suite: EvalSuite = .ecomgpt, prompt: String? = nil) -> EvalPrediction {
        EvalPrediction(task: task, id: "\(id)", prompt: prompt ?? "### Instruction:\nexample \(id) of \(task)\n### Response:", prediction: pred,
                       reference: ref, suite: suite, taskType: type, text: ref, labelSeparator: ", ", completion: pred,
                       promptTokens: 10, truncatedTokens: 0, generatedTokens: 2)
    }

    /// `n` Extract examples with four gold items ("alpha, beta, gamma, delta") whose answer names the first `right(i)`
    /// of them (none: a wrong item).
    static func extract(_ task: String, _ n: Int, right k: (Int) -> Int) -> [EvalPrediction] {
        let gold = ["alpha", "beta", "gamma", "delta"]
        return (0..<n).map { i in
            let j = k(i)
            return prediction(task, i, j == 0 ? "omega" : gold.prefix(j).joined(separator: ", "), gold.joined(separator: ", "), type: "Extract")
        }
    }

    /// `n` CLS examples whose answer is right where `right(i)` holds (else the next label).
    static func cls(_ task: String, _ n: Int, right: (Int) -> Bool) -> [EvalPrediction] {
        (0..<n).map { i in
            let gold = labels[i % 3]
            return prediction(task, i, right(i) ? gold : labels[(i + 1) % 3], gold)
        }
    }
}

@Suite struct BootstrapTests {
    func intervals(_ ps: [EvalPrediction], seed: UInt64 = 0, resamples: Int = 1000) throws -> (TaskScoreRow, [String: ScoreInterval]) {
        let task = ps[0].task
        let row = try EvalScoring.score(task: task, ps)
        let (rows, _) = try Bootstrap.withIntervals(rows: [row], predictions: [task: ps],
                                                    settings: BootstrapSettings(resamples: resamples, seed: seed))
        return (rows[0], try #require(rows[0].intervals))
    }

    @Test func intervalsHoldThePointEstimateAndAreFixedBySeed() throws {
        let ps = Made.cls("t", 40) { $0 % 5 < 3 }  // 60% right
        let (row, ci) = try intervals(ps)
        #expect(Set(ci.keys) == ["micro_f1", "macro_f1", "rouge_l", "cjk_rouge_l"])
        for m in ScoreMetric.allCases {
            let v = try #require(m.value(row)), i = try #require(ci[m.rawValue])
            #expect(i.low < v && v < i.high, "\(m): \(v) outside [\(i.low), \(i.high)]")
            #expect(i.high - i.low < 0.5)
        }
        #expect(try intervals(ps).1 == ci)
        // Another seed: other draws (on scores less discrete than 40 right-or-wrong answers, other intervals).
        let graded = Made.extract("x", 40) { ($0 * 7) % 5 }
        #expect(try intervals(graded, seed: 0).1 == intervals(graded, seed: 0).1)
        #expect(try intervals(graded, seed: 1).1 != intervals(graded, seed: 0).1)
        // The index sets depend on the seed and the task's name only.
        let s = BootstrapSettings(resamples: 5, seed: 3)
        #expect(Bootstrap.indexSets(task: "t", count: 7, settings: s) == Bootstrap.indexSets(task: "t", count: 7, settings: s))
        #expect(Bootstrap.indexSets(task: "t", count: 7, settings: s) != Bootstrap.indexSets(task: "u", count: 7, settings: s))
        #expect(Bootstrap.indexSets(task: "t", count: 7, settings: s).allSatisfy { $0.count == 7 && $0.allSatisfy { (0..<7).contains($0) } })
    }

    @Test func intervalsNarrowAsExamplesGrow() throws {
        let small = try intervals(Made.cls("t", 20) { $0 % 2 == 0 }, resamples: 400).1["micro_f1"]!
        let large = try intervals(Made.cls("t", 320) { $0 % 2 == 0 }, resamples: 400).1["micro_f1"]!
        let ws = small.high - small.low, wl = large.high - large.low
        // Width ~ 1/sqrt(n): 16 times the examples, about a quarter of the width.
        #expect(wl < 0.4 * ws, "n=20: \(ws), n=320: \(wl)")
        #expect(wl > 0.1 * ws)
    }

    @Test func aTaskWithEveryExampleRightGetsOneOne() throws {
        let (row, ci) = try intervals(Made.cls("t", 25) { _ in true })
        #expect(row.microF1 == 1 && row.macroF1 == 1)
        #expect(ci["micro_f1"] == ScoreInterval(low: 1, high: 1))
        #expect(ci["macro_f1"] == ScoreInterval(low: 1, high: 1))
        // The rouge package's F has 1e-8 in its denominator: constant, just under 1.
        #expect(ci["rouge_l"]!.low == row.rougeL! && ci["rouge_l"]!.high == row.rougeL!)
        #expect(ci["cjk_rouge_l"] == ScoreInterval(low: row.cjkRougeL!, high: row.cjkRougeL!))
    }

    @Test func theOrderOfThePredictionsDoesNotMatter() throws {
        let ps = Made.cls("t", 30) { $0 % 3 != 0 }
        var shuffled = ps
        var g = SplitMix64(seed: 5)
        shuffled.shuffle(using: &g)
        #expect(shuffled != ps)
        #expect(try intervals(shuffled).1 == intervals(ps).1)
        // Ids order by number: "2" before "10".
        #expect(Bootstrap.canonicalOrder(ps).map(\.id).prefix(12) == ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"])
        #expect(Bootstrap.idPrecedes("2:field", "10:field") && !Bootstrap.idPrecedes("10", "9") && Bootstrap.idPrecedes("a", "b"))
    }

    @Test func percentilesInterpolateBetweenOrderStatistics() {
        // numpy.percentile([0, 1, ..., 99], [2.5, 97.5]) = [2.475, 96.525].
        let i = Bootstrap.percentileInterval((0..<100).map(Double.init).reversed())!
        #expect(isClose(i.low, 2.475) && isClose(i.high, 96.525))
        #expect(Bootstrap.percentileInterval([.nan, 0.5, .nan]) == ScoreInterval(low: 0.5, high: 0.5))
        #expect(Bootstrap.percentileInterval([.nan]) == nil)
    }

    @Test func theAverageResamplesAreTheMeansOfTheTasksResamples() throws {
        let a = Made.cls("a", 12) { $0 % 2 == 0 }, b = Made.cls("b", 9) { $0 % 3 == 0 }
        let u = [Made.prediction("UniNER-x", 0, "[\"MIT\"]", "[\"MIT\"]", type: "NER", suite: .uniner),
                 Made.prediction("UniNER-x", 1, "[]", "[\"Turing\"]", type: "NER", suite: .uniner)]
        let settings = BootstrapSettings(resamples: 200, seed: 9)
        let rows = try [a, b, u].map { try EvalScoring.score(task: $0[0].task, $0) }
        let (withCI, average) = try Bootstrap.withIntervals(rows: rows, predictions: ["a": a, "b": b, "UniNER-x": u], settings: settings)
        let avg = try #require(average)
        #expect(avg.microF1 == (rows[0].microF1 + rows[1].microF1) / 2)  // UniversalNER sets are not in the average
        // UniversalNER rows get a micro-F1 interval only.
        #expect(withCI[2].intervals.map { Set($0.keys) } == ["micro_f1"])
        var means: [Double] = []
        let ra = try Bootstrap.resampledRows(task: "a", predictions: a, indexSets: Bootstrap.indexSets(task: "a", count: 12, settings: settings))
        let rb = try Bootstrap.resampledRows(task: "b", predictions: b, indexSets: Bootstrap.indexSets(task: "b", count: 9, settings: settings))
        for k in 0..<200 { means.append((ra[k].microF1 + rb[k].microF1) / 2) }
        #expect(avg.intervals?["micro_f1"] == Bootstrap.percentileInterval(means))
        #expect(avg.intervals!["micro_f1"]!.contains(avg.microF1))
    }

    @Test func summariesWithoutIntervalsStillDecodeAndRowsWithoutThemOmitTheKey() throws {
        let old = """
            {"configuration": {"beams": 1, "max_new_tokens": 64, "max_prompt_tokens": 800, "model": "/m.gguf",
              "model_fingerprint": "f9e4", "precision": "native", "seed": 0, "template": "chatml",
              "tokenizer_fingerprint": "f9e4", "uniner_max_new_tokens": 256},
             "ecomgpt_average": {"cjk_rouge_l": 0.06, "macro_f1": 0.005, "micro_f1": 0.007, "n": 96, "rouge_l": 0.05,
              "suite": "ecomgpt", "task": "EcomGPT average", "task_type": "-"},
             "examples": 96, "generated_this_run": 96, "limit": 8, "seconds_this_run": 136.4,
             "tasks": [{"cjk_rouge_l": 0.12, "macro_f1": 0, "micro_f1": 0, "n": 8, "rouge_l": 0.14, "suite": "ecomgpt",
              "task": "EN-Lenovo-NER-NER", "task_type": "NER"}]}
            """
        let s = try JSONDecoder().decode(EvalSummary.self, from: Data(old.utf8))
        #expect(s.tasks[0].intervals == nil && s.ecomGPTAverage?.intervals == nil && s.bootstrap == nil)
        let encoded = String(decoding: try s.encoded(), as: UTF8.self)
        #expect(!encoded.contains("intervals") && !encoded.contains("bootstrap"))
        var row = s.tasks[0]
        row.intervals = ["micro_f1": ScoreInterval(low: 0, high: 0.25)]
        let back = try JSONDecoder().decode(TaskScoreRow.self, from: JSONEncoder().encode(row))
        #expect(back == row)
        #expect(EvalScoring.table([row]).contains("0.00 [0.00, 25.00]"))
    }

    @Test func anEvaluationWritesIntervalsIntoTheSummaryTableAndReport() throws {
        let out = try TestPaths.makeTemporaryDirectory("eval-intervals")
        var r = EvalFixture.request(out: out, limit: 2, uniner: false)
        r.bootstrap = BootstrapSettings(resamples: 50, seed: 4)
        let result = try EvalRun.run(r)
        let summary = try JSONDecoder().decode(EvalSummary.self, from: Data(contentsOf: out.appendingPathComponent("summary.json")))
        #expect(summary.bootstrap == r.bootstrap)
        #expect(summary.tasks.allSatisfy { $0.intervals?["micro_f1"] != nil })
        #expect(summary.ecomGPTAverage?.intervals?["micro_f1"] != nil)
        #expect(result.table.contains(" ["))
        let report = try String(contentsOf: result.reportURL, encoding: .utf8)
        #expect(report.contains("<span class=\"ci\">[") && report.contains("class=\"whisker\""))
        // --resamples 0: none.
        r.bootstrap.resamples = 0
        #expect(try EvalRun.run(r).rows.allSatisfy { $0.intervals == nil })
    }
}

/// The fast rescoring (per-example statistics) against the reference (EvalScoring.score on each resample) for every
/// task type, on answers with the metrics' edge cases (empty, only dots, repeats, "None", CJK, bad JSON).
@Suite struct ResampleScoringTests {
    static let pools: [(type: String, suite: EvalSuite, answers: [String], golds: [String], texts: [String])] = [
        ("CLS", .ecomgpt, ["good", "bad.", "", "neutral, good", " good ", "...", "好评", "bad, bad"], ["good", "neutral", "bad", "good, bad", "好评"], []),
        ("Extract", .ecomgpt, ["a, b", "", "...", "a", "c, a", " b ", "甲, 乙"], ["a, b", "c", "甲", "a, b, c"], []),
        ("Generate", .ecomgpt, ["商品标题 新款", "", "title text here", "标题", "."], ["商品标题", "new title text", "新款 商品"], []),
        ("Condition_Extract", .ecomgpt, ["x", "", "a, b", "b", " c ", "颜色, 红色"], ["a, b", "", "c", "颜色"], []),
        ("NER", .ecomgpt, ["brand: Lenovo\nproduct: None", "", "商品: 联想", "brand: Lenovo, Lenovo\nbrand: ThinkPad", "product: Yoga",
                           "brand: None\nproduct: None", "brand: "],
         ["brand: Lenovo\nproduct: ThinkPad X1", "brand: None\nproduct: None", "product: Yoga\nbrand: Lenovo"],
         ["Lenovo ThinkPad X1 is light", "I bought a Yoga laptop from Lenovo", "no brand here", "联想 ThinkPad"]),
        ("NER", .uniner, ["[\"MIT\"]", "[]", "garbage", "[\"mit\", \"Turing\"]", "[[\"a\", \"b\"]]", "[\"MIT\"] USER: more"],
         ["[\"MIT\"]", "[\"Turing\"]", "[]"], []),
    ]

    func same(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (x?, y?): return x == y || (x.isNaN && y.isNaN)
        default: return false
        }
    }

    @Test(arguments: 0..<6) func theFastRescoringEqualsTheReference(_ k: Int) throws {
        let pool = Self.pools[k]
        var g = SplitMix64(seed: UInt64(100 + k))
        let task = "\(pool.suite.rawValue)-\(pool.type)"
        let ps = (0..<30).map { i -> EvalPrediction in
            var p = Made.prediction(task, i, pool.answers[Int(g.next() % UInt64(pool.answers.count))],
                                    pool.golds[Int(g.next() % UInt64(pool.golds.count))], type: pool.type, suite: pool.suite)
            if !pool.texts.isEmpty { p.text = pool.texts[Int(g.next() % UInt64(pool.texts.count))] }
            return p
        }
        let fast = try #require(try ResampleScorer(task: task, predictions: ps))
        #expect(fast.reproduces(try EvalScoring.score(task: task, ps)), "seed \(100 + k)")
        // Resamples, plus small ones where a type or every entity may be missing.
        var sets = Bootstrap.indexSets(task: task, count: ps.count, settings: BootstrapSettings(resamples: 40, seed: UInt64(k)))
        sets += (0..<30).map { [$0] } + (0..<10).map { [$0, ($0 * 7) % 30, $0] }
        let reference = try Bootstrap.referenceResampledRows(task: task, predictions: ps, indexSets: sets)
        for (idx, ref) in zip(sets, reference) {
            let mine = fast.score(idx)
            #expect(mine.count == ref.count && mine.suite == ref.suite && mine.taskType == ref.taskType)
            #expect(same(mine.microF1, ref.microF1) && same(mine.macroF1, ref.macroF1) && same(mine.rougeL, ref.rougeL)
                    && same(mine.cjkRougeL, ref.cjkRougeL) && same(mine.precision, ref.precision) && same(mine.recall, ref.recall),
                    "seed \(100 + k), indices \(idx): \(mine) vs \(ref)")
        }
        #expect(try Bootstrap.resampledRows(task: task, predictions: ps, indexSets: sets).map(\.microF1) == reference.map(\.microF1))
    }
}

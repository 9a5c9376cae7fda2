// The evaluation end to end on a committed fixture (Tests/Fixtures/eval): a tiny BLOOM tuned by ecom-train, a task
// set in EcomGPT's and UniversalNER's layouts, the predictions ecom-eval made on it, and their scores from the
// reference scorers (scripts/reference/build_trained.py eval-e2e writes the model and predictions;
// scripts/reference/gen_eval_e2e.py the scores, from gen_metrics.py's restatement of the papers' scoring code).
@testable import EcomEval
import EcomTestSupport
import Foundation
import Testing

@Suite struct EvalEndToEndTests {
    static let fixture = TestPaths.fixture("eval")

    /// The request build_trained.py's EVAL_ARGS make with ecom-eval run.
    static func request(out: URL) -> EvalRunRequest {
        var r = EvalRunRequest(modelDirectory: fixture.appendingPathComponent("model"), outDirectory: out)
        r.ecomGPTDirectory = fixture.appendingPathComponent("ecomgpt")
        r.uniNERDirectory = fixture.appendingPathComponent("uniner")
        r.seed = 11
        r.bootstrap = BootstrapSettings(resamples: 0)
        r.settings.beams = 2
        r.settings.maxNewTokens = 24
        r.settings.uniNERMaxNewTokens = 16
        r.settings.batchSize = 2
        r.settings.workers = 1
        r.settings.threadsPerWorker = 1
        r.settings.showProgress = false
        return r
    }

    struct Expected: Decodable {
        struct Row: Decodable {
            var task: String, suite: String, task_type: String, n: Int
            var micro_f1: Double, macro_f1: Double?, rouge_l: Double?, cjk_rouge_l: Double?, precision: Double?, recall: Double?
        }
        struct Average: Decodable { var n: Int, micro_f1: Double, macro_f1: Double, rouge_l: Double, cjk_rouge_l: Double }
        var tasks: [Row]
        var ecomgpt_average: Average
    }

    static func jsonLines(_ url: URL) throws -> [NSDictionary] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? NSDictionary)
        }
    }

    /// Both nil, or both present and within 1e-6.
    static func close(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case let (x?, y?): abs(x - y) <= 1e-6
        default: false
        }
    }

    @Test func predictionsAndScoresEqualTheCommittedOnes() throws {
        let out = try TestPaths.makeTemporaryDirectory("eval-e2e")
        defer { try? FileManager.default.removeItem(at: out) }
        let want = try Self.jsonLines(Self.fixture.appendingPathComponent("predictions.jsonl"))
        #expect(want.count == 17)  // 6 + 5 EcomGPT examples, 6 UniversalNER questions
        let result = try EvalRun.run(Self.request(out: out))
        #expect(result.stats.generated == want.count && result.stats.remaining == 0)

        // Every stored field of every prediction (prompt, completion, answer, reference, token counts) as committed.
        let got = try Self.jsonLines(out.appendingPathComponent("predictions.jsonl"))
        #expect(got.count == want.count)
        for (g, w) in zip(got, want) {
            #expect(g == w, "\(w["task"] ?? "?") #\(w["id"] ?? "?"): got \(g["prediction"] ?? "nil"), want \(w["prediction"] ?? "nil")")
        }
        // Non-trivial answers: some right, some wrong, in every suite's table.
        let answers = want.map { ($0["prediction"] as? String ?? "", $0["reference"] as? String ?? "") }
        #expect(answers.contains { $0.0 == $0.1 } && answers.contains { $0.0 != $0.1 })

        // The rows equal the reference scorers' (Python) within 1e-6.
        let ref = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Self.fixture.appendingPathComponent("expected_scores.json")))
        #expect(result.rows.map(\.task) == ref.tasks.map(\.task))
        for (row, e) in zip(result.rows, ref.tasks) {
            #expect(row.suite.rawValue == e.suite && row.taskType == e.task_type && row.count == e.n, "\(e.task)")
            #expect(Self.close(row.microF1, e.micro_f1), "\(e.task) micro-F1 \(row.microF1) vs \(e.micro_f1)")
            #expect(Self.close(row.macroF1, e.macro_f1), "\(e.task) macro-F1 \(row.macroF1 ?? .nan) vs \(e.macro_f1 ?? .nan)")
            #expect(Self.close(row.rougeL, e.rouge_l), "\(e.task) Rouge-L \(row.rougeL ?? .nan) vs \(e.rouge_l ?? .nan)")
            #expect(Self.close(row.cjkRougeL, e.cjk_rouge_l), "\(e.task) CJK Rouge-L \(row.cjkRougeL ?? .nan) vs \(e.cjk_rouge_l ?? .nan)")
            #expect(Self.close(row.precision, e.precision) && Self.close(row.recall, e.recall), "\(e.task) precision/recall")
        }
        #expect(ref.tasks.contains { $0.micro_f1 > 0 && $0.micro_f1 < 1 })
        let avg = try #require(result.average)
        let ea = ref.ecomgpt_average
        #expect(avg.count == ea.n && Self.close(avg.microF1, ea.micro_f1) && Self.close(avg.macroF1, ea.macro_f1)
                && Self.close(avg.rougeL, ea.rouge_l) && Self.close(avg.cjkRougeL, ea.cjk_rouge_l))

        // summary.json holds the same rows.
        let summary = try JSONDecoder().decode(EvalSummary.self, from: Data(contentsOf: out.appendingPathComponent(EvalSummary.fileName)))
        #expect(summary.tasks == result.rows)
    }
}

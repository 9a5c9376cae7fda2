// The evaluation end to end on a random tiny model: predictions equal direct generation, scores equal EcomMetrics' on
// the same strings, resumption equals an uninterrupted run, changed settings are refused, the report parses.
@testable import EcomEval
import EcomMetrics
import EcomModel
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct EvalRunTests {
    let world = EvalFixture.world

    func lines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func predictionsAreTheModelsAnswersAndScoresAreTheMetricsLibrarys() throws {
        let out = try TestPaths.makeTemporaryDirectory("eval-run")
        let r = EvalFixture.request(out: out)
        let result = try EvalRun.run(r)
        let store = try PredictionStore(directory: out)
        #expect(store.predictions.count == 10)
        for line in try lines(store.url) {
            for key in ["task", "id", "prompt", "prediction", "reference"] { #expect(line[key] is String, "\(key)") }
        }
        // Each prediction equals generating its prompt directly with the same options, then extracting the answer.
        let model = try BloomModel.load(directory: world.model)
        let evaluator = Evaluator(model: model, tokenizer: world.tokenizer)
        for p in store.predictions {
            let ids = PromptEncoding.encode(p.prompt, tokenizer: world.tokenizer, maxTokens: r.settings.maxPromptTokens).ids
            let gen = model.generate(prompts: [ids], options: evaluator.options(for: p.suite, settings: r.settings))[0]
            let text = world.tokenizer.decode(gen.map(Int.init), skipSpecialTokens: false)
            #expect(p.completion == text)
            #expect(p.prediction == AnswerExtraction.answer(text, suite: p.suite))
            #expect(p.generatedTokens == gen.count)
            #expect(gen.count <= (p.suite == .ecomgpt ? 6 : 5))
        }
        // The rows equal the metrics library on the stored strings.
        #expect(result.rows.map(\.task) == ["EN-Lenovo-NER-NER", "EN-Shop-CLS-review_polarity", "UniNER-CrossNER_AI"])
        for row in result.rows {
            let ps = store.predictions.filter { $0.task == row.task }
            #expect(row.count == ps.count)
            if row.suite == .uniner {
                let s = UniversalNER.evaluate(predictions: ps.map(\.prediction), references: ps.map(\.reference))
                #expect(row.microF1 == s.f1 && row.precision == s.precision && row.macroF1 == nil)
            } else {
                let s = try ecomTaskScores(type: EcomTaskType(rawValue: row.taskType)!, predictions: ps.map(\.prediction),
                                           references: ps.map(\.reference), texts: ps.map(\.text), emptyHypothesis: .substituteError)
                #expect(row.microF1 == s.microF1 && row.macroF1 == s.macroF1 && row.rougeL == s.rougeLF)
                #expect(row.cjkRougeL == (try RougeL(flavor: .cjk).score(predictions: ps.map(\.prediction), references: ps.map(\.reference)).average.f))
            }
        }
        #expect(result.table.contains("EcomGPT average"))
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any])
        #expect((summary["tasks"] as? [Any])?.count == 3)
    }

    @Test func scoringMatchesTheMetricsLibraryOnNonTrivialAnswers() throws {
        // Predictions partly right, so that the scores are neither 0 nor 1.
        func p(_ task: String, _ type: String, _ pred: String, _ ref: String, _ text: String = "") -> EvalPrediction {
            EvalPrediction(task: task, id: pred + ref, prompt: "", prediction: pred, reference: ref, suite: .ecomgpt, taskType: type,
                           text: text, labelSeparator: ", ", completion: pred, promptTokens: 1, truncatedTokens: 0, generatedTokens: 1)
        }
        let cls = [p("c", "CLS", "good", "good"), p("c", "CLS", "bad.", "neutral"), p("c", "CLS", "", "bad"), p("c", "CLS", "neutral, good", "neutral")]
        let row = try EvalScoring.score(task: "c", cls)
        let s = try ecomTaskScores(type: .cls, predictions: cls.map(\.prediction), references: cls.map(\.reference), emptyHypothesis: .substituteError)
        #expect(row.microF1 == s.microF1 && row.macroF1 == s.macroF1 && row.rougeL == s.rougeLF)
        #expect(row.microF1 > 0 && row.microF1 < 1)
        let ner = [p("n", "NER", "brand: Lenovo\nproduct: None", "brand: Lenovo\nproduct: ThinkPad X1", EvalFixture.nerSentences[0]),
                   p("n", "NER", "商品: 联想", "brand: None\nproduct: None", EvalFixture.nerSentences[2])]
        let nrow = try EvalScoring.score(task: "n", ner)
        let ns = try ecomTaskScores(type: .ner, predictions: ner.map(\.prediction), references: ner.map(\.reference), texts: ner.map(\.text))
        #expect(nrow.microF1 == ns.microF1 && nrow.macroF1 == ns.macroF1 && nrow.rougeL == ns.rougeLF)
        #expect(nrow.cjkRougeL == (try RougeL(flavor: .cjk).score(predictions: ner.map(\.prediction), references: ner.map(\.reference)).average.f))
        #expect(nrow.microF1 > 0)
    }

    @Test func anInterruptedEvaluationResumesToTheUninterruptedResult() throws {
        let whole = try TestPaths.makeTemporaryDirectory("eval-whole")
        _ = try EvalRun.run(EvalFixture.request(out: whole))
        let parts = try TestPaths.makeTemporaryDirectory("eval-parts")
        var first = EvalFixture.request(out: parts)
        first.settings.stopAfter = 4
        let stopped = try EvalRun.run(first)
        #expect(stopped.stats.generated == 4 && stopped.stats.remaining == 6)
        #expect(try PredictionStore(directory: parts).predictions.count == 4)
        let report = try String(contentsOf: parts.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(report.contains("incomplete: 6 examples"))
        // A crash mid-write leaves a torn line: it is dropped.
        let handle = try FileHandle(forWritingTo: parts.appendingPathComponent("predictions.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"task\":\"EN-Shop-CLS-review_pol".utf8))
        try handle.close()
        let resumed = try EvalRun.run(EvalFixture.request(out: parts))
        #expect(resumed.stats.alreadyDone == 4 && resumed.stats.generated == 6)
        #expect(try Data(contentsOf: parts.appendingPathComponent("predictions.jsonl")) == Data(contentsOf: whole.appendingPathComponent("predictions.jsonl")))
        let again = try EvalRun.run(EvalFixture.request(out: parts))
        #expect(again.stats.generated == 0 && again.stats.alreadyDone == 10)
        #expect(again.rows == (try EvalRun.run(EvalFixture.request(out: whole)).rows))
    }

    @Test func changedSettingsAreRefusedUnlessRestarted() throws {
        let out = try TestPaths.makeTemporaryDirectory("eval-changed")
        _ = try EvalRun.run(EvalFixture.request(out: out, limit: 1, uniner: false))
        var changed = EvalFixture.request(out: out, limit: 1, uniner: false)
        changed.settings.beams = 3
        #expect {
            try EvalRun.run(changed)
        } throws: { error in
            let m = "\(error)"
            return m.contains("beams: 2 -> 3") && m.contains("--restart")
        }
        changed.restart = true
        let restarted = try EvalRun.run(changed)
        #expect(restarted.stats.generated == 2 && restarted.stats.alreadyDone == 0)
        // A larger limit is not a change: it adds examples.
        changed.restart = false
        changed.limit = 2
        #expect(try EvalRun.run(changed).stats.alreadyDone == 2)
    }

    @Test func theReportIsWellFormedAndHoldsEveryTaskAndTheLossCurve() throws {
        let model = try TestPaths.makeTemporaryDirectory("eval-model-metrics")
        for f in ["config.json", "model.safetensors", "tokenizer.json"] {
            try FileManager.default.copyItem(at: world.model.appendingPathComponent(f), to: model.appendingPathComponent(f))
        }
        let metrics = (1...5).map { "{\"step\": \($0 * 10), \"split\": \"train\", \"loss\": \(6.0 - Double($0) * 0.5), \"lr\": 0.001, \"tokens_per_s\": 100, \"elapsed_s\": \($0)}" }
            + ["{\"step\": 50, \"split\": \"validation\", \"loss\": 4.0, \"lr\": 0.001, \"tokens_per_s\": 0, \"elapsed_s\": 5}", "{\"step\": 6"]
        try Data(metrics.joined(separator: "\n").utf8).write(to: model.appendingPathComponent("metrics.jsonl"))
        let out = try TestPaths.makeTemporaryDirectory("eval-report")
        var r = EvalFixture.request(out: out, limit: 2)
        r.modelDirectory = model
        let result = try EvalRun.run(r)
        let data = try Data(contentsOf: result.reportURL)
        let collector = XMLCollector()
        let parser = XMLParser(data: data)
        parser.delegate = collector
        #expect(parser.parse(), "report.html is not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        for task in result.rows.map(\.task) { #expect(collector.cells.contains(task), "\(task) missing from the table") }
        #expect(collector.elements["svg", default: 0] >= 5)  // four metrics + the loss curve
        #expect(collector.elements["tr", default: 0] == 1 + result.rows.count + 1)  // header, tasks, average
        #expect(collector.elements["polyline", default: 0] == 3)  // train, its moving average and validation
        #expect(collector.ids.contains("training"))
        #expect(EvalReport.trainingMetrics(modelDirectory: model).count == 6)
    }

    @Test func theSmoothedLossIsADebiasedMovingAverage() {
        // Weight 0.5: (0.5 x 1) / 0.5 = 1, then (0.25 + 1.5) / 0.75 = 2.333...; a constant stays itself from the start.
        let s = EvalReport.smoothedLosses([1, 3], weight: 0.5)
        #expect(s[0] == 1 && abs(s[1] - 7.0 / 3) < 1e-12)
        #expect(EvalReport.smoothedLosses([2, 2, 2]).allSatisfy { abs($0 - 2) < 1e-12 })
        let gap = EvalReport.smoothedLosses([1, .nan, 3], weight: 0.5)
        #expect(gap[0] == 1 && gap[1].isNaN && abs(gap[2] - 7.0 / 3) < 1e-12)
    }

    @Test func decodingIsBeamSearchForEcomGPTAndGreedyToTheNextTurnForUniversalNER() throws {
        let e = Evaluator(model: try BloomModel.load(directory: world.model), tokenizer: world.tokenizer)
        let beam = e.options(for: .ecomgpt, settings: EvalSettings())
        #expect(beam.numBeams == 4 && beam.maxNewTokens == 164 && beam.stop == nil && beam.eosTokenId == 2)
        let greedy = e.options(for: .uniner, settings: EvalSettings())
        #expect(greedy.numBeams == 1 && greedy.maxNewTokens == 256 && greedy.sampling == nil)
        let stop = try #require(greedy.stop)
        #expect(stop(world.tokenizer.encode(" [] USER:").map(Int32.init)))
        #expect(!stop(world.tokenizer.encode(" [\"MIT\"]").map(Int32.init)))
    }

    @Test func workUnitsBatchGreedyExamplesByFixedBlocks() throws {
        let items = try EvalItems.uniNER(directory: world.uniner) + EvalItems.ecomGPT(root: world.ecomgpt, seed: 1)
        var s = EvalSettings()
        s.batchSize = 2
        s.beams = 4
        let all = Set(items.map(\.key))
        #expect(Evaluator.units(items, pending: all, settings: s).map(\.count) == [2, 1] + Array(repeating: 1, count: 7))
        // With the first example done, the second still forms its block alone (the blocks do not shift).
        let rest = all.subtracting([items[0].key])
        #expect(Evaluator.units(items, pending: rest, settings: s).prefix(2).map { $0.map(\.id) } == [["1:university"], ["2:researcher"]])
    }
}

/// Collects element counts, text cells and ids while parsing.
final class XMLCollector: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    var cells: Set<String> = []
    var ids: Set<String> = []
    private var text = ""
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        elements[name, default: 0] += 1
        if let id = attributes["id"] { ids.insert(id) }
        text = ""
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "td" { cells.insert(text) }
    }
}

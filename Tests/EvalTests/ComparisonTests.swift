// The paired comparison on hand-made evaluations: identical sides differ by exactly [0, 0], a side better on every
// example has a difference interval above zero, only shared examples are compared (none shared is an error naming both
// directories), and the page is well-formed XHTML with the paired charts, whiskers, loss curves and example tables.
@testable import EcomEval
import EcomTestSupport
import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct ComparisonTests {
    let settings = BootstrapSettings(resamples: 300, seed: 2)

    func side(_ name: String, _ ps: [EvalPrediction], configuration: EvalConfiguration? = nil) -> EvalDirectoryContents {
        EvalDirectoryContents(directory: URL(fileURLWithPath: "/evals/\(name)"), predictions: ps, configuration: configuration)
    }

    func extract(_ task: String, _ n: Int, right k: (Int) -> Int) -> [EvalPrediction] { Made.extract(task, n, right: k) }

    @Test func identicalEvaluationsDifferByExactlyZero() throws {
        let ps = Made.cls("t", 30) { $0 % 3 != 0 } + extract("x", 20) { $0 % 5 }
        let c = try Comparisons.compare(base: side("a", ps), tuned: side("b", ps.shuffled()), settings: settings)
        #expect(c.matched == 50 && c.warnings.isEmpty)
        for r in c.tasks + [try #require(c.ecomGPTAverage)] {
            #expect(r.base == r.tuned)
            #expect(r.difference.values.allSatisfy { $0 == 0 })
            #expect(Set(r.intervals.difference.keys) == ["micro_f1", "macro_f1", "rouge_l", "cjk_rouge_l"])
            #expect(r.intervals.difference.values.allSatisfy { $0 == ScoreInterval(low: 0, high: 0) })
            #expect(r.intervals.base == r.intervals.tuned)
        }
        #expect(Comparisons.table(c).contains("+0.00 [+0.00, +0.00]"))
    }

    @Test func aSideBetterOnEveryExampleHasADifferenceAboveZero() throws {
        // Base names one or two of four gold items, tuned one more on every example.
        let base = extract("x", 40) { 1 + $0 % 2 }, tuned = extract("x", 40) { 2 + $0 % 2 }
        let c = try Comparisons.compare(base: side("a", base), tuned: side("b", tuned), settings: settings)
        let r = c.tasks[0]
        for m in ["micro_f1", "macro_f1", "rouge_l", "cjk_rouge_l"] {
            let d = try #require(r.intervals.difference[m])
            #expect(d.low > 0, "\(m): [\(d.low), \(d.high)]")
            #expect(d.contains(r.difference[m]!))
            #expect(isClose(r.difference[m]!, r.tuned[m]! - r.base[m]!))
        }
        // The same resamples on both sides: the base and tuned intervals are each side's own bootstrap.
        let own = try Bootstrap.withIntervals(rows: [EvalScoring.score(task: "x", base)], predictions: ["x": base], settings: settings)
        #expect(own.rows[0].intervals == r.intervals.base)
        #expect(c.ecomGPTAverage?.intervals.difference["micro_f1"].map { $0.low > 0 } == true)
    }

    @Test func onlySharedExamplesAreComparedAndNoneSharedIsAnError() throws {
        let base = Made.cls("t", 10) { $0 < 5 }
        let tuned = Array(Made.cls("t", 15) { _ in true }.dropFirst(5)) + Made.cls("only-tuned", 4) { _ in true }
        let c = try Comparisons.compare(base: side("a", base), tuned: side("b", tuned), settings: settings)
        #expect(c.matched == 5 && c.tasks.map(\.task) == ["t"] && c.tasks[0].count == 5)
        #expect(c.base.dropped == 5 && c.tuned.dropped == 9)
        #expect(c.warnings.contains { $0.contains("left out 5 of /evals/a and 9 of /evals/b") })
        // Examples 5...9: base wrong, tuned right.
        #expect(c.tasks[0].base["micro_f1"] == 0 && c.tasks[0].tuned["micro_f1"] == 1)
        #expect(c.examples["t"]!.map(\.id) == ["5", "6", "7"])
        #expect(c.examples["t"]!.allSatisfy { $0.baseCorrect == false && $0.tunedCorrect == true })
        #expect {
            try Comparisons.compare(base: side("a", base), tuned: side("b", Made.cls("other", 3) { _ in true }), settings: settings)
        } throws: { error in
            let m = "\(error)"
            return m.contains("no example is in both") && m.contains("/evals/a/predictions.jsonl") && m.contains("/evals/b/predictions.jsonl")
        }
    }

    @Test func directoriesAreReadAndThePageIsWellFormedWithPairedChartsAndExamples() throws {
        let root = try TestPaths.makeTemporaryDirectory("eval-compare")
        let adapter = root.appendingPathComponent("adapter")
        try FileManager.default.createDirectory(at: adapter, withIntermediateDirectories: true)
        let metrics = (1...4).map { "{\"step\": \($0 * 10), \"split\": \"train\", \"loss\": \(3.0 - Double($0) * 0.3)}" }
            + ["{\"step\": 40, \"split\": \"validation\", \"loss\": 2.0}"]
        try Data(metrics.joined(separator: "\n").utf8).write(to: adapter.appendingPathComponent("metrics.jsonl"))
        let long = String(repeating: "context <b>&amp; ", count: 80) + "\nWhich polarity?"
        func dir(_ name: String, _ ps: [EvalPrediction], lora: URL?) throws -> URL {
            let d = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try PredictionStore(directory: d).append(ps)
            let config = EvalConfiguration(model: "/models/m.gguf", modelFingerprint: "aa", tokenizerFingerprint: "aa",
                                           lora: lora?.path, loraFingerprint: lora == nil ? nil : "bb")
            try EvalSummary(configuration: config, tasks: [], ecomGPTAverage: nil, limit: nil, examples: ps.count,
                            generatedThisRun: 0, secondsThisRun: 0).encoded().write(to: d.appendingPathComponent("summary.json"))
            return d
        }
        let cls = (0..<12).map { i in Made.prediction("EN-Shop-CLS-polarity", i, i % 2 == 0 ? "good" : "bad", "good", prompt: long) }
        let gen = (0..<6).map { i in Made.prediction("ZH-Generate-title", i, "标题\(i)", "商品标题\(i)", type: "Generate") }
        let uni = (0..<4).map { i in Made.prediction("UniNER-CrossNER_AI", i, "[]", "[\"MIT\"]", type: "NER", suite: .uniner) }
        let base = try dir("base", cls + gen + uni, lora: nil)
        let tuned = try dir("tuned", (cls + gen + uni).map { var p = $0; if p.suite == .ecomgpt { p.prediction = p.reference }; return p },
                            lora: adapter)
        let c = try Comparisons.compare(baseDirectory: base, tunedDirectory: tuned, settings: settings, examples: 2)
        #expect(c.tuned.configuration?.lora == adapter.path && c.training.count == 5)
        #expect(c.tasks.map(\.task) == ["EN-Shop-CLS-polarity", "ZH-Generate-title", "UniNER-CrossNER_AI"])
        #expect(c.examples["ZH-Generate-title"]!.allSatisfy { $0.baseCorrect == nil })  // free text: not judged

        // The JSON: per task and average n, metrics, intervals, differences.
        let json = try #require(try JSONSerialization.jsonObject(with: c.encoded()) as? [String: Any])
        #expect(Set(json.keys) == ["base", "tuned", "bootstrap", "matched", "tasks", "ecomgpt_average", "warnings"])
        let task = try #require((json["tasks"] as? [[String: Any]])?.first)
        #expect(Set(task.keys) == ["task", "suite", "task_type", "n", "base", "tuned", "difference", "intervals"])
        let ci = try #require(task["intervals"] as? [String: [String: [String: Double]]])
        #expect(Set(ci.keys) == ["base", "tuned", "difference"] && ci["difference"]?["micro_f1"]?["low"] != nil)
        #expect((json["ecomgpt_average"] as? [String: Any])?["n"] as? Int == 18)

        let html = ComparisonReport.html(c, title: "base vs tuned", notes: ["LoRA r=8 on 300 examples per task"])
        let collector = PageCollector()
        let parser = XMLParser(data: Data(html.utf8))
        parser.delegate = collector
        #expect(parser.parse(), "the page is not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        // Per metric (micro-F1, macro-F1, Rouge-L, CJK Rouge-L) a paired-bars chart with its differences panel.
        #expect(collector.classes["paired-bars", default: 0] == 4 && collector.classes["difference-panel", default: 0] == 4)
        // Whiskers: base and tuned bars and the difference of each row with values (micro-F1: 3 rows + the average).
        #expect(collector.classes["whisker", default: 0] >= 4 * 3 * 3)
        #expect(collector.elements["circle", default: 0] >= 4 * 3)
        #expect(collector.classes["legend", default: 0] == 8)
        #expect(collector.classes["examples", default: 0] == 3 && collector.elements["details", default: 0] == 6)
        #expect(collector.elements["polyline", default: 0] == 3 && collector.ids.contains("training"))
        #expect(collector.text.contains("LoRA r=8 on 300 examples per task"))
        #expect(collector.text.contains("Which polarity?") && collector.text.contains("✓") && collector.text.contains("✗"))
        #expect(!html.contains("<script"))
    }
}

/// Element counts, class counts, ids and all text while parsing.
final class PageCollector: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    var classes: [String: Int] = [:]
    var ids: Set<String> = []
    var text = ""
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        elements[name, default: 0] += 1
        if let id = attributes["id"] { ids.insert(id) }
        for c in (attributes["class"] ?? "").split(separator: " ") { classes[String(c), default: 0] += 1 }
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
}

// A small evaluation world built once per test process in a temporary directory: EcomGPT-style task folders (CLS and
// NER), a UniversalNER set, a BPE tokenizer trained on their text and a random tiny BLOOM model for it.
import EcomEval
import EcomInstruct
import EcomTestSupport
import EcomTokenizer
import Foundation

enum EvalFixture {
    struct World: Sendable {
        let root: URL
        let ecomgpt: URL
        let uniner: URL
        let model: URL
        let tokenizer: Tokenizer
    }

    static let clsLabels = ["good", "bad", "neutral"]
    static let clsSentences = ["the battery lasts long", "the screen broke after a day", "it is a phone", "fast delivery and kind seller"]
    static let clsGold = ["good", "bad", "neutral", "good"]
    static let nerSentences = ["Lenovo ThinkPad X1 is light", "I bought a Yoga laptop from Lenovo", "no brand here"]

    /// Writes `<root>/<Dataset>/tasks/<name>/{meta-info.json,test.json}`.
    static func writeTask(_ root: URL, dataset: String, name: String, meta: [String: Any], lines: [[String: Any]]) throws {
        let dir = root.appendingPathComponent(dataset).appendingPathComponent("tasks").appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys]).write(to: dir.appendingPathComponent("meta-info.json"))
        let text = try lines.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
        try Data(text.joined(separator: "\n").utf8).write(to: dir.appendingPathComponent("test.json"))
    }

    static let world: World = {
        do { return try make() } catch { fatalError("cannot build the evaluation fixture: \(error)") }
    }()

    static func make() throws -> World {
        let root = try TestPaths.makeTemporaryDirectory("eval-world")
        let ecomgpt = root.appendingPathComponent("ecomgpt")
        try writeTask(ecomgpt, dataset: "Shop", name: "EN-Shop-CLS-review_polarity", meta: [
            "task": "EN-Shop-CLS-review_polarity", "defi": "review polarity",
            "test_prompt": ["instruction": "### Instruction:\n{sentences}\nSelect the polarity from: {label_set}. \n### Response:"],
            "label_set": ["en": clsLabels], "label_key": "en", "label_sep": ", ",
        ], lines: zip(clsSentences, clsGold).map { ["sentences": $0, "labels": ["en": [$1]]] })
        try writeTask(ecomgpt, dataset: "Lenovo", name: "EN-Lenovo-NER-NER", meta: [
            "task": "EN-Lenovo-NER-NER", "defi": "named entity recognition",
            "test_prompt": ["instruction": "### Instruction:\n{sentences}\nExtract all named entity with type about {label_set} in the sentence. \n### Response:"],
            "label_set": ["en": ["brand", "product"]], "label_key": "en", "label_sep": ", ",
        ], lines: [
            ["sentences": nerSentences[0], "spans": [["term": "Lenovo", "start": 0, "end": 6, "type": "brand"],
                                                     ["term": "ThinkPad X1", "start": 7, "end": 18, "type": "product"]]],
            ["sentences": nerSentences[1], "spans": [["term": "Yoga", "start": 11, "end": 15, "type": "product"],
                                                     ["term": "Lenovo", "start": 28, "end": 34, "type": "brand"]]],
            ["sentences": nerSentences[2], "spans": [[String: Any]]()],
        ])
        // A task folder that is not in the list: must not be evaluated.
        try writeTask(ecomgpt, dataset: "Other", name: "EN-Other-CLS-unused", meta: [
            "task": "x", "defi": "unused", "test_prompt": ["instruction": "{sentences} {label_set}\n### Response:"],
            "label_set": ["en": ["a", "b"]], "label_key": "en",
        ], lines: [["sentences": "s", "labels": ["en": ["a"]]]])
        try Data("EN-Lenovo-NER-NER\nEN-Shop-CLS-review_polarity".utf8).write(to: ecomgpt.appendingPathComponent("held_out_tasks.txt"))

        let uniner = root.appendingPathComponent("uniner")
        try FileManager.default.createDirectory(at: uniner, withIntermediateDirectories: true)
        func conversation(_ id: String, _ text: String, _ type: String, _ answer: String) -> [String: Any] {
            ["id": id, "conversations": [["from": "human", "value": "Text: " + text], ["from": "gpt", "value": "I've read this text."],
                                         ["from": "human", "value": "What describes \(type) in the text?"], ["from": "gpt", "value": answer]]]
        }
        let set = [conversation("0", "Deep learning was used at MIT.", "field", "[\"Deep learning\"]"),
                   conversation("1", "Deep learning was used at MIT.", "university", "[\"MIT\"]"),
                   conversation("2", "Turing wrote a paper.", "researcher", "[\"Turing\"]")]
        try JSONSerialization.data(withJSONObject: set).write(to: uniner.appendingPathComponent("CrossNER_AI.json"))

        // Tokenizer trained on everything the prompts contain, and a random model over its vocabulary.
        var corpus: [String] = clsSentences + nerSentences + ["Deep learning was used at MIT.", "Turing wrote a paper."]
        corpus += ["Below is an instruction that describes the review polarity task. Write a response that appropriately completes the request.",
                   "### Instruction:\nExtract all named entity with type about brand, product in the sentence. \n### Response:\nbrand: Lenovo",
                   UniversalNERTemplate.system + " USER: ASSISTANT: I've read this text.</s> What describes field in the text?"]
        let tokJSON = try BPETrainer(vocabSize: 400, minFrequency: 1).train(texts: Array(repeating: corpus, count: 3).flatMap { $0 })
        let tokURL = root.appendingPathComponent("tokenizer.json")
        try tokJSON.write(to: tokURL)
        let model = root.appendingPathComponent("model")
        try RandomModel.write(to: model, tokenizerFile: tokURL, hiddenSize: 32, layers: 2, heads: 4, seed: 7)
        return World(root: root, ecomgpt: ecomgpt, uniner: uniner, model: model, tokenizer: try Tokenizer(contentsOf: tokURL))
    }

    /// A request over the world with small generation settings (printed seeds: candidates 11, weights 7).
    static func request(out: URL, limit: Int? = nil, uniner: Bool = true) -> EvalRunRequest {
        var r = EvalRunRequest(modelDirectory: world.model, outDirectory: out)
        r.ecomGPTDirectory = world.ecomgpt
        r.uniNERDirectory = uniner ? world.uniner : nil
        r.limit = limit
        r.seed = 11
        r.settings.beams = 2
        r.settings.maxNewTokens = 6
        r.settings.uniNERMaxNewTokens = 5
        r.settings.batchSize = 2
        r.settings.workers = 1
        r.settings.showProgress = false
        return r
    }
}

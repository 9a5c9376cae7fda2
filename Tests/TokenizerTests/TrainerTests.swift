// The BPE trainer against HF's BpeTrainer (trainer.json from scripts/reference/gen_tokenizer.py): same vocabulary,
// same merges, same encodings of probe texts, for the bloom and gpt2 presets.
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing

@Suite struct TrainerTests {
    @Test(arguments: ["bloom", "gpt2"])
    func matchesHFTrainer(_ presetName: String) throws {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.fixture("tokenizer/trainer.json"))) as! [String: Any]
        let corpus = root["corpus"] as! [String]
        let expected = (root["trained"] as! [String: Any])[presetName] as! [String: Any]
        let trainer = BPETrainer(vocabSize: expected["vocab_size"] as! Int, minFrequency: expected["min_frequency"] as! Int,
                                 specialTokens: root["special_tokens"] as! [String], preset: BPETrainer.Preset(rawValue: presetName)!)
        let data = try trainer.train(texts: corpus)
        let ours = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let model = ours["model"] as! [String: Any]
        #expect(model["vocab"] as! [String: Int] == expected["vocab"] as! [String: Int])
        let ourMerges = (model["merges"] as! [[String]])
        let hfMerges = (expected["merges"] as! [[String]])
        #expect(ourMerges.count == hfMerges.count)
        if let i = (0..<min(ourMerges.count, hfMerges.count)).first(where: { ourMerges[$0] != hfMerges[$0] }) {
            Issue.record("first differing merge at \(i): ours \(ourMerges[i]), HF \(hfMerges[i])")
        }
        let tok = try Tokenizer(json: data)
        for case let e as [String: Any] in expected["encodings"] as! [Any] {
            #expect(tok.encode(e["text"] as! String) == e["ids"] as! [Int])
        }
    }

    @Test func readsJSONLinesCorpusAndReportsBadLines() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("c.jsonl")
        try Data("{\"text\": \"a b\"}\n{\"text\": \"c\"}\n".utf8).write(to: good)
        #expect(try BPETrainer.readCorpus([good]) == ["a b", "c"])
        let bad = dir.appendingPathComponent("bad.jsonl")
        try Data("{\"text\": \"a\"}\n{\"txt\": 1}\n".utf8).write(to: bad)
        #expect(throws: TokenizerError.badLine(source: bad.path, line: 2, reason: "missing string field \"text\"")) {
            try BPETrainer.readCorpus([bad])
        }
    }
}

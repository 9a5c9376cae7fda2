// The tools' JSON Lines layer: parsing with line numbers, forward lines equal to the model's logits, info.
import EcomModel
import EcomTestSupport
import Foundation
import Testing

@Suite struct ModelRequestsTests {
    func parseError(_ text: String, field: ModelRequests.Field = .ids) -> String {
        do { _ = try ModelRequests.parse(Data(text.utf8), source: "in.jsonl", field: field, vocabSize: 64); return "" } catch { return "\(error)" }
    }

    @Test func badLinesNameTheirNumber() {
        #expect(parseError("{\"ids\":[1]}\n\nnot json\n") == "in.jsonl:3: not a JSON object")
        #expect(parseError("{\"ids\":[1, 64]}\n").hasPrefix("in.jsonl:1: token id 64 is outside"))
        #expect(parseError("{\"ids\":[1, 2], \"attention_mask\":[1]}\n").contains("in.jsonl:1: \"attention_mask\" has 1 entries"))
        #expect(parseError("{\"ids\":[1, 2], \"attention_mask\":[0, 2]}\n").hasPrefix("in.jsonl:1:"))
        #expect(parseError("{\"ids\":[]}\n").hasPrefix("in.jsonl:1: \"ids\" is empty"))
        #expect(parseError("{\"text\":\"a\"}\n", field: .prompt) == "in.jsonl:1: missing string field \"prompt\"")
    }

    @Test func forwardLineHoldsTheModelsLogits() throws {
        let reqs = try ModelRequests.parse(Data("{\"ids\":[1,20,33],\"attention_mask\":[1,1,1]}\n".utf8), source: "x", field: .ids, vocabSize: 64)
        #expect(reqs == [ModelRequest(line: 1, ids: [1, 20, 33], attentionMask: [1, 1, 1])])
        for last in [false, true] {
            let line = ModelRequests.forwardLine(TinyModel.f32, reqs[0], lastOnly: last)
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: [[Double]]]
            let rows = obj["logits"]!
            #expect(rows.count == (last ? 1 : 3))
            let expected = TinyModel.f32.forward(ids: [1, 20, 33], batch: 1).storage.suffix(rows.count * 64)
            // The last row alone goes through the GEMV, the full sequence through GEMM: equal up to rounding.
            #expect(firstMismatch(rows.flatMap { $0 }.map(Float.init), Array(expected), rtol: 0, atol: 1e-5) == nil)
        }
    }

    @Test func infoDescribesTheCheckpoint() throws {
        let text = try ModelRequests.info(TinyModel.f16Dir)
        let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(obj["parameters"] as? Int == 64 * 48 + 4 * 48 + 2 * (3 * 48 * 48 + 3 * 48 + 48 * 48 + 48 + 8 * 48 * 48 + 5 * 48 + 4 * 48))
        #expect((obj["dtypes"] as? [String: Int]) == ["F16": 29])
    }
}

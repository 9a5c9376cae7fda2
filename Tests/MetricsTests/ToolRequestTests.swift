// The JSON Lines requests behind `ecom-metrics`: answers, and errors naming the line.
import Foundation
import Testing
@testable import EcomMetrics

@Suite struct ToolRequestTests {
    @Test func rougeLAnswer() throws {
        let out = try MetricsRequest.rougeL("{\"prediction\":\"a b c\",\"reference\":\"a c\"}\n\n{\"prediction\":\"x\",\"reference\":\"x\"}\n",
                                            source: "t", flavor: .rouge, emptyHypothesis: .raise)
        let obj = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        #expect((obj["per_example"] as! [Any]).count == 2)
        #expect(near(obj["r"] as! Double, 1.0) && near(obj["p"] as! Double, (2.0 / 3.0 + 1) / 2))
    }

    /// JSON Lines of {"prediction": ..., "reference": ...} (written by JSONSerialization, so the strings reach the
    /// tool exactly as in the fixture).
    private func jsonLines(_ predictions: [Any], _ references: [Any]) throws -> String {
        try zip(predictions, references).map {
            String(decoding: try JSONSerialization.data(withJSONObject: ["prediction": $0, "reference": $1]), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
    }

    /// Each key of `want` (a fixture result from the reference scorer) against the tool's JSON answer.
    private func expectAnswer(_ out: String, _ want: [String: Any], _ what: String) throws {
        let obj = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        #expect(Set(obj.keys) == Set(want.keys), "\(what): keys \(obj.keys.sorted())")
        for (k, w) in want {
            #expect(near(Fixture.double(obj[k]), Fixture.double(w)), "\(what) \(k): \(obj[k] ?? "nil") vs \(w)")
        }
    }

    /// `set-f1` on every SetScore batch of the fixture: the seven numbers of EcomGPT's SetScore (restated reference).
    @Test func setF1Answer() throws {
        let batches = try Fixture.load("setscore.json")["batches"] as! [[String: Any]]
        for (b, batch) in batches.enumerated() {
            let out = try MetricsRequest.setF1(try jsonLines(batch["prediction"] as! [Any], batch["reference"] as! [Any]),
                                               source: "t")
            try expectAnswer(out, batch["result"] as! [String: Any], "set-f1 batch \(b)")
        }
    }

    /// `uniner` on the fixture's batches (1, 7, 100 and all 1500 pairs): UniversalNER's evaluator (restated reference).
    @Test func uniNERAnswer() throws {
        let f = try Fixture.load("uniner.json")
        let pairs = f["pairs"] as! [[String]]
        for batch in f["batches"] as! [[String: Any]] {
            let start = batch["start"] as! Int, count = batch["count"] as! Int
            let sl = Array(pairs[start..<(start + count)])
            let out = try MetricsRequest.uniner(try jsonLines(sl.map { $0[0] }, sl.map { $0[1] }), source: "t")
            try expectAnswer(out, batch["result"] as! [String: Any], "uniner \(start)+\(count)")
        }
    }

    @Test func errorsNameTheLine() {
        func line(_ body: () throws -> String) -> Int? {
            do { _ = try body(); return -1 } catch let e as MetricsInputError { return e.line } catch { return -2 }
        }
        #expect(line { try MetricsRequest.setF1("{\"prediction\":[],\"reference\":[]}\n[1]\n", source: "t") } == 2)
        #expect(line { try MetricsRequest.uniner("{\"prediction\":\"[]\"}\n", source: "t") } == 1)
        #expect(line { try MetricsRequest.rougeL("\n{\"prediction\":\"..\",\"reference\":\"a\"}", source: "t", flavor: .rouge,
                                                 emptyHypothesis: .raise) } == 2)
        #expect(line { try MetricsRequest.entityF1("{\"text\":\"a\",\"prediction\":{\"X\":[1]},\"reference\":{}}", source: "t") } == 1)
        #expect(line { try MetricsRequest.setF1(" \n", source: "t") } == nil)
    }

    @Test func entityF1KeepsTypeOrder() throws {
        // "b" is labelled by the later type Y, so the prediction's X chunk is "a" only.
        let out = try MetricsRequest.entityF1("{\"text\":\"ab\",\"prediction\":{\"X\":[\"ab\"],\"Y\":[\"b\"]},\"reference\":{\"X\":[\"a\"]}}",
                                              source: "t")
        let obj = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        #expect(obj["micro_r"] as! Double == 1 && obj["micro_p"] as! Double == 0.5)
    }
}

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

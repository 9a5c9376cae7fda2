// UniversalNER's evaluator and EcomGPT's per-task scoring against the restated references' fixtures.
import Foundation
import Testing
@testable import EcomMetrics

@Suite struct UniNERAndTaskTests {
    @Test func uniNERParsingAndScores() throws {
        let f = try Fixture.load("uniner.json")
        let pairs = (f["pairs"] as! [[String]])
        let parsed = f["parsed_first_300"] as! [[String]]
        for (k, want) in parsed.enumerated() {
            let got = UniversalNER.parse(pairs[k][0]).map { item -> String in
                switch item {
                case .text(let s): return s.string
                case .tuple(let xs): return xs.map(\.string).joined(separator: "|")
                }
            }
            #expect(got == want, "pair \(k): \(pairs[k][0].debugDescription)")
        }
        let per = f["per_example_pr"] as! [[Double]]
        var bad = 0
        for (k, p) in pairs.enumerated() {
            let s = UniversalNER.evaluate(predictions: [p[0]], references: [p[1]])
            if !(near(s.precision, per[k][0]) && near(s.recall, per[k][1])) {
                bad += 1
                if bad < 5 { Issue.record("pair \(k): \(s) vs \(per[k]) \(p)") }
            }
        }
        #expect(bad == 0)
        for batch in f["batches"] as! [[String: Any]] {
            let start = batch["start"] as! Int, count = batch["count"] as! Int
            let sl = Array(pairs[start..<(start + count)])
            let s = UniversalNER.evaluate(predictions: sl.map { $0[0] }, references: sl.map { $0[1] })
            let w = batch["result"] as! [String: Double]
            #expect(near(s.precision, w["precision"]!) && near(s.recall, w["recall"]!) && near(s.f1, w["f1"]!))
        }
    }

    @Test func uniNERNormalisation() {
        #expect(UniversalNER.normalize("The  Beatles!") == "beatles")
        #expect(UniversalNER.normalize("an Apple, a day") == "apple day")
        #expect(UniversalNER.normalize("théâtre the") == "théâtre")
        #expect(UniversalNER.parse("Answer: [\"x\"]").isEmpty)
        #expect(UniversalNER.parse("[\"a\", 1]").isEmpty)
    }

    @Test func ecomGPTTaskScores() throws {
        let cases = try Fixture.load("tasks.json")["cases"] as! [[String: Any]]
        for c in cases {
            let task = c["task"] as! String
            let type = EcomTaskType(rawValue: c["type"] as! String)!
            let preds = c["prediction"] as! [String], golds = c["reference"] as! [String]
            let texts = c["text"] as? [String] ?? []
            guard let want = c["result"] as? [String: Any] else {
                #expect(throws: RougeInputError.self, "\(task)") {
                    try ecomTaskScores(type: type, predictions: preds, references: golds, texts: texts)
                }
                _ = try ecomTaskScores(type: type, predictions: preds, references: golds, texts: texts,
                                       emptyHypothesis: .substituteError)
                continue
            }
            let got = try ecomTaskScores(type: type, predictions: preds, references: golds, texts: texts)
            #expect(near(got.microF1, Fixture.double(want["micro_f1"])), "\(task) micro: \(got.microF1) vs \(want["micro_f1"]!)")
            let wm = Fixture.double(want["macro_f1"])
            #expect(near(got.macroF1, wm) || (wm.isNaN && got.macroF1.isNaN), "\(task) macro: \(got.macroF1) vs \(wm)")
            #expect(near(got.rougeLF, Fixture.double(want["rouge_l_f"])), "\(task) rouge: \(got.rougeLF)")
        }
    }

    @Test func jsonParserFollowsPython() throws {
        #expect(try JSONValue.parse(" [NaN, -Infinity, \"\\u00e9\\ud83d\\ude00\"] ") != .null)
        for bad in ["[\"a\",]", "['a']", "[\"a\\q\"]", "[\"a\tb\"]", "[1] x", "[01]"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONValue.parse(bad) }
        }
        if case .object(let kv) = try JSONValue.parse("{\"b\": 1, \"a\": 2, \"b\": 3}") {
            #expect(kv.map(\.0) == ["b", "a"] && kv[0].1 == .number(3))
        } else { Issue.record("not an object") }
    }
}

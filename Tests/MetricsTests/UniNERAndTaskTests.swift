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
        var nullCases = 0
        for c in cases {
            let task = c["task"] as! String
            let type = EcomTaskType(rawValue: c["type"] as! String)!
            let preds = c["prediction"] as! [String], golds = c["reference"] as! [String]
            let texts = c["text"] as? [String] ?? []
            // `.substituteError` scores "error" for the refused Rouge-L hypotheses: the reference scorer with the same
            // substitution gives `result_substitute_error` (equal to `result` where the paper code does not raise).
            let substituted = try ecomTaskScores(type: type, predictions: preds, references: golds, texts: texts,
                                                 emptyHypothesis: .substituteError)
            let ws = try #require(c["result_substitute_error"] as? [String: Any], "\(task): no substituted reference")
            check(substituted, ws, "\(task) substitute")
            guard let want = c["result"] as? [String: Any] else {
                nullCases += 1
                #expect(throws: RougeInputError.self, "\(task)") {
                    try ecomTaskScores(type: type, predictions: preds, references: golds, texts: texts)
                }
                continue
            }
            check(try ecomTaskScores(type: type, predictions: preds, references: golds, texts: texts), want, task)
        }
        #expect(nullCases == 9, "cases where EcomGPT's code raises (5 sampled, 4 hand-made): \(nullCases)")
    }

    /// micro F1, macro F1 (NaN where the reference's is NaN or null) and Rouge-L F against a fixture result.
    private func check(_ got: EcomTaskScores, _ want: [String: Any], _ what: String) {
        #expect(near(got.microF1, Fixture.double(want["micro_f1"])), "\(what) micro: \(got.microF1) vs \(want["micro_f1"]!)")
        let wm = Fixture.double(want["macro_f1"])
        #expect(near(got.macroF1, wm) || (wm.isNaN && got.macroF1.isNaN), "\(what) macro: \(got.macroF1) vs \(wm)")
        #expect(near(got.rougeLF, Fixture.double(want["rouge_l_f"])), "\(what) rouge: \(got.rougeLF) vs \(want["rouge_l_f"]!)")
    }

    @Test func jsonParserFollowsPython() throws {
        // Python: json.loads(' [NaN, -Infinity, "\\u00e9\\ud83d\\ude00", Infinity, "\\uD83D\\uDE00x\\u0041", -0.0, 1e400] ')
        //   == [nan, -inf, 'é😀' (U+00E9 U+1F600), inf, '😀xA' (U+1F600 U+0078 U+0041), -0.0, inf]
        // (JSONValue's == takes NaN as equal to NaN, so each number is checked on its own.)
        let v = try JSONValue.parse(" [NaN, -Infinity, \"\\u00e9\\ud83d\\ude00\", Infinity, \"\\uD83D\\uDE00x\\u0041\", -0.0, 1e400] ")
        guard case .array(let xs) = v, xs.count == 7 else { Issue.record("not a 7-item array: \(v)"); return }
        func number(_ x: JSONValue) -> Double? { if case .number(let d) = x { return d }; return nil }
        func scalars(_ x: JSONValue) -> [UInt32]? { if case .string(let s) = x { return s.unicodeScalars.map(\.value) }; return nil }
        #expect(number(xs[0])?.isNaN == true, "NaN: \(xs[0])")
        #expect(number(xs[1]) == -.infinity, "-Infinity: \(xs[1])")
        #expect(scalars(xs[2]) == [0xE9, 0x1F600], "surrogate pair: \(xs[2])")
        #expect(number(xs[3]) == .infinity, "Infinity: \(xs[3])")
        #expect(scalars(xs[4]) == [0x1F600, 0x78, 0x41], "upper-case surrogate pair: \(xs[4])")
        #expect(number(xs[5]).map { $0 == 0 && $0.sign == .minus } == true, "-0.0: \(xs[5])")
        #expect(number(xs[6]) == .infinity, "1e400: \(xs[6])")
        for bad in ["[\"a\",]", "['a']", "[\"a\\q\"]", "[\"a\tb\"]", "[1] x", "[01]"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONValue.parse(bad) }
        }
        if case .object(let kv) = try JSONValue.parse("{\"b\": 1, \"a\": 2, \"b\": 3}") {
            #expect(kv.map(\.0) == ["b", "a"] && kv[0].1 == .number(3))
        } else { Issue.record("not an object") }
    }
}

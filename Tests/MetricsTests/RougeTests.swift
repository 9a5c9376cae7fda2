// Rouge-L against the `rouge` 1.0.1 and `rouge-score` 0.1.2 packages (and our CJK spec) on fixture pairs.
import Foundation
import Testing
@testable import EcomMetrics

@Suite struct RougeTests {
    let pairs: [[String: Any]]
    let fixture: [String: Any]
    init() throws {
        fixture = try Fixture.load("rouge.json")
        pairs = fixture["pairs"] as! [[String: Any]]
    }

    func check(_ flavor: RougeFlavor, key: String) throws {
        let scorer = RougeL(flavor: flavor)
        var bad = 0
        for (k, row) in pairs.enumerated() {
            let pred = row["pred"] as! String, ref = row["ref"] as! String
            guard let want = Fixture.triple(row[key]) else {
                #expect(throws: RougeInputError.self, "pair \(k)") { try scorer.score(prediction: pred, reference: ref) }
                continue
            }
            let got = try scorer.score(prediction: pred, reference: ref)
            if !(near(got.f, want[0]) && near(got.p, want[1]) && near(got.r, want[2])) {
                bad += 1
                if bad <= 5 { Issue.record("\(flavor) pair \(k): got \(got), want \(want): pred=\(pred.debugDescription) ref=\(ref.debugDescription)") }
            }
        }
        #expect(bad == 0, "\(bad) of \(pairs.count) pairs differ")
    }

    @Test func rougePackagePerExample() throws { try check(.rouge, key: "rouge") }
    @Test func rougeScoreRougeL() throws { try check(.rougeScore, key: "rouge_score") }
    @Test func rougeScoreRougeLsum() throws { try check(.rougeLsum, key: "rouge_lsum") }
    @Test func ourCJKRougeL() throws { try check(.cjk, key: "cjk") }

    @Test func rougePackageAverages() throws {
        let ok = pairs.filter { !($0["rouge"] is NSNull) }
        let avg = try RougeL(flavor: .rouge).score(predictions: ok.map { $0["pred"] as! String },
                                                   references: ok.map { $0["ref"] as! String }).average
        let want = Fixture.triple(fixture["rouge_avg_valid"])!
        #expect(near(avg.f, want[0]) && near(avg.p, want[1]) && near(avg.r, want[2]), "\(avg) vs \(want)")

        // "error" substituted for refused hypotheses; pairs with a refused reference left out.
        let refusedRef = { (s: String) in !s.split(separator: ".", omittingEmptySubsequences: false).contains { !$0.isEmpty } }
        let keep = pairs.filter { !refusedRef($0["ref"] as! String) }
        let sub = try RougeL(flavor: .rouge, emptyHypothesis: .substituteError)
            .score(predictions: keep.map { $0["pred"] as! String }, references: keep.map { $0["ref"] as! String }).average
        let want2 = Fixture.triple(fixture["rouge_avg_substituted_nonempty_ref"])!
        #expect(near(sub.f, want2[0]) && near(sub.p, want2[1]) && near(sub.r, want2[2]), "\(sub) vs \(want2)")
    }

    /// The union-LCS example of the `rouge` package's docstring (r = w1..w5, c1 = w1 w2 w6 w7 w8, c2 = w1 w3 w8 w9 w5):
    /// union LCS {w1, w2, w3, w5} = 4 hits; m = 5 distinct reference words, n = 8 distinct hypothesis words.
    @Test func unionLCSHandWorked() throws {
        let s = try RougeL(flavor: .rouge).score(prediction: "w1 w2 w6 w7 w8. w1 w3 w8 w9 w5", reference: "w1 w2 w3 w4 w5")
        #expect(s.r == 4.0 / 5.0 && s.p == 4.0 / 8.0)
        #expect(near(s.f, 2 * (0.4 / (0.5 + 0.8 + 1e-8))))
    }

    @Test func emptyHypothesisPolicies() throws {
        #expect(throws: RougeInputError.self) { try RougeL(flavor: .rouge).score(prediction: "..", reference: "a") }
        let s = try RougeL(flavor: .rouge, emptyHypothesis: .substituteError).score(prediction: "", reference: "error")
        #expect(s.p == 1 && s.r == 1)
        #expect(try RougeL(flavor: .rougeScore).score(prediction: "", reference: "a") == RougeScore(f: 0, p: 0, r: 0))
    }

    /// Unspaced Chinese: one token for `rouge`, nothing for `rouge-score`, characters for ours.
    @Test func chineseTokenisation() throws {
        let pred = "红色连衣裙", ref = "红色长裙"
        #expect(try RougeL(flavor: .rouge).score(prediction: pred, reference: ref).f == 0)
        #expect(try RougeL(flavor: .rougeScore).score(prediction: pred, reference: ref).f == 0)
        let c = try RougeL(flavor: .cjk).score(prediction: pred, reference: ref)
        #expect(c.p == 3.0 / 5.0 && c.r == 3.0 / 4.0)
    }
}

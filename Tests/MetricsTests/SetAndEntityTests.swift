// EcomGPT's SetScore and NER entity F1 (mapping2label + seqeval) against the restated reference's fixtures.
import Foundation
import Testing
@testable import EcomMetrics

@Suite struct SetAndEntityTests {
    @Test func setScoreBatches() throws {
        let batches = try Fixture.load("setscore.json")["batches"] as! [[String: Any]]
        for (b, batch) in batches.enumerated() {
            let got = setScore(predictions: batch["prediction"] as! [[String]], references: batch["reference"] as! [[String]])
            let want = batch["result"] as! [String: Any]
            let pairs: [(String, Double)] = [("strict_acc", got.strictAcc), ("micro_p", got.microP), ("micro_r", got.microR),
                                             ("micro_f1", got.microF1), ("macro_p", got.macroP), ("macro_r", got.macroR),
                                             ("macro_f1", got.macroF1)]
            for (k, v) in pairs { #expect(near(v, Fixture.double(want[k])), "batch \(b) \(k): \(v) vs \(want[k]!)") }
        }
    }

    static func typed(_ v: Any?) -> TypedSpans {
        (v as! [[Any]]).map { (type: $0[0] as! String, spans: $0[1] as! [String]) }
    }

    @Test func entityF1Batches() throws {
        let batches = try Fixture.load("entity.json")["batches"] as! [[String: Any]]
        for (b, batch) in batches.enumerated() {
            let texts = batch["text"] as! [String]
            let preds = (batch["prediction"] as! [Any]).map(Self.typed), golds = (batch["reference"] as! [Any]).map(Self.typed)
            let want = batch["result"] as! [String: Any]
            // Labels (first letters) of the gold side, position by position.
            let wantLabels = want["labels_gold"] as! [String]
            for k in texts.indices {
                let labels = characterLabels(text: texts[k], spans: golds[k]).map { String($0.first!) }.joined()
                #expect(labels == wantLabels[k], "batch \(b) example \(k)")
            }
            let rep = entityF1(texts.indices.map { EntityExample(text: texts[$0], prediction: preds[$0], reference: golds[$0]) })
            for (k, v) in [("micro_p", rep.micro.precision), ("micro_r", rep.micro.recall), ("micro_f1", rep.micro.f1),
                           ("macro_p", rep.macro.precision), ("macro_r", rep.macro.recall), ("macro_f1", rep.macro.f1)] {
                let w = Fixture.double(want[k])
                #expect(near(v, w) || (v.isNaN && w.isNaN), "batch \(b) \(k): \(v) vs \(w)")
            }
            let perType = want["per_type"] as! [String: [String: Any]]
            #expect(rep.perType.map(\.type).sorted() == perType.keys.sorted(), "batch \(b) types")
            for (t, s) in rep.perType {
                guard let w = perType[t] else { continue }
                #expect(near(s.precision, Fixture.double(w["precision"])) && near(s.recall, Fixture.double(w["recall"]))
                        && near(s.f1, Fixture.double(w["f1"])) && s.support == (w["support"] as! Int), "batch \(b) type \(t)")
            }
        }
    }

    /// seqeval's lenient chunking, hand-worked: an I- without B- opens a chunk; a type change closes one.
    @Test func seqevalChunking() {
        let chunks = seqevalChunks([["I-A", "I-A", "I-B", "O", "B-A", "B-A", "I-A"], ["I-C"]])
        let got = chunks.map { "\($0.type)\($0.start)-\($0.end)" }
        #expect(got == ["A0-1", "B2-2", "A4-4", "A5-6", "C8-8"])
    }

    /// mapping2label: every occurrence, a later type overwrites, an empty span labels everything B-.
    @Test func characterLabelling() {
        let l = characterLabels(text: "abab", spans: [("X", ["ab"]), ("Y", ["b"])])
        #expect(l == ["B-X", "B-Y", "B-X", "B-Y"])
        #expect(characterLabels(text: "abc", spans: [("Z", ["", "None"])]) == ["B-Z", "B-Z", "B-Z"])
    }
}

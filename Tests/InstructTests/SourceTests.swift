// Sources: EcomGPT answers by task type, UniversalNER grouping, the raw format and its embedded sample, and errors.
import EcomInstruct
import EcomTestSupport
import Foundation
import Testing

@Suite struct SourceTests {
    func writeTask(_ dir: URL, name: String, meta: String, lines: [String]) throws -> URL {
        let d = dir.appendingPathComponent("DS/tasks/\(name)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        try meta.write(to: d.appendingPathComponent("meta-info.json"), atomically: true, encoding: .utf8)
        try lines.joined(separator: "\n").write(to: d.appendingPathComponent("test.json"), atomically: true, encoding: .utf8)
        return d
    }

    @Test func nerAnswersFollowLabelOrder() throws {
        let tmp = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: tmp) }
        let d = try writeTask(tmp, name: "EN-DS-NER-demo",
            meta: #"{"defi": "named entity recognition", "label_set": {"en": ["Brand", "Product"]}, "label_key": "en", "label_sep": "; ", "test_prompt": {"instruction": "{sentences} about {label_set}\n### Response:"}}"#,
            lines: [#"{"sentences": "Acme X1 and Acme X2", "spans": [{"term": "X1", "type": "Product", "start": 5, "end": 7}, {"term": "Acme", "type": "Brand", "start": 0, "end": 4}, {"term": "X2", "type": "Product", "start": 17, "end": 19}]}"#,
                    #"{"sentences": "nothing", "spans": []}"#])
        let t = try EcomGPTTask.load(d)
        #expect(t.language == "en" && t.taskType == "NER" && t.dataset == "DS")
        #expect(t.record(0).output == "Brand: Acme\nProduct: X1; X2")
        #expect(t.record(1).output == "Brand: None\nProduct: None")
        #expect(t.record(0).rendered().prompt.hasSuffix("Acme X1 and Acme X2 about Brand; Product\n### Response:"))
    }

    @Test func clsAndErrorsNameTheLine() throws {
        let tmp = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: tmp) }
        let meta = #"{"defi": "d", "label_set": {"en": ["no", "yes"], "zh": ["否", "是"]}, "label_key": "zh", "test_prompt": {"instruction": "{sentences} {label_set}"}}"#
        let d = try writeTask(tmp, name: "ZH-DS-CLS-demo", meta: meta,
                              lines: [#"{"sentences": "s", "labels": {"en": ["yes"], "zh": ["是"]}}"#, #"{"sentences": "s2", "labels": {"en": ["no"]}}"#])
        do { _ = try EcomGPTTask.load(d); Issue.record("no error") } catch let e as InstructError {
            #expect(e.message.contains("test.json:2"), "\(e.message)")
        }
        let d2 = try writeTask(tmp, name: "ZH-DS-CLS-ok", meta: meta, lines: [#"{"sentences": "s", "labels": {"zh": ["是", "否"]}}"#])
        #expect(try EcomGPTTask.load(d2).record(0).output == "是, 否")
    }

    @Test func uniNERGroupsPassages() throws {
        let tmp = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: tmp) }
        func ex(_ id: Int, _ text: String, _ type: String, _ ans: String) -> String {
            #"{"id": "x_\#(id)", "conversations": [{"from": "human", "value": "Text: \#(text)"}, {"from": "gpt", "value": "I've read this text."}, {"from": "human", "value": "What describes \#(type) in the text?"}, {"from": "gpt", "value": "\#(ans)"}]}"#
        }
        let url = tmp.appendingPathComponent("demo.json")
        try ("[" + [ex(0, "Anna in Rome", "person", #"[\"Anna\"]"#), ex(1, "Anna in Rome", "city", #"[\"Rome\"]"#),
                    ex(2, "Bob", "person", #"[\"Bob\"]"#)].joined(separator: ",") + "]").write(to: url, atomically: true, encoding: .utf8)
        let ps = UniversalNERSource.passages(try UniversalNERSource.load(url), dataset: "demo")
        #expect(ps.count == 2)
        #expect(ps[0].types == ["person", "city"] && ps[0].spans == [["Anna"], ["Rome"]])
        let r = UniversalNERSource.record(ps[0], index: 0)
        #expect(r.output == "[\"Anna\"]\n[\"Rome\"]")
        #expect(r.rendered().text.hasSuffix("What describes city in the text? ASSISTANT: [\"Rome\"]</s>"))
    }

    @Test func embeddedSampleLoadsBothLanguages() throws {
        let c = try RawCorpus.embeddedSample()
        #expect(c.products.count >= 20 && c.reviews.count >= 20 && c.queries.count >= 10 && c.questions.count >= 8)
        #expect(Set(c.products.map(\.language)) == ["en", "zh"])
        let recs = c.primaryRecords(seed: 1)
        #expect(recs.count == 3 * c.products.count + 2 * c.reviews.count + c.queries.count + c.questions.count)
        for r in recs where r.provenance.taskType == "CLS" {
            #expect(r.candidateLabels?.contains(r.output) == true, "\(r.id)")
        }
        #expect(recs == c.primaryRecords(seed: 1))
    }

    @Test func rawErrorsNameTheLine() {
        var c = RawCorpus(dataset: "x")
        let bad = Data((#"{"kind": "qa", "id": "a", "language": "en", "context": "c", "question": "q", "answer": "c"}"# + "\n" +
                        #"{"kind": "product", "id": "p"}"#).utf8)
        do { try c.add(bad, name: "raw.jsonl"); Issue.record("no error") } catch let e as InstructError {
            #expect(e.message.hasPrefix("raw.jsonl:2:"), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }
}

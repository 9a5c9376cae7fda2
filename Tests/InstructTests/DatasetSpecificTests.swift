// UniversalNER's dataset-specific template (the dataset named in the first user turn, Zhou et al. 2023 §4) in plain and
// ChatML rendering, records written before the field still decoding, and `--include` mixing built record shards in.
import EcomInstruct
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing

@Suite struct DatasetSpecificTemplateTests {
    static func record(dataset: String?) -> InstructionRecord {
        InstructionRecord(id: "UniNER-CrossNER_politics#0", taskDescription: "named entity recognition",
                          prompt: "What describes {type} in the text?", input: "Anna flew to Rome", candidateLabels: ["person", "date"],
                          output: "[\"Anna\"]\n[]", template: .uniner,
                          provenance: Provenance(dataset: "CrossNER_politics", task: "UniNER-CrossNER_politics", taskType: "NER", language: "en"),
                          promptDataset: dataset)
    }

    // Expected strings written out from the papers' layouts (vicuna_v1.1 for plain, ChatML for chat), not from the code.
    @Test func plainConversationNamesTheDataset() {
        #expect(Self.record(dataset: "CrossNER_politics").rendered().text
            == "A virtual assistant answers questions from a user based on the provided text. USER: Dataset: CrossNER_politics \nText: Anna flew to Rome ASSISTANT: I've read this text.</s>"
            + "USER: What describes person in the text? ASSISTANT: [\"Anna\"]</s>USER: What describes date in the text? ASSISTANT: []</s>")
        #expect(Self.record(dataset: nil).rendered().text
            == "A virtual assistant answers questions from a user based on the provided text. USER: Text: Anna flew to Rome ASSISTANT: I've read this text.</s>"
            + "USER: What describes person in the text? ASSISTANT: [\"Anna\"]</s>USER: What describes date in the text? ASSISTANT: []</s>")
        // The dataset line is prompt, never learned.
        #expect(Self.record(dataset: "CrossNER_politics").rendered().segments.filter(\.isResponse).map(\.text)
            == [" I've read this text.</s>", " [\"Anna\"]</s>", " []</s>"])
    }

    @Test func chatConversationNamesTheDataset() {
        let chat = ChatTemplate(kind: .chatml, defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        let named = Self.record(dataset: "CrossNER_politics").rendered(chat: chat)
        #expect(named.text == "<|im_start|>system\nA virtual assistant answers questions from a user based on the provided text.<|im_end|>\n"
            + "<|im_start|>user\nDataset: CrossNER_politics \nText: Anna flew to Rome<|im_end|>\n"
            + "<|im_start|>assistant\nI've read this text.<|im_end|>\n"
            + "<|im_start|>user\nWhat describes person in the text?<|im_end|>\n<|im_start|>assistant\n[\"Anna\"]<|im_end|>\n"
            + "<|im_start|>user\nWhat describes date in the text?<|im_end|>\n<|im_start|>assistant\n[]<|im_end|>\n")
        #expect(named.segments.filter(\.isResponse).map(\.text) == ["I've read this text.<|im_end|>", "[\"Anna\"]<|im_end|>", "[]<|im_end|>"])
        let plain = Self.record(dataset: nil).rendered(chat: chat)
        #expect(plain.text.contains("<|im_start|>user\nText: Anna flew to Rome<|im_end|>\n"))
        #expect(!plain.text.contains("Dataset:"))
    }

    @Test func otherTemplatesIgnoreTheField() {
        var r = Self.record(dataset: "CrossNER_politics")
        r.template = .alpaca
        var bare = r
        bare.promptDataset = nil
        #expect(r.rendered() == bare.rendered())
        #expect(r.chatTurns() == bare.chatTurns())
    }

    /// A record line as shards held it before `prompt_dataset` existed (the keys of Docs/FORMATS.md, sorted).
    static let oldLine = #"{"candidate_labels":["person"],"id":"UniNER-AI#0","input":"Anna flew to Rome","label_sep":", ","output":"[\"Anna\"]","prompt":"What describes {type} in the text?","provenance":{"dataset":"AI","language":"en","split":"train","task":"UniNER-AI","task_type":"NER"},"task_description":"named entity recognition","template":"uniner"}"#

    @Test func recordsWrittenBeforeTheFieldStillDecode() throws {
        let r = try RecordCodec.decode(Data(Self.oldLine.utf8), place: "old:1")
        #expect(r.promptDataset == nil && r.template == .uniner && r.candidateLabels == ["person"])
        // Unchanged records encode to the same bytes as before (no new key), so rebuilt shards keep their checksums.
        #expect(String(decoding: RecordCodec.encode(r), as: UTF8.self) == Self.oldLine)
        var named = r
        named.promptDataset = "AI"
        let line = String(decoding: RecordCodec.encode(named), as: UTF8.self)
        #expect(line.contains(#""prompt_dataset":"AI""#))
        #expect(try RecordCodec.decode(Data(line.utf8), place: "new:1") == named)

        // An old record shard (written byte for byte from the old line) reads back through the manifest.
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let w = try ShardWriter(directory: dir, prefix: "train", kind: .records)
        try w.append(Data(Self.oldLine.utf8))
        try ShardManifest(kind: .records, compressionLevel: 3, shards: try w.finish(split: "train")).write(to: dir)
        #expect(try DatasetBuilder.records(in: dir) == [r])
    }
}

@Suite struct IncludeAndDatasetBuildTests {
    /// A UniversalNER conversation file (the released layout): one question per passage and type.
    static func writeUniNER(_ url: URL, passages: [(String, [(String, String)])]) throws {
        var items: [[String: Any]] = []
        for (p, (passage, questions)) in passages.enumerated() {
            for (q, (type, answer)) in questions.enumerated() {
                items.append(["id": "\(p)_\(q)", "conversations": [
                    ["from": "human", "value": "Text: \(passage)"], ["from": "gpt", "value": "I've read this text."],
                    ["from": "human", "value": "What describes \(type) in the text?"], ["from": "gpt", "value": answer]]])
            }
        }
        try JSONSerialization.data(withJSONObject: items).write(to: url)
    }

    static func uniNERDirectory(_ root: URL) throws -> URL {
        let dir = root.appendingPathComponent("uniner")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try writeUniNER(dir.appendingPathComponent("SetA.json"), passages: [
            ("Marie Curie won the Nobel Prize in Stockholm.", [("person", "[\"Marie Curie\"]"), ("location", "[\"Stockholm\"]")]),
            ("The parliament voted on the budget in March.", [("organisation", "[\"parliament\"]"), ("date", "[\"March\"]")]),
        ])
        try writeUniNER(dir.appendingPathComponent("SetB.json"), passages: [
            ("Support vector machines were proposed by Vapnik.", [("algorithm", "[\"Support vector machines\"]"), ("researcher", "[\"Vapnik\"]")]),
        ])
        return dir
    }

    @Test func datasetSpecificBuildNamesTrainingSetsOnly() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        var o = BuildOptions()
        o.uniner = try Self.uniNERDirectory(root)
        o.uniNERHeldOut = ["SetB"]
        o.uniNERDatasetSpecific = true
        _ = try DatasetBuilder.build(o, out: root.appendingPathComponent("d"), progress: { _ in })
        let recs = try DatasetBuilder.records(in: root.appendingPathComponent("d"))
        let conversations = recs.filter { $0.template == .uniner }
        #expect(conversations.count == 3)
        for r in conversations {
            if r.provenance.dataset == "SetA" {
                #expect(r.promptDataset == "SetA" && r.provenance.split != .test)
                #expect(r.rendered().text.hasPrefix("A virtual assistant answers questions from a user based on the provided text. USER: Dataset: SetA \nText: "))
            } else {
                // The held-out set keeps the released prompt, as evaluation asks it.
                #expect(r.promptDataset == nil && r.provenance.split == .test)
                #expect(r.rendered().text.hasPrefix("A virtual assistant answers questions from a user based on the provided text. USER: Text: Support"))
            }
        }
        // Atomic records derived from the sets are Alpaca records: untouched.
        #expect(recs.filter { $0.template != .uniner }.allSatisfy { $0.promptDataset == nil })
        let byTemplate = try DatasetBuilder.inspect(root.appendingPathComponent("d"))["by_template"] as? [String: Int]
        #expect(byTemplate?["uniner (dataset-specific)"] == 2 && byTemplate?["uniner"] == 1)

        // Off by default: the same build without the option names no dataset.
        o.uniNERDatasetSpecific = false
        _ = try DatasetBuilder.build(o, out: root.appendingPathComponent("e"), progress: { _ in })
        #expect(try DatasetBuilder.records(in: root.appendingPathComponent("e")).allSatisfy { $0.promptDataset == nil })
        // Asking for it without a UniversalNER directory is an error.
        var none = BuildOptions()
        none.uniNERDatasetSpecific = true
        #expect(throws: InstructError.self) { try DatasetBuilder.build(none, out: root.appendingPathComponent("f"), progress: { _ in }) }
    }

    @Test func includedShardsAreMixedInAsTheyAre() throws {
        let root = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: root) }
        // The directory to include: the embedded raw sample, built with another seed (its splits are its own).
        var a = BuildOptions()
        a.seed = 7
        let aDir = root.appendingPathComponent("a")
        let aSummary = try DatasetBuilder.build(a, out: aDir, progress: { _ in })
        let aRecords = try DatasetBuilder.records(in: aDir)
        #expect(aRecords.count > 100)

        // The same UniversalNER build with and without the include.
        var o = BuildOptions()
        o.uniner = try Self.uniNERDirectory(root)
        o.uniNERDatasetSpecific = true
        let alone = try DatasetBuilder.build(o, out: root.appendingPathComponent("alone"), progress: { _ in })
        o.include = [aDir]
        let mixed = try DatasetBuilder.build(o, out: root.appendingPathComponent("mixed"), progress: { _ in })
        #expect(mixed.included == aRecords.count)
        #expect(alone.included == 0)
        for split in ["train", "validation", "test"] {
            #expect((mixed.splits[split] ?? 0) == (alone.splits[split] ?? 0) + (aSummary.splits[split] ?? 0), "split \(split)")
        }
        let out = try DatasetBuilder.records(in: root.appendingPathComponent("mixed"))
        #expect(out.count == alone.splits.values.reduce(0, +) + aRecords.count)
        // Included records are stored unchanged (same split, no dataset named), the built ones as built.
        let byID = Dictionary(uniqueKeysWithValues: out.map { ($0.id, $0) })
        #expect(aRecords.allSatisfy { byID[$0.id] == $0 })
        #expect(try DatasetBuilder.records(in: root.appendingPathComponent("alone")).allSatisfy { byID[$0.id] == $0 })

        // A task this build holds out goes to test, even from an included directory.
        let task = try #require(aRecords.first { $0.provenance.split == .train }).provenance.task
        var held = BuildOptions()
        held.include = [aDir]
        held.heldOut = [task]
        let h = try DatasetBuilder.build(held, out: root.appendingPathComponent("held"), progress: { _ in })
        #expect(h.included == aRecords.count)
        let heldRecords = try DatasetBuilder.records(in: root.appendingPathComponent("held"))
        // Nothing but the included records: with an include, no source does not mean the embedded sample.
        #expect(heldRecords.count == aRecords.count)
        #expect(heldRecords.filter { $0.provenance.task == task }.allSatisfy { $0.provenance.split == .test })
        #expect(h.splits["test"] == aRecords.filter { $0.provenance.task == task || $0.provenance.split == .test }.count)

        // Including the same records twice, or into the directory itself, is an error.
        var twice = BuildOptions()
        twice.include = [aDir, aDir]
        #expect(throws: InstructError.self) { try DatasetBuilder.build(twice, out: root.appendingPathComponent("twice"), progress: { _ in }) }
        #expect(throws: InstructError.self) { try DatasetBuilder.build(held, out: aDir, progress: { _ in }) }
    }
}

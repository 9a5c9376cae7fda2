// Templates against golden prompts made by scripts/reference/gen_instruct.py from the released data, and their segments.
import EcomInstruct
import EcomTestSupport
import Foundation
import Testing

struct GoldenPrompts: Decodable {
    struct EcomCase: Decodable { var task: String; var index: Int; var prompt: String; var answer: String }
    struct UniCase: Decodable { var file: String; var id: String; var prompt: String; var answer: String }
    var ecomgpt: [EcomCase]
    var universal_ner: [UniCase]

    static func load() throws -> GoldenPrompts {
        try JSONDecoder().decode(GoldenPrompts.self, from: Data(contentsOf: TestPaths.fixture("instruct/golden_prompts.json")))
    }
}

@Suite struct TemplateTests {
    @Test(.enabled(if: SharedData.shouldRun, "needs ../shared/data"))
    func everyTaskFolderLoads() throws {
        let root = try SharedData.require("ecomgpt")
        let folders = try EcomGPTTask.taskFolders(in: root)
        #expect(folders.count == 13)
        for dir in folders {
            let task = try EcomGPTTask.load(dir)
            #expect(task.examples.count >= 499, "\(task.name): \(task.examples.count) examples")
            for i in task.examples.indices {
                let r = task.record(i)
                #expect(!r.output.isEmpty || task.taskType == "NER", "\(r.id) has an empty answer")
            }
        }
    }

    @Test(.enabled(if: SharedData.shouldRun, "needs ../shared/data"))
    func ecomGPTPromptsEqualGolden() throws {
        let golden = try GoldenPrompts.load()
        let heldOut = try SplitAssigner.readHeldOut(SharedData.require("ecomgpt/held_out_tasks.txt"))
        #expect(heldOut == Set(SplitAssigner.ecomGPTHeldOut))
        #expect(golden.ecomgpt.count == 12)
        let root = try SharedData.require("ecomgpt")
        let dirs = Dictionary(uniqueKeysWithValues: try EcomGPTTask.taskFolders(in: root).map { ($0.lastPathComponent, $0) })
        for g in golden.ecomgpt {
            let task = try EcomGPTTask.load(try #require(dirs[g.task]))
            let r = task.record(g.index)
            let rendered = r.rendered()
            #expect(rendered.prompt == g.prompt, "\(g.task): prompt differs")
            #expect(r.output == g.answer, "\(g.task): answer differs")
            #expect(rendered.prompt.hasSuffix("### Response:"))
            #expect(rendered.response == "\n" + g.answer)
        }
    }

    @Test(.enabled(if: SharedData.shouldRun, "needs ../shared/data"))
    func universalNERPromptsEqualGolden() throws {
        let golden = try GoldenPrompts.load()
        #expect(golden.universal_ner.count == 6)
        for g in golden.universal_ner {
            let ex = try UniversalNERSource.load(SharedData.require("universal_ner/\(g.file)"))[0]
            #expect(ex.id == g.id)
            #expect(UniversalNERTemplate.prompt(passage: ex.passage, type: ex.type) == g.prompt, "\(g.file)")
            #expect(ex.answer == g.answer)
        }
    }

    @Test func universalNERConversationSegments() {
        let x = UniversalNERTemplate.render(passage: "Anna flew to Rome", types: ["person", "location", "date"],
                                            answers: ["[\"Anna\"]", "[\"Rome\"]", "[]"])
        #expect(x.text == "A virtual assistant answers questions from a user based on the provided text. USER: Text: Anna flew to Rome ASSISTANT: I've read this text.</s>USER: What describes person in the text? ASSISTANT: [\"Anna\"]</s>USER: What describes location in the text? ASSISTANT: [\"Rome\"]</s>USER: What describes date in the text? ASSISTANT: []</s>")
        #expect(x.segments.filter(\.isResponse).map(\.text) == [" I've read this text.</s>", " [\"Anna\"]</s>", " [\"Rome\"]</s>", " []</s>"])
        #expect(!x.appendsEndOfSequence)
        // The evaluation prompt for one type is the conversation's text up to that type's answer.
        let one = UniversalNERTemplate.render(passage: "Anna flew to Rome", types: ["person"], answers: ["[\"Anna\"]"])
        #expect(one.text.hasPrefix(UniversalNERTemplate.prompt(passage: "Anna flew to Rome", type: "person")))
    }

    @Test func placeholdersAreFilledInOnePass() {
        // A "{label_set}" inside the input text is not replaced (as with Python's str.format).
        #expect(EcomGPTTemplate.fill("A {sentences} B {label_set} {other}", sentences: "x {label_set}", labelSet: "L")
                == "A x {label_set} B L {other}")
        let r = InstructionRecord(id: "t", taskDescription: "demo", prompt: "### Instruction:\n{sentences}\nPick: {label_set}.\n### Response:",
                                  input: "in", candidateLabels: ["a", "b"], outputConstraints: "One label only.", output: "a",
                                  template: .ecomgpt, labelSeparator: " | ", provenance: Provenance(dataset: "d", task: "t", taskType: "CLS", language: "en"))
        #expect(r.rendered().prompt == EcomGPTTemplate.head(definition: "demo") + "### Instruction:\nin\nPick: a | b.\nOne label only.\n### Response:")
        #expect(r.rendered().responseByteRanges == [r.rendered().prompt.utf8.count..<(r.rendered().text.utf8.count)])
    }

    @Test func alpacaTemplate() {
        let r = InstructionRecord(id: "t", taskDescription: "review sentiment classification", prompt: "Classify.",
                                  input: "Great lamp.", candidateLabels: ["negative", "positive"], output: "positive",
                                  template: .alpaca, provenance: Provenance(dataset: "d", task: "t", taskType: "CLS", language: "en"))
        let x = r.rendered()
        #expect(x.prompt == "Below is an instruction that describes the review sentiment classification task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nClassify.\nCandidates: negative, positive\n\n### Input:\nGreat lamp.\n\n### Response:")
        #expect(x.response == "\npositive")
        #expect(x.appendsEndOfSequence)
    }

    @Test func recordCodecRoundTripAndErrors() throws {
        let r = InstructionRecord(id: "a#1", taskDescription: "d", prompt: "p", input: "输入\n\"q\"", candidateLabels: ["x"],
                                  outputConstraints: nil, output: "o", template: .ecomgpt,
                                  provenance: Provenance(dataset: "D", task: "T", taskType: "CLS", atomicKind: "entity_typing", language: "zh", split: .validation))
        let lines = RecordCodec.encodeLines([r, r])
        #expect(try RecordCodec.decodeLines(lines, name: "mem") == [r, r])
        var bad = lines
        bad.append(Data("{\"id\": 3}\n".utf8))
        #expect(throws: InstructError.self) { try RecordCodec.decodeLines(bad, name: "f.jsonl") }
        do { _ = try RecordCodec.decodeLines(bad, name: "f.jsonl"); Issue.record("no error") } catch let e as InstructError {
            #expect(e.message.hasPrefix("f.jsonl:3:"), "\(e.message)")
        }
    }
}

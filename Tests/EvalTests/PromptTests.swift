// Prompts as EcomGPT's evaluation renders them, left truncation, and answer extraction.
import EcomEval
import EcomInstruct
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing

@Suite struct PromptTests {
    let world = EvalFixture.world

    @Test func ecomGPTPromptsAreTheHeadAndTheFilledTestPrompt() throws {
        let items = try EvalItems.ecomGPT(root: world.ecomgpt, seed: 11)
        // The list's order, only listed tasks, every example.
        #expect(items.map(\.task) == Array(repeating: "EN-Lenovo-NER-NER", count: 3) + Array(repeating: "EN-Shop-CLS-review_polarity", count: 4))
        let ner = items[0]
        #expect(ner.prompt == "Below is an instruction that describes the named entity recognition task. Write a response that appropriately completes the request.\n### Instruction:\nLenovo ThinkPad X1 is light\nExtract all named entity with type about brand, product in the sentence. \n### Response:")
        #expect(ner.reference == "brand: Lenovo\nproduct: ThinkPad X1")
        #expect(items[2].reference == "brand: None\nproduct: None")
        #expect(ner.text == "Lenovo ThinkPad X1 is light")
        #expect(ner.taskType == "NER")
        #expect(try EvalItems.ecomGPT(root: world.ecomgpt, limit: 2, seed: 11).count == 4)
    }

    @Test func classificationCandidatesAreSampledWithTheSeedAndHoldTheGold() throws {
        let items = try EvalItems.ecomGPT(root: world.ecomgpt, seed: 11).filter { $0.taskType == "CLS" }
        let head = "Below is an instruction that describes the review polarity task. Write a response that appropriately completes the request.\n### Instruction:\n"
        for (i, item) in items.enumerated() {
            #expect(item.prompt.hasPrefix(head + EvalFixture.clsSentences[i] + "\nSelect the polarity from: "))
            #expect(item.prompt.hasSuffix(". \n### Response:"))
            let shown = item.prompt.dropFirst(head.count + EvalFixture.clsSentences[i].count + "\nSelect the polarity from: ".count).dropLast(". \n### Response:".count)
            let candidates = shown.components(separatedBy: ", ")
            // CandidateSampler with the per-example key, re-derived here.
            var rng = SeededGenerator(seed: 11, key: "eval-candidates/EN-Shop-CLS-review_polarity#\(i)")
            #expect(candidates == CandidateSampler.sample(labels: EvalFixture.clsLabels, gold: [EvalFixture.clsGold[i]], using: &rng))
            #expect(candidates.contains(EvalFixture.clsGold[i]))
            #expect(Set(candidates).isSubset(of: EvalFixture.clsLabels))
            #expect(item.reference == EvalFixture.clsGold[i])
        }
        // Same seed, same prompts; the candidates of some example change with another seed.
        #expect(try EvalItems.ecomGPT(root: world.ecomgpt, seed: 11) == EvalItems.ecomGPT(root: world.ecomgpt, seed: 11))
        let other = try (0..<20).map { try EvalItems.ecomGPT(root: world.ecomgpt, seed: UInt64(100 + $0)).filter { $0.taskType == "CLS" }.map(\.prompt) }
        #expect(other.contains { $0 != items.map(\.prompt) })
    }

    @Test func uniNERPromptsAreTheReleasedConversation() throws {
        let items = try EvalItems.uniNER(directory: world.uniner)
        #expect(items.count == 3)
        #expect(items[1].task == "UniNER-CrossNER_AI")
        #expect(items[1].prompt == "A virtual assistant answers questions from a user based on the provided text. USER: Text: Deep learning was used at MIT. ASSISTANT: I've read this text.</s>USER: What describes university in the text? ASSISTANT:")
        #expect(items[1].reference == "[\"MIT\"]")
        #expect(Set(items.map(\.key)).count == 3)
    }

    @Test func promptsAreTruncatedFromTheLeft() throws {
        let prompt = try EvalItems.ecomGPT(root: world.ecomgpt, seed: 11)[0].prompt
        let full = world.tokenizer.encode(prompt).map(Int32.init)
        #expect(full.count > 12)
        let cut = PromptEncoding.encode(prompt, tokenizer: world.tokenizer, maxTokens: 12)
        #expect(cut.ids == Array(full.suffix(12)))
        #expect(cut.truncated == full.count - 12)
        #expect(world.tokenizer.decode(cut.ids.map(Int.init)).hasSuffix("### Response:"))
        let whole = PromptEncoding.encode(prompt, tokenizer: world.tokenizer, maxTokens: 800)
        #expect(whole.ids == full && whole.truncated == 0)
    }

    @Test func answersAreTheTextAfterTheResponseMarkerUpToEndOfSequence() {
        #expect(AnswerExtraction.ecomGPT(completion: "\nbrand: Lenovo\nproduct: None</s>") == "brand: Lenovo\nproduct: None")
        #expect(AnswerExtraction.ecomGPT(completion: " good</s> trailing") == "good")
        #expect(AnswerExtraction.ecomGPT(completion: "good\n### Response:\nbad") == "good")
        #expect(AnswerExtraction.ecomGPT(completion: "bad\n### Instruction:\nmore") == "bad")
        #expect(AnswerExtraction.ecomGPT(completion: "  \n") == "")
        #expect(AnswerExtraction.uniNER(completion: " [\"MIT\"]</s>USER: x") == "[\"MIT\"]")
        // A chat model's turn ends at ChatML's end-of-turn token.
        #expect(AnswerExtraction.ecomGPT(completion: "Brand: Toshiba<|im_end|>\n<|im_start|>user") == "Brand: Toshiba")
        #expect(AnswerExtraction.uniNER(completion: "[\"sushi\"]<|im_end|>") == "[\"sushi\"]")
        #expect(AnswerExtraction.uniNER(completion: " [] USER: What") == "[]")
    }

    /// A chat model gets the papers' prompts as chat turns: EcomGPT's as one user turn, UniversalNER's conversation
    /// as system, user, assistant and user turns (ChatML as SmolLM2's template writes it); plain models the text.
    @Test func chatTemplatesRenderThePromptsAsTurns() throws {
        let chatml = ChatTemplate(kind: .chatml, defaultSystemPrompt: "Default system.")
        let ner = try EvalItems.ecomGPT(root: world.ecomgpt, seed: 11)[0]
        #expect(ner.promptText(ChatTemplate(kind: .plain)) == ner.prompt)
        #expect(ner.promptText(chatml) == "<|im_start|>system\nDefault system.<|im_end|>\n<|im_start|>user\n" + ner.prompt
                + "<|im_end|>\n<|im_start|>assistant\n")
        let example = UniversalNERExample(id: "0", passage: "Sushi at Nobu", type: "dish", answer: "[\"Sushi\"]", spans: ["Sushi"])
        let uni = EvalItems.uniNER([example], dataset: "mit-restaurant")[0]
        #expect(uni.promptText(chatml) == "<|im_start|>system\nA virtual assistant answers questions from a user based on the provided text.<|im_end|>\n"
                + "<|im_start|>user\nText: Sushi at Nobu<|im_end|>\n<|im_start|>assistant\nI've read this text.<|im_end|>\n"
                + "<|im_start|>user\nWhat describes dish in the text?<|im_end|>\n<|im_start|>assistant\n")
    }
}

@Suite struct UniNERSelectionTests {
    static let examples = (0..<20).map { i in
        UniversalNERExample(id: "\(i)", passage: "p\(i / 4)", type: "t\(i % 4)", answer: i % 5 == 0 ? "[\"x\"]" : "[]",
                            spans: i % 5 == 0 ? ["x"] : [])
    }

    @Test func balancedTakesHalfWithEntitiesAndKeepsFileIndices() {
        let items = EvalItems.uniNER(Self.examples, dataset: "D", limit: 6, balanced: true)
        #expect(items.count == 6)
        #expect(items.filter { $0.reference != "[]" }.count == 3)  // examples 0, 5, 10
        #expect(items.map(\.id) == ["0:t0", "1:t1", "2:t2", "5:t1", "3:t3", "10:t2"].sorted { Int($0.split(separator: ":")[0])! < Int($1.split(separator: ":")[0])! })
        // Without balance, a prefix: one entity-bearing question in six.
        #expect(EvalItems.uniNER(Self.examples, dataset: "D", limit: 6).filter { $0.reference != "[]" }.count == 2)
    }
}

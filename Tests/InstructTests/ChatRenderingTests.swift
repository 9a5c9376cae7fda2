// Records as ChatML conversations for chat models: the text equals the chat template's rendering of the turns (what
// the evaluator prompts with, plus the answers), and only the assistant's contents and end-of-turn markers are learned.
import EcomInstruct
import EcomTokenizer
import Testing

@Suite struct ChatRenderingTests {
    static let chat = ChatTemplate(kind: .chatml, defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    static func record(_ template: TemplateKind, output: String, labels: [String]? = nil) -> InstructionRecord {
        InstructionRecord(id: "t", taskDescription: "demo", prompt: "Pick one.\n{sentences}", input: "Anna flew to Rome", candidateLabels: labels,
                          output: output, template: template, provenance: Provenance(dataset: "d", task: "t", taskType: "CLS", language: "en"))
    }

    @Test func ecomGPTRecordIsOneUserTurnAndTheAnswer() {
        let r = Self.record(.ecomgpt, output: "travel", labels: ["travel", "food"])
        let x = r.rendered(chat: Self.chat)
        let prompt = Self.chat.render([ChatMessage(role: "user", content: EcomGPTTemplate.prompt(r))], addGenerationPrompt: true)
        #expect(x.text == prompt + "travel<|im_end|>\n")
        #expect(x.segments.filter(\.isResponse).map(\.text) == ["travel<|im_end|>"])
        #expect(x.prompt == prompt)
        #expect(!x.appendsEndOfSequence)
    }

    @Test func universalNERRecordIsTheReleasedConversation() {
        let r = Self.record(.uniner, output: "[\"Anna\"]\n[]", labels: ["person", "date"])
        let x = r.rendered(chat: Self.chat)
        let turns = [ChatMessage(role: "system", content: UniversalNERTemplate.system), ChatMessage(role: "user", content: "Text: Anna flew to Rome"),
                     ChatMessage(role: "assistant", content: UniversalNERTemplate.readReply),
                     ChatMessage(role: "user", content: "What describes person in the text?"), ChatMessage(role: "assistant", content: "[\"Anna\"]"),
                     ChatMessage(role: "user", content: "What describes date in the text?"), ChatMessage(role: "assistant", content: "[]")]
        // The record has its own system turn, so the template's default one is not added.
        #expect(x.text == Self.chat.render(turns, addGenerationPrompt: false))
        #expect(x.segments.filter(\.isResponse).map(\.text) == ["I've read this text.<|im_end|>", "[\"Anna\"]<|im_end|>", "[]<|im_end|>"])
    }

    @Test func plainKeepsTheRecordsOwnTemplate() {
        let r = Self.record(.alpaca, output: "x")
        #expect(r.rendered(chat: ChatTemplate(kind: .plain)) == r.rendered())
    }
}

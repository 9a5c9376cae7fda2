// Instruction records as chat conversations for models with a chat template (SmolLM2's ChatML): the prompt as the
// user's turn and the answer as the assistant's, as the evaluator asks them (EcomGPT: one user turn; UniversalNER:
// the released model's conversation, with the passage turn answered "I've read this text."; the dataset named in that
// turn for records in UniversalNER's dataset-specific template). The loss covers the assistant's tokens and its
// end-of-turn token only, as TRL's assistant-only loss and LLaMA-Factory's chat SFT do.
import EcomTokenizer

/// One turn of a record's conversation; assistant turns are what the model learns.
public struct ChatTurn: Sendable, Equatable {
    public var role: String
    public var content: String
    public init(role: String, content: String) { self.role = role; self.content = content }
    public var isResponse: Bool { role == "assistant" }
}

extension InstructionRecord {
    /// The record as a conversation (prompts as user turns, answers as assistant turns).
    public func chatTurns() -> [ChatTurn] {
        switch template {
        case .ecomgpt: return [ChatTurn(role: "user", content: EcomGPTTemplate.prompt(self)), ChatTurn(role: "assistant", content: output)]
        case .alpaca: return [ChatTurn(role: "user", content: AlpacaTemplate.prompt(self)), ChatTurn(role: "assistant", content: output)]
        case .uniner:
            let types = candidateLabels ?? []
            var answers = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if answers.count < types.count { answers += Array(repeating: "[]", count: types.count - answers.count) }
            var turns = [ChatTurn(role: "system", content: UniversalNERTemplate.system),
                         ChatTurn(role: "user", content: UniversalNERTemplate.passageTurn(passage: input, dataset: promptDataset)),
                         ChatTurn(role: "assistant", content: UniversalNERTemplate.readReply)]
            for (t, a) in zip(types, answers) {
                turns += [ChatTurn(role: "user", content: UniversalNERTemplate.question(type: t)), ChatTurn(role: "assistant", content: a)]
            }
            return turns
        }
    }

    /// The record rendered with `template`: `.plain` keeps the record's own instruction template; ChatML renders
    /// ``chatTurns()`` (with the template's default system turn when the conversation has none), each assistant
    /// turn's content and its `<|im_end|>` learned, everything else (markup, prompts, the newline after a turn) not.
    public func rendered(chat template: ChatTemplate) -> RenderedExample {
        guard template.kind == .chatml else { return rendered() }
        var segments: [RenderedExample.Segment] = []
        var prefix = ""
        let turns = chatTurns()
        if let system = template.defaultSystemPrompt, turns.first?.role != "system" {
            prefix = template.render([ChatMessage(role: "system", content: system)], addGenerationPrompt: false)
        }
        for t in turns {
            prefix += ChatTemplate.imStart + t.role + "\n"
            if t.isResponse {
                segments.append(.init(prefix, isResponse: false))
                segments.append(.init(t.content + ChatTemplate.imEnd, isResponse: true))
                prefix = "\n"
            } else {
                prefix += t.content + ChatTemplate.imEnd + "\n"
            }
        }
        if !prefix.isEmpty { segments.append(.init(prefix, isResponse: false)) }
        return RenderedExample(segments: segments, appendsEndOfSequence: false)
    }
}

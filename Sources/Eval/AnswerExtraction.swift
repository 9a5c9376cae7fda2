// The answer inside a generated completion: EcomGPT's "### Response:" ... "</s>" and UniversalNER's assistant turn;
// with a chat template, the assistant's turn ends at the template's end-of-turn token (ChatML's "<|im_end|>").
import EcomMetrics

public enum AnswerExtraction {
    public static let responseMarker = "### Response:"
    public static let endOfSequence = "</s>"
    /// ChatML's end of a turn (SmolLM2's eos): an answer never runs past it.
    public static let endOfTurn = "<|im_end|>"

    /// EcomGPT: the answer is the text after "### Response:" up to "</s>", stripped. The prompt ends with the marker,
    /// so the completion itself is the answer; a marker the model writes again ends it, as does "</s>" (when decoding
    /// kept special tokens) or a new "### Instruction:" turn.
    public static func ecomGPT(completion: String) -> String {
        pythonStrip(cut(completion, at: [responseMarker, endOfSequence, endOfTurn, "### Instruction:"]))
    }

    /// UniversalNER: the assistant turn up to "</s>" (or "<|im_end|>") or the next "USER:" turn, stripped.
    public static func uniNER(completion: String) -> String {
        pythonStrip(cut(completion, at: [endOfSequence, endOfTurn, "USER:"]))
    }

    /// The answer of a completion for `suite`.
    public static func answer(_ completion: String, suite: EvalSuite) -> String {
        suite == .ecomgpt ? ecomGPT(completion: completion) : uniNER(completion: completion)
    }

    /// `text` before the earliest of `markers`.
    static func cut(_ text: String, at markers: [String]) -> String {
        let cuts = markers.compactMap { text.range(of: $0)?.lowerBound }
        guard let first = cuts.min() else { return text }
        return String(text[..<first])
    }
}

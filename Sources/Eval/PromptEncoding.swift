// Prompt tokenisation with left truncation, as EcomGPT's evaluation (HF tokenizer, truncation_side="left", max 800).
import EcomTokenizer

/// A prompt as token ids, cut from the left so that its end (the question and "### Response:") is kept.
public struct EncodedPrompt: Sendable, Equatable {
    public var ids: [Int32]
    /// How many tokens were dropped from the left.
    public var truncated: Int
}

public enum PromptEncoding {
    /// The paper's prompt length limit (tokens).
    public static let defaultMaxTokens = 800

    /// `text` encoded without special tokens (as the packer encodes training text), then only its last `maxTokens` ids kept.
    public static func encode(_ text: String, tokenizer: Tokenizer, maxTokens: Int) -> EncodedPrompt {
        precondition(maxTokens > 0, "maxTokens must be positive")
        let ids = tokenizer.encode(text, addSpecialTokens: false).map(Int32.init)
        return leftTruncate(ids, maxTokens: maxTokens)
    }

    /// The last `maxTokens` of `ids`.
    public static func leftTruncate(_ ids: [Int32], maxTokens: Int) -> EncodedPrompt {
        let drop = max(0, ids.count - maxTokens)
        return EncodedPrompt(ids: Array(ids[drop...]), truncated: drop)
    }
}

// EcomTokenizer.Tokenizer as the packer's `TokenEncoder` and the filter's `TokenCounter`.
import EcomTokenizer

extension Tokenizer: TokenEncoder, TokenCounter {
    /// Token ids and UTF-8 byte offsets of `text`, without special tokens added.
    public func tokenize(_ text: String) -> (ids: [Int], offsets: [Range<Int>]) {
        let e = encodeWithOffsets(text, addSpecialTokens: false)
        return (e.ids, e.offsets)
    }

    /// The id of "</s>" (BLOOM's end of sequence), else "<|endoftext|>" (GPT-2's); -1 when the vocabulary has neither,
    /// which `PackPipeline` refuses.
    public var endOfSequenceID: Int { id(forToken: "</s>") ?? id(forToken: "<|endoftext|>") ?? -1 }

    /// The id of "<pad>" when the vocabulary has one, else the end-of-sequence id.
    public var paddingID: Int { id(forToken: "<pad>") ?? endOfSequenceID }

    public func tokenCount(_ text: String) -> Int { encode(text).count }
}

// EcomTokenizer: byte-level BPE (BLOOM's and GPT-2's kind) read from and written to HF tokenizer.json, ids identical
// to HF `tokenizers`. This file holds the module's overview; each stage lives in a file of its own.
//
// Pipeline of `Tokenizer.encode` (as HF tokenizers runs it):
//   added/special tokens matched in the raw text (AddedTokens.swift)
//   → normalizer (Normalizer.swift: none, NFC, NFKC, NFD, NFKD, Sequence)
//   → pre-tokenizer (PreTokenizer.swift: Split with BLOOM's or GPT-2's pattern, matched by our own byte-level
//     matchers in SplitPatterns.swift; Digits (Digits.swift); ByteLevel; Sequence)
//   → BPE model (BPEModel.swift: merge ranks keyed by id pairs, lowest rank first, leftmost; WordCache.swift)
//   → post-processor (PostProcessor.swift: TemplateProcessing, ByteLevel) when special tokens are added.
// `decode` maps ids back through the byte-level alphabet (ByteLevelAlphabet.swift, Decoder.swift).
// `BPETrainer` (BPETrainer.swift) learns merges as HF's BpeTrainer does and writes a tokenizer.json.
// Offsets in `Encoding` are UTF-8 byte ranges of the input.
// `GGUFTokenizerMetadata` (GGUFTokenizer.swift) builds tokenizer.json / tokenizer_config.json from a GGUF's tokenizer
// metadata as transformers does; `ChatTemplate` (ChatTemplate.swift) renders ChatML prompts without a Jinja engine.

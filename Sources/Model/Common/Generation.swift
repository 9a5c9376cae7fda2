// Text generation with HF transformers' `generate` semantics: greedy and sampling over a left-padded batch with the
// KV cache, beam search (BeamSearch.swift), stopping at eos, max_new_tokens or a caller's stop condition.
import EcomTensor

/// HF's `early_stopping` for beam search.
public enum EarlyStopping: String, Sendable, CaseIterable {
    /// Stop as soon as `numBeams` finished hypotheses exist (`True`).
    case always = "true"
    /// Stop when the heuristic says no running beam can beat the finished ones (`False`, HF's default).
    case heuristic = "false"
    /// Canonical beam search: stop only when no beam can improve, with the length penalty's best case (`"never"`).
    case never
}

/// What to generate and how.
public struct GenerationOptions: Sendable {
    public var maxNewTokens: Int
    /// 1: greedy (or sampling); more: beam search.
    public var numBeams: Int
    public var lengthPenalty: Float
    public var earlyStopping: EarlyStopping
    /// Sampling instead of greedy choice (ignored by beam search).
    public var sampling: SamplingOptions?
    public var repetitionPenalty: Float
    public var eosTokenId: Int32?
    public var padTokenId: Int32
    /// Stops a sequence (kept as generated so far, the stopping token included) when it returns true for its
    /// generated ids: stop strings, for instance (see ``StopStrings``).
    public var stop: (@Sendable ([Int32]) -> Bool)?

    public init(maxNewTokens: Int = 20, numBeams: Int = 1, lengthPenalty: Float = 1, earlyStopping: EarlyStopping = .heuristic,
                sampling: SamplingOptions? = nil, repetitionPenalty: Float = 1, eosTokenId: Int32? = 2, padTokenId: Int32 = 3,
                stop: (@Sendable ([Int32]) -> Bool)? = nil) {
        self.maxNewTokens = maxNewTokens; self.numBeams = numBeams; self.lengthPenalty = lengthPenalty
        self.earlyStopping = earlyStopping; self.sampling = sampling; self.repetitionPenalty = repetitionPenalty
        self.eosTokenId = eosTokenId; self.padTokenId = padTokenId; self.stop = stop
    }

    /// Defaults from a BLOOM configuration (eos and pad ids).
    public init(configuration c: BloomConfiguration, maxNewTokens: Int = 20) {
        self.init(maxNewTokens: maxNewTokens, eosTokenId: c.eosTokenId.map(Int32.init), padTokenId: Int32(c.padTokenId ?? c.eosTokenId ?? 0))
    }

    /// Defaults from a model's special tokens: its first eos id, and pad = the pad id, else eos, else 0 (HF's choice).
    public init(model: any CausalLanguageModel, maxNewTokens: Int = 20) {
        let t = model.specialTokens
        self.init(maxNewTokens: maxNewTokens, eosTokenId: t.eos.first, padTokenId: t.pad ?? t.eos.first ?? 0)
    }
}

extension GenerationOptions {
    /// The next token from a row of logits: the repetition penalty over `previous` (prompt and generated ids), then a
    /// draw under ``sampling`` or the most likely token.
    func nextToken(_ row: UnsafeMutablePointer<Float>, count V: Int, previous: [Int32], rng: inout TensorRandom) -> Int32 {
        LogitsProcessing.repetitionPenalty(row, previous: previous, penalty: repetitionPenalty)
        if let s = sampling { return Int32(LogitsProcessing.sample(row, count: V, options: s, rng: &rng)) }
        return Int32(LogitsProcessing.argmax(row, count: V))
    }

    /// True when a sequence that generated `ids` (its last token just chosen) ends there: eos or the stop condition.
    func ends(_ ids: [Int32]) -> Bool { ids.last == eosTokenId || (stop?(ids) ?? false) }
}

extension CausalLanguageModel {
    /// Continues each prompt; returns the generated ids only (ending with eos when it was produced).
    ///
    /// Greedy and sampling run the prompts together, left-padded, with one KV cache; beam search runs each prompt
    /// with `numBeams` sequences. `onToken(prompt index, token)` is called as tokens are chosen (for streaming;
    /// beam search reports its final sequence at the end).
    public func generate(prompts: [[Int32]], options: GenerationOptions, onToken: ((Int, Int32) -> Void)? = nil) -> [[Int32]] {
        precondition(prompts.allSatisfy { !$0.isEmpty }, "prompts must not be empty")
        if options.maxNewTokens <= 0 { return prompts.map { _ in [] } }
        if options.numBeams > 1 {
            return prompts.enumerated().map { i, p in
                let out = beamSearch(prompt: p, options: options)
                for t in out { onToken?(i, t) }
                return out
            }
        }
        return sampleOrGreedy(prompts: prompts, options: options, onToken: onToken)
    }

    func sampleOrGreedy(prompts: [[Int32]], options o: GenerationOptions, onToken: ((Int, Int32) -> Void)?) -> [[Int32]] {
        let B = prompts.count, width = prompts.map(\.count).max()!, V = vocabularySize
        var ids: [Int32] = [], mask: [Int32] = []
        for p in prompts {
            ids += [Int32](repeating: o.padTokenId, count: width - p.count) + p
            mask += [Int32](repeating: 0, count: width - p.count) + [Int32](repeating: 1, count: p.count)
        }
        let cache = makeCache(batch: B, capacity: width + o.maxNewTokens)
        var rng = TensorRandom(seed: o.sampling?.seed ?? 0)
        var generated = [[Int32]](repeating: [], count: B)
        var finished = [Bool](repeating: false, count: B)
        var input = ids, inputMask: [Int32]? = mask
        for _ in 0..<o.maxNewTokens {
            let next: [Int32] = step(ids: input, mask: inputMask, cache: cache, last: true) { logits in
                (0..<B).map { b in
                    if finished[b] { return o.padTokenId }
                    return o.nextToken(logits + b * V, count: V, previous: prompts[b] + generated[b], rng: &rng)
                }
            }
            for b in 0..<B where !finished[b] {
                generated[b].append(next[b])
                onToken?(b, next[b])
                if o.ends(generated[b]) { finished[b] = true }
            }
            if finished.allSatisfy({ $0 }) { break }
            input = next
            inputMask = nil  // new positions are real tokens (HF appends ones to the attention mask)
        }
        return generated
    }
}

/// Stop strings (HF `stop_strings`): a sequence stops once its decoded text contains one of them.
public struct StopStrings: Sendable {
    public let strings: [String]
    private let decode: @Sendable ([Int32]) -> String

    /// `decode` turns generated ids into text (a tokenizer's decode).
    public init(_ strings: [String], decode: @escaping @Sendable ([Int32]) -> String) {
        self.strings = strings.filter { !$0.isEmpty }
        self.decode = decode
    }

    /// True when the decoded ids contain a stop string.
    public func matches(_ ids: [Int32]) -> Bool {
        guard !strings.isEmpty else { return false }
        let text = decode(ids)
        return strings.contains { text.contains($0) }
    }

    /// `text` cut before the earliest stop string it contains.
    public func truncate(_ text: String) -> String {
        let cuts = strings.compactMap { text.range(of: $0)?.lowerBound }
        guard let first = cuts.min() else { return text }
        return String(text[..<first])
    }

    /// The condition for ``GenerationOptions/stop``.
    public var condition: @Sendable ([Int32]) -> Bool { { [self] ids in matches(ids) } }
}

// Greedy and sampled generation of several prompts as independent sequences in packed steps: no padding is computed
// and finished sequences leave the batch (the continuous batching of ecom-serve, applied to a fixed set of prompts).
import EcomTensor

extension CausalLanguageModel {
    /// Continues each prompt alone, as ``generate(prompts:options:onToken:)`` does for a single prompt, but runs the
    /// prompts together: one packed step prefills every prompt (the linear layers over all their tokens, attention per
    /// prompt), then each packed decoding step carries only the sequences still running.
    ///
    /// Against the left-padded batch of ``generate(prompts:options:onToken:)`` (HF's batched `generate`), no work is
    /// spent on padding or on sequences that have finished; each prompt's tokens are those it gets when generated
    /// alone, up to Float32 rounding of the batched products (with GGUF blocks, a prompt of a few tokens alone runs
    /// the 8-bit kernel path, and packed with others the batched one, as in a padded batch). Beam search
    /// (`numBeams > 1`) runs each prompt by itself, as there. Sampling draws for the running sequences in prompt
    /// order, one draw each per step.
    public func generatePacked(prompts: [[Int32]], options o: GenerationOptions, onToken: ((Int, Int32) -> Void)? = nil) -> [[Int32]] {
        precondition(prompts.allSatisfy { !$0.isEmpty }, "prompts must not be empty")
        if o.maxNewTokens <= 0 { return prompts.map { _ in [] } }
        if o.numBeams > 1 { return generate(prompts: prompts, options: o, onToken: onToken) }
        let V = vocabularySize
        let caches = prompts.map { makeCache(batch: 1, capacity: $0.count + o.maxNewTokens) }
        var rng = TensorRandom(seed: o.sampling?.seed ?? 0)
        var generated = [[Int32]](repeating: [], count: prompts.count)
        var running = Array(prompts.indices)
        var inputs = prompts
        while !running.isEmpty {
            let next: [Int32] = step(sequences: running.map { SequenceStep(ids: inputs[$0], cache: caches[$0]) }) { logits in
                running.enumerated().map { row, b in
                    o.nextToken(logits + row * V, count: V, previous: prompts[b] + generated[b], rng: &rng)
                }
            }
            var still: [Int] = []
            for (row, b) in running.enumerated() {
                generated[b].append(next[row])
                onToken?(b, next[row])
                if !o.ends(generated[b]) && generated[b].count < o.maxNewTokens { still.append(b); inputs[b] = [next[row]] }
            }
            running = still
        }
        return generated
    }
}

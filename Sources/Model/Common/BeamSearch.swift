// Beam search as transformers 5.x `GenerationMixin._beam_search` does it (vectorised beam search: top 2K candidates,
// running and finished beams kept apart, length penalty, early_stopping True/False/"never" heuristics).
import Foundation

extension CausalLanguageModel {
    /// One prompt's beam search; returns the best finished hypothesis' generated ids.
    ///
    /// Each step (HF's names in parentheses): log-softmax of every running beam's next-token logits plus the beam's
    /// score, flattened over beams × vocabulary; the best `keep = 2K` candidates (`_get_top_k_continuations`); those
    /// ending in eos or at max length "hit the stopping criteria". Running beams for the next step are the best K
    /// candidates that did not stop (`_get_running_beams_for_next_iteration`). Stopped candidates among the top K
    /// enter the finished set with score / (generated length)^length_penalty, unless the finished set is closed
    /// (`early_stopping=True` and K finished) or the early-stop heuristic has said no improvement is possible
    /// (`_update_finished_beams`). The heuristic compares the best running score over its best possible length with
    /// the worst finished score (`_check_early_stop_heuristic`). Masking uses HF's additive -1e9 in Float32, so
    /// scores and ties come out as HF computes them.
    func beamSearch(prompt: [Int32], options o: GenerationOptions) -> [Int32] {
        let K = o.numBeams, V = vocabularySize, L = prompt.count, maxLength = L + o.maxNewTokens
        let keep = max(2, 1 + (o.eosTokenId == nil ? 0 : 1)) * K
        let veto: Float = -1.0e9
        let cache = makeCache(batch: K, capacity: maxLength)
        var running = [[Int32]](repeating: [], count: K)
        var runningScores = [Float](repeating: veto, count: K)
        runningScores[0] = 0
        var finished = [[Int32]](repeating: [], count: K)
        var finishedScores = [Float](repeating: veto, count: K)
        var isFinished = [Bool](repeating: false, count: K)
        var improvable = true
        var curLen = L
        var input = Array([[Int32]](repeating: prompt, count: K).joined())
        var candidateScores = [Float](repeating: 0, count: K * V)

        while true {
            step(ids: input, mask: nil, cache: cache, last: true) { logits in
                for k in 0..<K {
                    let row = logits + k * V
                    LogitsProcessing.logSoftmax(row, count: V)
                    LogitsProcessing.repetitionPenalty(row, previous: prompt + running[k], penalty: o.repetitionPenalty)
                    for j in 0..<V { candidateScores[k * V + j] = row[j] + runningScores[k] }
                }
            }
            // The best `keep` candidates, best first (lower index first on ties).
            let top = Self.topIndices(candidateScores, count: keep)
            let scores = top.map { candidateScores[$0] }
            let sequences = top.map { running[$0 / V] + [Int32($0 % V)] }
            let hits = sequences.map { s in s.last == o.eosTokenId || curLen + 1 >= maxLength || (o.stop?(s) ?? false) }

            // Running beams for the next step.
            let runScores = zip(scores, hits).map { $0 + ($1 ? veto : 0) }
            let next = Self.topIndices(runScores, count: K)
            let sources = next.map { top[$0] / V }
            running = next.map { sequences[$0] }
            runningScores = next.map { runScores[$0] }

            // Finished hypotheses.
            let penalty = Float(pow(Double(curLen + 1 - L), Double(o.lengthPenalty)))
            let closed = isFinished.allSatisfy { $0 } && o.earlyStopping == .always
            var merged = finishedScores, mergedSeqs = finished, mergedFlags = isFinished
            for c in 0..<keep {
                var s = scores[c] / penalty
                if closed { s += veto }
                if !improvable { s += veto }
                let did = hits[c] && c < K
                if !did { s += veto }
                merged.append(s); mergedSeqs.append(sequences[c]); mergedFlags.append(did)
            }
            let best = Self.topIndices(merged, count: K)
            finished = best.map { mergedSeqs[$0] }
            finishedScores = best.map { merged[$0] }
            isFinished = best.map { mergedFlags[$0] }

            cache.reorder(sources)
            input = running.map { $0.last! }
            curLen += 1

            let bestLength = o.earlyStopping == .never && o.lengthPenalty > 0 ? maxLength - L : curLen - L
            let bestPossible = runningScores[0] / Float(pow(Double(bestLength), Double(o.lengthPenalty)))
            let worst = finishedScores.min()!
            improvable = improvable && isFinished.contains { bestPossible > ($0 ? worst : -1.0e9) }
            let open = !(isFinished.allSatisfy { $0 } && o.earlyStopping == .always)
            if !(improvable && open && !hits.allSatisfy { $0 }) { break }
        }
        return finished[0]
    }

    /// Indices of the `count` largest values, largest first; ties keep the lower index first.
    static func topIndices(_ values: [Float], count: Int) -> [Int] {
        var best: [Int] = []
        best.reserveCapacity(count + 1)
        for (i, v) in values.enumerated() {
            if best.count == count, let last = best.last, !(v > values[last]) { continue }
            var pos = best.count
            while pos > 0 && v > values[best[pos - 1]] { pos -= 1 }
            best.insert(i, at: pos)
            if best.count > count { best.removeLast() }
        }
        return best
    }
}

extension CausalLanguageModel {
    /// ``topIndices(_:count:)`` for tests.
    public static func topIndicesForTesting(_ values: [Float], count: Int) -> [Int] { topIndices(values, count: count) }
}

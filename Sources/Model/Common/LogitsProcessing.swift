// Next-token scores as HF transformers' logits processors shape them: repetition penalty, temperature, top-k, top-p,
// then greedy choice or seeded sampling; and log-softmax for beam search.
import EcomTensor
import Foundation

/// Options of sampling (HF `do_sample=True`), applied in HF's order: temperature, top-k, top-p.
public struct SamplingOptions: Sendable, Equatable {
    public var temperature: Float
    /// Keep the k most likely tokens (0 = no limit).
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches p (1 = no limit).
    public var topP: Float
    public var seed: UInt64
    public init(temperature: Float = 1, topK: Int = 50, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature; self.topK = topK; self.topP = topP; self.seed = seed
    }
}

/// The per-row choices of generation, public so that other decoders (a server's scheduler) choose tokens the same way.
public enum LogitsProcessing {
    /// HF `RepetitionPenaltyLogitsProcessor`: every token already in the sequence (prompt included) gets its score
    /// divided by `penalty` when positive, multiplied when negative.
    public static func repetitionPenalty(_ scores: UnsafeMutablePointer<Float>, previous: [Int32], penalty: Float) {
        guard penalty != 1 else { return }
        for id in Set(previous) {
            let s = scores[Int(id)]
            scores[Int(id)] = s < 0 ? s * penalty : s / penalty
        }
    }

    /// Index of the largest score (the first on ties, as torch.argmax).
    public static func argmax(_ scores: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        for i in 1..<count where scores[i] > scores[best] { best = i }
        return best
    }

    /// log_softmax in place (max-shifted log-sum-exp, accumulated in Double).
    public static func logSoftmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var m = -Float.infinity
        for i in 0..<count { m = max(m, x[i]) }
        var s = 0.0
        for i in 0..<count { s += exp(Double(x[i] - m)) }
        let lse = m + Float(log(s))
        for i in 0..<count { x[i] -= lse }
    }

    /// Temperature, top-k and top-p (HF's warpers: removed tokens get -inf), then a draw from the softmax.
    public static func sample(_ scores: UnsafeMutablePointer<Float>, count: Int, options o: SamplingOptions, rng: inout TensorRandom) -> Int {
        if o.temperature > 0 && o.temperature != 1 { for i in 0..<count { scores[i] /= o.temperature } }
        if o.temperature <= 0 { return argmax(scores, count: count) }  // temperature 0: greedy
        if o.topK > 0 && o.topK < count {
            // Keep scores >= the k-th largest (ties with it kept, as HF's `scores < topk[-1]` filter).
            var sorted = Array(UnsafeBufferPointer(start: scores, count: count))
            sorted.sort(by: >)
            let kth = sorted[o.topK - 1]
            for i in 0..<count where scores[i] < kth { scores[i] = -.infinity }
        }
        if o.topP < 1 {
            // HF TopPLogitsWarper: sort ascending, drop tokens whose cumulative probability is <= 1 - p (the least
            // likely ones), always keeping the most likely token.
            let order = (0..<count).sorted { scores[$0] < scores[$1] }
            let m = scores[order[count - 1]]
            var total = 0.0
            for i in 0..<count { total += exp(Double(scores[i] - m)) }
            var cumulative = 0.0
            for (rank, i) in order.enumerated() where rank < count - 1 {
                cumulative += exp(Double(scores[i] - m)) / total
                if cumulative <= Double(1 - o.topP) { scores[i] = -.infinity } else { break }
            }
        }
        var m = -Float.infinity
        for i in 0..<count { m = max(m, scores[i]) }
        var total = 0.0
        for i in 0..<count { total += exp(Double(scores[i] - m)) }
        var u = Double(rng.uniform()) * total
        for i in 0..<count {
            let p = exp(Double(scores[i] - m))
            if p > 0 && u < p { return i }
            u -= p
        }
        return argmax(scores, count: count)
    }
}

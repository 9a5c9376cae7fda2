// A training batch: token ids, next-token targets (-100 where nothing is learned) and optional document ids, built
// from HF-style labels (shifted here, as BloomForCausalLM shifts them) or from Instruct's packed sequences.
import EcomTensor

/// `batch` rows of `length` tokens. Shapes: ids, targets and documents `[B, T]` row-major.
public struct TrainingBatch: Sendable, Equatable {
    public var ids: [Int32]
    /// The token to predict at each position (already shifted), or -100 (ignored).
    public var targets: [Int32]
    /// Document ids (attention stays within runs of equal ids); nil: each row is one document. Id 0 marks padding:
    /// a run of 0s without targets is skipped by the training pass (it could not change the loss or gradients).
    public var documents: [UInt16]?
    public var batch: Int
    public var length: Int

    public init(ids: [Int32], targets: [Int32], documents: [UInt16]? = nil, batch: Int, length: Int) {
        precondition(ids.count == batch * length && targets.count == ids.count, "batch \(batch) x \(length): got \(ids.count) ids, \(targets.count) targets")
        if let documents { precondition(documents.count == ids.count, "documents: \(documents.count), expected \(ids.count)") }
        self.ids = ids; self.targets = targets; self.documents = documents; self.batch = batch; self.length = length
    }

    /// From HF labels aligned with the ids (`labels[t]` is the token at position t, -100 where not learned): as
    /// BloomForCausalLM, position t predicts `labels[t + 1]`, and the last position predicts nothing.
    public init(ids: [Int32], labels: [Int32], batch: Int, length: Int) {
        var targets = [Int32](repeating: CrossEntropyKernel.ignoreIndex, count: ids.count)
        for b in 0..<batch { for t in 0..<(length - 1) { targets[b * length + t] = labels[b * length + t + 1] } }
        self.init(ids: ids, targets: targets, batch: batch, length: length)
    }

    /// From packed sequences (all of one length): position t predicts token t + 1 when that token is learned
    /// (loss mask 1) and belongs to the same, non-padding document.
    public init(packed: [(ids: [Int32], lossMask: [UInt8], documentIDs: [UInt16])]) {
        precondition(!packed.isEmpty, "empty batch")
        let T = packed[0].ids.count
        var ids: [Int32] = [], targets: [Int32] = [], docs: [UInt16] = []
        ids.reserveCapacity(packed.count * T); targets.reserveCapacity(packed.count * T); docs.reserveCapacity(packed.count * T)
        for s in packed {
            precondition(s.ids.count == T && s.lossMask.count == T && s.documentIDs.count == T, "packed sequences differ in length")
            ids += s.ids
            docs += s.documentIDs
            for t in 0..<T {
                let learned = t + 1 < T && s.lossMask[t + 1] != 0 && s.documentIDs[t + 1] == s.documentIDs[t] && s.documentIDs[t] != 0
                targets.append(learned ? s.ids[t + 1] : CrossEntropyKernel.ignoreIndex)
            }
        }
        self.init(ids: ids, targets: targets, documents: docs, batch: packed.count, length: T)
    }

    /// The number of positions with a target (learned tokens).
    public var learnedTokens: Int { targets.reduce(0) { $0 + ($1 == CrossEntropyKernel.ignoreIndex ? 0 : 1) } }

    /// Rows `range` as a batch of their own (for gradient accumulation).
    public func rows(_ range: Range<Int>) -> TrainingBatch {
        let r = (range.lowerBound * length)..<(range.upperBound * length)
        return TrainingBatch(ids: Array(ids[r]), targets: Array(targets[r]), documents: documents.map { Array($0[r]) },
                             batch: range.count, length: length)
    }

    /// Runs of equal document id in row `b`, as (start, length).
    func segments(row b: Int) -> [(start: Int, length: Int)] {
        guard let documents else { return [(0, length)] }
        var out: [(Int, Int)] = []
        var s = 0
        for t in 1...length where t == length || documents[b * length + t] != documents[b * length + s] {
            out.append((s, t - s)); s = t
        }
        return out
    }
}

/// A run of tokens attended as a unit: flat rows [row0, row0 + length) of a compacted batch; its attention
/// probabilities live at `attOffset` of each layer's attention buffer as `[heads, length, length]`.
struct AttentionSegment { var row0: Int, length: Int, attOffset: Int }

extension TrainingBatch {
    /// The batch without its padding runs (document id 0 without targets: they attend only among themselves and give
    /// no loss and no gradient, so dropping them changes nothing), one segment per remaining document run, in order;
    /// with the flattened ids and targets, the attention values per layer (`heads * length²` per segment) and the
    /// longest segment.
    func compacted(headCount: Int) -> (segments: [AttentionSegment], ids: [Int32], targets: [Int32], attPerLayer: Int, longest: Int) {
        var segments: [AttentionSegment] = []
        var attPerLayer = 0, longest = 0
        var ids: [Int32] = [], targets: [Int32] = []
        ids.reserveCapacity(batch * length); targets.reserveCapacity(batch * length)
        for b in 0..<batch {
            for s in self.segments(row: b) {
                let r = (b * length + s.start)..<(b * length + s.start + s.length)
                if let docs = documents, docs[r.lowerBound] == 0,
                   self.targets[r].allSatisfy({ $0 == CrossEntropyKernel.ignoreIndex }) { continue }
                segments.append(AttentionSegment(row0: ids.count, length: s.length, attOffset: attPerLayer))
                ids += self.ids[r]; targets += self.targets[r]
                attPerLayer += headCount * s.length * s.length
                longest = max(longest, s.length)
            }
        }
        return (segments, ids, targets, attPerLayer, longest)
    }
}

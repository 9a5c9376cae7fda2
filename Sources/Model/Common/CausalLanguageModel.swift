// The one interface of a causal language model that generation, evaluation and serving use, whatever the
// architecture (BLOOM, Llama): a forward step over new tokens with a KV cache and an attention mask.
import EcomTensor
import Foundation

/// Which positions of a forward pass get logits.
public enum LogitRows: Sendable { case all, last }

/// The token ids a model's configuration names (HF config.json's `bos_token_id`, `eos_token_id`, `pad_token_id`).
public struct SpecialTokenIds: Sendable, Equatable {
    public var bos: Int32?
    /// Every id that ends generation (HF allows a list); the first is the canonical one.
    public var eos: [Int32]
    public var pad: Int32?
    public init(bos: Int32?, eos: [Int32], pad: Int32?) { self.bos = bos; self.eos = eos; self.pad = pad }
}

/// A causal language model ready for inference.
///
/// `step` runs new tokens `[B, T]` (row-major, left-padded when rows differ in length) through the model, appending
/// their keys and values to `cache`, and hands `body` the logits `[B*T, V]` (or `[B, V]` with `last`) from the model's
/// workspace, valid only during the call. Implementations serialise concurrent calls; ``sharingWeights()`` gives a
/// second model over the same weights with its own workspace, for parallel workers.
public protocol CausalLanguageModel: AnyObject, Sendable {
    /// Rows of the LM head (logits per position).
    var vocabularySize: Int { get }
    /// The configuration's special token ids.
    var specialTokens: SpecialTokenIds { get }
    /// The architecture's name as HF's `model_type` spells it ("bloom", "llama").
    var architecture: String { get }
    /// Number of parameters (tied embeddings counted once).
    var parameterCount: Int { get }
    /// Bytes of weight data read per decoded token.
    var bytesPerToken: Int { get }
    /// A KV cache for `batch` sequences of up to `capacity` positions.
    func makeCache(batch: Int, capacity: Int) -> KVCache
    /// The forward pass (see the protocol's description).
    func step<R>(ids: [Int32], mask: [Int32]?, cache: KVCache, last: Bool,
                 _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R
    /// A packed forward pass over independent sequences, each with its own cache of batch 1 and its own length
    /// (continuous batching: a server decodes the requests in flight together, each at its own position). The
    /// linear layers run once over all the new tokens; attention runs per sequence over its own cache. `body` gets
    /// the logits of each sequence's last new position, `[S, V]` in the order given.
    func step<R>(sequences: [SequenceStep], _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R
    /// A model over the same weights with a workspace of its own.
    func sharingWeights() -> any CausalLanguageModel
    /// The configuration as HF config.json holds it.
    func encodedConfiguration() throws -> Data
}

/// One sequence of a packed step (``CausalLanguageModel/step(sequences:_:)``): its new tokens and its own cache
/// (batch 1), which the step extends by `ids.count` positions.
public struct SequenceStep: @unchecked Sendable {
    public var ids: [Int32]
    public var cache: KVCache
    public init(ids: [Int32], cache: KVCache) { self.ids = ids; self.cache = cache }
}

/// One sequence's rows within a forward pass: new tokens `row..<row+count` of the packed ids, appended at `past` in
/// row `b` of `cache`. A batched step has one lane per row of its shared cache; a packed step one per sequence.
struct Lane {
    let cache: KVCache
    let b: Int
    let row: Int
    let count: Int
    let past: Int
    var visible: Int { past + count }
}

extension CausalLanguageModel {
    /// Runs `ids` (`[B, T]`, left-padded when rows differ) and returns logits `[B, T, V]` or, with `.last`, `[B, V]`.
    ///
    /// `mask` (`[B, T]`, 1 for tokens and 0 for padding) defaults to all ones. Without a cache, a fresh one is used.
    public func forward(ids: [Int32], batch: Int, mask: [Int32]? = nil, cache: KVCache? = nil, logits rows: LogitRows = .all) -> Tensor {
        precondition(batch > 0 && ids.count % batch == 0, "ids (\(ids.count)) must be batch (\(batch)) x length")
        let t = ids.count / batch
        let cache = cache ?? makeCache(batch: batch, capacity: max(1, t))
        let v = vocabularySize
        let n = rows == .last ? batch : batch * t
        return step(ids: ids, mask: mask, cache: cache, last: rows == .last) { out in
            Tensor(shape: rows == .last ? [batch, v] : [batch, t, v], storage: Array(UnsafeBufferPointer(start: out, count: n * v)))
        }
    }

    /// Checks a step's inputs against the cache, records the new positions' mask, and returns one lane per row of
    /// the cache; traps with a message on a caller's error.
    func batchedLanes(ids: [Int32], mask: [Int32]?, cache: KVCache) -> [Lane] {
        let B = cache.batch, T = ids.count / B
        precondition(ids.count == B * T && T > 0, "ids (\(ids.count)) must be \(B) x length")
        precondition(cache.length + T <= cache.capacity, "KV cache full: \(cache.length) + \(T) > \(cache.capacity)")
        if let mask { precondition(mask.count == B * T, "mask has \(mask.count) entries, expected \(B * T)") }
        validateIds(ids)
        cache.recordMask(mask, count: T)
        return (0..<B).map { Lane(cache: cache, b: $0, row: $0 * T, count: T, past: cache.length) }
    }

    /// Checks a packed step's sequences (distinct caches of batch 1 with room for their tokens), records their new
    /// positions, and returns their lanes and concatenated ids.
    func packedLanes(_ sequences: [SequenceStep]) -> (lanes: [Lane], ids: [Int32]) {
        precondition(!sequences.isEmpty, "a packed step needs at least one sequence")
        precondition(Set(sequences.map { ObjectIdentifier($0.cache) }).count == sequences.count, "packed sequences must have distinct caches")
        var lanes: [Lane] = [], ids: [Int32] = []
        for s in sequences {
            let c = s.cache
            precondition(c.batch == 1, "a packed sequence's cache must have batch 1, not \(c.batch)")
            precondition(!s.ids.isEmpty, "a packed sequence needs at least one new token")
            precondition(c.length + s.ids.count <= c.capacity, "KV cache full: \(c.length) + \(s.ids.count) > \(c.capacity)")
            validateIds(s.ids)
            c.recordMask(nil, count: s.ids.count)
            lanes.append(Lane(cache: c, b: 0, row: ids.count, count: s.ids.count, past: c.length))
            ids += s.ids
        }
        return (lanes, ids)
    }

    private func validateIds(_ ids: [Int32]) {
        let V = vocabularySize
        for id in ids { precondition(id >= 0 && Int(id) < V, "token id \(id) outside the vocabulary (\(V))") }
    }
}

/// A model whose one forward pass runs over lanes (BLOOM, Llama): both steps of ``CausalLanguageModel`` are that pass
/// under the workspace's lock, differing only in how lanes are made and caches advanced.
protocol LaneModel: CausalLanguageModel {
    var workspace: Workspace { get }
    /// The forward pass of `lanes` into the workspace (their masks recorded, their caches' lengths not yet advanced);
    /// returns logits `[N, V]` (or one row per lane with `last`), valid until the next call.
    func forward(ids: [Int32], lanes: [Lane], last: Bool) -> UnsafeMutablePointer<Float>
}

extension LaneModel {
    public func step<R>(ids: [Int32], mask: [Int32]?, cache: KVCache, last: Bool, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try workspace.exclusive {
            let lanes = batchedLanes(ids: ids, mask: mask, cache: cache)
            let logits = forward(ids: ids, lanes: lanes, last: last)
            cache.length += ids.count / cache.batch
            return try body(logits)
        }
    }

    public func step<R>(sequences: [SequenceStep], _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try workspace.exclusive {
            let (lanes, ids) = packedLanes(sequences)
            let logits = forward(ids: ids, lanes: lanes, last: true)
            for lane in lanes { lane.cache.length += lane.count }
            return try body(logits)
        }
    }
}

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
    /// A model over the same weights with a workspace of its own.
    func sharingWeights() -> any CausalLanguageModel
    /// The configuration as HF config.json holds it.
    func encodedConfiguration() throws -> Data
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

    /// Checks a step's inputs against the cache; traps with a message on a caller's error.
    func validateStep(ids: [Int32], mask: [Int32]?, cache: KVCache) {
        let B = cache.batch, T = ids.count / B
        precondition(ids.count == B * T && T > 0, "ids (\(ids.count)) must be \(B) x length")
        precondition(cache.length + T <= cache.capacity, "KV cache full: \(cache.length) + \(T) > \(cache.capacity)")
        if let mask { precondition(mask.count == B * T, "mask has \(mask.count) entries, expected \(B * T)") }
        let V = vocabularySize
        for id in ids { precondition(id >= 0 && Int(id) < V, "token id \(id) outside the vocabulary (\(V))") }
    }
}

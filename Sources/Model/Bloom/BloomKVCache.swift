// BLOOM's view of the shared KV cache: one key/value head per attention head.

/// The KV cache under its earlier name.
public typealias BloomKVCache = KVCache

extension KVCache {
    /// A cache shaped for a BLOOM model (every attention head caches its own keys and values).
    public convenience init(configuration c: BloomConfiguration, batch: Int, capacity: Int) {
        self.init(layerCount: c.layerCount, headCount: c.headCount, headDimension: c.headDimension, batch: batch, capacity: capacity)
    }
}

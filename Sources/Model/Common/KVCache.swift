// The key/value cache for incremental decoding: preallocated per layer to a fixed capacity, with the attention mask
// of every cached position (left padding) so that positions (ALiBi, rotary) and padding follow HF transformers.

/// Keys and values of every layer for `batch` sequences, up to `capacity` positions.
///
/// Layout per layer: `[B, NH, capacity, HS]` (NH: key/value heads, fewer than query heads with grouped-query attention) for keys and for values, so one head's cached keys are a contiguous
/// `[length, HS]` matrix. Nothing is reallocated while decoding: appending writes into the preallocated buffers;
/// reordering beams gathers into a second buffer and swaps.
public final class KVCache: @unchecked Sendable {
    public let batch: Int
    public let capacity: Int
    public let layerCount: Int
    public let headCount: Int
    public let headDimension: Int
    /// Positions cached so far (the same for every sequence: prompts are left-padded).
    public internal(set) var length = 0
    /// Attention mask of the cached positions, `[B, capacity]` (1 = token, 0 = padding).
    public internal(set) var mask: [Int32]

    var keys: UnsafeMutablePointer<Float>
    var values: UnsafeMutablePointer<Float>
    private var spareKeys: UnsafeMutablePointer<Float>?
    private var spareValues: UnsafeMutablePointer<Float>?

    /// Floats per layer (keys or values).
    var layerSize: Int { batch * headCount * capacity * headDimension }

    /// A cache of `layerCount` layers with `headCount` key/value heads of `headDimension` each.
    public init(layerCount: Int, headCount: Int, headDimension: Int, batch: Int, capacity: Int) {
        precondition(batch > 0 && capacity > 0, "cache needs a positive batch and capacity")
        self.batch = batch; self.capacity = capacity
        self.layerCount = layerCount; self.headCount = headCount; self.headDimension = headDimension
        mask = [Int32](repeating: 0, count: batch * capacity)
        let n = layerCount * batch * headCount * capacity * headDimension
        keys = .allocate(capacity: n); keys.initialize(repeating: 0, count: n)
        values = .allocate(capacity: n); values.initialize(repeating: 0, count: n)
    }

    deinit {
        keys.deallocate(); values.deallocate()
        spareKeys?.deallocate(); spareValues?.deallocate()
    }

    /// Records the mask of `count` new positions after the cached ones (all ones when `newMask` is nil; `[B, count]`).
    func recordMask(_ newMask: [Int32]?, count: Int) {
        for b in 0..<batch { for i in 0..<count { mask[b * capacity + length + i] = newMask?[b * count + i] ?? 1 } }
    }

    /// Forgets the cached positions (the buffers are kept).
    public func reset() { length = 0; mask = [Int32](repeating: 0, count: batch * capacity) }

    /// Start of the cached keys of (layer, sequence b, head h): `[capacity, HS]`.
    @inline(__always) func keys(layer: Int, b: Int, h: Int) -> UnsafeMutablePointer<Float> {
        keys + layer * layerSize + ((b * headCount + h) * capacity) * headDimension
    }
    @inline(__always) func values(layer: Int, b: Int, h: Int) -> UnsafeMutablePointer<Float> {
        values + layer * layerSize + ((b * headCount + h) * capacity) * headDimension
    }

    /// Makes sequence `i` continue sequence `sources[i]` (beam search): keys, values and mask are gathered.
    public func reorder(_ sources: [Int]) {
        precondition(sources.count == batch && sources.allSatisfy { $0 >= 0 && $0 < batch }, "reorder needs \(batch) sources")
        if sources.enumerated().allSatisfy({ $0.offset == $0.element }) { return }
        let n = layerCount * layerSize
        if spareKeys == nil {
            spareKeys = .allocate(capacity: n); spareKeys!.initialize(repeating: 0, count: n)
            spareValues = .allocate(capacity: n); spareValues!.initialize(repeating: 0, count: n)
        }
        let perHead = capacity * headDimension, used = length * headDimension  // only the cached rows move
        for l in 0..<layerCount {
            for (b, s) in sources.enumerated() {
                for h in 0..<headCount {
                    let dst = l * layerSize + (b * headCount + h) * perHead, src = l * layerSize + (s * headCount + h) * perHead
                    (spareKeys! + dst).update(from: keys + src, count: used)
                    (spareValues! + dst).update(from: values + src, count: used)
                }
            }
        }
        swap(&keys, &spareKeys!)
        swap(&values, &spareValues!)
        let old = mask
        for (b, s) in sources.enumerated() {
            for t in 0..<capacity { mask[b * capacity + t] = old[s * capacity + t] }
        }
    }

    /// Copies sequence 0 into every other sequence (beam search starts all beams from one prefilled prompt).
    public func broadcastFirst() { reorder([Int](repeating: 0, count: batch)) }
}

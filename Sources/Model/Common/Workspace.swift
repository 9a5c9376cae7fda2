// Scratch memory of the forward passes: grow-only buffers, so that decoding allocates nothing per token.
import Foundation

/// Grow-only scratch buffers reused by every forward pass.
final class Workspace: @unchecked Sendable {
    final class Buffer {
        private(set) var pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        private var capacity = 1
        func ensure(_ count: Int) -> UnsafeMutablePointer<Float> {
            if count > capacity {
                pointer.deallocate()
                capacity = count
                pointer = .allocate(capacity: count)
            }
            return pointer
        }
        deinit { pointer.deallocate() }
    }
    private let lock = NSLock()

    /// Runs `body` with the workspace to itself: concurrent forward passes of one model are serialised.
    func exclusive<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    let hidden = Buffer(), normed = Buffer(), qkv = Buffer(), context = Buffer(), mlp = Buffer()
    let scores = Buffer(), bias = Buffer(), logits = Buffer()
    /// Llama's separate projections and rotary tables.
    let keys = Buffer(), values = Buffer(), up = Buffer(), cos = Buffer(), sin = Buffer()
}

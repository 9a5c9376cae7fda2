// Cross-entropy over logits with ignore index -100, mean over the counted tokens (torch's F.cross_entropy), fwd+bwd.
import Foundation

/// Cross-entropy kernels on logits `[N, V]` and targets `[N]`.
///
/// loss = (1 / K) * sum over rows with target != ignoreIndex of (lse(x_row) - x_row[target]), K the number of such
/// rows. Log-sum-exp is computed stably as lse(x) = m + log(sum_j e^(x_j - m)) with m = max_j x_j: every exponent is
/// <= 0 (no overflow) and the sum is >= 1 (the log is finite). The gradient of one row's term is softmax(x) - onehot
/// (target), scaled by dLoss / K; ignored rows get zero gradient. With no counted rows the loss is 0 and the gradient 0
/// (torch returns NaN there; a zero keeps a training step on an all-padding batch harmless).
public enum CrossEntropyKernel {
    /// torch's default `ignore_index`.
    public static let ignoreIndex: Int32 = -100

    @inline(__always) static func check(_ t: Int32, vocab: Int) {
        precondition(t == ignoreIndex || (t >= 0 && Int(t) < vocab), "target \(t) outside [0, \(vocab)) and not \(ignoreIndex)")
    }

    /// Loss and (optionally) gradient, reference (Double). `dLogits` may alias `logits`.
    public static func forwardBackwardReference(
        _ logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, vocab: Int,
        dLogits: UnsafeMutablePointer<Float>?, dLoss: Float = 1
    ) -> (loss: Float, count: Int) {
        var total = 0.0, count = 0
        for r in 0..<rows where targets[r] != ignoreIndex { count += 1; check(targets[r], vocab: vocab) }
        for r in 0..<rows {
            let x = logits + r * vocab, t = targets[r]
            if t == ignoreIndex {
                dLogits?.advanced(by: r * vocab).update(repeating: 0, count: vocab)
                continue
            }
            var m = -Double.infinity
            for j in 0..<vocab { m = max(m, Double(x[j])) }
            var s = 0.0
            for j in 0..<vocab { s += exp(Double(x[j]) - m) }
            let lse = m + log(s)
            total += lse - Double(x[Int(t)])
            if let d = dLogits?.advanced(by: r * vocab) {
                let g = Double(dLoss) / Double(count)
                for j in 0..<vocab { d[j] = Float((exp(Double(x[j]) - lse) - (j == Int(t) ? 1 : 0)) * g) }
            }
        }
        return (count == 0 ? 0 : Float(total / Double(count)), count)
    }

    /// Loss and (optionally) gradient, SIMD and parallel over rows: each row by the C kernel of
    /// ``NativeKernels/activePath`` when there is one, else by Swift SIMD. `dLogits` may alias `logits` (the gradient
    /// then overwrites the logits, saving a `[N, V]` buffer). Row losses are summed per thread chunk in Double and the
    /// chunks added in order: deterministic for a given path and thread count.
    public static func forwardBackward(
        _ logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, vocab: Int,
        dLogits: UnsafeMutablePointer<Float>?, dLoss: Float = 1
    ) -> (loss: Float, count: Int) {
        var count = 0
        for r in 0..<rows where targets[r] != ignoreIndex { count += 1; check(targets[r], vocab: vocab) }
        let minRows = max(1, 32_768 / max(1, vocab))
        let chunks = ComputeThreads.chunkCount(rows, minPerChunk: minRows)
        var partial = [Double](repeating: 0, count: chunks)
        let g = count == 0 ? 0 : dLoss / Float(count)
        let native = NativeKernels.active?.pointee.cross_entropy_row
        partial.withUnsafeMutableBufferPointer { part in
            let part = part.baseAddress!
            ComputeThreads.forEachChunk(rows, minPerChunk: minRows) { c, range in
                var total = 0.0
                for r in range {
                    let x = logits + r * vocab, t = targets[r]
                    if t == ignoreIndex {
                        dLogits?.advanced(by: r * vocab).update(repeating: 0, count: vocab)
                        continue
                    }
                    if let native {
                        total += Double(native(x, vocab, t, g, dLogits.map { $0 + r * vocab }))
                        continue
                    }
                    var mv = FloatVector(repeating: -.infinity)
                    var j = 0
                    while j + simdWidth <= vocab { mv = vectorMax(mv, loadVector(x, j)); j += simdWidth }
                    var m = horizontalMax(mv)
                    while j < vocab { m = max(m, x[j]); j += 1 }
                    let mb = FloatVector(repeating: m)
                    var sv = FloatVector()
                    j = 0
                    while j + simdWidth <= vocab { sv += vectorExp(loadVector(x, j) - mb); j += simdWidth }
                    var s = horizontalSum(sv)
                    while j < vocab { s += scalarExp(x[j] - m); j += 1 }
                    let lse = m + log(s)
                    let xt = x[Int(t)]
                    total += Double(lse - xt)
                    if let d = dLogits?.advanced(by: r * vocab) {
                        // softmax_j = e^(x_j - lse); the gradient is (softmax - onehot) * g.
                        let lb = FloatVector(repeating: lse)
                        j = 0
                        while j + simdWidth <= vocab { storeVector(vectorExp(loadVector(x, j) - lb) * g, d, j); j += simdWidth }
                        while j < vocab { d[j] = scalarExp(x[j] - lse) * g; j += 1 }
                        d[Int(t)] -= g
                    }
                }
                part[c] = total
            }
        }
        let total = partial.reduce(0, +)
        return (count == 0 ? 0 : Float(total / Double(count)), count)
    }
}

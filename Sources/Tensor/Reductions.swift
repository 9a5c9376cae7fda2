// Reductions (sum, mean, max, L2 norm) and torch-style global-norm gradient clipping.
import Foundation

/// Reductions over a buffer. The fast paths sum 8 lanes per thread chunk, combine each chunk in Double, and add the
/// chunks in chunk order: the result depends on the thread count (the knob) but never on scheduling.
public enum ReductionKernel {
    @usableFromInline static let grain = 1 << 16

    /// Sum (reference, Double).
    public static func sumReference(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var s = 0.0
        for i in 0..<count { s += Double(x[i]) }
        return Float(s)
    }
    /// Maximum (reference); -infinity for an empty buffer.
    public static func maxReference(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var m = -Float.infinity
        for i in 0..<count { m = Swift.max(m, x[i]) }
        return m
    }
    /// Sum of squares (reference, Double).
    public static func sumOfSquaresReference(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var s = 0.0
        for i in 0..<count { s += Double(x[i]) * Double(x[i]) }
        return s
    }

    /// Chunked lane reduction; `lane` folds a vector into the accumulator, `tail` a scalar.
    @inline(__always) @usableFromInline
    static func chunked(_ count: Int, _ vector: (inout FloatVector, Int) -> Void, _ scalar: (Int) -> Double) -> Double {
        let chunks = ComputeThreads.chunkCount(count, minPerChunk: grain)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: chunks) { part in
            let part = part.baseAddress!
            ComputeThreads.forEachChunk(count, minPerChunk: grain) { c, range in
                var acc = FloatVector()
                var i = range.lowerBound
                // A Float lane accumulator is folded into Double every 4096 elements to bound rounding growth.
                var total = 0.0
                var sinceFold = 0
                while i + simdWidth <= range.upperBound {
                    vector(&acc, i)
                    i += simdWidth
                    sinceFold += 1
                    if sinceFold == 512 {
                        for l in 0..<simdWidth { total += Double(acc[l]) }
                        acc = FloatVector(); sinceFold = 0
                    }
                }
                for l in 0..<simdWidth { total += Double(acc[l]) }
                while i < range.upperBound { total += scalar(i); i += 1 }
                part[c] = total
            }
            var s = 0.0
            for c in 0..<chunks { s += part[c] }
            return s
        }
    }

    /// Sum.
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        Float(chunked(count, { $0 += loadVector(x, $1) }, { Double(x[$0]) }))
    }
    /// Mean (NaN for an empty buffer).
    public static func mean(_ x: UnsafePointer<Float>, count: Int) -> Float {
        Float(chunked(count, { $0 += loadVector(x, $1) }, { Double(x[$0]) }) / Double(count))
    }
    /// Sum of squares, in Double.
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        chunked(count, { let v = loadVector(x, $1); $0 += v * v }, { Double(x[$0]) * Double(x[$0]) })
    }
    /// Euclidean (L2) norm.
    public static func l2Norm(_ x: UnsafePointer<Float>, count: Int) -> Float {
        Float(sumOfSquares(x, count: count).squareRoot())
    }
    /// Maximum; -infinity for an empty buffer. NaNs are ignored unless all values are NaN.
    public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var mv = FloatVector(repeating: -.infinity)
        var i = 0
        while i + simdWidth <= count { mv = vectorMax(mv, loadVector(x, i)); i += simdWidth }
        var m = horizontalMax(mv)
        while i < count { m = Swift.max(m, x[i]); i += 1 }
        return m
    }

    /// Global-norm clipping over several gradient buffers, as torch's `clip_grad_norm_` (L2): computes the total norm
    /// sqrt(sum of squared norms); when it exceeds `maxNorm`, scales every buffer by maxNorm / (total + 1e-6).
    /// Returns the total norm before clipping.
    @discardableResult
    public static func clipGlobalNorm(_ buffers: [UnsafeMutableBufferPointer<Float>], maxNorm: Float) -> Float {
        let (total, coef) = clipCoefficient(buffers.map { UnsafeBufferPointer($0) }, maxNorm: maxNorm)
        if coef < 1 {
            for b in buffers where b.count > 0 { ElementwiseKernel.scale(b.baseAddress!, coef, b.baseAddress!, count: b.count) }
        }
        return total
    }

    /// What ``clipGlobalNorm(_:maxNorm:)`` would do, without writing: the total norm and the factor it would scale
    /// by (1 when the norm is within `maxNorm`), for an optimizer that applies the factor as it reads the gradients.
    public static func clipCoefficient(_ buffers: [UnsafeBufferPointer<Float>], maxNorm: Float) -> (norm: Float, scale: Float) {
        var sq = 0.0
        for b in buffers where b.count > 0 { sq += sumOfSquares(b.baseAddress!, count: b.count) }
        let total = Float(sq.squareRoot())
        let coef = maxNorm / (total + 1e-6)
        return (total, coef < 1 ? coef : 1)
    }
}

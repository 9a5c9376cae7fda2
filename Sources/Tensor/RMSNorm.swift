// RMSNorm (Zhang & Sennrich 2019) as transformers' LlamaRMSNorm computes it: y = w * (x * rsqrt(mean(x^2) + eps)),
// the mean of squares in Float32.
import Foundation

/// RMSNorm over rows of `cols` floats.
public enum RMSNormKernel {
    /// Forward (reference, Double accumulation of the mean of squares). `out` may alias `x`.
    public static func forwardReference(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                        rows: Int, cols: Int, eps: Float) {
        for r in 0..<rows {
            let row = x + r * cols
            var s = 0.0
            for j in 0..<cols { s += Double(row[j]) * Double(row[j]) }
            let inv = Float(1 / (s / Double(cols) + Double(eps)).squareRoot())
            for j in 0..<cols { out[r * cols + j] = weight[j] * (row[j] * inv) }
        }
    }

    /// Forward (SIMD). `out` may alias `x`; `rstd` (one per row) is written when given, for the backward pass.
    public static func forward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                               rows: Int, cols: Int, eps: Float, rstd: UnsafeMutablePointer<Float>? = nil) {
        let w = FloatVector.scalarCount
        let body = cols - cols % w
        for r in 0..<rows {
            let row = x + r * cols, dst = out + r * cols
            var acc = FloatVector(repeating: 0)
            var j = 0
            while j < body { let v = loadVector(row, j); acc += v * v; j += w }
            var s = horizontalSum(acc)
            while j < cols { s += row[j] * row[j]; j += 1 }
            let inv = 1 / (s / Float(cols) + eps).squareRoot()
            rstd?[r] = inv
            let vinv = FloatVector(repeating: inv)
            j = 0
            while j < body { storeVector(loadVector(weight, j) * (loadVector(row, j) * vinv), dst, j); j += w }
            while j < cols { dst[j] = weight[j] * (row[j] * inv); j += 1 }
        }
    }
}

// RMSNorm (Zhang & Sennrich 2019) as transformers' LlamaRMSNorm computes it: y = w * (x * rsqrt(mean(x^2) + eps)),
// the mean of squares in Float32.
import Foundation
import _EcomTensorKernels

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

    /// Forward (SIMD: the C kernel of ``NativeKernels/activePath`` when there is one, rows split over threads, else
    /// Swift SIMD). `out` may alias `x`; `rstd` (one per row) is written when given, for the backward pass.
    public static func forward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                               rows: Int, cols: Int, eps: Float, rstd: UnsafeMutablePointer<Float>? = nil) {
        guard cols > 0 else { return }
        if let kernel = NativeKernels.active?.pointee.rmsnorm_forward {
            ComputeThreads.forEachChunk(rows, minPerChunk: max(1, 32_768 / cols)) { _, r in
                let o = r.lowerBound
                kernel(x + o * cols, weight, out + o * cols, rstd.map { $0 + o }, r.count, cols, eps)
            }
            return
        }
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

    /// Backward of ``forward`` given the saved `rstd` r of each row: with g = dy * w,
    /// dx = r * g - x * r³ / cols * Σ(g * x) (written, or added with `accumulate`), and dWeight += Σ_rows dy * x * r
    /// when `dWeight` is given. Derivation: d r / d x_i = -r³ x_i / cols.
    public static func backward(_ dOut: UnsafePointer<Float>, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rstd: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>?,
                                rows: Int, cols: Int, accumulate: Bool = false) {
        let w = FloatVector.scalarCount
        let body = cols - cols % w
        for r in 0..<rows {
            let dy = dOut + r * cols, xr = x + r * cols, d = dx + r * cols, inv = rstd[r]
            var acc = FloatVector(repeating: 0)
            var j = 0
            while j < body { acc += loadVector(dy, j) * loadVector(weight, j) * loadVector(xr, j); j += w }
            var dot = horizontalSum(acc)
            while j < cols { dot += dy[j] * weight[j] * xr[j]; j += 1 }
            let k = inv * inv * inv * dot / Float(cols)
            let vinv = FloatVector(repeating: inv), vk = FloatVector(repeating: k)
            j = 0
            while j < body {
                var v = vinv * loadVector(dy, j) * loadVector(weight, j) - loadVector(xr, j) * vk
                if accumulate { v += loadVector(d, j) }
                storeVector(v, d, j)
                j += w
            }
            while j < cols { let v = inv * dy[j] * weight[j] - xr[j] * k; d[j] = accumulate ? d[j] + v : v; j += 1 }
            if let dWeight {
                j = 0
                while j < body { storeVector(loadVector(dWeight, j) + loadVector(dy, j) * loadVector(xr, j) * vinv, dWeight, j); j += w }
                while j < cols { dWeight[j] += dy[j] * xr[j] * inv; j += 1 }
            }
        }
    }
}

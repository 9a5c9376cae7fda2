// Softmax over the last dimension with a scale, an additive per-group bias row (ALiBi, padding) and a causal mask.
import _EcomTensorKernels
import Foundation

/// Softmax kernels on `[rows, cols]` buffers: y = softmax(scale * x + bias) over each row, with masked entries 0.
///
/// Layout for attention: scores `[B*NH, Tq, Tk]` are `rows = B*NH*Tq` rows of `cols = Tk`; `bias` holds one row of
/// `cols` per group of `rowsPerBias` consecutive rows (`[B*NH, Tk]` with `rowsPerBias = Tq`: ALiBi plus -infinity at
/// padded keys). With `causalOffset = p`, row `i` of its group sees keys `j <= i + p` only (p = the cached length).
/// A row with nothing visible (all keys masked) is all zeros.
///
/// Stability: softmax is invariant to subtracting a constant per row; subtracting the row maximum m makes every
/// exponent <= 0, so nothing overflows and the largest term is exactly 1 (the sum is >= 1).
///
/// Backward derivation: dy_i/dz_j = y_i (delta_ij - y_j) for z = scale * x + bias, so
/// dz_j = sum_i dy_i y_i (delta_ij - y_j) = y_j (dy_j - sum_i dy_i y_i), and dx_j = scale * dz_j. Masked entries
/// have y_j = 0 and get 0.
public enum SoftmaxKernel {
    /// How many keys row `r` (index inside its group) may see.
    @inline(__always) @usableFromInline
    static func visible(_ r: Int, cols: Int, causalOffset: Int?) -> Int {
        guard let p = causalOffset else { return cols }
        return max(0, min(cols, r + p + 1))
    }

    /// Forward (reference, Double accumulation, libm exp).
    public static func forwardReference(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int, scale: Float = 1,
        bias: UnsafePointer<Float>? = nil, rowsPerBias: Int = Int.max, causalOffset: Int? = nil
    ) {
        for r in 0..<rows {
            let ri = rowsPerBias == Int.max ? r : r % rowsPerBias
            let b = bias.map { $0 + (rowsPerBias == Int.max ? 0 : r / rowsPerBias) * cols }
            let n = visible(ri, cols: cols, causalOffset: causalOffset)
            var z = [Double](repeating: -.infinity, count: cols)
            var m = -Double.infinity
            for j in 0..<n { z[j] = Double(scale * x[r * cols + j] + (b?[j] ?? 0)); m = max(m, z[j]) }
            var s = 0.0
            if m > -.infinity { for j in 0..<n { s += exp(z[j] - m) } }
            for j in 0..<cols {
                out[r * cols + j] = (j < n && m > -.infinity) ? Float(exp(z[j] - m) / s) : 0
            }
        }
    }

    /// Backward (reference): dx = scale * y * (dy - sum(dy * y)) per row (or += with `accumulate`). With
    /// `causalOffset` (groups of `rowsPerGroup` rows, as in the forward), only the visible keys of each row are read;
    /// masked entries of dx get 0 (or are left as they are with `accumulate`), whatever dy holds there.
    public static func backwardReference(
        _ dOut: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        scale: Float = 1, accumulate: Bool = false, rowsPerGroup: Int = Int.max, causalOffset: Int? = nil
    ) {
        for r in 0..<rows {
            let n = visible(rowsPerGroup == Int.max ? r : r % rowsPerGroup, cols: cols, causalOffset: causalOffset)
            var dot = 0.0
            for j in 0..<n { dot += Double(dOut[r * cols + j]) * Double(y[r * cols + j]) }
            for j in 0..<cols {
                let i = r * cols + j
                let d = j < n ? Float(Double(scale) * Double(y[i]) * (Double(dOut[i]) - dot)) : 0
                dx[i] = accumulate ? dx[i] + d : d
            }
        }
    }

    /// Forward (SIMD, rows split over threads): the C kernel of ``NativeKernels/activePath`` (max, exp-sum and scale
    /// sweeps with one read of x; see Sources/TensorKernels/Softmax.c) when there is one, else Swift SIMD. `out` may alias `x`.
    public static func forward(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int, scale: Float = 1,
        bias: UnsafePointer<Float>? = nil, rowsPerBias: Int = Int.max, causalOffset: Int? = nil
    ) {
        guard cols > 0 else { return }
        if let kernel = NativeKernels.active?.pointee.softmax_row {
            let stream = NativeKernels.streams(rows * cols)
            ComputeThreads.forEachChunk(rows, minPerChunk: max(1, 16_384 / cols)) { _, range in
                for r in range {
                    let ri = rowsPerBias == Int.max ? r : r % rowsPerBias
                    let b = bias.map { $0 + (rowsPerBias == Int.max ? 0 : r / rowsPerBias) * cols }
                    kernel(x + r * cols, out + r * cols, visible(ri, cols: cols, causalOffset: causalOffset), cols, scale, b, stream)
                }
            }
            return
        }
        ComputeThreads.forEachChunk(rows, minPerChunk: max(1, 16_384 / cols)) { _, range in
            for r in range {
                let ri = rowsPerBias == Int.max ? r : r % rowsPerBias
                let n = visible(ri, cols: cols, causalOffset: causalOffset)
                let xr = x + r * cols, o = out + r * cols
                // Pass 1: z = scale * x + bias into out, tracking the maximum.
                var mv = FloatVector(repeating: -.infinity)
                var j = 0
                if let bias {
                    let b = bias + (rowsPerBias == Int.max ? 0 : r / rowsPerBias) * cols
                    while j + simdWidth <= n {
                        let z = loadVector(xr, j) * scale + loadVector(b, j)
                        storeVector(z, o, j); mv = vectorMax(mv, z); j += simdWidth
                    }
                    var m = horizontalMax(mv)
                    while j < n { let z = scale * xr[j] + b[j]; o[j] = z; m = max(m, z); j += 1 }
                    mv = FloatVector(repeating: m)
                } else {
                    while j + simdWidth <= n {
                        let z = loadVector(xr, j) * scale
                        storeVector(z, o, j); mv = vectorMax(mv, z); j += simdWidth
                    }
                    var m = horizontalMax(mv)
                    while j < n { let z = scale * xr[j]; o[j] = z; m = max(m, z); j += 1 }
                    mv = FloatVector(repeating: m)
                }
                let m = mv[0]
                if m == -.infinity {  // nothing visible
                    (o).update(repeating: 0, count: cols)
                    continue
                }
                // Pass 2: e = exp(z - m) in place, summed.
                var sv = FloatVector()
                j = 0
                while j + simdWidth <= n {
                    let e = vectorExp(loadVector(o, j) - mv)
                    storeVector(e, o, j); sv += e; j += simdWidth
                }
                var s = horizontalSum(sv)
                while j < n { let e = scalarExp(o[j] - m); o[j] = e; s += e; j += 1 }
                // Pass 3: normalise; zero the masked tail.
                let inv = 1 / s
                j = 0
                while j + simdWidth <= n { storeVector(loadVector(o, j) * inv, o, j); j += simdWidth }
                while j < n { o[j] *= inv; j += 1 }
                if n < cols { (o + n).update(repeating: 0, count: cols - n) }
            }
        }
    }

    /// Backward (SIMD, parallel): dx = scale * y * (dy - sum(dy * y)) (or += with `accumulate`). `dx` may alias `dOut`.
    /// With `causalOffset` only each row's visible keys are read (dy may hold anything, even NaN, beyond them; causal
    /// attention skips computing those scores), and the masked tail of dx is set to 0 (left alone with `accumulate`).
    public static func backward(
        _ dOut: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        scale: Float = 1, accumulate: Bool = false, rowsPerGroup: Int = Int.max, causalOffset: Int? = nil
    ) {
        guard cols > 0 else { return }
        ComputeThreads.forEachChunk(rows, minPerChunk: max(1, 16_384 / cols)) { _, range in
            for r in range {
                let n = visible(rowsPerGroup == Int.max ? r : r % rowsPerGroup, cols: cols, causalOffset: causalOffset)
                let dy = dOut + r * cols, yr = y + r * cols, d = dx + r * cols
                var acc = FloatVector()
                var j = 0
                while j + simdWidth <= n { acc += loadVector(dy, j) * loadVector(yr, j); j += simdWidth }
                var dot = horizontalSum(acc)
                while j < n { dot += dy[j] * yr[j]; j += 1 }
                j = 0
                while j + simdWidth <= n {
                    var v = loadVector(yr, j) * (loadVector(dy, j) - dot) * scale
                    if accumulate { v += loadVector(d, j) }
                    storeVector(v, d, j); j += simdWidth
                }
                while j < n {
                    let v = scale * yr[j] * (dy[j] - dot)
                    d[j] = accumulate ? d[j] + v : v
                    j += 1
                }
                if !accumulate && n < cols { (d + n).update(repeating: 0, count: cols - n) }
            }
        }
    }
}

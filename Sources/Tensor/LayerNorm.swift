// Layer normalisation over the last dimension (BLOOM: eps 1e-5), forward and backward; scalar reference and SIMD.
import _EcomTensorKernels
import Foundation

/// Layer norm kernels on `[N, C]` row-major buffers: y = gamma * (x - mean) / sqrt(var + eps) + beta per row.
///
/// Forward saves each row's mean and reciprocal standard deviation (`rstd`) for the backward.
///
/// Backward derivation. Let xh = (x - mu) * r with r = 1 / sqrt(var + eps), var = mean((x - mu)^2), and
/// g = dy * gamma (the gradient reaching xh). Then dbeta = sum_rows dy and dgamma = sum_rows dy * xh. For one row,
/// d xh_i / d x_j = r (delta_ij - 1/C - xh_i xh_j / C), because d mu / d x_j = 1/C and
/// d r / d x_j = -r^3 (x_j - mu) / C = -r^2 xh_j / C (the mean's own term in d var cancels since sum(x - mu) = 0).
/// So dx_j = sum_i g_i d xh_i / d x_j = r (g_j - mean(g) - xh_j mean(g * xh)).
public enum LayerNormKernel {
    /// BLOOM's `layer_norm_epsilon`.
    public static let bloomEpsilon: Float = 1e-5

    /// Forward (reference, accumulating in Double). `mean` and `rstd` (N each) may be nil when no backward follows.
    public static func forwardReference(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        mean: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?, rows: Int, cols: Int, eps: Float = bloomEpsilon
    ) {
        for r in 0..<rows {
            let row = x + r * cols
            var s = 0.0
            for j in 0..<cols { s += Double(row[j]) }
            let mu = s / Double(cols)
            var v = 0.0
            for j in 0..<cols { let d = Double(row[j]) - mu; v += d * d }
            let rs = 1 / (v / Double(cols) + Double(eps)).squareRoot()
            for j in 0..<cols {
                out[r * cols + j] = Float((Double(row[j]) - mu) * rs) * gamma[j] + beta[j]
            }
            mean?[r] = Float(mu)
            rstd?[r] = Float(rs)
        }
    }

    /// Backward (reference): dx = (or +=, with `accumulate`) the input gradient; dgamma and dbeta are accumulated (+=).
    public static func backwardReference(
        _ dOut: UnsafePointer<Float>, _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>, rows: Int, cols: Int, accumulate: Bool = false
    ) {
        for r in 0..<rows {
            let (mu, rs) = (Double(mean[r]), Double(rstd[r]))
            var gMean = 0.0, gxMean = 0.0
            for j in 0..<cols {
                let xh = (Double(x[r * cols + j]) - mu) * rs
                let g = Double(dOut[r * cols + j]) * Double(gamma[j])
                gMean += g
                gxMean += g * xh
                dGamma[j] += Float(Double(dOut[r * cols + j]) * xh)
                dBeta[j] += dOut[r * cols + j]
            }
            gMean /= Double(cols)
            gxMean /= Double(cols)
            for j in 0..<cols {
                let xh = (Double(x[r * cols + j]) - mu) * rs
                let g = Double(dOut[r * cols + j]) * Double(gamma[j])
                let d = Float(rs * (g - gMean - xh * gxMean))
                dx[r * cols + j] = accumulate ? dx[r * cols + j] + d : d
            }
        }
    }

    /// Forward (SIMD, rows split over threads): the C kernel of ``NativeKernels/activePath`` (AVX2: one read and one
    /// write per element, see Sources/TensorKernels/LayerNorm.c) when there is one, else Swift SIMD. `out` may alias `x`.
    public static func forward(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        mean: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?, rows: Int, cols: Int, eps: Float = bloomEpsilon
    ) {
        guard cols > 0 else { return }
        if let kernel = NativeKernels.active?.pointee.layernorm_forward {
            let stream = NativeKernels.streams(rows * cols)
            ComputeThreads.forEachChunk(rows, minPerChunk: max(1, 32_768 / cols)) { _, r in
                let o = r.lowerBound
                kernel(x + o * cols, gamma, beta, out + o * cols, mean.map { $0 + o }, rstd.map { $0 + o },
                                           r.count, cols, eps, stream)
            }
            return
        }
        ComputeThreads.forEachChunk(rows, minPerChunk: max(1, 32_768 / cols)) { _, range in
            for r in range {
                let row = x + r * cols, o = out + r * cols
                let mu = rowSum(row, cols) / Float(cols)
                var acc = FloatVector()
                var j = 0
                while j + simdWidth <= cols { let d = loadVector(row, j) - mu; acc += d * d; j += simdWidth }
                var v = horizontalSum(acc)
                while j < cols { let d = row[j] - mu; v += d * d; j += 1 }
                let rs = 1 / (v / Float(cols) + eps).squareRoot()
                j = 0
                while j + simdWidth <= cols {
                    let y = (loadVector(row, j) - mu) * rs * loadVector(gamma, j) + loadVector(beta, j)
                    storeVector(y, o, j)
                    j += simdWidth
                }
                while j < cols { o[j] = (row[j] - mu) * rs * gamma[j] + beta[j]; j += 1 }
                mean?[r] = mu
                rstd?[r] = rs
            }
        }
    }

    /// Backward (SIMD). Rows are split over threads; each chunk sums its dgamma/dbeta in a scratch row and the
    /// chunks are added in order, so the result is deterministic for a given thread count.
    public static func backward(
        _ dOut: UnsafePointer<Float>, _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>, rows: Int, cols: Int, accumulate: Bool = false
    ) {
        guard cols > 0, rows > 0 else { return }
        let minRows = max(1, 32_768 / cols)
        let chunks = ComputeThreads.chunkCount(rows, minPerChunk: minRows)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * cols * chunks)
        defer { scratch.deallocate() }
        scratch.initialize(repeating: 0, count: 2 * cols * chunks)
        ComputeThreads.forEachChunk(rows, minPerChunk: minRows) { c, range in
            let dg = scratch + 2 * cols * c, db = dg + cols
            for r in range {
                let xr = x + r * cols, dy = dOut + r * cols, dxr = dx + r * cols
                let (mu, rs) = (mean[r], rstd[r])
                var gSum = FloatVector(), gxSum = FloatVector()
                var j = 0
                while j + simdWidth <= cols {
                    let xh = (loadVector(xr, j) - mu) * rs, d = loadVector(dy, j)
                    let g = d * loadVector(gamma, j)
                    gSum += g
                    gxSum += g * xh
                    storeVector(loadVector(dg, j) + d * xh, dg, j)
                    storeVector(loadVector(db, j) + d, db, j)
                    j += simdWidth
                }
                var gs = horizontalSum(gSum), gxs = horizontalSum(gxSum)
                while j < cols {
                    let xh = (xr[j] - mu) * rs, d = dy[j], g = d * gamma[j]
                    gs += g
                    gxs += g * xh
                    dg[j] += d * xh
                    db[j] += d
                    j += 1
                }
                let gMean = gs / Float(cols), gxMean = gxs / Float(cols)
                j = 0
                while j + simdWidth <= cols {
                    let xh = (loadVector(xr, j) - mu) * rs
                    let g = loadVector(dy, j) * loadVector(gamma, j)
                    var d = (g - gMean - xh * gxMean) * rs
                    if accumulate { d += loadVector(dxr, j) }
                    storeVector(d, dxr, j)
                    j += simdWidth
                }
                while j < cols {
                    let xh = (xr[j] - mu) * rs, g = dy[j] * gamma[j]
                    let d = (g - gMean - xh * gxMean) * rs
                    dxr[j] = accumulate ? dxr[j] + d : d
                    j += 1
                }
            }
        }
        for c in 0..<chunks {
            let dg = scratch + 2 * cols * c, db = dg + cols
            for j in 0..<cols { dGamma[j] += dg[j]; dBeta[j] += db[j] }
        }
    }
}

/// Sum of `n` floats with 8 lanes (fixed order: lanes, then lane fold, then tail).
@inline(__always) @usableFromInline
func rowSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = FloatVector()
    var j = 0
    while j + simdWidth <= n { acc += loadVector(p, j); j += simdWidth }
    var s = horizontalSum(acc)
    while j < n { s += p[j]; j += 1 }
    return s
}

// The Float32 matrix-vector product y = W x for decoding (W row-major [rows, columns]): pure Swift SIMD, four output
// rows per pass, rows split over ComputeThreads. 16-bit weights use EcomTensor's HalfMatmulKernel instead.
import EcomTensor

/// GEMV kernels: four output rows at a time (four accumulators share each load of x), rows split over threads.
enum GEMV {
    /// Rows per thread chunk below which the work stays on one thread.
    static let minRowsPerChunk = 64

    @inline(__always) static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    static func float32(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        let k = columns
        ComputeThreads.forEachChunk(rows, minPerChunk: minRowsPerChunk) { _, range in
            var r = range.lowerBound
            while r + 4 <= range.upperBound {
                let w0 = w + r * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k
                var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
                var j = 0
                while j + 8 <= k {
                    let xv = load(x, j)
                    s0 += load(w0, j) * xv; s1 += load(w1, j) * xv; s2 += load(w2, j) * xv; s3 += load(w3, j) * xv
                    j += 8
                }
                var t0 = s0.sum(), t1 = s1.sum(), t2 = s2.sum(), t3 = s3.sum()
                while j < k {
                    t0 += w0[j] * x[j]; t1 += w1[j] * x[j]; t2 += w2[j] * x[j]; t3 += w3[j] * x[j]
                    j += 1
                }
                y[r] = t0; y[r + 1] = t1; y[r + 2] = t2; y[r + 3] = t3
                r += 4
            }
            while r < range.upperBound {
                let wr = w + r * k
                var s = SIMD8<Float>()
                var j = 0
                while j + 8 <= k { s += load(wr, j) * load(x, j); j += 8 }
                var t = s.sum()
                while j < k { t += wr[j] * x[j]; j += 1 }
                y[r] = t
                r += 1
            }
        }
    }
}

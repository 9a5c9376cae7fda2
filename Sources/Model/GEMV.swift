// Matrix-vector products y = W x for decoding (W row-major [rows, columns], Float32 or 16-bit widened on the fly),
// and the 16-bit → Float32 widening they use. Pure Swift SIMD; output rows split over ComputeThreads.
import EcomTensor

/// Widening of IEEE half and bfloat16 bit patterns to Float32.
///
/// Half: for a finite half h = s|e(5)|m(10), placing e|m at bit 13 gives the Float32 with exponent e (biased 15
/// instead of 127) and the same mantissa; multiplying by 2^112 = 2^(127-15) fixes the bias, and the same product
/// turns half subnormals (e = 0) into the right normal Float32. Infinities and NaNs are not handled (weights kept
/// in half are checked to be finite). Bfloat16 is the upper half of a Float32: a 16-bit shift.
enum Widen {
    typealias U = SIMD8<UInt32>
    static let scale = SIMD8<Float>(repeating: Float(sign: .plus, exponent: 112, significand: 1))

    @inline(__always) static func half8(_ p: UnsafePointer<UInt16>) -> SIMD8<Float> {
        let h = U(truncatingIfNeeded: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt16>.self))
        let magnitude = unsafeBitCast((h & 0x7FFF) &<< 13, to: SIMD8<Float>.self) * scale
        return unsafeBitCast(unsafeBitCast(magnitude, to: U.self) | ((h & 0x8000) &<< 16), to: SIMD8<Float>.self)
    }

    @inline(__always) static func brain8(_ p: UnsafePointer<UInt16>) -> SIMD8<Float> {
        let h = U(truncatingIfNeeded: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt16>.self))
        return unsafeBitCast(h &<< 16, to: SIMD8<Float>.self)
    }

    static func half(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { UnsafeMutableRawPointer(dst + i).storeBytes(of: half8(src + i), as: SIMD8<Float>.self); i += 8 }
        while i < count { dst[i] = HalfPrecision.float(float16: src[i]); i += 1 }
    }

    static func brain(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count { UnsafeMutableRawPointer(dst + i).storeBytes(of: brain8(src + i), as: SIMD8<Float>.self); i += 8 }
        while i < count { dst[i] = HalfPrecision.float(bfloat16: src[i]); i += 1 }
    }
}

/// GEMV kernels: four output rows at a time (four accumulators share each load of x), rows split over threads.
enum GEMV {
    /// Rows per thread chunk below which the work stays on one thread.
    static let minRowsPerChunk = 64

    @inline(__always) static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    static func float32(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        product(w, x, y, rows: rows, columns: columns, widen: { load($0, 0) }, scalar: { $0 })
    }

    static func half(_ w: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int, brain: Bool) {
        if brain { product(w, x, y, rows: rows, columns: columns, widen: Widen.brain8, scalar: HalfPrecision.float(bfloat16:)) }
        else { product(w, x, y, rows: rows, columns: columns, widen: Widen.half8, scalar: HalfPrecision.float(float16:)) }
    }

    /// The kernel for any stored element type `E`: `widen` loads 8 weights as Float32, `scalar` one.
    @inline(__always)
    static func product<E>(_ w: UnsafePointer<E>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                           widen: (UnsafePointer<E>) -> SIMD8<Float>, scalar: (E) -> Float) {
        let k = columns
        ComputeThreads.forEachChunk(rows, minPerChunk: minRowsPerChunk) { _, range in
            var r = range.lowerBound
            while r + 4 <= range.upperBound {
                let w0 = w + r * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k
                var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
                var j = 0
                while j + 8 <= k {
                    let xv = load(x, j)
                    s0 += widen(w0 + j) * xv; s1 += widen(w1 + j) * xv; s2 += widen(w2 + j) * xv; s3 += widen(w3 + j) * xv
                    j += 8
                }
                var t0 = s0.sum(), t1 = s1.sum(), t2 = s2.sum(), t3 = s3.sum()
                while j < k {
                    t0 += scalar(w0[j]) * x[j]; t1 += scalar(w1[j]) * x[j]; t2 += scalar(w2[j]) * x[j]; t3 += scalar(w3[j]) * x[j]
                    j += 1
                }
                y[r] = t0; y[r + 1] = t1; y[r + 2] = t2; y[r + 3] = t3
                r += 4
            }
            while r < range.upperBound {
                let wr = w + r * k
                var s = SIMD8<Float>()
                var j = 0
                while j + 8 <= k { s += widen(wr + j) * load(x, j); j += 8 }
                var t = s.sum()
                while j < k { t += scalar(wr[j]) * x[j]; j += 1 }
                y[r] = t
                r += 1
            }
        }
    }
}

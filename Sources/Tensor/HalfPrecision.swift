// Float32 <-> float16 (IEEE binary16) and bfloat16 storage conversion, round-to-nearest-even, NaN and infinity kept.
import _EcomTensorKernels

/// Conversions between Float32 and the 16-bit storage formats of checkpoints (bit patterns as `UInt16`).
public enum HalfPrecision {
    /// Float32 -> bfloat16 bits: the top 16 bits, rounded to nearest, ties to even.
    ///
    /// Adding `0x7FFF + lsb` to the bits carries into bit 16 exactly when the dropped half is above one half ulp, or
    /// equal to it with an odd kept part; a carry out of the mantissa bumps the exponent, which is the right result
    /// (up to infinity for values past bfloat16's largest). NaN is kept as a quiet NaN with its sign.
    @inlinable
    public static func bfloat16Bits(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let lsb = (bits >> 16) & 1
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ lsb) >> 16)
    }

    /// bfloat16 bits -> Float32 (exact).
    @inlinable
    public static func float(bfloat16 bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// Float32 -> IEEE half bits, rounded to nearest, ties to even; overflow gives infinity, tiny values subnormals
    /// or zero, NaN stays NaN (quiet, top payload bits kept, as numpy does).
    @inlinable
    public static func float16Bits(_ x: Float) -> UInt16 {
        let f = x.bitPattern
        let sign = UInt16(truncatingIfNeeded: (f >> 16) & 0x8000)
        let exp = Int((f >> 23) & 0xFF)
        let mant = f & 0x7F_FFFF
        if exp == 0xFF {  // infinity or NaN
            if mant == 0 { return sign | 0x7C00 }
            return sign | 0x7E00 | UInt16(truncatingIfNeeded: mant >> 13)
        }
        // Unbiased exponent e = exp - 127; half normal range is e in [-14, 15] (biased 1...30).
        let e = exp - 127
        if e > 15 { return sign | 0x7C00 }
        if e >= -14 {
            // Normal half: keep 10 mantissa bits, round the 13 dropped bits to nearest even. A carry out of the
            // mantissa correctly increments the exponent (and reaches 0x7C00, infinity, past 65504).
            let halfExp = UInt32(e + 15)
            var h = (halfExp << 10) | (mant >> 13)
            let rest = mant & 0x1FFF
            if rest > 0x1000 || (rest == 0x1000 && (h & 1) == 1) { h += 1 }
            return sign | UInt16(truncatingIfNeeded: h)
        }
        // Subnormal half (value = m * 2^-24) or zero: shift the full significand (with its hidden bit) right.
        if e < -25 { return sign }  // below half the smallest subnormal: rounds to zero
        let sig = mant | 0x80_0000  // value = sig * 2^(e - 23)
        let shift = UInt32(-e - 1)  // sig >> shift gives units of 2^-24: shift = (e - 23) -> -24 difference = -e - 1
        var h = sig >> shift
        let rest = sig & ((1 << shift) - 1)
        let halfway = UInt32(1) << (shift - 1)
        if rest > halfway || (rest == halfway && (h & 1) == 1) { h += 1 }
        return sign | UInt16(truncatingIfNeeded: h)
    }

    /// IEEE half bits -> Float32 (exact).
    @inlinable
    public static func float(float16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exp = UInt32(bits >> 10) & 0x1F
        let mant = UInt32(bits & 0x3FF)
        if exp == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        if exp == 0 {
            // Subnormal or zero: value = mant * 2^-24, exact in Float32.
            let v = Float(mant) * 0x1p-24
            return sign != 0 ? -v : v
        }
        return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
    }

    /// Converts a buffer of Float32 to bfloat16 bits (the active C kernel when there is one; same bits either way).
    public static func toBFloat16(_ src: UnsafeBufferPointer<Float>, _ dst: UnsafeMutableBufferPointer<UInt16>) {
        convert(src, dst, { $0.f32_to_bf16($1, $2, $3) }, bfloat16Bits)
    }
    /// Converts a buffer of bfloat16 bits to Float32.
    public static func fromBFloat16(_ src: UnsafeBufferPointer<UInt16>, _ dst: UnsafeMutableBufferPointer<Float>) {
        convert(src, dst, { $0.bf16_to_f32($1, $2, $3) }, { float(bfloat16: $0) })
    }
    /// Converts a buffer of Float32 to IEEE half bits (F16C in the active C kernel when there is one).
    public static func toFloat16(_ src: UnsafeBufferPointer<Float>, _ dst: UnsafeMutableBufferPointer<UInt16>) {
        convert(src, dst, { $0.f32_to_f16($1, $2, $3) }, float16Bits)
    }
    /// Converts a buffer of IEEE half bits to Float32 (F16C in the active C kernel when there is one).
    public static func fromFloat16(_ src: UnsafeBufferPointer<UInt16>, _ dst: UnsafeMutableBufferPointer<Float>) {
        convert(src, dst, { $0.f16_to_f32($1, $2, $3) }, { float(float16: $0) })
    }

    /// Converts `src` into the front of `dst`: the C kernel in parallel chunks when active, else element by element.
    static func convert<S, D>(
        _ src: UnsafeBufferPointer<S>, _ dst: UnsafeMutableBufferPointer<D>,
        _ native: @escaping (ecom_kernel_table, UnsafePointer<S>, UnsafeMutablePointer<D>, Int) -> Void, _ scalar: (S) -> D
    ) {
        precondition(dst.count >= src.count, "destination too small")
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        if let table = NativeKernels.active?.pointee {
            ComputeThreads.forEachChunk(src.count, minPerChunk: 1 << 16) { _, r in native(table, s + r.lowerBound, d + r.lowerBound, r.count) }
        } else {
            for i in 0..<src.count { d[i] = scalar(s[i]) }
        }
    }

    /// A new array converted from `src` with one of the buffer conversions above.
    static func converted<S, D>(_ src: [S], _ convert: (UnsafeBufferPointer<S>, UnsafeMutableBufferPointer<D>) -> Void) -> [D] {
        src.withUnsafeBufferPointer { s in
            [D](unsafeUninitializedCapacity: s.count) { d, n in
                convert(s, d)
                n = s.count
            }
        }
    }
}

extension Tensor {
    /// The tensor's values as bfloat16 bit patterns.
    public func bfloat16Bits() -> [UInt16] { HalfPrecision.converted(storage, HalfPrecision.toBFloat16) }
    /// The tensor's values as IEEE half bit patterns.
    public func float16Bits() -> [UInt16] { HalfPrecision.converted(storage, HalfPrecision.toFloat16) }
    /// A tensor from bfloat16 bit patterns.
    public init(shape: [Int], bfloat16 bits: [UInt16]) {
        self.init(shape: shape, storage: HalfPrecision.converted(bits, HalfPrecision.fromBFloat16))
    }
    /// A tensor from IEEE half bit patterns.
    public init(shape: [Int], float16 bits: [UInt16]) {
        self.init(shape: shape, storage: HalfPrecision.converted(bits, HalfPrecision.fromFloat16))
    }
}

// Vector helpers for the SIMD kernels: unaligned SIMD8 loads and stores, exp (Cephes-style), horizontal reductions.

/// Lane count of the SIMD kernels (two SSE or one AVX register of Float).
@usableFromInline let simdWidth = 8
@usableFromInline typealias FloatVector = SIMD8<Float>

@inline(__always) @usableFromInline
func loadVector(_ p: UnsafePointer<Float>, _ i: Int) -> FloatVector {
    UnsafeRawPointer(p + i).loadUnaligned(as: FloatVector.self)
}

@inline(__always) @usableFromInline
func storeVector(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: FloatVector.self)
}

/// e^x for 8 lanes, relative error about 2e-7 on [-87, 88]; below -87.3 (and for -inf) it returns 0, above 88.7
/// it saturates at e^88.7.
///
/// Range reduction: x = n ln2 + r with n = round(x log2 e) and |r| <= ln2 / 2, so e^x = 2^n e^r. e^r is a degree-6
/// polynomial (Cephes expf coefficients); 2^n is built in the exponent bits. ln2 is split in a high part exact in
/// Float and a low correction so that `x - n ln2` loses no bits. Rounding uses the 1.5 * 2^23 trick: adding it
/// pushes the fraction out of the mantissa, whose low bits then hold n (no SSE4.1 rounding needed).
@inline(__always) @usableFromInline
func vectorExp(_ x: FloatVector) -> FloatVector {
    let tooSmall = x .< -87.3
    let xc = vectorMin(vectorMax(x, FloatVector(repeating: -87.3)), FloatVector(repeating: 88.7))
    let magic = FloatVector(repeating: 12_582_912)  // 1.5 * 2^23
    let shifted = xc * 1.442_695_04 + magic
    let n = shifted - magic
    var r = xc - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p = FloatVector(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let y = p * (r * r) + r + 1
    // n sits in the low mantissa bits of `shifted`, offset by 0x40_0000 (the 0.5 * 2^23 part of the magic).
    let nBits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: FloatVector.self)
    return (y * scale).replacing(with: 0, where: tooSmall)
}

/// The scalar counterpart of ``vectorExp(_:)`` for loop tails, so that a row gives the same values wherever its
/// elements fall (lanes or tail).
@inline(__always) @usableFromInline
func scalarExp(_ x: Float) -> Float {
    vectorExp(FloatVector(repeating: x))[0]
}

/// Lane-wise maximum (the standard library's `pointwiseMax` is not inlined and costs a call per vector); a NaN in
/// `a` is passed over.
@inline(__always) @usableFromInline
func vectorMax(_ a: FloatVector, _ b: FloatVector) -> FloatVector { a.replacing(with: b, where: a .< b) }

/// Lane-wise minimum.
@inline(__always) @usableFromInline
func vectorMin(_ a: FloatVector, _ b: FloatVector) -> FloatVector { a.replacing(with: b, where: b .< a) }

/// Sum of the lanes in a fixed order (deterministic).
@inline(__always) @usableFromInline
func horizontalSum(_ v: FloatVector) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    return b[0] + b[1]
}

/// Maximum of the lanes.
@inline(__always) @usableFromInline
func horizontalMax(_ v: FloatVector) -> Float {
    let a = v.lowHalf.replacing(with: v.highHalf, where: v.lowHalf .< v.highHalf)
    let b = a.lowHalf.replacing(with: a.highHalf, where: a.lowHalf .< a.highHalf)
    return Swift.max(b[0], b[1])
}

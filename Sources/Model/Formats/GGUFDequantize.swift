// ggml tensor types (block sizes and bytes per block, as gguf-py's GGML_QUANT_SIZES) and their dequantization to
// Float32, bit-for-bit as `gguf.quants.dequantize` (gguf 0.19.0) computes it.
//
// The Python reference computes in Float32 with numpy: every product and every sum is rounded on its own (no fused
// multiply-add), so each formula below keeps its order of operations: `d * q + m` is (d * q) rounded, then + m rounded;
// `d * q - dm` likewise. Swift does not contract a * b + c into an FMA unless asked (`addingProduct`), so the plain
// expressions are exact mirrors. Scales are widened from f16 exactly; small integers convert to Float exactly.
//
// Block layouts (little-endian, packed; QK_K = 256):
//   Q5_0 (32 values, 22 bytes): d f16, qh u32, qs[16]; value j: q = (nibble j | bit j of qh << 4) - 16; d * q
//   Q5_1 (32 values, 24 bytes): d f16, m f16, qh u32, qs[16]; q as Q5_0 without the -16; d * q + m
//   Q4_K (256 values, 144 bytes): d f16, dmin f16, scales[12] (8 six-bit scales and mins), qs[128];
//        sub-block s (32 values): (d * sc[s]) * q - (dmin * mn[s]), q the low (even s) or high (odd s) nibbles of
//        qs[32 * (s / 2) ..< 32 * (s / 2) + 32]
//   Q5_K (256 values, 176 bytes): d, dmin, scales[12], qh[32], qs[128]; q = Q4_K's nibble | (bit s of qh[l]) << 4
//   Q6_K (256 values, 210 bytes): ql[128], qh[64], scales[16] (int8), d f16; value i (half h = i / 128, r = i % 128):
//        q = ((ql[64h + r % 64] >> 4 * (r / 64)) & 0xF | ((qh[32h + r % 32] >> 2 * (r / 32)) & 3) << 4) - 32,
//        (d * scales[i / 16]) * q
import EcomTensor

/// The ggml tensor types a GGUF file can name (`ggml_type`), with their block geometry.
///
/// Numbers missing here (4, 5, 31...33, 36...38) were removed from ggml; a file naming them, or any other unknown
/// number, is rejected by ``GGUFFile`` with an error that names the tensor.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_XXS = 16, iq2_XS = 17, iq3_XXS = 18, iq1_S = 19, iq4_NL = 20, iq3_S = 21, iq2_S = 22, iq4_XS = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_M = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35, mxfp4 = 39, nvfp4 = 40, q1_0 = 41

    /// Values per block (1 for the plain element types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .i8, .i16, .i32, .i64, .f64: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .iq4_NL, .mxfp4: 32
        case .nvfp4: 64
        case .q1_0: 128
        default: 256
        }
    }

    /// Bytes per block (the element size for the plain types).
    public var bytesPerBlock: Int {
        let qk = 256
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 2 + 16
        case .q4_1: return 2 + 2 + 16
        case .q5_0: return 2 + 4 + 16
        case .q5_1: return 2 + 2 + 4 + 16
        case .q8_0: return 2 + 32
        case .q8_1: return 4 + 4 + 32
        case .q2_K: return 2 + 2 + qk / 16 + qk / 4
        case .q3_K: return 2 + qk / 4 + qk / 8 + 12
        case .q4_K: return 2 + 2 + qk / 2 + 12
        case .q5_K: return 2 + 2 + qk / 2 + qk / 8 + 12
        case .q6_K: return 2 + qk / 2 + qk / 4 + qk / 16
        case .q8_K: return 4 + qk + qk / 8
        case .iq2_XXS: return 2 + qk / 4
        case .iq2_XS: return 2 + qk / 4 + qk / 32
        case .iq3_XXS: return 2 + qk / 4 + qk / 8
        case .iq1_S: return 2 + qk / 8 + qk / 16
        case .iq4_NL: return 2 + 16
        case .iq3_S: return 2 + qk / 4 + qk / 8 + qk / 32 + 4
        case .iq2_S: return 2 + qk / 4 + qk / 16
        case .iq4_XS: return 2 + 2 + qk / 2 + qk / 64
        case .i8: return 1
        case .i16: return 2
        case .i32: return 4
        case .i64, .f64: return 8
        case .iq1_M: return qk / 8 + qk / 16 + qk / 32
        case .tq1_0: return 2 + 4 * 13
        case .tq2_0: return 2 + 64
        case .mxfp4: return 1 + 16
        case .nvfp4: return 4 + 32
        case .q1_0: return 2 + 16
        }
    }

    /// ggml's name for the type (`Q4_K`, `BF16`, ...), as gguf-py's `GGMLQuantizationType` names it.
    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q8_1: "Q8_1"
        case .q2_K: "Q2_K"
        case .q3_K: "Q3_K"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        case .q8_K: "Q8_K"
        case .iq2_XXS: "IQ2_XXS"
        case .iq2_XS: "IQ2_XS"
        case .iq3_XXS: "IQ3_XXS"
        case .iq1_S: "IQ1_S"
        case .iq4_NL: "IQ4_NL"
        case .iq3_S: "IQ3_S"
        case .iq2_S: "IQ2_S"
        case .iq4_XS: "IQ4_XS"
        case .i8: "I8"
        case .i16: "I16"
        case .i32: "I32"
        case .i64: "I64"
        case .f64: "F64"
        case .iq1_M: "IQ1_M"
        case .bf16: "BF16"
        case .tq1_0: "TQ1_0"
        case .tq2_0: "TQ2_0"
        case .mxfp4: "MXFP4"
        case .nvfp4: "NVFP4"
        case .q1_0: "Q1_0"
        }
    }

    public var description: String { name }

    /// Whether ``GGUFDequantize`` can widen this type to Float32.
    public var canDequantize: Bool {
        switch self {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K: true
        default: false
        }
    }

    /// Bytes taken by `count` values, or nil when `count` is not a whole number of blocks or the size overflows.
    public func byteCount(values count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (n, overflow) = (count / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : n
    }
}

/// Scalar reference dequantization of ggml tensor data, bit-for-bit as `gguf.quants.dequantize` (gguf 0.19.0).
public enum GGUFDequantize {
    /// Widens `count` values of `type` stored in `src` into `dst`.
    ///
    /// Preconditions (checked): `type.canDequantize`, `count` a multiple of `type.blockSize`, `src` holding at least
    /// `type.byteCount(values: count)` bytes and `dst` at least `count` floats. ``GGUFFile/floats(of:)`` checks the
    /// type and sizes first and throws instead.
    public static func dequantize(
        _ type: GGMLType, _ src: UnsafeRawBufferPointer, count: Int, into dst: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(type.canDequantize, "dequantization of \(type) is not supported")
        guard let bytes = type.byteCount(values: count) else {
            preconditionFailure("\(type) data holds whole blocks of \(type.blockSize) values, got \(count)")
        }
        precondition(src.count >= bytes && dst.count >= count, "buffers too small for \(count) \(type) values")
        guard count > 0, let s = src.baseAddress, let o = dst.baseAddress else { return }
        let blocks = count / type.blockSize
        let stride = type.bytesPerBlock
        switch type {
        case .f32:
            for i in 0..<count { o[i] = Float(bitPattern: UInt32(littleEndian: s.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .f16:
            for i in 0..<count { o[i] = HalfPrecision.float(float16: UInt16(littleEndian: s.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .bf16:
            for i in 0..<count { o[i] = HalfPrecision.float(bfloat16: UInt16(littleEndian: s.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .q4_0:
            BlockQuantization.dequantize(.q4_0, s, count: count, into: o)
        case .q4_1:
            BlockQuantization.dequantize(.q4_1, s, count: count, into: o)
        case .q8_0:
            BlockQuantization.dequantize(.q8_0, s, count: count, into: o)
        case .q5_0:
            for b in 0..<blocks { q5Block(s + b * stride, into: o + b * 32, hasMin: false) }
        case .q5_1:
            for b in 0..<blocks { q5Block(s + b * stride, into: o + b * 32, hasMin: true) }
        case .q4_K:
            for b in 0..<blocks { q45KBlock(s + b * stride, into: o + b * 256, fiveBit: false) }
        case .q5_K:
            for b in 0..<blocks { q45KBlock(s + b * stride, into: o + b * 256, fiveBit: true) }
        case .q6_K:
            for b in 0..<blocks { q6KBlock(s + b * stride, into: o + b * 256) }
        default:
            preconditionFailure("dequantization of \(type) is not supported")
        }
    }

    @inline(__always)
    private static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        HalfPrecision.float(float16: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// Q5_0 (`d * (q - 16)`) and Q5_1 (`d * q + m`), 32 values.
    private static func q5Block(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>, hasMin: Bool) {
        let d = half(block, 0)
        let m: Float = hasMin ? half(block, 2) : 0
        let hOffset = hasMin ? 4 : 2
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: hOffset, as: UInt32.self))
        let qs = block + hOffset + 4
        for j in 0..<32 {
            let byte = qs.load(fromByteOffset: j & 15, as: UInt8.self)
            let low = j < 16 ? byte & 0xF : byte >> 4
            let q = Int(low) | Int((qh >> UInt32(j)) & 1) << 4
            if hasMin {
                let p = d * Float(q)
                out[j] = p + m
            } else {
                out[j] = d * Float(q - 16)
            }
        }
    }

    /// The eight 6-bit scales and mins packed in a Q4_K / Q5_K block's 12 bytes (ggml's get_scale_min_k4).
    @inline(__always)
    private static func scaleMin(_ scales: UnsafeRawPointer, _ s: Int) -> (sc: UInt8, mn: UInt8) {
        func byte(_ i: Int) -> UInt8 { scales.load(fromByteOffset: i, as: UInt8.self) }
        if s < 4 { return (byte(s) & 0x3F, byte(s + 4) & 0x3F) }
        let sc = (byte(s + 4) & 0x0F) | ((byte(s - 4) >> 2) & 0x30)
        let mn = (byte(s + 4) >> 4) | ((byte(s) >> 2) & 0x30)
        return (sc, mn)
    }

    /// Q4_K and Q5_K, 256 values: eight sub-blocks of 32, `(d * sc) * q - (dmin * mn)`.
    private static func q45KBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>, fiveBit: Bool) {
        let d = half(block, 0), dmin = half(block, 2)
        let scales = block + 4
        let qh = block + 16  // Q5_K only: 32 bytes of high bits
        let qs = block + (fiveBit ? 48 : 16)
        for s in 0..<8 {
            let (sc, mn) = scaleMin(scales, s)
            let ds = d * Float(sc)
            let ms = dmin * Float(mn)
            let shift = UInt8(4 * (s & 1))
            let base = 32 * (s >> 1)
            for l in 0..<32 {
                var q = (qs.load(fromByteOffset: base + l, as: UInt8.self) >> shift) & 0xF
                if fiveBit { q |= ((qh.load(fromByteOffset: l, as: UInt8.self) >> UInt8(s)) & 1) << 4 }
                let p = ds * Float(q)
                out[32 * s + l] = p - ms
            }
        }
    }

    /// Q6_K, 256 values: sixteen sub-blocks of 16, `(d * scale) * (q - 32)`.
    private static func q6KBlock(_ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let ql = block, qh = block + 128, scales = block + 192
        let d = half(block, 208)
        for i in 0..<256 {
            let h = i >> 7, r = i & 127
            let low = (ql.load(fromByteOffset: 64 * h + (r & 63), as: UInt8.self) >> UInt8(4 * (r >> 6))) & 0xF
            let high = (qh.load(fromByteOffset: 32 * h + (r & 31), as: UInt8.self) >> UInt8(2 * (r >> 5))) & 3
            let q = Int(low | high << 4) - 32
            let ds = d * Float(scales.load(fromByteOffset: i >> 4, as: Int8.self))
            out[i] = ds * Float(q)
        }
    }
}

// ggml's 32-value block quantizations that EcomTensor multiplies with directly (Q4_0, Q4_1, Q8_0), with the scalar
// reference dequantization, bit-for-bit as the `gguf` Python package's `gguf.quants.dequantize` computes it.
//
// Layouts (ggml's block_q4_0 / block_q4_1 / block_q8_0; little-endian, packed, no padding):
//   Q4_0: d (f16), qs[16]: value j < 16 is ((qs[j] & 0xF) - 8) * d, value j + 16 is ((qs[j] >> 4) - 8) * d
//   Q4_1: d (f16), m (f16), qs[16]: value j is (qs[j] & 0xF) * d + m, value j + 16 is (qs[j] >> 4) * d + m
//   Q8_0: d (f16), qs[32] (int8): value j is qs[j] * d
// The Python reference computes in Float32 with separate rounding of the product and the sum (no fused multiply-add).

/// A block-quantized storage format: 32 values per block, one or two f16 parameters per block.
public enum BlockFormat: String, Sendable, CaseIterable {
    case q4_0 = "Q4_0"
    case q4_1 = "Q4_1"
    case q8_0 = "Q8_0"

    /// Values per block.
    public static let blockSize = 32

    /// Bytes per block.
    public var bytesPerBlock: Int {
        switch self {
        case .q4_0: 18
        case .q4_1: 20
        case .q8_0: 34
        }
    }

    /// Bytes for `count` values (`count` a multiple of 32).
    public func byteCount(values count: Int) -> Int { count / Self.blockSize * bytesPerBlock }
}

/// Scalar reference operations on block-quantized data.
public enum BlockQuantization {
    /// Widens `count` values (a multiple of 32) stored as `format` blocks at `src` into `dst`.
    public static func dequantize(_ format: BlockFormat, _ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        precondition(count % BlockFormat.blockSize == 0, "\(format.rawValue) data holds whole blocks of 32 values, got \(count)")
        for b in 0..<(count / BlockFormat.blockSize) {
            dequantizeBlock(format, src + b * format.bytesPerBlock, into: dst + b * BlockFormat.blockSize)
        }
    }

    /// Widens one block (32 values).
    @inline(__always)
    public static func dequantizeBlock(_ format: BlockFormat, _ block: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = HalfPrecision.float(float16: block.loadUnaligned(as: UInt16.self))
        switch format {
        case .q4_0:
            let qs = block + 2
            for j in 0..<16 {
                let q = qs.load(fromByteOffset: j, as: UInt8.self)
                out[j] = Float(Int(q & 0xF) - 8) * d
                out[j + 16] = Float(Int(q >> 4) - 8) * d
            }
        case .q4_1:
            let m = HalfPrecision.float(float16: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
            let qs = block + 4
            for j in 0..<16 {
                let q = qs.load(fromByteOffset: j, as: UInt8.self)
                let lo = Float(q & 0xF) * d, hi = Float(q >> 4) * d
                out[j] = lo + m
                out[j + 16] = hi + m
            }
        case .q8_0:
            let qs = block + 2
            for j in 0..<32 { out[j] = Float(qs.load(fromByteOffset: j, as: Int8.self)) * d }
        }
    }
}

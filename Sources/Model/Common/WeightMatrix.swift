// A linear layer's weight as PyTorch stores it ([out, in], row-major), kept in Float32, in 16 bits (f16/bf16, widened
// on the fly) or in ggml's 32-value blocks (Q4_0/Q4_1/Q8_0 from a GGUF file), with the products the model needs:
// y = x Wᵀ for one row (GEMV) or many (GEMM).
import EcomTensor

/// How a model keeps its weight matrices in memory.
public enum WeightPrecision: String, Sendable, CaseIterable {
    /// Everything widened to Float32 at load.
    case float32
    /// Matrices kept as IEEE half (checkpoint f16 as is; f32 and bf16 rounded to f16), widened during the product.
    case float16
    /// Matrices kept as bfloat16 (checkpoint bf16 as is; others rounded), widened during the product.
    case bfloat16
    /// Matrices kept as a GGUF file stores them: Q4_0/Q4_1/Q8_0 blocks, F16 and BF16 as they are (other
    /// quantizations widened to Float32). For safetensors directories it means Float32.
    case native

    /// Parses the tools' spellings: f32/float32, f16/float16, bf16/bfloat16, native.
    public init?(name: String) {
        switch name.lowercased() {
        case "f32", "float32": self = .float32
        case "f16", "float16": self = .float16
        case "bf16", "bfloat16": self = .bfloat16
        case "native": self = .native
        default: return nil
        }
    }
}

/// Block-quantized weight bytes (rows of `columns / 32` blocks), owned.
public final class QuantizedWeights: @unchecked Sendable {
    public let format: BlockFormat
    public let bytes: UnsafeMutableRawBufferPointer

    /// Copies `count` bytes from `source`.
    public init(format: BlockFormat, copying source: UnsafeRawBufferPointer) {
        self.format = format
        bytes = .allocate(byteCount: max(1, source.count), alignment: 64)
        if source.count > 0 { bytes.copyMemory(from: source) }
    }

    deinit { bytes.deallocate() }
}

/// A weight matrix `[rows, columns]` (rows = output features, columns = input features).
///
/// Decoding one token is memory-bound: each weight is read once per token, so 16-bit storage halves the bytes
/// read. Products always accumulate in Float32.
public struct WeightMatrix: @unchecked Sendable {
    public enum Storage: Sendable {
        case float32([Float])
        case float16([UInt16])
        case bfloat16([UInt16])
        case quantized(QuantizedWeights)
    }
    public let rows: Int
    public let columns: Int
    public private(set) var storage: Storage

    public init(rows: Int, columns: Int, floats: [Float]) {
        precondition(floats.count == rows * columns, "weight \(rows)x\(columns) given \(floats.count) values")
        self.rows = rows; self.columns = columns; storage = .float32(floats)
    }

    public init(rows: Int, columns: Int, storage: Storage) {
        self.rows = rows; self.columns = columns; self.storage = storage
    }

    /// A block-quantized matrix; `bytes` holds `rows` rows of `columns / 32` blocks of `format`.
    public init(rows: Int, columns: Int, format: BlockFormat, bytes: UnsafeRawBufferPointer) {
        precondition(columns % BlockFormat.blockSize == 0, "\(format.rawValue) rows hold whole blocks: \(columns) columns")
        precondition(bytes.count == rows * format.byteCount(values: columns), "\(format.rawValue) \(rows)x\(columns) needs \(rows * format.byteCount(values: columns)) bytes, given \(bytes.count)")
        self.rows = rows; self.columns = columns
        storage = .quantized(QuantizedWeights(format: format, copying: bytes))
    }

    /// The precision the matrix is stored in (`.native` for block-quantized storage).
    public var precision: WeightPrecision {
        switch storage { case .float32: .float32; case .float16: .float16; case .bfloat16: .bfloat16; case .quantized: .native }
    }

    /// A short name of the storage: f32, f16, bf16, q4_0, q4_1, q8_0.
    public var storageName: String {
        switch storage {
        case .float32: "f32"; case .float16: "f16"; case .bfloat16: "bf16"
        case .quantized(let q): q.format.rawValue.lowercased()
        }
    }

    /// Bytes of weight data.
    public var byteCount: Int {
        switch storage {
        case .float32: rows * columns * 4
        case .float16, .bfloat16: rows * columns * 2
        case .quantized(let q): rows * q.format.byteCount(values: columns)
        }
    }

    /// The view the quantized kernels read (block-quantized storage only).
    private func quantizedView(_ q: QuantizedWeights) -> QuantizedMatrixView {
        QuantizedMatrixView(base: UnsafeRawPointer(q.bytes.baseAddress!), rows: rows, columns: columns, format: q.format)
    }

    /// The same matrix converted to `precision`. A request for f16 keeps Float32 when some value is not finite in
    /// half precision (|w| > 65504 rounds to infinity), so that conversion never turns a finite weight infinite;
    /// bfloat16 has Float32's range and needs no such check.
    /// `.native` keeps the matrix as it is.
    public func converted(to precision: WeightPrecision) -> WeightMatrix {
        if precision == self.precision || precision == .native { return self }
        let f = floats()
        switch precision {
        case .float32, .native: return WeightMatrix(rows: rows, columns: columns, floats: f)
        case .bfloat16: return WeightMatrix(rows: rows, columns: columns, storage: .bfloat16(f.map(HalfPrecision.bfloat16Bits)))
        case .float16:
            let bits = f.map(HalfPrecision.float16Bits)
            if bits.contains(where: { $0 & 0x7C00 == 0x7C00 }) { return WeightMatrix(rows: rows, columns: columns, floats: f) }
            return WeightMatrix(rows: rows, columns: columns, storage: .float16(bits))
        }
    }

    /// All values widened to Float32 (row-major).
    public func floats() -> [Float] {
        switch storage {
        case .float32(let f): return f
        case .float16(let h): return h.map { HalfPrecision.float(float16: $0) }
        case .bfloat16(let h): return h.map { HalfPrecision.float(bfloat16: $0) }
        case .quantized(let q):
            // EcomTensor's row dequantization (C or SIMD), bit-identical to the scalar reference.
            let view = quantizedView(q)
            var out = [Float](repeating: 0, count: rows * columns)
            out.withUnsafeMutableBufferPointer { o in for r in 0..<rows { view.dequantizeRow(r, into: o.baseAddress! + r * columns) } }
            return out
        }
    }

    /// Copies row `i`, widened, to `out` (`columns` values): an embedding lookup.
    public func copyRow(_ i: Int, to out: UnsafeMutablePointer<Float>) {
        precondition(i >= 0 && i < rows, "row \(i) of \(rows)")
        switch storage {
        case .float32(let f): f.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + i * columns, count: columns) }
        case .float16(let h): h.withUnsafeBufferPointer {
            HalfPrecision.fromFloat16(UnsafeBufferPointer(rebasing: $0[(i * columns)..<((i + 1) * columns)]), UnsafeMutableBufferPointer(start: out, count: columns))
        }
        case .bfloat16(let h): h.withUnsafeBufferPointer {
            HalfPrecision.fromBFloat16(UnsafeBufferPointer(rebasing: $0[(i * columns)..<((i + 1) * columns)]), UnsafeMutableBufferPointer(start: out, count: columns))
        }
        case .quantized(let q): quantizedView(q).dequantizeRow(i, into: out)
        }
    }

    /// y[n, rows] = x[n, columns] · Wᵀ (+ bias per row of y). `x` rows are `xStride` apart, y rows `rows` apart.
    ///
    /// Float32: one or two input rows (decoding) run our GEMV, which reads each weight once, splitting output rows over
    /// ``ComputeThreads``; more rows run BLAS sgemm. 16-bit weights run EcomTensor's `HalfMatmulKernel.linear`
    /// (AVX2/F16C widening in registers for few rows, panels widened for sgemm from 16 rows; GGUF blocks: see
    /// ``QuantizedMatmulKernel``).
    ///
    /// `sequences`: the rows are separate sequences at one position each (a decoding step), so GGUF blocks keep the
    /// per-row integer-dot path up to ``QuantizedMatmulKernel/perSequenceMaximumRows`` rows, giving each row the
    /// result it would have alone.
    ///
    /// `floatActivations`: few rows that stand for a prompt's (its last positions, whose other rows need no more
    /// work), so GGUF blocks keep x in Float32 (`.floatDequant` below ``QuantizedMatmulKernel/gemmMinimumRows``)
    /// as the whole prompt's product does, instead of rounding it to 8 bits.
    public func multiply(_ x: UnsafePointer<Float>, rows n: Int, xStride: Int? = nil, into y: UnsafeMutablePointer<Float>, bias: [Float]? = nil,
                         sequences: Bool = false, floatActivations: Bool = false) {
        let xs = xStride ?? columns
        if n == 0 { return }
        switch storage {
        case .float32 where n <= 2: for r in 0..<n { gemv(x + r * xs, into: y + r * rows) }
        case .float32: gemm(x, rows: n, xStride: xs, into: y)
        case .float16(let h): h.withUnsafeBufferPointer { halfLinear($0.baseAddress!, .float16, x, rows: n, xStride: xs, into: y) }
        case .bfloat16(let h): h.withUnsafeBufferPointer { halfLinear($0.baseAddress!, .bfloat16, x, rows: n, xStride: xs, into: y) }
        case .quantized(let q):
            let path: QuantizedMatmulKernel.Path =
                sequences && n <= QuantizedMatmulKernel.perSequenceMaximumRows ? .integerDot
                : floatActivations && n < QuantizedMatmulKernel.gemmMinimumRows ? .floatDequant : .automatic
            QuantizedMatmulKernel.linear(MatrixView(base: x, rows: n, columns: columns, stride: xs), quantizedView(q),
                                         MutableMatrixView(base: y, rows: n, columns: rows, stride: rows), path: path)
        }
        if let bias {
            bias.withUnsafeBufferPointer { b in ElementwiseKernel.addRow(y, b.baseAddress!, y, rows: n, cols: rows) }
        }
    }

    private func gemm(_ x: UnsafePointer<Float>, rows n: Int, xStride: Int, into y: UnsafeMutablePointer<Float>) {
        guard case .float32(let f) = storage else { preconditionFailure("gemm on 16-bit weights: use halfLinear") }
        f.withUnsafeBufferPointer { w in
            MatmulKernel.gemm(MatrixView(base: x, rows: n, columns: columns, stride: xStride),
                              MatrixView(base: w.baseAddress!, rows: rows, columns: columns, stride: columns), transposeB: true,
                              MutableMatrixView(base: y, rows: n, columns: rows, stride: rows))
        }
    }

    private func halfLinear(_ w: UnsafePointer<UInt16>, _ format: HalfFormat, _ x: UnsafePointer<Float>, rows n: Int, xStride: Int,
                            into y: UnsafeMutablePointer<Float>) {
        HalfMatmulKernel.linear(MatrixView(base: x, rows: n, columns: columns, stride: xStride),
                                HalfMatrixView(base: w, rows: rows, columns: columns, stride: columns, format: format),
                                MutableMatrixView(base: y, rows: n, columns: rows, stride: rows))
    }

    /// y[rows] = W x for one input row.
    public func gemv(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        switch storage {
        case .float32(let f): f.withUnsafeBufferPointer { GEMV.float32($0.baseAddress!, x, y, rows: rows, columns: columns) }
        case .float16(let h): h.withUnsafeBufferPointer { halfLinear($0.baseAddress!, .float16, x, rows: 1, xStride: columns, into: y) }
        case .bfloat16(let h): h.withUnsafeBufferPointer { halfLinear($0.baseAddress!, .bfloat16, x, rows: 1, xStride: columns, into: y) }
        case .quantized: multiply(x, rows: 1, into: y)
        }
    }
}

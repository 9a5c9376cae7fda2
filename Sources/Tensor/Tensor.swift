// The Float32 tensor type: a shape and contiguous row-major storage, with cheap strided views of rows and heads.

/// A Float32 tensor: a shape and contiguous, row-major storage (a value type; copies share storage until written).
///
/// The kernels work on raw buffers; `Tensor` is the convenient layer on top. Use ``withUnsafeBufferPointer(_:)`` /
/// ``withUnsafeMutableBufferPointer(_:)`` or the matrix views to hand its storage to a kernel without copying.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    /// Sizes of the dimensions, outermost first.
    public private(set) var shape: [Int]
    /// The elements in row-major order (`shape.reduce(1, *)` of them).
    public var storage: [Float]

    /// A tensor of the given shape filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        self.storage = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor holding `storage` with the given shape; the element count must match.
    public init(shape: [Int], storage: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == storage.count,
                     "shape \(shape) holds \(shape.reduce(1, *)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// Zeros of the given shape.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape) }

    /// The number of elements.
    public var count: Int { storage.count }
    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The size of the last dimension (1 for a scalar tensor).
    public var lastDimension: Int { shape.last ?? 1 }
    /// The number of rows when the tensor is read as a matrix `[product of leading dims, last dim]`.
    public var rowCount: Int { lastDimension == 0 ? 0 : count / lastDimension }

    /// The same storage read with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, storage: storage) }

    /// Element at a multi-index (slow; for tests and small inspections).
    public subscript(_ index: Int...) -> Float {
        get { storage[flatIndex(index)] }
        set { storage[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var flat = 0
        for (i, n) in zip(index, shape) {
            precondition(i >= 0 && i < n, "index \(index) out of range for shape \(shape)")
            flat = flat * n + i
        }
        return flat
    }

    /// Rows `range` of the tensor read as a matrix (a copy; use ``withRows(_:_:)`` for a view).
    public func rows(_ range: Range<Int>) -> Tensor {
        let c = lastDimension
        return Tensor(shape: [range.count, c], storage: Array(storage[(range.lowerBound * c)..<(range.upperBound * c)]))
    }

    /// Calls `body` with a read-only view of the whole storage.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with a mutable view of the whole storage.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Calls `body` with a read-only matrix view `[rowCount, lastDimension]` of the tensor.
    public func withMatrix<R>(_ body: (MatrixView) throws -> R) rethrows -> R {
        let (r, c) = (rowCount, lastDimension)
        return try storage.withUnsafeBufferPointer { try body(MatrixView(base: $0.baseAddress!, rows: r, columns: c, stride: c)) }
    }

    /// Calls `body` with a mutable matrix view `[rowCount, lastDimension]` of the tensor.
    public mutating func withMutableMatrix<R>(_ body: (MutableMatrixView) throws -> R) rethrows -> R {
        let (r, c) = (rowCount, lastDimension)
        return try storage.withUnsafeMutableBufferPointer {
            try body(MutableMatrixView(base: $0.baseAddress!, rows: r, columns: c, stride: c))
        }
    }

    /// Calls `body` with a mutable view of rows `range` (the tensor read as a matrix), without copying.
    public mutating func withRows<R>(_ range: Range<Int>, _ body: (MutableMatrixView) throws -> R) rethrows -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= rowCount, "rows \(range) of \(rowCount)")
        return try withMutableMatrix { try body($0.rows(range)) }
    }

    public var description: String {
        let head = storage.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", ..." : "")])"
    }
}

/// A read-only strided matrix view: `rows` x `columns`, row `i` starting at `base + i * stride`.
///
/// Views of the heads of a fused projection are expressed with `stride` larger than `columns`: e.g. in BLOOM's fused
/// QKV output `[T, NH, 3, HS]` the query of head `h` is `MatrixView(base: qkv + h*3*HS, rows: T, columns: HS,
/// stride: NH*3*HS)`. A view never owns memory: it is valid only while its base pointer is.
public struct MatrixView: @unchecked Sendable {
    public let base: UnsafePointer<Float>
    public let rows: Int
    public let columns: Int
    /// Elements between the starts of consecutive rows (>= columns; the BLAS leading dimension).
    public let stride: Int

    public init(base: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int) {
        checkMatrixView(rows: rows, columns: columns, stride: stride)
        self.base = base
        self.rows = rows
        self.columns = columns
        self.stride = stride
    }

    /// Element `(i, j)` (no bounds check in release).
    @inlinable public subscript(i: Int, j: Int) -> Float { base[i * stride + j] }
    /// True when the rows follow one another without gaps.
    public var isContiguous: Bool { stride == columns || rows <= 1 }
    /// Rows `range` as a view.
    public func rows(_ range: Range<Int>) -> MatrixView {
        MatrixView(base: base + range.lowerBound * stride, rows: range.count, columns: columns, stride: stride)
    }
    /// Columns `range` as a view (same stride).
    public func columns(_ range: Range<Int>) -> MatrixView {
        MatrixView(base: base + range.lowerBound, rows: rows, columns: range.count, stride: stride)
    }
}

/// A mutable strided matrix view; see ``MatrixView``.
public struct MutableMatrixView: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let rows: Int
    public let columns: Int
    public let stride: Int

    public init(base: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int) {
        checkMatrixView(rows: rows, columns: columns, stride: stride)
        self.base = base
        self.rows = rows
        self.columns = columns
        self.stride = stride
    }

    @inlinable public subscript(i: Int, j: Int) -> Float {
        get { base[i * stride + j] }
        nonmutating set { base[i * stride + j] = newValue }
    }
    public var isContiguous: Bool { stride == columns || rows <= 1 }
    /// The same view, read-only.
    public var readOnly: MatrixView { MatrixView(base: base, rows: rows, columns: columns, stride: stride) }
    public func rows(_ range: Range<Int>) -> MutableMatrixView {
        MutableMatrixView(base: base + range.lowerBound * stride, rows: range.count, columns: columns, stride: stride)
    }
    public func columns(_ range: Range<Int>) -> MutableMatrixView {
        MutableMatrixView(base: base + range.lowerBound, rows: rows, columns: range.count, stride: stride)
    }
}

/// The shape check shared by the matrix views: sizes non-negative, the stride at least the row length (and 1).
@inline(__always) func checkMatrixView(rows: Int, columns: Int, stride: Int) {
    precondition(rows >= 0 && columns >= 0 && stride >= max(1, columns), "bad view \(rows)x\(columns) stride \(stride)")
}

// Element-wise kernels: add, multiply, scale, axpy, row broadcasting and bias add (with its backward), scalar and SIMD.

/// Element-wise kernels on raw buffers. `out` may alias an input (in-place use). The fast paths use SIMD8 lanes, no
/// bounds checks, no allocation, and split large buffers over ``ComputeThreads``.
public enum ElementwiseKernel {
    /// Elements per thread chunk below which a single thread is used.
    @usableFromInline static let parallelGrain = 1 << 16

    // MARK: scalar references

    /// out[i] = a[i] + b[i] (reference).
    public static func addReference(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = a[i] + b[i] }
    }
    /// out[i] = a[i] * b[i] (reference).
    public static func mulReference(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = a[i] * b[i] }
    }
    /// out[i] = s * a[i] (reference).
    public static func scaleReference(_ a: UnsafePointer<Float>, _ s: Float, _ out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = s * a[i] }
    }
    /// y[i] += s * x[i] (reference).
    public static func axpyReference(_ s: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += s * x[i] }
    }
    /// out[r, j] = a[r, j] + row[j] for a `[rows, cols]` matrix (reference): bias add and row broadcasting.
    public static func addRowReference(_ a: UnsafePointer<Float>, _ row: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows { for j in 0..<cols { out[r * cols + j] = a[r * cols + j] + row[j] } }
    }
    /// out[r, j] = a[r, j] * row[j] (reference).
    public static func mulRowReference(_ a: UnsafePointer<Float>, _ row: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows { for j in 0..<cols { out[r * cols + j] = a[r * cols + j] * row[j] } }
    }
    /// dRow[j] += sum over r of dOut[r, j]: the backward of ``addRowReference`` for the broadcast row (bias gradient).
    public static func sumRowsReference(_ dOut: UnsafePointer<Float>, _ dRow: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for j in 0..<cols {
            var s: Float = 0
            for r in 0..<rows { s += dOut[r * cols + j] }
            dRow[j] += s
        }
    }

    // MARK: SIMD paths

    /// Applies a lane-wise map over `[0, count)`, in parallel chunks for large counts.
    @inline(__always) @usableFromInline
    static func map(count: Int, _ vector: (Int) -> Void, _ scalar: (Int) -> Void) {
        ComputeThreads.forEachChunk(count, minPerChunk: parallelGrain) { _, range in
            var i = range.lowerBound
            // Chunk bounds are not multiples of 8; vectors run inside the chunk, the rest scalar.
            while i + simdWidth <= range.upperBound { vector(i); i += simdWidth }
            while i < range.upperBound { scalar(i); i += 1 }
        }
    }

    /// out[i] = a[i] + b[i].
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        map(count: count, { storeVector(loadVector(a, $0) + loadVector(b, $0), out, $0) }, { out[$0] = a[$0] + b[$0] })
    }
    /// out[i] = a[i] * b[i].
    public static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        map(count: count, { storeVector(loadVector(a, $0) * loadVector(b, $0), out, $0) }, { out[$0] = a[$0] * b[$0] })
    }
    /// out[i] = s * a[i].
    public static func scale(_ a: UnsafePointer<Float>, _ s: Float, _ out: UnsafeMutablePointer<Float>, count: Int) {
        map(count: count, { storeVector(loadVector(a, $0) * s, out, $0) }, { out[$0] = s * a[$0] })
    }
    /// y[i] += s * x[i] (gradient accumulation, residual adds with s = 1).
    public static func axpy(_ s: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        map(count: count, { storeVector(loadVector(y, $0) + loadVector(x, $0) * s, y, $0) }, { y[$0] += s * x[$0] })
    }

    /// Row-broadcast map over a `[rows, cols]` matrix, parallel over rows.
    @inline(__always) @usableFromInline
    static func mapRows(rows: Int, cols: Int, _ vector: (Int, Int) -> Void, _ scalar: (Int, Int) -> Void) {
        ComputeThreads.forEachChunk(rows, minPerChunk: max(1, parallelGrain / max(1, cols))) { _, range in
            for r in range {
                let base = r * cols
                var j = 0
                while j + simdWidth <= cols { vector(base, j); j += simdWidth }
                while j < cols { scalar(base, j); j += 1 }
            }
        }
    }
    /// out[r, j] = a[r, j] + row[j] (bias add, broadcasting a row).
    public static func addRow(_ a: UnsafePointer<Float>, _ row: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        mapRows(rows: rows, cols: cols, { b, j in storeVector(loadVector(a, b + j) + loadVector(row, j), out, b + j) },
                { b, j in out[b + j] = a[b + j] + row[j] })
    }
    /// out[r, j] = a[r, j] * row[j].
    public static func mulRow(_ a: UnsafePointer<Float>, _ row: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        mapRows(rows: rows, cols: cols, { b, j in storeVector(loadVector(a, b + j) * loadVector(row, j), out, b + j) },
                { b, j in out[b + j] = a[b + j] * row[j] })
    }
    /// dRow[j] += sum over r of dOut[r, j] (bias gradient). Columns are split over threads, so each output element
    /// is summed by one thread in row order: deterministic for any thread count.
    public static func sumRows(_ dOut: UnsafePointer<Float>, _ dRow: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        let blocks = (cols + simdWidth - 1) / simdWidth
        ComputeThreads.forEachChunk(blocks, minPerChunk: max(1, parallelGrain / max(1, rows * simdWidth))) { _, range in
            for blk in range {
                let j = blk * simdWidth
                if j + simdWidth <= cols {
                    var s = FloatVector()
                    for r in 0..<rows { s += loadVector(dOut, r * cols + j) }
                    storeVector(loadVector(dRow, j) + s, dRow, j)
                } else {
                    for jj in j..<cols {
                        var s: Float = 0
                        for r in 0..<rows { s += dOut[r * cols + jj] }
                        dRow[jj] += s
                    }
                }
            }
        }
    }
}

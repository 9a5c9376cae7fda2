// The products of one LoRA pair (PEFT's LoraLayer: y += s (x Aᵀ) Bᵀ) over raw buffers, shared by the BLOOM and Llama
// training passes and the merge: forward, backward, W += s B A, and the pair's initialisation.
import EcomTensor

/// One adapter: A `[r, in]`, B `[out, r]`, their gradients (same layout), rank and scale s.
struct LoRAPair {
    var a, b, gradA, gradB: UnsafeMutablePointer<Float>
    var rank: Int, scale: Float
    var inFeatures: Int, outFeatures: Int

    /// y [rows, out] += s (x Aᵀ) Bᵀ for x [rows, in]; x Aᵀ `[rows, r]` is kept in `xa` for the backward.
    func forward(_ x: MatrixView, xa: UnsafeMutablePointer<Float>, addingTo y: MutableMatrixView) {
        let r = rank
        MatmulKernel.gemm(x, MatrixView(base: a, rows: r, columns: inFeatures, stride: inFeatures), transposeB: true,
                          MutableMatrixView(base: xa, rows: x.rows, columns: r, stride: r))
        MatmulKernel.gemm(MatrixView(base: xa, rows: x.rows, columns: r, stride: r), MatrixView(base: b, rows: outFeatures, columns: r, stride: r),
                          transposeB: true, y, alpha: scale, beta: 1)
    }

    /// dB += s dyᵀ (x Aᵀ); d(x Aᵀ) = s dy B (into `scratch`, `[rows, r]`); dA += d(x Aᵀ)ᵀ x; dx += d(x Aᵀ) A.
    func backward(dy: MatrixView, x: MatrixView, xa: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, addingTo dx: MutableMatrixView) {
        let r = rank, rows = dy.rows
        MatmulKernel.gemm(dy, transposeA: true, MatrixView(base: xa, rows: rows, columns: r, stride: r),
                          MutableMatrixView(base: gradB, rows: outFeatures, columns: r, stride: r), alpha: scale, beta: 1)
        MatmulKernel.gemm(dy, MatrixView(base: b, rows: outFeatures, columns: r, stride: r),
                          MutableMatrixView(base: scratch, rows: rows, columns: r, stride: r), alpha: scale)
        let dxa = MatrixView(base: scratch, rows: rows, columns: r, stride: r)
        MatmulKernel.gemm(dxa, transposeA: true, x, MutableMatrixView(base: gradA, rows: r, columns: inFeatures, stride: inFeatures), beta: 1)
        MatmulKernel.gemm(dxa, MatrixView(base: a, rows: r, columns: inFeatures, stride: inFeatures), dx, beta: 1)
    }

    /// W [out, in] += s B A (PEFT's merge).
    static func merge(a: UnsafePointer<Float>, b: UnsafePointer<Float>, rank r: Int, scale: Float,
                      into w: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        MatmulKernel.gemm(MatrixView(base: b, rows: rows, columns: r, stride: r), MatrixView(base: a, rows: r, columns: columns, stride: columns),
                          MutableMatrixView(base: w, rows: rows, columns: columns, stride: columns), alpha: scale, beta: 1)
    }

    /// Sets A and B to a saved adapter's values, or to PEFT's default initialisation: A Kaiming-uniform with
    /// a = sqrt(5), i.e. U(-1/sqrt(in), 1/sqrt(in)), from `rng`; B zero (the buffers start zeroed).
    func initialize(from saved: (a: [Float], b: [Float])?, rng: inout TensorRandom) {
        if let saved {
            saved.a.withUnsafeBufferPointer { a.update(from: $0.baseAddress!, count: saved.a.count) }
            saved.b.withUnsafeBufferPointer { b.update(from: $0.baseAddress!, count: saved.b.count) }
        } else {
            let bound = 1 / Float(inFeatures).squareRoot()
            for j in 0..<(rank * inFeatures) { a[j] = rng.uniform(-bound, bound) }
        }
    }
}

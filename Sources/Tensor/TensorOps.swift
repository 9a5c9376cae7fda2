// The Tensor-level API: each operation allocates its result and calls the buffer kernels (forward and backward).

extension Tensor {
    // MARK: matrix multiply

    /// op(a) * op(b) for rank-2 tensors, or a batched product for rank-3 tensors `[batch, rows, cols]` of equal batch.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false, path: KernelPath = .blas) -> Tensor {
        precondition(a.rank == b.rank && (a.rank == 2 || a.rank == 3), "matmul takes two rank-2 or two rank-3 tensors, got \(a.shape) and \(b.shape)")
        let batch = a.rank == 3 ? a.shape[0] : 1
        precondition(a.rank == 2 || b.shape[0] == batch, "matmul: batch sizes differ (\(a.shape) vs \(b.shape))")
        let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1]), (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, n) = (transposeA ? ac : ar, transposeB ? br : bc)
        var c = Tensor(shape: a.rank == 3 ? [batch, m, n] : [m, n])
        a.storage.withUnsafeBufferPointer { ap in b.storage.withUnsafeBufferPointer { bp in c.storage.withUnsafeMutableBufferPointer { cp in
            MatmulKernel.gemmBatched(
                MatrixView(base: ap.baseAddress!, rows: ar, columns: ac, stride: Swift.max(1, ac)), batchStrideA: ar * ac, transposeA: transposeA,
                MatrixView(base: bp.baseAddress!, rows: br, columns: bc, stride: Swift.max(1, bc)), batchStrideB: br * bc, transposeB: transposeB,
                MutableMatrixView(base: cp.baseAddress!, rows: m, columns: n, stride: Swift.max(1, n)), batchStrideC: m * n, batch: batch, path: path)
        } } }
        return c
    }

    /// Gradients of `c = matmul(a, b, transposeA:, transposeB:)` given dC: with C = op(A) op(B),
    /// d op(A) = dC op(B)^T and d op(B) = op(A)^T dC, transposed back where the operand was stored transposed.
    public static func matmulBackward(_ dC: Tensor, _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false,
                                      path: KernelPath = .blas) -> (dA: Tensor, dB: Tensor) {
        let dA = transposeA ? matmul(b, dC, transposeA: transposeB, transposeB: true, path: path)
                            : matmul(dC, b, transposeB: !transposeB, path: path)
        let dB = transposeB ? matmul(dC, a, transposeA: true, transposeB: transposeA, path: path)
                            : matmul(a, dC, transposeA: !transposeA, path: path)
        return (dA, dB)
    }

    // MARK: element-wise

    /// Applies a binary kernel to two equal-shape tensors, or to a tensor and a row (rank 1, the last dimension) broadcast over its rows.
    private static func binary(_ a: Tensor, _ b: Tensor,
                               _ full: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
                               _ row: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void) -> Tensor {
        var out = Tensor(shape: a.shape)
        let broadcast = a.shape != b.shape
        precondition(!broadcast || (b.rank == 1 && b.count == a.lastDimension), "shapes \(a.shape) and \(b.shape) do not broadcast")
        a.storage.withUnsafeBufferPointer { ap in b.storage.withUnsafeBufferPointer { bp in out.storage.withUnsafeMutableBufferPointer { op in
            guard let ab = ap.baseAddress, let bb = bp.baseAddress, let ob = op.baseAddress else { return }
            if broadcast { row(ab, bb, ob, a.rowCount, a.lastDimension) } else { full(ab, bb, ob, a.count) }
        } } }
        return out
    }

    /// Element-wise sum; `b` may be a row broadcast over `a`'s rows (bias add).
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, { ElementwiseKernel.add($0, $1, $2, count: $3) }, { ElementwiseKernel.addRow($0, $1, $2, rows: $3, cols: $4) })
    }
    /// Element-wise product; `b` may be a row broadcast over `a`'s rows.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, { ElementwiseKernel.mul($0, $1, $2, count: $3) }, { ElementwiseKernel.mulRow($0, $1, $2, rows: $3, cols: $4) })
    }
    /// Every element times `s`.
    public func scaled(by s: Float) -> Tensor {
        var out = Tensor(shape: shape)
        storage.withUnsafeBufferPointer { x in out.storage.withUnsafeMutableBufferPointer { o in
            if let xb = x.baseAddress { ElementwiseKernel.scale(xb, s, o.baseAddress!, count: count) }
        } }
        return out
    }
    /// The gradient of a broadcast row (bias) from the output gradient: the column sums of `self` read as a matrix.
    public func sumRows() -> Tensor {
        var out = Tensor(shape: [lastDimension])
        storage.withUnsafeBufferPointer { d in out.storage.withUnsafeMutableBufferPointer { o in
            if let db = d.baseAddress { ElementwiseKernel.sumRows(db, o.baseAddress!, rows: rowCount, cols: lastDimension) }
        } }
        return out
    }

    // MARK: layer norm, GELU, softmax

    /// Layer norm over the last dimension; returns the output and the per-row mean and rstd for the backward.
    public func layerNorm(gamma: Tensor, beta: Tensor, eps: Float = LayerNormKernel.bloomEpsilon, path: KernelPath = .simd)
        -> (out: Tensor, mean: Tensor, rstd: Tensor) {
        precondition(gamma.count == lastDimension && beta.count == lastDimension, "layerNorm: gamma/beta must have \(lastDimension) elements")
        var out = Tensor(shape: shape), mean = Tensor(shape: [rowCount]), rstd = Tensor(shape: [rowCount])
        let (r, c) = (rowCount, lastDimension)
        storage.withUnsafeBufferPointer { x in gamma.storage.withUnsafeBufferPointer { g in beta.storage.withUnsafeBufferPointer { b in
        out.storage.withUnsafeMutableBufferPointer { o in mean.storage.withUnsafeMutableBufferPointer { mu in rstd.storage.withUnsafeMutableBufferPointer { rs in
            guard let xb = x.baseAddress else { return }
            let f = path == .reference ? LayerNormKernel.forwardReference : LayerNormKernel.forward
            f(xb, g.baseAddress!, b.baseAddress!, o.baseAddress!, mu.baseAddress, rs.baseAddress, r, c, eps)
        } } } } } }
        return (out, mean, rstd)
    }

    /// Backward of ``layerNorm(gamma:beta:eps:path:)``: gradients of the input, gamma and beta.
    public static func layerNormBackward(_ dOut: Tensor, input x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor, path: KernelPath = .simd)
        -> (dx: Tensor, dGamma: Tensor, dBeta: Tensor) {
        var dx = Tensor(shape: x.shape), dg = Tensor(shape: gamma.shape), db = Tensor(shape: gamma.shape)
        let (r, c) = (x.rowCount, x.lastDimension)
        dOut.storage.withUnsafeBufferPointer { d in x.storage.withUnsafeBufferPointer { xp in gamma.storage.withUnsafeBufferPointer { g in
        mean.storage.withUnsafeBufferPointer { mu in rstd.storage.withUnsafeBufferPointer { rs in
        dx.storage.withUnsafeMutableBufferPointer { dxp in dg.storage.withUnsafeMutableBufferPointer { dgp in db.storage.withUnsafeMutableBufferPointer { dbp in
            guard let db0 = d.baseAddress else { return }
            let f = path == .reference ? LayerNormKernel.backwardReference : LayerNormKernel.backward
            f(db0, xp.baseAddress!, g.baseAddress!, mu.baseAddress!, rs.baseAddress!, dxp.baseAddress!, dgp.baseAddress!, dbp.baseAddress!, r, c, false)
        } } } } } } } }
        return (dx, dg, db)
    }

    /// BLOOM's tanh-approximation GELU.
    public func gelu(path: KernelPath = .simd) -> Tensor {
        var out = Tensor(shape: shape)
        storage.withUnsafeBufferPointer { x in out.storage.withUnsafeMutableBufferPointer { o in
            guard let xb = x.baseAddress else { return }
            (path == .reference ? GELUKernel.forwardReference : GELUKernel.forward)(xb, o.baseAddress!, count)
        } }
        return out
    }

    /// Backward of ``gelu(path:)`` at input `self`: dOut * gelu'(self).
    public func geluBackward(_ dOut: Tensor, path: KernelPath = .simd) -> Tensor {
        var dx = Tensor(shape: shape)
        storage.withUnsafeBufferPointer { x in dOut.storage.withUnsafeBufferPointer { d in dx.storage.withUnsafeMutableBufferPointer { o in
            guard let xb = x.baseAddress else { return }
            (path == .reference ? GELUKernel.backwardReference : GELUKernel.backward)(d.baseAddress!, xb, o.baseAddress!, count, false)
        } } }
        return dx
    }

    /// Softmax over the last dimension of `scale * self + bias`, with an optional causal mask; see ``SoftmaxKernel``.
    /// `bias` is `[groups, lastDimension]`, one row per `rowsPerBias` consecutive rows.
    public func softmax(scale: Float = 1, bias: Tensor? = nil, rowsPerBias: Int? = nil, causalOffset: Int? = nil, path: KernelPath = .simd) -> Tensor {
        var out = Tensor(shape: shape)
        let (r, c) = (rowCount, lastDimension)
        let per = rowsPerBias ?? r
        if let bias { precondition(bias.count == (r + per - 1) / Swift.max(1, per) * c, "softmax: bias has \(bias.count) elements for \(r) rows of \(c) in groups of \(per)") }
        let biasStorage = bias?.storage ?? [0]
        storage.withUnsafeBufferPointer { x in out.storage.withUnsafeMutableBufferPointer { o in biasStorage.withUnsafeBufferPointer { b in
            guard let xb = x.baseAddress else { return }
            let f = path == .reference ? SoftmaxKernel.forwardReference : SoftmaxKernel.forward
            f(xb, o.baseAddress!, r, c, scale, bias == nil ? nil : b.baseAddress, per, causalOffset)
        } } }
        return out
    }

    /// Backward of ``softmax(scale:bias:rowsPerBias:causalOffset:path:)`` given its output `self`: dx. With
    /// `causalOffset` (rows grouped by `rowsPerGroup` as in the forward) `dOut` is read only where keys are visible.
    public func softmaxBackward(_ dOut: Tensor, scale: Float = 1, rowsPerGroup: Int? = nil, causalOffset: Int? = nil,
                                path: KernelPath = .simd) -> Tensor {
        var dx = Tensor(shape: shape)
        storage.withUnsafeBufferPointer { y in dOut.storage.withUnsafeBufferPointer { d in dx.storage.withUnsafeMutableBufferPointer { o in
            guard let yb = y.baseAddress else { return }
            (path == .reference ? SoftmaxKernel.backwardReference : SoftmaxKernel.backward)(d.baseAddress!, yb, o.baseAddress!, rowCount, lastDimension, scale, false, rowsPerGroup ?? Int.max, causalOffset)
        } } }
        return dx
    }

    // MARK: embedding, cross-entropy

    /// Rows of `table` (`[V, C]`) for the token ids: `[ids.count, C]`.
    public static func embedding(_ table: Tensor, ids: [Int32], path: KernelPath = .simd) -> Tensor {
        let (v, c) = (table.rowCount, table.lastDimension)
        var out = Tensor(shape: [ids.count, c])
        table.storage.withUnsafeBufferPointer { t in ids.withUnsafeBufferPointer { i in out.storage.withUnsafeMutableBufferPointer { o in
            guard let ib = i.baseAddress, let ob = o.baseAddress else { return }
            (path == .reference ? EmbeddingKernel.forwardReference : EmbeddingKernel.forward)(t.baseAddress!, ib, ob, ids.count, v, c)
        } } }
        return out
    }

    /// Backward of ``embedding(_:ids:path:)``: adds each output row's gradient into `dTable` at its token's row.
    public static func embeddingBackward(_ dOut: Tensor, ids: [Int32], into dTable: inout Tensor, path: KernelPath = .simd) {
        let (v, c) = (dTable.rowCount, dTable.lastDimension)
        dOut.storage.withUnsafeBufferPointer { d in ids.withUnsafeBufferPointer { i in dTable.storage.withUnsafeMutableBufferPointer { t in
            guard let ib = i.baseAddress, let db = d.baseAddress else { return }
            (path == .reference ? EmbeddingKernel.backwardReference : EmbeddingKernel.backward)(db, ib, t.baseAddress!, ids.count, v, c)
        } } }
    }

    /// Mean cross-entropy of logits `[N, V]` against targets (ignore index -100) and the gradient of the loss.
    public func crossEntropy(targets: [Int32], path: KernelPath = .simd) -> (loss: Float, count: Int, dLogits: Tensor) {
        precondition(targets.count == rowCount, "crossEntropy: \(targets.count) targets for \(rowCount) rows")
        var grad = Tensor(shape: shape)
        let (r, v) = (rowCount, lastDimension)
        let result = storage.withUnsafeBufferPointer { x in targets.withUnsafeBufferPointer { t in grad.storage.withUnsafeMutableBufferPointer { g in
            guard let xb = x.baseAddress else { return (loss: Float(0), count: 0) }
            let f = path == .reference ? CrossEntropyKernel.forwardBackwardReference : CrossEntropyKernel.forwardBackward
            return f(xb, t.baseAddress!, r, v, g.baseAddress, 1)
        } } }
        return (result.loss, result.count, grad)
    }

    // MARK: reductions

    private func reduce<R>(_ empty: R, _ body: (UnsafePointer<Float>, Int) -> R) -> R {
        storage.withUnsafeBufferPointer { $0.baseAddress.map { body($0, count) } ?? empty }
    }
    /// Sum of all elements.
    public func sum() -> Float { reduce(0) { ReductionKernel.sum($0, count: $1) } }
    /// Mean of all elements.
    public func mean() -> Float { reduce(.nan) { ReductionKernel.mean($0, count: $1) } }
    /// Largest element (-infinity when empty).
    public func max() -> Float { reduce(-.infinity) { ReductionKernel.max($0, count: $1) } }
    /// Euclidean norm of all elements.
    public func l2Norm() -> Float { reduce(0) { ReductionKernel.l2Norm($0, count: $1) } }
}

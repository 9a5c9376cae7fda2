// Softmax with scale, bias rows and causal mask: against torch, SIMD against reference, finite differences.
import EcomTensor
import EcomTestSupport
import Testing

@Suite struct SoftmaxTests {
    @Test(arguments: [KernelPath.reference, .simd], simdVariants)
    func matchesTorch(path: KernelPath, native: NativeKernels.Path) { withSIMDVariant(native) {
        let f = TorchFixture.section("softmax")
        let (r, c, per) = (f.int("rows"), f.int("cols"), f.int("rows_per_bias"))
        let x = Tensor(shape: [r, c], storage: f.floats("x")), bias = Tensor(shape: [r / per, c], storage: f.fromBits("bias_bits"))
        let y = x.softmax(scale: f.float("scale"), bias: bias, rowsPerBias: per, causalOffset: f.int("causal_offset"), path: path)
        #expect(firstMismatch(y.storage, f.floats("y"), rtol: 1e-5, atol: 1e-6) == nil, "\(path) native \(native) forward")
        let dx = y.softmaxBackward(Tensor(shape: [r, c], storage: f.floats("dy")), scale: f.float("scale"), path: path)
        #expect(firstMismatch(dx.storage, f.floats("dx"), rtol: 1e-4, atol: 1e-6) == nil, "\(path) native \(native) backward")
    } }

    @Test(arguments: simdVariants)
    func simdMatchesReferenceOnAwkwardShapes(native: NativeKernels.Path) { withSIMDVariant(native) {
        let seed: UInt64 = 909
        for rows in awkwardSizes { for cols in awkwardSizes {
            let s = seed &+ UInt64(rows * 1000 + cols)
            let x = Tensor.uniform([rows, cols], lo: -5, hi: 5, seed: s), dy = Tensor.uniform([rows, cols], seed: s + 1)
            let bias = Tensor.uniform([cols], seed: s + 2)
            for causal in [nil, 0, 2] as [Int?] {
                let ref = x.softmax(scale: 0.7, bias: bias, rowsPerBias: rows, causalOffset: causal, path: .reference)
                let fast = x.softmax(scale: 0.7, bias: bias, rowsPerBias: rows, causalOffset: causal, path: .simd)
                #expect(firstMismatch(fast.storage, ref.storage, rtol: 1e-5, atol: 1e-6) == nil, "native \(native) seed \(s) \(rows)x\(cols) causal \(String(describing: causal))")
                let rb = ref.softmaxBackward(dy, scale: 0.7, path: .reference), fb = ref.softmaxBackward(dy, scale: 0.7, path: .simd)
                #expect(firstMismatch(fb.storage, rb.storage, rtol: 1e-4, atol: 1e-6) == nil, "native \(native) seed \(s) \(rows)x\(cols) backward")
            }
        } }
    } }

    /// Causal attention leaves the masked scores' gradients uncomputed: the causal backward must not read them.
    @Test(arguments: simdVariants)
    func causalBackwardIgnoresMaskedGradients(native: NativeKernels.Path) { withSIMDVariant(native) {
        let seed: UInt64 = 1111
        for rows in awkwardSizes { for cols in awkwardSizes {
            let s = seed &+ UInt64(rows * 1000 + cols), group = max(1, rows / 2)
            let x = Tensor.uniform([rows, cols], lo: -3, hi: 3, seed: s), dy = Tensor.uniform([rows, cols], seed: s + 1)
            for offset in [0, 1] {
                let y = x.softmax(scale: 0.6, rowsPerBias: group, causalOffset: offset, path: .reference)
                var poisoned = dy
                for r in 0..<rows { for j in 0..<cols where j > r % group + offset { poisoned.storage[r * cols + j] = .nan } }
                let full = y.softmaxBackward(dy, scale: 0.6, path: .reference)
                for path in [KernelPath.reference, .simd] {
                    let causal = y.softmaxBackward(poisoned, scale: 0.6, rowsPerGroup: group, causalOffset: offset, path: path)
                    #expect(firstMismatch(causal.storage, full.storage, rtol: 1e-4, atol: 1e-6) == nil,
                            "\(path) native \(native) seed \(s) \(rows)x\(cols) offset \(offset)")
                }
            }
        } }
    } }

    @Test func fullyMaskedRowIsZero() {
        let x = Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        let bias = Tensor(shape: [1, 3], storage: [-.infinity, -.infinity, -.infinity])
        for path in [KernelPath.reference, .simd] {
            #expect(x.softmax(bias: bias, rowsPerBias: 2, path: path).storage == [0, 0, 0, 0, 0, 0], "\(path)")
            #expect(x.softmax(causalOffset: -1, path: path).storage[0..<3] == [0, 0, 0], "\(path)")
        }
    }

    @Test func backwardMatchesFiniteDifferences() {
        let seed: UInt64 = 1010
        let (r, c) = (4, 7)
        let x = Tensor.uniform([r, c], lo: -2, hi: 2, seed: seed), w = Tensor.uniform([r, c], seed: seed + 1)
        let bias = Tensor.uniform([c], seed: seed + 2)
        let y = x.softmax(scale: 0.5, bias: bias, rowsPerBias: r, causalOffset: 1, path: .reference)
        let num = numericalGradient(x.storage, h: 1e-2) {
            weightedSum(Tensor(shape: [r, c], storage: $0).softmax(scale: 0.5, bias: bias, rowsPerBias: r, causalOffset: 1, path: .reference).storage, w.storage)
        }
        #expect(firstMismatch(y.softmaxBackward(w, scale: 0.5).storage, num, rtol: 1e-2, atol: 1e-4) == nil, "seed \(seed)")
    }
}

// Layer norm: against torch's F.layer_norm (values and gradients), SIMD against reference, backward against finite differences.
import EcomTensor
import EcomTestSupport
import Testing

@Suite struct LayerNormTests {
    @Test(arguments: [KernelPath.reference, .simd], simdVariants)
    func matchesTorch(path: KernelPath, native: NativeKernels.Path) { withSIMDVariant(native) {
        let f = TorchFixture.section("layernorm")
        let (r, c) = (f.int("rows"), f.int("cols"))
        let x = Tensor(shape: [r, c], storage: f.floats("x"))
        let gamma = Tensor(shape: [c], storage: f.floats("gamma")), beta = Tensor(shape: [c], storage: f.floats("beta"))
        let (y, mean, rstd) = x.layerNorm(gamma: gamma, beta: beta, path: path)
        #expect(firstMismatch(y.storage, f.floats("y"), rtol: 1e-5, atol: 1e-5) == nil, "\(path) native \(native) y")
        let (dx, dg, db) = Tensor.layerNormBackward(Tensor(shape: [r, c], storage: f.floats("dy")), input: x, gamma: gamma, mean: mean, rstd: rstd, path: path)
        #expect(firstMismatch(dx.storage, f.floats("dx"), rtol: 1e-4, atol: 1e-5) == nil, "\(path) native \(native) dx")
        #expect(firstMismatch(dg.storage, f.floats("dgamma"), rtol: 1e-4, atol: 1e-5) == nil, "\(path) native \(native) dgamma")
        #expect(firstMismatch(db.storage, f.floats("dbeta"), rtol: 1e-5, atol: 1e-5) == nil, "\(path) native \(native) dbeta")
    } }

    @Test(arguments: simdVariants)
    func simdMatchesReferenceOnAwkwardShapes(native: NativeKernels.Path) { withSIMDVariant(native) {
        let seed: UInt64 = 505
        for rows in awkwardSizes { for cols in awkwardSizes where cols > 1 {
            let s = seed &+ UInt64(rows * 1000 + cols)
            let x = Tensor.uniform([rows, cols], lo: -3, hi: 4, seed: s)
            let g = Tensor.uniform([cols], seed: s + 1), b = Tensor.uniform([cols], seed: s + 2), dy = Tensor.uniform([rows, cols], seed: s + 3)
            let ref = x.layerNorm(gamma: g, beta: b, path: .reference), fast = x.layerNorm(gamma: g, beta: b, path: .simd)
            #expect(firstMismatch(fast.out.storage, ref.out.storage, rtol: 1e-4, atol: 1e-5) == nil, "native \(native) seed \(s) fwd \(rows)x\(cols)")
            let rb = Tensor.layerNormBackward(dy, input: x, gamma: g, mean: ref.mean, rstd: ref.rstd, path: .reference)
            let fb = Tensor.layerNormBackward(dy, input: x, gamma: g, mean: ref.mean, rstd: ref.rstd, path: .simd)
            #expect(firstMismatch(fb.dx.storage, rb.dx.storage, rtol: 1e-3, atol: 1e-4) == nil, "native \(native) seed \(s) dx \(rows)x\(cols)")
            #expect(firstMismatch(fb.dGamma.storage, rb.dGamma.storage, rtol: 1e-3, atol: 1e-4) == nil, "native \(native) seed \(s) dgamma \(rows)x\(cols)")
            #expect(firstMismatch(fb.dBeta.storage, rb.dBeta.storage, rtol: 1e-4, atol: 1e-4) == nil, "native \(native) seed \(s) dbeta \(rows)x\(cols)")
        } }
    } }

    @Test func backwardMatchesFiniteDifferences() {
        let seed: UInt64 = 606
        let (r, c) = (3, 7)
        let x = Tensor.uniform([r, c], lo: -2, hi: 2, seed: seed), g = Tensor.uniform([c], seed: seed + 1)
        let b = Tensor.uniform([c], seed: seed + 2), w = Tensor.uniform([r, c], seed: seed + 3)
        let fwd = x.layerNorm(gamma: g, beta: b, path: .reference)
        let back = Tensor.layerNormBackward(w, input: x, gamma: g, mean: fwd.mean, rstd: fwd.rstd)
        let nx = numericalGradient(x.storage, h: 1e-3) { weightedSum(Tensor(shape: [r, c], storage: $0).layerNorm(gamma: g, beta: b, path: .reference).out.storage, w.storage) }
        let ng = numericalGradient(g.storage, h: 1e-3) { weightedSum(x.layerNorm(gamma: Tensor(shape: [c], storage: $0), beta: b, path: .reference).out.storage, w.storage) }
        let nb = numericalGradient(b.storage, h: 1e-3) { weightedSum(x.layerNorm(gamma: g, beta: Tensor(shape: [c], storage: $0), path: .reference).out.storage, w.storage) }
        #expect(firstMismatch(back.dx.storage, nx, rtol: 1e-2, atol: 2e-3) == nil, "seed \(seed) dx")
        #expect(firstMismatch(back.dGamma.storage, ng, rtol: 1e-2, atol: 2e-3) == nil, "seed \(seed) dgamma")
        #expect(firstMismatch(back.dBeta.storage, nb, rtol: 1e-2, atol: 2e-3) == nil, "seed \(seed) dbeta")
    }
}

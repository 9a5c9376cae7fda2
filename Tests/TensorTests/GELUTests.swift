// GELU (BLOOM's tanh form): against transformers' bloom_gelu_forward/back, SIMD against reference, finite differences.
import EcomTensor
import EcomTestSupport
import Testing

@Suite struct GELUTests {
    @Test(arguments: [KernelPath.reference, .simd], simdVariants)
    func matchesBloomGelu(path: KernelPath, native: NativeKernels.Path) { withSIMDVariant(native) {
        let f = TorchFixture.section("gelu")
        let x = f.floats("x")
        let t = Tensor(shape: [x.count], storage: x)
        #expect(firstMismatch(t.gelu(path: path).storage, f.floats("y"), rtol: 1e-5, atol: 1e-6) == nil, "\(path) native \(native) forward")
        let dx = t.geluBackward(Tensor(shape: [x.count], storage: f.floats("dy")), path: path)
        #expect(firstMismatch(dx.storage, f.floats("dx"), rtol: 1e-5, atol: 1e-6) == nil, "\(path) native \(native) backward")
    } }

    @Test(arguments: simdVariants)
    func simdMatchesReferenceOnAwkwardSizes(native: NativeKernels.Path) { withSIMDVariant(native) {
        let seed: UInt64 = 707
        for n in awkwardSizes + [100_003] {
            let x = Tensor.uniform([n], lo: -10, hi: 10, seed: seed &+ UInt64(n)), dy = Tensor.uniform([n], seed: seed)
            #expect(firstMismatch(x.gelu(path: .simd).storage, x.gelu(path: .reference).storage, rtol: 1e-5, atol: 1e-6) == nil, "native \(native) seed \(seed) n \(n)")
            #expect(firstMismatch(x.geluBackward(dy, path: .simd).storage, x.geluBackward(dy, path: .reference).storage, rtol: 1e-5, atol: 1e-6) == nil, "native \(native) seed \(seed) n \(n) bwd")
        }
    } }

    @Test func backwardMatchesFiniteDifferences() {
        let seed: UInt64 = 808
        let x = Tensor.uniform([33], lo: -4, hi: 4, seed: seed), w = Tensor.uniform([33], seed: seed + 1)
        let num = numericalGradient(x.storage, h: 1e-3) { weightedSum(Tensor(shape: [33], storage: $0).gelu(path: .reference).storage, w.storage) }
        #expect(firstMismatch(x.geluBackward(w).storage, num, rtol: 1e-2, atol: 1e-3) == nil, "seed \(seed)")
    }
}

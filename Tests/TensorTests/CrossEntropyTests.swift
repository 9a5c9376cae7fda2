// Cross-entropy with ignore index: against torch's F.cross_entropy, SIMD against reference, finite differences.
import EcomTensor
import EcomTestSupport
import Testing

@Suite struct CrossEntropyTests {
    @Test(arguments: [KernelPath.reference, .simd])
    func matchesTorch(path: KernelPath) {
        let f = TorchFixture.section("cross_entropy")
        let logits = Tensor(shape: [f.int("rows"), f.int("vocab")], storage: f.floats("logits"))
        let (loss, count, grad) = logits.crossEntropy(targets: f.ints("targets").map { Int32($0) }, path: path)
        #expect(count == 4)
        #expect(isClose(loss, f.float("loss"), rtol: 1e-6, atol: 1e-6), "\(path) loss \(loss) vs \(f.float("loss"))")
        #expect(firstMismatch(grad.storage, f.floats("dlogits"), rtol: 1e-5, atol: 1e-7) == nil, "\(path) gradient")
    }

    @Test func simdMatchesReferenceAndHugeLogitsStayFinite() {
        let seed: UInt64 = 1111
        for rows in awkwardSizes { for vocab in awkwardSizes {
            var rng = SplitMix64(seed: seed &+ UInt64(rows * 1000 + vocab))
            let logits = Tensor.uniform([rows, vocab], lo: -30, hi: 30, seed: seed &+ UInt64(rows + vocab)).scaled(by: vocab == 257 ? 10 : 1)
            let targets = (0..<rows).map { _ in rng.next() % 4 == 0 ? Int32(-100) : Int32(rng.next() % UInt64(vocab)) }
            let ref = logits.crossEntropy(targets: targets, path: .reference), fast = logits.crossEntropy(targets: targets, path: .simd)
            #expect(ref.count == fast.count && isClose(fast.loss, ref.loss, rtol: 1e-5, atol: 1e-5), "seed \(seed) \(rows)x\(vocab): \(fast.loss) vs \(ref.loss)")
            #expect(fast.loss.isFinite, "seed \(seed) \(rows)x\(vocab)")
            #expect(firstMismatch(fast.dLogits.storage, ref.dLogits.storage, rtol: 1e-4, atol: 1e-6) == nil, "seed \(seed) \(rows)x\(vocab) grad")
        } }
    }

    @Test func allIgnoredGivesZero() {
        let logits = Tensor.uniform([2, 5], seed: 1)
        let r = logits.crossEntropy(targets: [-100, -100])
        #expect(r.loss == 0 && r.count == 0 && r.dLogits.storage.allSatisfy { $0 == 0 })
    }

    @Test func gradientMatchesFiniteDifferences() {
        let seed: UInt64 = 1212
        let logits = Tensor.uniform([3, 7], lo: -3, hi: 3, seed: seed)
        let targets: [Int32] = [2, -100, 6]
        let num = numericalGradient(logits.storage, h: 1e-2) {
            Double(Tensor(shape: [3, 7], storage: $0).crossEntropy(targets: targets, path: .reference).loss)
        }
        #expect(firstMismatch(logits.crossEntropy(targets: targets).dLogits.storage, num, rtol: 1e-2, atol: 1e-4) == nil, "seed \(seed)")
    }
}

// Cross-entropy with ignore index: against torch's F.cross_entropy, SIMD against reference, finite differences.
import EcomTensor
import EcomTestSupport
import Testing

@Suite struct CrossEntropyTests {
    /// `cross_entropy`: [6, 11], logits ~ N(0, 3); `cross_entropy_huge`: [5, 257], logits uniform in [-300, 300]
    /// (e^x overflows float without the max shift), one ignored target each at least.
    @Test(arguments: [KernelPath.reference, .simd], ["cross_entropy", "cross_entropy_huge"])
    func matchesTorch(path: KernelPath, section: String) {
        let f = TorchFixture.section(section)
        let targets = f.ints("targets").map { Int32($0) }
        let logits = Tensor(shape: [f.int("rows"), f.int("vocab")], storage: f.floats("logits"))
        let (loss, count, grad) = logits.crossEntropy(targets: targets, path: path)
        #expect(count == targets.filter { $0 != -100 }.count)
        #expect(isClose(loss, f.float("loss"), rtol: 1e-6, atol: 1e-6), "\(section) \(path) loss \(loss) vs \(f.float("loss"))")
        #expect(grad.storage.allSatisfy { $0.isFinite }, "\(section) \(path) gradient not finite")
        #expect(firstMismatch(grad.storage, f.floats("dlogits"), rtol: 1e-5, atol: 1e-7) == nil, "\(section) \(path) gradient")
    }

    @Test func simdMatchesReferenceAndHugeLogitsStayFinite() {
        let seed: UInt64 = 1111
        for rows in awkwardSizes { for vocab in awkwardSizes {
            var rng = SplitMix64(seed: seed &+ UInt64(rows * 1000 + vocab))
            let logits = Tensor.uniform([rows, vocab], lo: -30, hi: 30, seed: seed &+ UInt64(rows + vocab)).scaled(by: vocab == 257 ? 10 : 1)
            let targets = (0..<rows).map { _ in rng.next() % 4 == 0 ? Int32(-100) : Int32(rng.next() % UInt64(vocab)) }
            let ref = logits.crossEntropy(targets: targets, path: .reference), fast = logits.crossEntropy(targets: targets, path: .simd)
            #expect(ref.count == fast.count && isClose(fast.loss, ref.loss, rtol: 1e-5, atol: 1e-5), "seed \(seed) \(rows)x\(vocab): \(fast.loss) vs \(ref.loss)")
            #expect(fast.loss.isFinite && ref.loss.isFinite, "seed \(seed) \(rows)x\(vocab)")
            #expect(fast.dLogits.storage.allSatisfy { $0.isFinite } && ref.dLogits.storage.allSatisfy { $0.isFinite },
                    "seed \(seed) \(rows)x\(vocab) gradient not finite")
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

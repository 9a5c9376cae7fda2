// Cross-entropy with ignore index: against torch's F.cross_entropy, SIMD (every path) against reference, finite
// differences.
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

    /// Each path this CPU runs (the C row kernel of each table, Swift SIMD) against the Double reference: vocabularies
    /// with every tail of 8 and 16 lanes, wide logit spreads, an ignored row, in-place use.
    @Test(arguments: simdVariants)
    func everyPathMatchesTheDoubleReference(path: NativeKernels.Path) { withSIMDVariant(path) {
        #expect(NativeKernels.activePathName == path.rawValue)
        for (rows, vocab) in [(1, 1), (3, 7), (2, 15), (4, 16), (3, 17), (5, 33), (4, 257), (3, 1031), (2, 8192)] {
            let seed = UInt64(rows * 100_000 + vocab)
            // Logits spread wide enough that most softmax terms underflow to 0 in Float32 at the larger spreads.
            let spread: Float = vocab % 2 == 0 ? 40 : 4
            let x = randomArray(rows * vocab, seed: seed, -spread, spread)
            var rng = SplitMix64(seed: seed + 1)
            var targets = (0..<rows).map { _ in Int32(rng.next() % UInt64(vocab)) }
            if rows > 2 { targets[1] = CrossEntropyKernel.ignoreIndex }  // an ignored row: zero gradient, no loss
            var want = [Float](repeating: .nan, count: x.count), got = want, inPlace = x
            let (refLoss, refCount) = CrossEntropyKernel.forwardBackwardReference(x, targets: targets, rows: rows, vocab: vocab,
                                                                                  dLogits: &want, dLoss: 0.5)
            let (loss, count) = CrossEntropyKernel.forwardBackward(x, targets: targets, rows: rows, vocab: vocab,
                                                                   dLogits: &got, dLoss: 0.5)
            let (lossOnly, _) = CrossEntropyKernel.forwardBackward(x, targets: targets, rows: rows, vocab: vocab, dLogits: nil)
            let (lossInPlace, _) = inPlace.withUnsafeMutableBufferPointer { p in
                CrossEntropyKernel.forwardBackward(p.baseAddress!, targets: targets, rows: rows, vocab: vocab,
                                                   dLogits: p.baseAddress!, dLoss: 0.5)
            }
            let where_ = "\(path.rawValue) seed \(seed) \(rows)x\(vocab)"
            #expect(count == refCount, "\(where_)")
            #expect(abs(loss - refLoss) <= 2e-6 * max(1, abs(refLoss)), "\(where_): loss \(loss) vs \(refLoss)")
            #expect(lossOnly == loss && lossInPlace == loss, "\(where_): the loss depends on the gradient's buffer")
            #expect(firstMismatch(got, want, rtol: 1e-5, atol: 1e-7) == nil, "\(where_): \(String(describing: firstMismatch(got, want, rtol: 1e-5, atol: 1e-7)))")
            #expect(inPlace == got, "\(where_): in place differs")
        }
    } }

    /// A row whose target sits far below the maximum: the loss is exact (lse - x[target]), not log of an underflowed
    /// probability, on every path.
    @Test(arguments: simdVariants)
    func lossStaysFiniteFarFromTheTarget(path: NativeKernels.Path) { withSIMDVariant(path) {
        var x = [Float](repeating: 0, count: 37)
        x[3] = 150
        x[30] = -150
        let (loss, _) = CrossEntropyKernel.forwardBackward(x, targets: [30], rows: 1, vocab: 37, dLogits: nil)
        let (ref, _) = CrossEntropyKernel.forwardBackwardReference(x, targets: [30], rows: 1, vocab: 37, dLogits: nil)
        #expect(loss.isFinite && abs(loss - ref) <= 1e-5 * ref, "\(path.rawValue): \(loss) vs \(ref)")
    } }
}

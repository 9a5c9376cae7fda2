// Embedding gather/scatter-add, AdamW against torch.optim.AdamW, and ALiBi against transformers' BLOOM.
import Foundation
import EcomTensor
import EcomTestSupport
import Testing

@Suite struct EmbeddingTests {
    @Test func gatherAndScatterAddMatchReference() {
        let seed: UInt64 = 1313
        for dim in awkwardSizes {
            var rng = SplitMix64(seed: seed &+ UInt64(dim))
            let vocab = 11
            let table = Tensor.uniform([vocab, dim], seed: seed)
            let ids = (0..<33).map { _ in Int32(rng.next() % 5) }  // many repeats
            #expect(Tensor.embedding(table, ids: ids) == Tensor.embedding(table, ids: ids, path: .reference), "seed \(seed) dim \(dim)")
            let dOut = Tensor.uniform([ids.count, dim], seed: seed + 1)
            var g1 = Tensor(shape: [vocab, dim]), g2 = g1
            Tensor.embeddingBackward(dOut, ids: ids, into: &g1)
            Tensor.embeddingBackward(dOut, ids: ids, into: &g2, path: .reference)
            #expect(g1 == g2, "seed \(seed) dim \(dim) backward")
            // Row 3's gradient is the sum of the output gradients of the tokens with id 3.
            for c in 0..<dim {
                let e = ids.indices.filter { ids[$0] == 3 }.reduce(Float(0)) { $0 + dOut[$1, c] }
                #expect(g1[3, c] == e)
            }
        }
    }
}

@Suite struct AdamWTests {
    @Test(arguments: [KernelPath.reference, .simd])
    func matchesTorchAdamW(path: KernelPath) {
        let f = TorchFixture.section("adamw")
        let config = AdamWConfig(learningRate: f.float("lr"), beta1: f.float("beta1"), beta2: f.float("beta2"),
                                 eps: f.float("eps"), weightDecay: f.float("weight_decay"))
        var p = f.floats("param0")
        let n = p.count
        var m = [Float](repeating: 0, count: n), v = m
        for (t, step) in (f["steps"] as! [[String: Any]]).enumerated() {
            let g = step.floats("grad")
            p.withUnsafeMutableBufferPointer { pp in m.withUnsafeMutableBufferPointer { mp in v.withUnsafeMutableBufferPointer { vp in g.withUnsafeBufferPointer { gp in
                let fn = path == .reference ? AdamWKernel.stepReference : AdamWKernel.step
                fn(pp.baseAddress!, gp.baseAddress!, mp.baseAddress!, vp.baseAddress!, n, t + 1, config, 1)
            } } } }
            // torch's optimizer state after the step: exp_avg (first moment) and exp_avg_sq (second moment).
            #expect(firstMismatch(p, step.floats("param"), rtol: 1e-6, atol: 1e-7) == nil, "\(path) step \(t + 1) param")
            #expect(firstMismatch(m, step.floats("exp_avg"), rtol: 1e-6, atol: 1e-9) == nil, "\(path) step \(t + 1) exp_avg")
            #expect(firstMismatch(v, step.floats("exp_avg_sq"), rtol: 1e-6, atol: 1e-9) == nil, "\(path) step \(t + 1) exp_avg_sq")
        }
    }

    @Test func simdMatchesReference() {
        let seed: UInt64 = 1414
        for n in awkwardSizes {
            let g = randomArray(n, seed: seed)
            var p1 = randomArray(n, seed: seed + 1), m1 = randomArray(n, seed: seed + 2), v1 = randomArray(n, seed: seed + 3, 0, 1)
            var p2 = p1, m2 = m1, v2 = v1
            g.withUnsafeBufferPointer { gp in
                AdamWKernel.step(&p1, gp.baseAddress!, m: &m1, v: &v1, count: n, step: 5, config: AdamWConfig())
                AdamWKernel.stepReference(&p2, gp.baseAddress!, m: &m2, v: &v2, count: n, step: 5, config: AdamWConfig())
            }
            #expect(firstMismatch(p1, p2, rtol: 1e-6, atol: 1e-7) == nil, "seed \(seed) n \(n) param")
            #expect(m1 == m2, "seed \(seed) n \(n) first moment")
            #expect(firstMismatch(v1, v2, rtol: 1e-6, atol: 0) == nil, "seed \(seed) n \(n) second moment")
        }
    }
}

@Suite struct ALiBiTests {
    @Test func slopesMatchTransformers() {
        let f = TorchFixture.section("alibi_slopes")
        #expect(f.count >= 24)
        for (key, _) in f {
            let n = Int(key)!
            let ours = ALiBi.slopes(numHeads: n), theirs = f.floats(key)
            #expect(firstMismatch(ours, theirs, rtol: 3e-7, atol: 0) == nil, "heads \(n): \(ours) vs \(theirs)")
        }
    }

    @Test func biasTensorMatchesBuildAlibiTensorWithLeftPadding() {
        let f = TorchFixture.section("alibi_tensor")
        let rows = (f["mask"] as! [[Any]]).map { $0.map { Int32(($0 as! NSNumber).intValue) } }
        let mask = rows.flatMap { $0 }
        let t = ALiBi.biasTensor(mask: mask, batch: rows.count, length: rows[0].count, numHeads: f.int("num_heads"))
        #expect(firstMismatch(t.storage, f.floats("alibi"), rtol: 3e-7, atol: 0) == nil)
        let bias = ALiBi.attentionBias(mask: mask, batch: rows.count, length: rows[0].count, numHeads: f.int("num_heads"))
        #expect(bias[0, 0] == -.infinity && bias[0, 2] == 0 && bias[0, 3] == t[0, 3])
    }
}

// Packed steps (continuous batching): independent sequences, each with its own cache and length, run through one
// forward pass. Every sequence's logits must equal its own forward pass, and, for BLOOM, transformers' logits at each
// position (bloom_reference.json), whatever the other sequences in the step are doing.
import EcomModel
import EcomTestSupport
import Foundation
import Testing

@Suite struct PackedStepTests {
    /// Runs `prompts` as a server would: sequence i joins at step `joins[i]` (its whole prompt as one prefill chunk in
    /// a step shared with the others' single decoded tokens, here the prompt's own next tokens fed back), and records
    /// the last-position logits of every sequence at every step: `[sequence][position] -> logits`.
    static func interleaved(_ model: any CausalLanguageModel, prompts: [[Int32]], prefill: [Int], joins: [Int]) -> [[Int: [Float]]] {
        let V = model.vocabularySize
        let caches = prompts.map { model.makeCache(batch: 1, capacity: $0.count) }
        var fed = [Int](repeating: 0, count: prompts.count)
        var seen = [[Int: [Float]]](repeating: [:], count: prompts.count)
        var step = 0
        while fed.enumerated().contains(where: { $0.element < prompts[$0.offset].count }) {
            var active: [Int] = [], items: [SequenceStep] = []
            for (i, p) in prompts.enumerated() where step >= joins[i] && fed[i] < p.count {
                let n = fed[i] == 0 ? prefill[i] : 1
                active.append(i)
                items.append(SequenceStep(ids: Array(p[fed[i]..<fed[i] + n]), cache: caches[i]))
                fed[i] += n
            }
            if !items.isEmpty {
                model.step(sequences: items) { logits in
                    for (r, i) in active.enumerated() { seen[i][fed[i] - 1] = Array(UnsafeBufferPointer(start: logits + r * V, count: V)) }
                }
            }
            step += 1
        }
        #expect(zip(caches, prompts).allSatisfy { $0.length == $1.count })
        return seen
    }

    @Test func bloomPackedStepsMatchTransformersAtEveryPosition() {
        let ref = BloomReference.shared
        let prompts = ref.logits.map(\.ids)  // lengths 1, 5, 17
        let seen = Self.interleaved(TinyModel.f32, prompts: prompts, prefill: [1, 3, 9], joins: [0, 2, 1])
        for (i, item) in ref.logits.enumerated() {
            for (position, logits) in seen[i] {
                let expected = item.logits[position]
                #expect(firstMismatch(logits, expected, rtol: 0, atol: 1e-4) == nil,
                        "sequence \(i) position \(position): max diff \(maxAbsDifference(logits, expected))")
            }
            #expect(seen[i].count == prompts[i].count - [1, 3, 9][i] + 1)
        }
    }

    @Test func llamaPackedStepsMatchSingleSequenceForward() {
        let model = TinyLlama.f32, V = model.vocabularySize
        let prompts = LlamaReference.shared.forward.map(\.ids)
        #expect(prompts.count >= 2)
        let prefill = prompts.map { max(1, $0.count / 2) }
        let seen = Self.interleaved(model, prompts: prompts, prefill: prefill, joins: prompts.indices.map { $0 % 2 })
        for (i, p) in prompts.enumerated() {
            let alone = model.forward(ids: p, batch: 1).storage
            for (position, logits) in seen[i] {
                let expected = Array(alone[position * V..<(position + 1) * V])
                #expect(firstMismatch(logits, expected, rtol: 0, atol: 1e-4) == nil,
                        "sequence \(i) position \(position): max diff \(maxAbsDifference(logits, expected))")
            }
        }
    }

    @Test func greedyContinuationsOfPackedDecodingEqualGenerate() {
        // Two prompts decoded together, each from its own prefill, give generate's greedy tokens for each alone.
        let model = TinyLlama.f32, V = model.vocabularySize
        let continuations = LlamaReference.shared.greedy
        let newTokens = continuations.map(\.ids.count).min()!
        let caches = continuations.map { model.makeCache(batch: 1, capacity: $0.prompt.count + newTokens) }
        var next: [Int32] = []
        for (c, cache) in zip(continuations, caches) {
            next.append(model.step(sequences: [SequenceStep(ids: c.prompt, cache: cache)]) { argmax($0, V) })
        }
        var generated = next.map { [$0] }
        for _ in 1..<newTokens {
            next = model.step(sequences: zip(next, caches).map { SequenceStep(ids: [$0], cache: $1) }) { logits in
                continuations.indices.map { argmax(logits + $0 * V, V) }
            }
            for i in generated.indices { generated[i].append(next[i]) }
        }
        for (g, c) in zip(generated, continuations) { #expect(g == Array(c.ids.prefix(newTokens)), "prompt \(c.prompt)") }
    }

    func argmax(_ p: UnsafePointer<Float>, _ n: Int) -> Int32 {
        var best = 0
        for i in 1..<n where p[i] > p[best] { best = i }
        return Int32(best)
    }
}

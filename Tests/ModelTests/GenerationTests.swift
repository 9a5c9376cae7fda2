// Generation against HF transformers' generate (greedy, 4-beam with early_stopping False, True and "never", stop
// conditions, repetition penalty) and logits processors (sampling warpers, repetition penalty) on the tiny fixture
// model (scripts/reference/gen_model.py, gen_model_generation.py), plus batching and sampling determinism.
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

@testable import EcomModel

/// scripts/reference/gen_model_generation.py's golden file: HF's warpers, repetition penalty and generate runs.
struct GenerationReference: Decodable {
    struct Warp: Decodable { var temperature: Float; var top_k: Int; var top_p: Float; var probs: [Double] }
    struct WarpRow: Decodable { var logits: [Float]; var configs: [Warp] }
    /// Every prefix sampling can reach from `prompt` (ids joined by ","), with the tokens HF's warpers allow next.
    struct Reachable: Decodable { var prompt: [Int32]; var allowed: [String: [Int32]] }
    struct Sampling: Decodable {
        var temperature: Float; var top_k: Int; var top_p: Float; var max_new_tokens: Int; var prompts: [Reachable]
    }
    struct PenaltyRow: Decodable { var penalty: Float; var previous: [Int32]; var logits: [Float]; var processed: [Float] }
    struct PenaltyCase: Decodable { var prompt: [Int32]; var penalty: Float; var greedy: [Int32] }
    struct Penalty: Decodable { var rows: [PenaltyRow]; var generation: [PenaltyCase] }
    struct BeamStop: Decodable {
        var prompt: [Int32]; var stop: String; var num_beams: Int; var max_new_tokens: Int; var beam4: [Int32]; var steps: Int
    }
    struct Run: Decodable { var steps: Int; var output: [Int32] }
    struct StepCase: Decodable { var prompt: [Int32]; var heuristic: Run; var always: Run; var never: Run }
    struct BeamSteps: Decodable { var num_beams: Int; var max_new_tokens: Int; var length_penalty: Float; var cases: [StepCase] }
    var warped: [WarpRow]
    var sampling: Sampling
    var repetition_penalty: Penalty
    var beam_stop: BeamStop
    var beam_steps: [BeamSteps]

    static let shared: GenerationReference = try! JSONDecoder().decode(
        GenerationReference.self, from: Data(contentsOf: TestPaths.fixture("model/generation_reference.json")))
}

/// A model that counts its forward steps: the number of steps a search ran (the generator counts HF's as the calls of
/// a stopping criterion that never fires, one per step).
final class StepCountingModel: CausalLanguageModel, @unchecked Sendable {
    let base: any CausalLanguageModel
    private let lock = NSLock()
    private var count = 0
    init(_ base: any CausalLanguageModel) { self.base = base }
    var steps: Int { lock.withLock { count } }
    var vocabularySize: Int { base.vocabularySize }
    var specialTokens: SpecialTokenIds { base.specialTokens }
    var architecture: String { base.architecture }
    var parameterCount: Int { base.parameterCount }
    var bytesPerToken: Int { base.bytesPerToken }
    func makeCache(batch: Int, capacity: Int) -> KVCache { base.makeCache(batch: batch, capacity: capacity) }
    func step<R>(ids: [Int32], mask: [Int32]?, cache: KVCache, last: Bool,
                 _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        lock.withLock { count += 1 }
        return try base.step(ids: ids, mask: mask, cache: cache, last: last, body)
    }
    func step<R>(sequences: [SequenceStep], _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        lock.withLock { count += 1 }
        return try base.step(sequences: sequences, body)
    }
    func sharingWeights() -> any CausalLanguageModel { StepCountingModel(base.sharingWeights()) }
    func encodedConfiguration() throws -> Data { try base.encodedConfiguration() }
}

@Suite struct GenerationTests {
    let ref = BloomReference.shared
    let gen = GenerationReference.shared
    let model = TinyModel.f32

    func options(beams: Int = 1, early: EarlyStopping = .heuristic) -> GenerationOptions {
        var o = GenerationOptions(configuration: model.configuration, maxNewTokens: ref.generation.max_new_tokens)
        o.numBeams = beams
        o.lengthPenalty = ref.generation.length_penalty
        o.earlyStopping = early
        return o
    }

    @Test func greedyMatchesTransformers() {
        for c in ref.generation.cases {
            #expect(model.generate(prompts: [c.prompt], options: options()) == [c.greedy], "prompt \(c.prompt)")
        }
    }

    @Test func batchedGreedyWithLeftPaddingMatchesEachPromptAlone() {
        let cases = ref.generation.cases
        var streamed = [[Int32]](repeating: [], count: cases.count)
        let out = model.generate(prompts: cases.map(\.prompt), options: options()) { i, t in streamed[i].append(t) }
        #expect(out == cases.map(\.greedy))
        #expect(streamed == out)
    }

    @Test func packedGreedyGivesEachPromptItsOwnContinuation() {
        // Prompts of different lengths packed together (no padding), finishing at different steps: each gets what HF's
        // generate gives it alone; streaming reports each token to its prompt.
        let cases = ref.generation.cases
        #expect(Set(cases.map(\.prompt.count)).count > 1, "the fixture's prompts must differ in length")
        var streamed = [[Int32]](repeating: [], count: cases.count)
        let counter = StepCountingModel(model)
        let out = counter.generatePacked(prompts: cases.map(\.prompt), options: options()) { i, t in streamed[i].append(t) }
        #expect(out == cases.map(\.greedy))
        #expect(streamed == out)
        // One step per new token of the longest continuation (the prefill gives the first), whatever the others do.
        #expect(counter.steps == cases.map(\.greedy.count).max()!)
        // A stop condition and the token limit end one prompt without touching the others.
        var o = options()
        let stop = StopStrings(["14 5"]) { ids in ids.map(String.init).joined(separator: " ") }
        o.stop = stop.condition
        let stopped = model.generatePacked(prompts: cases.map(\.prompt), options: o)
        for (i, c) in cases.enumerated() {
            #expect(stopped[i] == model.generate(prompts: [c.prompt], options: o)[0], "prompt \(c.prompt) with a stop string")
        }
        #expect(stopped[2] == Array(cases[2].greedy.prefix(3)))
        o.maxNewTokens = 2
        #expect(model.generatePacked(prompts: cases.map(\.prompt), options: o).allSatisfy { $0.count <= 2 })
    }

    @Test func packedSamplingDrawsAsTheLeftPaddedBatchDoes() {
        // With every prompt running to the token limit, both draw once per running prompt per step in prompt order,
        // so the same seed gives the same tokens.
        var o = options()
        o.eosTokenId = nil
        o.sampling = SamplingOptions(temperature: 0.9, topK: 0, topP: 1, seed: 7)
        let prompts = ref.generation.cases.map(\.prompt)
        let packed = model.generatePacked(prompts: prompts, options: o)
        #expect(packed == model.generate(prompts: prompts, options: o))
        #expect(packed.allSatisfy { $0.count == o.maxNewTokens })
    }

    @Test(arguments: [EarlyStopping.heuristic, .always])
    func beamSearchMatchesTransformers(_ early: EarlyStopping) {
        #expect(ref.generation.num_beams == 4)
        var differ = 0
        for c in ref.generation.cases {
            let expected = early == .always ? c.beam4_early_stopping : c.beam4
            let got = model.generate(prompts: [c.prompt], options: options(beams: 4, early: early))
            #expect(got == [expected], "prompt \(c.prompt)")
            differ += expected != c.greedy ? 1 : 0
        }
        #expect(differ >= 2, "the fixture must tell beam search from greedy")
    }

    @Test func beamSearchNeverStopsNoEarlierThanTheHeuristic() {
        // Each early_stopping setting must stop at HF's step (counting the model's forward steps) with HF's
        // output, for max_new_tokens 10 and 40 and length_penalty 1 and 2; "never" (the best case over the remaining
        // length) never stops before the heuristic (the current length), and here often later.
        var later = 0
        for setting in gen.beam_steps {
            #expect(setting.num_beams == 4)
            for c in setting.cases {
                var steps: [EarlyStopping: Int] = [:]
                for (early, hf) in [(EarlyStopping.heuristic, c.heuristic), (.always, c.always), (.never, c.never)] {
                    var o = options(beams: 4, early: early)
                    o.maxNewTokens = setting.max_new_tokens
                    o.lengthPenalty = setting.length_penalty
                    let counter = StepCountingModel(model)
                    let out = counter.generate(prompts: [c.prompt], options: o)
                    let label = "prompt \(c.prompt), \(early), max_new_tokens \(setting.max_new_tokens), length_penalty \(setting.length_penalty)"
                    #expect(out == [hf.output], "\(label)")
                    #expect(counter.steps == hf.steps, "\(label): steps")
                    steps[early] = counter.steps
                }
                #expect(steps[.never]! >= steps[.heuristic]!, "prompt \(c.prompt)")
                later += steps[.never]! > steps[.heuristic]! ? 1 : 0
            }
        }
        #expect(later >= 10, "the fixture must tell \"never\" from the heuristic by when they stop")
    }

    @Test func samplingWarpersMatchTransformers() {
        // HF's temperature, top-k and top-p warpers give each row's probabilities; 4000 seeded draws must land only
        // on tokens they allow, each token about as often as its probability (5 standard deviations).
        let draws = 4000
        var index = 0
        for row in gen.warped {
            for w in row.configs {
                defer { index += 1 }
                let options = SamplingOptions(temperature: w.temperature, topK: w.top_k, topP: w.top_p)
                var rng = TensorRandom(seed: 1000 + UInt64(index))
                var counts = [Int](repeating: 0, count: row.logits.count)
                var scores = row.logits
                for _ in 0..<draws {
                    scores = row.logits
                    counts[scores.withUnsafeMutableBufferPointer {
                        LogitsProcessing.sample($0.baseAddress!, count: $0.count, options: options, rng: &rng)
                    }] += 1
                }
                let label = "case \(index): T \(w.temperature), top-k \(w.top_k), top-p \(w.top_p)"
                for (token, p) in w.probs.enumerated() {
                    let f = Double(counts[token]) / Double(draws)
                    if p == 0 { #expect(counts[token] == 0, "\(label): token \(token) is filtered out"); continue }
                    #expect(abs(f - p) <= 5 * (p * (1 - p) / Double(draws)).squareRoot() + 1e-3, "\(label): token \(token) \(f) vs \(p)")
                }
            }
        }
    }

    @Test func samplingIsSeededAndRespectsTopKAndTopP() {
        // Temperature 1.5, top-k 3, top-p 0.95 on a left-padded batch: over 40 seeds every token is one HF's warpers
        // allow after its prefix (every reachable prefix is in the fixture), a seed gives the same output twice, and
        // different seeds give different outputs for each prompt, drawing every token allowed at the branch point.
        let s = gen.sampling
        var o = options()
        o.maxNewTokens = s.max_new_tokens
        let prompts = s.prompts.map(\.prompt)
        var outputs = [Set<[Int32]>](repeating: [], count: prompts.count)
        for seed in UInt64(0)..<40 {
            o.sampling = SamplingOptions(temperature: s.temperature, topK: s.top_k, topP: s.top_p, seed: seed)
            let out = model.generate(prompts: prompts, options: o)
            #expect(model.generate(prompts: prompts, options: o) == out, "seed \(seed)")
            for (b, tokens) in out.enumerated() {
                outputs[b].insert(tokens)
                for t in tokens.indices {
                    let prefix = tokens[..<t].map(String.init).joined(separator: ",")
                    let allowed = s.prompts[b].allowed[prefix] ?? []
                    #expect(allowed.contains(tokens[t]), "seed \(seed), prompt \(prompts[b]): \(tokens[t]) after [\(prefix)], allowed \(allowed)")
                }
            }
        }
        for b in prompts.indices { #expect(outputs[b].count > 1, "prompt \(prompts[b]): different seeds should sample differently") }
        #expect(Set(outputs[0].compactMap(\.first)) == Set(s.prompts[0].allowed[""]!), "both first tokens HF allows are drawn")
        // top-k 1 is greedy whatever the seed and temperature.
        o = options()
        o.sampling = SamplingOptions(temperature: 3, topK: 1, topP: 1, seed: 7)
        #expect(model.generate(prompts: [ref.generation.cases[0].prompt], options: o) == [ref.generation.cases[0].greedy])
    }

    @Test func repetitionPenaltyMatchesTransformers() {
        // HF's RepetitionPenaltyLogitsProcessor on rows with positive and negative scores and repeated previous ids
        // (penalties 5, 1.3 and 0.8): the same Float32 division or multiplication, so exactly its values.
        for row in gen.repetition_penalty.rows {
            var scores = row.logits
            scores.withUnsafeMutableBufferPointer {
                LogitsProcessing.repetitionPenalty($0.baseAddress!, previous: row.previous, penalty: row.penalty)
            }
            #expect(scores == row.processed, "penalty \(row.penalty)")
        }
        // Greedy generate with repetition_penalty 5 (prompt ids count as previous) gives HF's continuation, which
        // breaks the cycle greedy repeats.
        for c in gen.repetition_penalty.generation {
            var o = options()
            o.repetitionPenalty = c.penalty
            #expect(model.generate(prompts: [c.prompt], options: o) == [c.greedy], "prompt \(c.prompt)")
            let plain = ref.generation.cases.first { $0.prompt == c.prompt }!.greedy
            #expect(c.greedy != plain, "the fixture must tell the penalty from plain greedy")
        }
    }

    @Test func stopConditionEndsTheSequence() {
        let c = ref.generation.cases[2]  // greedy: 9, 14, 5, 9, ...
        var o = options()
        let stop = StopStrings(["14 5"]) { ids in ids.map(String.init).joined(separator: " ") }
        o.stop = stop.condition
        #expect(model.generate(prompts: [c.prompt], options: o) == [Array(c.greedy.prefix(3))])
        #expect(stop.truncate("9 14 5 9") == "9 ")
        // Beam search checks the stop condition on every candidate: HF's generate with the same condition (a
        // stopping criterion on the same decoded text) returns exactly this, after this many steps.
        let b = gen.beam_stop
        #expect(b.prompt == c.prompt && b.stop == "14 5" && b.max_new_tokens == ref.generation.max_new_tokens)
        let counter = StepCountingModel(model)
        o.numBeams = b.num_beams
        #expect(counter.generate(prompts: [c.prompt], options: o) == [b.beam4])
        #expect(counter.steps == b.steps)
    }

    @Test func topIndicesOrdersAndBreaksTiesByIndex() {
        #expect(BloomModel.topIndicesForTesting([1, 5, 3, 5, -1], count: 3) == [1, 3, 2])
    }
}

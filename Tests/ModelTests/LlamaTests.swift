// The Llama architecture against transformers (scripts/reference/gen_llama.py): a tiny random Llama written as GGUF by
// the `gguf` package (grouped-query attention, untied head, Q4_0/Q4_1/Q8_0/F16/BF16/F32 tensors), loaded by
// transformers; its logits, a left-padded batch, greedy and 4-beam continuations, and the import to an HF directory.
import EcomLoader
@testable import EcomModel
import EcomTensor
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing

/// The golden file's parts these tests read.
struct LlamaReference: Decodable {
    struct Row: Decodable { var ids: [Int]; var values: [Float]; var argmax: Int; var logsumexp: Double }
    struct Forward: Decodable { var ids: [Int32]; var rows: [Row] }
    struct Batch: Decodable { var ids: [[Int32]]; var attention_mask: [[Int32]]; var last: [Row] }
    struct Continuation: Decodable { var prompt: [Int32]; var ids: [Int32] }
    struct TokenizerCase: Decodable { var text: String; var ids: [Int] }
    var tokenizer: [TokenizerCase]
    var forward: [Forward]
    var batch: Batch
    var greedy: [Continuation]
    var beam: [Continuation]

    static let shared: LlamaReference = try! JSONDecoder().decode(
        LlamaReference.self, from: Data(contentsOf: TestPaths.fixture("llama/llama_reference.json")))
}

enum TinyLlama {
    static let gguf = TestPaths.fixture("llama/tiny.gguf")
    static let hfDirectory = TestPaths.fixture("llama/tiny-hf")
    /// Dequantized to Float32: transformers' view of the file.
    static let f32: any CausalLanguageModel = try! ModelLoader.load(gguf, precision: .float32)

    /// Checks logits rows `[rows, V]` against the reference rows: sampled values, argmax and log-sum-exp.
    static func check(_ logits: [Float], vocab: Int, _ rows: [LlamaReference.Row], atol: Float, _ label: String) {
        #expect(logits.count == rows.count * vocab, "\(label): \(logits.count) logits for \(rows.count) rows")
        for (r, want) in rows.enumerated() {
            let row = Array(logits[(r * vocab)..<((r + 1) * vocab)])
            let got = want.ids.map { row[$0] }
            let bad = firstMismatch(got, want.values, rtol: 0, atol: Double(atol))
            #expect(bad == nil, "\(label) row \(r): max diff \(maxAbsDifference(got, want.values))")
            #expect(row.indices.max { row[$0] < row[$1] } == want.argmax, "\(label) row \(r): argmax")
            let m = Double(row.max()!)
            let lse = m + log(row.reduce(0.0) { $0 + exp(Double($1) - m) })
            #expect(isClose(lse, want.logsumexp, rtol: 0, atol: Double(atol)), "\(label) row \(r): logsumexp \(lse) vs \(want.logsumexp)")
        }
    }
}

@Suite struct LlamaForwardTests {
    let ref = LlamaReference.shared

    @Test func ggufLogitsMatchTransformers() {
        for item in ref.forward {
            let out = TinyLlama.f32.forward(ids: item.ids, batch: 1)
            TinyLlama.check(out.storage, vocab: TinyLlama.f32.vocabularySize, item.rows, atol: 1e-4, "gguf f32 length \(item.ids.count)")
        }
    }

    @Test func transformersDirectoryLoadsToTheSameLogits() throws {
        let model = try ModelLoader.load(TinyLlama.hfDirectory)
        #expect(model.architecture == "llama")
        for item in ref.forward {
            TinyLlama.check(model.forward(ids: item.ids, batch: 1).storage, vocab: model.vocabularySize, item.rows, atol: 1e-4, "hf dir")
        }
    }

    /// Blocks kept in memory run the quantized kernels (8-bit activations on the integer path): close, same argmax.
    @Test func nativeBlocksStayClose() throws {
        let model = try ModelLoader.load(TinyLlama.gguf)
        guard let llama = model as? LlamaModel else { Issue.record("not a Llama model"); return }
        #expect(llama.weights.layers[0].query.storageName == "q4_0")
        #expect(llama.weights.layers[0].key.storageName == "q4_1")
        #expect(llama.weights.embeddings.storageName == "q8_0")
        #expect(llama.weights.layers[1].key.storageName == "f16")
        #expect(llama.weights.layers[0].gate.storageName == "bf16")
        for item in ref.forward {
            TinyLlama.check(model.forward(ids: item.ids, batch: 1).storage, vocab: model.vocabularySize, item.rows, atol: 0.15, "native")
        }
    }

    @Test func leftPaddedBatchMatchesTransformersAndEachRowAlone() {
        let p = ref.batch
        let b = p.ids.count, v = TinyLlama.f32.vocabularySize
        let out = TinyLlama.f32.forward(ids: p.ids.flatMap { $0 }, batch: b, mask: p.attention_mask.flatMap { $0 }, logits: .last)
        TinyLlama.check(out.storage, vocab: v, p.last, atol: 1e-4, "left-padded batch")
        for r in 0..<b {
            let real = zip(p.ids[r], p.attention_mask[r]).filter { $0.1 == 1 }.map(\.0)
            let alone = TinyLlama.f32.forward(ids: real, batch: 1, logits: .last)
            let row = Array(out.storage[(r * v)..<((r + 1) * v)])
            #expect(maxAbsDifference(row, alone.storage) < 1e-4, "row \(r) alone")
        }
    }

    /// With `.last`, the last layer computes its queries, attention, o_proj and MLP for each lane's last position only
    /// (llama.cpp's output pruning): the whole pass's last rows, up to Float32 summation order, for Float32 weights
    /// and for GGUF blocks (whose pruned rows keep Float32 activations instead of 8-bit ones), in a left-padded batch
    /// and in a cached step of several positions.
    @Test func lastPositionsAloneGiveTheWholePassLogits() throws {
        let native = try ModelLoader.load(TinyLlama.gguf)
        for (label, model) in [("f32", TinyLlama.f32), ("native", native)] {
            let v = model.vocabularySize, T = 40
            let ids = (0..<(2 * T)).map { Int32(4 + ($0 * 7919 + 13) % (v - 4)) }
            let mask = (0..<(2 * T)).map { $0 >= T && $0 < T + 9 ? Int32(0) : 1 }  // the second row left-padded by 9
            let all = model.forward(ids: ids, batch: 2, mask: mask).storage
            let last = model.forward(ids: ids, batch: 2, mask: mask, logits: .last).storage
            let want = Array(all[((T - 1) * v)..<(T * v)] + all[((2 * T - 1) * v)..<(2 * T * v)])
            #expect(firstMismatch(last, want, rtol: 1e-5, atol: 1e-4) == nil, "\(label), batch: max diff \(maxAbsDifference(last, want))")

            var steps: [[Float]] = []
            for rows in [LogitRows.last, .all] {
                let cache = model.makeCache(batch: 1, capacity: T)
                _ = model.forward(ids: Array(ids[..<25]), batch: 1, cache: cache, logits: .last)
                let out = model.forward(ids: Array(ids[25..<T]), batch: 1, cache: cache, logits: rows).storage
                steps.append(Array(out.suffix(v)))
            }
            #expect(firstMismatch(steps[0], steps[1], rtol: 1e-5, atol: 1e-4) == nil,
                    "\(label), cached step: max diff \(maxAbsDifference(steps[0], steps[1]))")
        }
    }

    @Test func cachedDecodingEqualsRecomputation() {
        let ids = ref.forward.max { $0.ids.count < $1.ids.count }!.ids
        let model = TinyLlama.f32
        let cache = model.makeCache(batch: 1, capacity: ids.count)
        _ = model.forward(ids: Array(ids.dropLast()), batch: 1, cache: cache, logits: .last)
        let stepped = model.forward(ids: [ids.last!], batch: 1, cache: cache, logits: .last)
        let full = model.forward(ids: ids, batch: 1, logits: .last)
        #expect(maxAbsDifference(stepped.storage, full.storage) < 1e-4)
    }

    /// Prefill attention runs in query blocks (128 rows) that skip the masked triangle: a 300-token pass, the same
    /// tokens as a cached prefix plus a 2-block step, and one-token steps all give the same logits, up to Float32
    /// summation order (sgemm against the one-row products: 1.1e-4 on logits near 10 with OpenBLAS's Cooperlake
    /// kernels, hence 1e-5 relative on top of 1e-4).
    @Test func blockedPrefillEqualsCachedAndStepwiseDecoding() {
        let model = TinyLlama.f32, v = model.vocabularySize
        let ids = (0..<300).map { Int32(4 + ($0 * 7919 + 13) % (v - 4)) }
        let full = model.forward(ids: ids, batch: 1).storage
        let cache = model.makeCache(batch: 1, capacity: ids.count)
        let first = model.forward(ids: Array(ids[..<97]), batch: 1, cache: cache).storage
        let rest = model.forward(ids: Array(ids[97..<297]), batch: 1, cache: cache).storage
        #expect(firstMismatch(first + rest, Array(full[..<(297 * v)]), rtol: 1e-5, atol: 1e-4) == nil,
                "cached prefix + blocked step: max diff \(maxAbsDifference(first + rest, full[..<(297 * v)]))")
        for i in 297..<300 {
            let step = model.forward(ids: [ids[i]], batch: 1, cache: cache, logits: .last).storage
            let want = Array(full[(i * v)..<((i + 1) * v)])
            #expect(firstMismatch(step, want, rtol: 1e-5, atol: 1e-4) == nil, "decode step \(i): max diff \(maxAbsDifference(step, want))")
        }
    }

    /// Prefill attention's heads side by side (two compute threads, each head its own scores) give the logits of
    /// heads one after another (the 300-token pass crosses a query-block edge). The choice is forced through
    /// `CausalBlocks.headsSideBySide`: changing OpenBLAS's count would take a lock that other tests hold.
    @Test func prefillHeadsSideBySideGiveTheSameLogits() {
        let model = TinyLlama.f32, v = model.vocabularySize
        let ids = (0..<300).map { Int32(4 + ($0 * 4099 + 7) % (v - 4)) }
        let (inOrder, sideBySide) = inOrderAndSideBySide { model.forward(ids: ids, batch: 1).storage }
        expectHeadsSideBySideMatch(sideBySide, inOrder)
        #expect(sideBySide.count == 300 * v)
    }

    @Test func greedyAndBeamSearchMatchTransformers() {
        let model = TinyLlama.f32
        var options = GenerationOptions(maxNewTokens: 12, eosTokenId: 2, padTokenId: 3)
        for c in ref.greedy { #expect(model.generate(prompts: [c.prompt], options: options)[0] == c.ids, "greedy \(c.prompt)") }
        #expect(model.generatePacked(prompts: ref.greedy.map(\.prompt), options: options) == ref.greedy.map(\.ids), "packed greedy")
        options.numBeams = 4
        for c in ref.beam { #expect(model.generate(prompts: [c.prompt], options: options)[0] == c.ids, "4 beams \(c.prompt)") }
    }

    @Test func tokenizerRebuiltFromTheGGUFMatchesTransformers() throws {
        let bundle = try ModelBundle.load(TinyLlama.gguf)
        let tok = try #require(bundle.tokenizer)
        for c in ref.tokenizer { #expect(tok.encode(c.text) == c.ids, "\(c.text)") }
    }

    /// import-gguf writes what transformers saves from the same GGUF: every tensor bit-identical, same config.
    @Test func importedDirectoryEqualsTransformersSave() throws {
        let dir = try TestPaths.makeTemporaryDirectory("llama-import")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try GGUFImport.run(gguf: TinyLlama.gguf, to: dir)
        let ours = try SafeTensorsCheckpoint(directory: dir), theirs = try SafeTensorsCheckpoint(directory: TinyLlama.hfDirectory)
        #expect(ours.names == theirs.names)
        for name in theirs.names {
            let shape = theirs.entry(name)!.shape
            #expect(try ours.floats(name, shape: shape, architecture: "Llama") == theirs.floats(name, shape: shape, architecture: "Llama"), "\(name)")
        }
        let a = try LlamaConfiguration.load(directory: dir), b = try LlamaConfiguration.load(directory: TinyLlama.hfDirectory)
        #expect(a == b)
        let model = try ModelLoader.load(dir)
        for item in ref.forward {
            TinyLlama.check(model.forward(ids: item.ids, batch: 1).storage, vocab: model.vocabularySize, item.rows, atol: 1e-4, "imported")
        }
    }

    @Test func unsupportedArchitecturesAreNamed() throws {
        let dir = try TestPaths.makeTemporaryDirectory("llama-arch")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(#"{"model_type": "mistral"}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        try Data().write(to: dir.appendingPathComponent("model.safetensors"))
        let error = #expect(throws: (any Error).self) { _ = try ModelLoader.load(dir) }
        #expect("\(error!)".contains("model_type 'mistral' is not supported"))
        try Data(#"{"model_type": "llama", "rope_scaling": {"rope_type": "yarn"}}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        let e2 = #expect(throws: ConfigurationError.self) { _ = try LlamaConfiguration.load(directory: dir) }
        #expect(e2!.description.contains("yarn"))
    }
}

/// transformers' answers of the real SmolLM2-135M-Instruct (scripts/reference/gen_smollm2.py).
struct SmolLM2Reference: Decodable {
    struct Case: Decodable { var question: String; var prompt: [Int32]; var greedy: [Int32]; var top_ids: [Int]; var top_logits: [Float] }
    var cases: [Case]
    static let shared: SmolLM2Reference = try! JSONDecoder().decode(
        SmolLM2Reference.self, from: Data(contentsOf: TestPaths.fixture("llama/smollm2_reference.json")))
}

@Suite(.serialized) struct SmolLM2Tests {
    /// Dequantized to Float32 (what transformers computes with): logits close on every prompt, greedy continuations
    /// identical (the first 8 tokens of two prompts: decoding in a debug build is slow).
    @Test(.enabled(if: RealModel.shouldRun, "the SmolLM2 GGUF is not cached (run scripts/fetch-model.sh); skipped outside CI"))
    func greedyContinuationsMatchTransformers() throws {
        let model = try ModelLoader.load(try RealModel.require(), precision: .float32)
        for c in SmolLM2Reference.shared.cases {
            let logits = model.forward(ids: c.prompt, batch: 1, logits: .last).storage
            let got = c.top_ids.map { logits[$0] }
            #expect(maxAbsDifference(got, c.top_logits) < 2e-3, "\(c.question): top logits differ by \(maxAbsDifference(got, c.top_logits))")
        }
        for c in SmolLM2Reference.shared.cases.prefix(2) {
            let want = Array(c.greedy.prefix(8))
            let out = model.generate(prompts: [c.prompt], options: GenerationOptions(maxNewTokens: want.count, eosTokenId: 2, padTokenId: 2))
            #expect(out[0] == want, "\(c.question)")
        }
    }

    /// Blocks kept (8-bit activations on the integer path): the logits stay close and the first choice is among
    /// transformers' three best.
    @Test(.enabled(if: RealModel.shouldRun, "the SmolLM2 GGUF is not cached (run scripts/fetch-model.sh); skipped outside CI"))
    func nativeBlocksStayClose() throws {
        let model = try ModelLoader.load(try RealModel.require())
        for c in SmolLM2Reference.shared.cases {
            let logits = model.forward(ids: c.prompt, batch: 1, logits: .last).storage
            let got = c.top_ids.map { logits[$0] }
            #expect(maxAbsDifference(got, c.top_logits) < 0.6, "\(c.question): top logits differ by \(maxAbsDifference(got, c.top_logits))")
            let best = logits.indices.max { logits[$0] < logits[$1] }!
            #expect(c.top_ids.prefix(3).contains(best), "\(c.question): our first choice \(best)")
        }
    }
}

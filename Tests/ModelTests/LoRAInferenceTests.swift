// Inference with a PEFT LoRA adapter merged (ModelLoader.load(_:precision:lora:), ecom-model merge-lora's
// LoRAMerge.run) against Tests/Fixtures/lora/lora_reference.json (scripts/reference/gen_lora.py: transformers + PEFT):
// the adapted model's logits, merge_and_unload()'s weights, and clear errors for adapters that do not fit.
import EcomLoader
import EcomModel
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

/// The parts of lora_reference.json these tests read.
struct LoRAInferenceReference: Decodable {
    struct Logits: Decodable {
        var ids: [[Int32]]
        /// PEFT model logits `[B, T, 16]` (the first 16 vocabulary entries), with and without the adapter.
        var values: [[[Float]]]
        var base_values: [[[Float]]]
    }
    /// A merged weight's norm and first values (flattened row-major).
    struct Summary: Decodable { var norm: Double; var head: [Float] }
    struct Part: Decodable {
        var model: String; var adapter: String; var logits: Logits; var merged: [String: Summary]
        var modelURL: URL { TestPaths.packageRoot.appendingPathComponent(model) }
        var adapterURL: URL { TestPaths.packageRoot.appendingPathComponent(adapter) }
    }
    var llama: Part
    var bloom: Part

    static let shared: LoRAInferenceReference = try! JSONDecoder().decode(
        LoRAInferenceReference.self, from: Data(contentsOf: TestPaths.fixture("lora/lora_reference.json")))

    static func part(_ name: String) -> Part { name == "llama" ? shared.llama : shared.bloom }
}

/// Checks every row of `ref` through `model`: the first 16 logits of each position within `atol`.
private func checkLogits(_ model: any CausalLanguageModel, _ ids: [[Int32]], _ want: [[[Float]]], atol: Double = 1e-4, _ label: String) {
    let V = model.vocabularySize
    for (b, row) in ids.enumerated() {
        let logits = model.forward(ids: row, batch: 1).storage  // [1, T, V]
        for t in row.indices {
            let got = logits[(t * V)..<(t * V + 16)]
            let bad = firstMismatch(got, want[b][t], rtol: 0, atol: atol)
            #expect(bad == nil, "\(label) row \(b) position \(t): max diff \(maxAbsDifference(got, want[b][t]))")
        }
    }
}

/// The description of the error `body` throws ("" when it throws none, which fails the test).
private func errorText(_ body: () throws -> Void) -> String {
    do { try body() } catch { return "\(error)" }
    Issue.record("expected an error")
    return ""
}

@Suite struct LoRAInferenceTests {
    @Test(arguments: ["llama", "bloom"])
    func adaptedLogitsMatchPEFT(_ name: String) throws {
        let part = LoRAInferenceReference.part(name)
        let adapted = try ModelLoader.load(part.modelURL, lora: part.adapterURL)
        #expect(adapted.architecture == name)
        checkLogits(adapted, part.logits.ids, part.logits.values, "\(name) + adapter")
        // Without the adapter, the base model's logits, which the adapter changes.
        let base = try ModelLoader.load(part.modelURL, lora: nil)
        checkLogits(base, part.logits.ids, part.logits.base_values, "\(name) base")
        let shift = maxAbsDifference(part.logits.values.joined().joined(), part.logits.base_values.joined().joined())
        #expect(shift > 1e-2, "the fixture's adapter should change the logits (max change \(shift))")
    }

    /// f16 weights: the merged matrices are narrowed back to f16, and the logits stay near PEFT's Float32 ones.
    @Test(arguments: ["llama", "bloom"])
    func adaptedHalfPrecisionWeights(_ name: String) throws {
        let part = LoRAInferenceReference.part(name)
        let model = try ModelLoader.load(part.modelURL, precision: .float16, lora: part.adapterURL)
        if let m = model as? LlamaModel { #expect(m.weights.layers.allSatisfy { $0.query.precision == .float16 && $0.down.precision == .float16 }) }
        if let m = model as? BloomModel { #expect(m.weights.blocks.allSatisfy { $0.queryKeyValue.weight.precision == .float16 && $0.mlpDown.weight.precision == .float16 }) }
        checkLogits(model, part.logits.ids, part.logits.values, atol: 5e-2, "\(name) f16 + adapter")
    }

    /// merge_and_unload()'s weights: norm and first values of every adapted matrix.
    @Test(arguments: ["llama", "bloom"])
    func mergedWeightsMatchPEFT(_ name: String) throws {
        let part = LoRAInferenceReference.part(name)
        let adapter = try LoRAAdapter.load(directory: part.adapterURL)
        var merged: [String: [Float]] = [:]
        if name == "bloom" {
            let base = try BloomModel.load(directory: part.modelURL)
            let w = try base.weights.merging(adapter, file: "adapter")
            #expect(base.weights.modulePaths.count == 4 * base.configuration.layerCount)
            let layout = BloomParameterLayout(base.configuration), flat = layout.flatten(w)
            for e in layout.entries { merged[e.name] = flat.slice(e.offset, e.count) }
            // Everything the adapter does not target (biases, layer norms, embeddings) is untouched.
            let before = layout.flatten(base.weights)
            for e in layout.entries where part.merged[e.name] == nil {
                #expect(flat.slice(e.offset, e.count) == before.slice(e.offset, e.count), "\(e.name) changed")
            }
        } else {
            let base = try LlamaModel.load(directory: part.modelURL)
            for t in try base.weights.merging(adapter, file: "adapter").namedTensors() { merged[t.name] = t.values }
        }
        #expect(!part.merged.isEmpty)
        for (key, want) in part.merged {
            let values = try #require(merged[key], "\(key) missing from the merged weights")
            let norm = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(isClose(norm, want.norm, rtol: 1e-5), "\(key): norm \(norm) vs \(want.norm)")
            let bad = firstMismatch(values.prefix(want.head.count), want.head, rtol: 0, atol: 1e-6)
            #expect(bad == nil, "\(key): first values differ at \(bad.map { "\($0.index): \($0.a) vs \($0.b)" } ?? "")")
        }
    }

    /// merge-lora writes a directory that loads without the adapter and gives the adapted logits.
    @Test(arguments: ["llama", "bloom"])
    func mergedDirectoryLoadsBack(_ name: String) throws {
        let part = LoRAInferenceReference.part(name)
        let dir = try TestPaths.makeTemporaryDirectory("lora-merge-\(name)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("merged")
        let summary = try LoRAMerge.run(base: part.modelURL, lora: part.adapterURL, to: out)
        #expect(summary.architecture == name)
        #expect(summary.mergedModules == part.merged.count)
        for f in summary.files { #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), "\(f)") }
        #expect(summary.files.starts(with: ["config.json", "model.safetensors"]))
        let model = try ModelLoader.load(out)
        #expect(model.architecture == name)
        checkLogits(model, part.logits.ids, part.logits.values, "\(name) merged directory")
        // No stray temporary files from the atomic writes.
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
        #expect(!names.contains { $0.hasPrefix(".") }, "\(names)")
    }

    /// A GGUF base (the tiny Llama whose import is tiny-hf): merged, with the tokenizer rebuilt as import-gguf does.
    @Test func mergeFromGGUFWritesTokenizer() throws {
        let part = LoRAInferenceReference.shared.llama
        let gguf = TestPaths.fixture("llama/tiny.gguf")
        let dir = try TestPaths.makeTemporaryDirectory("lora-merge-gguf")
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = try LoRAMerge.run(base: gguf, lora: part.adapterURL, to: dir, dtype: .f32)
        #expect(summary.files.contains("tokenizer.json") && summary.files.contains("tokenizer_config.json"))
        let bundle = try ModelBundle.load(dir)
        #expect(bundle.tokenizer != nil)
        checkLogits(bundle.model, part.logits.ids, part.logits.values, "gguf merged directory")
        // The bundle of the GGUF with the adapter gives the same model.
        let adapted = try ModelBundle.load(gguf, precision: .float32, lora: part.adapterURL)
        checkLogits(adapted.model, part.logits.ids, part.logits.values, "gguf bundle + adapter")
    }

    @Test func mergeWritesHalfPrecisionLlamaAndRefusesItForBloom() throws {
        let dir = try TestPaths.makeTemporaryDirectory("lora-merge-dtype")
        defer { try? FileManager.default.removeItem(at: dir) }
        let llama = LoRAInferenceReference.shared.llama, bloom = LoRAInferenceReference.shared.bloom
        // bf16: every tensor is the Float32 merge rounded to bfloat16.
        let f32 = dir.appendingPathComponent("llama-f32"), bf16 = dir.appendingPathComponent("llama-bf16")
        _ = try LoRAMerge.run(base: llama.modelURL, lora: llama.adapterURL, to: f32)
        _ = try LoRAMerge.run(base: llama.modelURL, lora: llama.adapterURL, to: bf16, dtype: .bf16)
        let wide = try SafeTensorsCheckpoint(directory: f32), narrow = try SafeTensorsCheckpoint(directory: bf16)
        #expect(wide.names == narrow.names)
        for name in wide.names {
            let e = try #require(narrow.entry(name))
            #expect(e.dtype == .bf16, "\(name)")
            let want = try wide.floats(name, shape: e.shape, architecture: "Llama").map { HalfPrecision.float(bfloat16: HalfPrecision.bfloat16Bits($0)) }
            #expect(try narrow.floats(name, shape: e.shape, architecture: "Llama") == want, "\(name)")
        }
        #expect(try ModelLoader.load(bf16).architecture == "llama")

        let refused = dir.appendingPathComponent("bloom-f16")
        let message = errorText { _ = try LoRAMerge.run(base: bloom.modelURL, lora: bloom.adapterURL, to: refused, dtype: .f16) }
        #expect(message.contains(bloom.modelURL.path) && message.contains("f32"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: refused.path), "nothing is written when the dtype is refused")
    }

    /// An adapter for the other architecture, a missing directory, a shape that does not fit, the base as output.
    @Test func adaptersThatDoNotFitAreClearErrors() throws {
        let llama = LoRAInferenceReference.shared.llama, bloom = LoRAInferenceReference.shared.bloom
        for (base, adapter) in [(llama, bloom), (bloom, llama)] {
            let message = errorText { _ = try ModelLoader.load(base.modelURL, lora: adapter.adapterURL) }
            #expect(message.contains(adapter.adapterURL.path) && message.contains("another architecture"), "\(message)")
            let dir = try TestPaths.makeTemporaryDirectory("lora-merge-wrong")
            defer { try? FileManager.default.removeItem(at: dir) }
            let merge = errorText { _ = try LoRAMerge.run(base: base.modelURL, lora: adapter.adapterURL, to: dir.appendingPathComponent("out")) }
            #expect(merge.contains(adapter.adapterURL.path), "\(merge)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
        }

        let missing = llama.adapterURL.appendingPathComponent("no-such-adapter")
        let noDir = errorText { _ = try ModelLoader.load(llama.modelURL, lora: missing) }
        #expect(noDir.contains(missing.path) && noDir.contains("no such LoRA adapter directory"), "\(noDir)")
        let bundle = errorText { _ = try ModelBundle.load(llama.modelURL, lora: missing) }
        #expect(bundle.contains(missing.path), "\(bundle)")

        // A rank that does not match the stored matrices: the error names the file, the key and both shapes.
        let dir = try TestPaths.makeTemporaryDirectory("lora-bad-shape")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        try fm.copyItem(at: llama.adapterURL.appendingPathComponent("adapter_model.safetensors"), to: dir.appendingPathComponent("adapter_model.safetensors"))
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: llama.adapterURL.appendingPathComponent("adapter_config.json"))) as! [String: Any]
        config["r"] = 2
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("adapter_config.json"))
        let shape = errorText { _ = try ModelLoader.load(llama.modelURL, lora: dir) }
        #expect(shape.contains(dir.appendingPathComponent("adapter_model.safetensors").path) && shape.contains("expected ["), "\(shape)")

        let same = errorText { _ = try LoRAMerge.run(base: llama.modelURL, lora: llama.adapterURL, to: llama.modelURL) }
        #expect(same.contains("base model"), "\(same)")
    }

    /// The other loading paths keep working without an adapter.
    @Test func noAdapterIsTheBaseModel() throws {
        let part = LoRAInferenceReference.shared.bloom
        let bundle = try ModelBundle.load(part.modelURL, lora: nil)
        checkLogits(bundle.model, part.logits.ids, part.logits.base_values, "bloom bundle without adapter")
    }
}

// BLOOM forward pass against HF transformers' logits (scripts/reference/gen_model.py): several lengths, the f16
// checkpoint, a left-padded batch, KV-cache decoding, 16-bit weight storage, and strict loading errors.
@testable import EcomModel
import EcomTensor
import EcomTestSupport
import Foundation
import Testing

/// The golden file's parts the model tests read.
struct BloomReference: Decodable {
    struct Logits: Decodable { var ids: [Int32]; var logits: [[Float]] }
    struct Padded: Decodable { var ids: [[Int32]]; var attention_mask: [[Int32]]; var last_logits: [[Float]] }
    struct Case: Decodable { var prompt: [Int32]; var greedy: [Int32]; var beam4: [Int32]; var beam4_early_stopping: [Int32] }
    struct Generation: Decodable { var max_new_tokens: Int; var num_beams: Int; var length_penalty: Float; var cases: [Case] }
    var logits: [Logits]
    var f16_logits: [Logits]
    var left_padded_batch: Padded
    var generation: Generation

    static let shared: BloomReference = try! JSONDecoder().decode(
        BloomReference.self, from: Data(contentsOf: TestPaths.fixture("model/bloom_reference.json")))
}

enum TinyModel {
    static let f32Dir = TestPaths.fixture("model/tiny-f32")
    static let f16Dir = TestPaths.fixture("model/tiny-f16")
    static let f32: BloomModel = try! BloomModel.load(directory: f32Dir)
}

@Suite struct BloomForwardTests {
    let ref = BloomReference.shared

    @Test func logitsMatchTransformersForEachLength() throws {
        #expect(ref.logits.map(\.ids.count) == [1, 5, 17])
        for item in ref.logits {
            let out = TinyModel.f32.forward(ids: item.ids, batch: 1)
            #expect(out.shape == [1, item.ids.count, 64])
            let expected = item.logits.flatMap { $0 }
            let bad = firstMismatch(out.storage, expected, rtol: 0, atol: 1e-4)
            #expect(bad == nil, "length \(item.ids.count): max diff \(maxAbsDifference(out.storage, expected))")
        }
    }

    /// Prefill attention's heads side by side (two compute threads) give the logits of heads one after another, for a
    /// new prompt and for a step after a cached prefix.
    @Test func prefillHeadsSideBySideGiveTheSameLogits() throws {
        let model = TinyModel.f32
        let ids = (0..<40).map { Int32(3 + ($0 * 37) % 60) }
        func run() -> [Float] {
            let cache = model.makeCache(batch: 1, capacity: ids.count)
            return model.forward(ids: Array(ids[..<25]), batch: 1, cache: cache).storage
                + model.forward(ids: Array(ids[25...]), batch: 1, cache: cache).storage
        }
        let (inOrder, sideBySide) = inOrderAndSideBySide(run)
        #expect(sideBySide.count == 40 * 64)
        expectHeadsSideBySideMatch(sideBySide, inOrder)
    }

    @Test func f16CheckpointMatchesUpcastLogits() throws {
        let model = try BloomModel.load(directory: TinyModel.f16Dir)
        for item in ref.f16_logits {
            let out = model.forward(ids: item.ids, batch: 1)
            let expected = item.logits.flatMap { $0 }
            #expect(firstMismatch(out.storage, expected, rtol: 0, atol: 1e-4) == nil,
                    "length \(item.ids.count): max diff \(maxAbsDifference(out.storage, expected))")
        }
    }

    @Test func leftPaddedBatchMatchesTransformersAndEachRowAlone() throws {
        let p = ref.left_padded_batch
        let b = p.ids.count
        let out = TinyModel.f32.forward(ids: p.ids.flatMap { $0 }, batch: b, mask: p.attention_mask.flatMap { $0 }, logits: .last)
        #expect(out.shape == [b, 64])
        let expected = p.last_logits.flatMap { $0 }
        #expect(firstMismatch(out.storage, expected, rtol: 0, atol: 1e-4) == nil, "max diff \(maxAbsDifference(out.storage, expected))")
        for (row, ids) in p.ids.enumerated() {
            let real = zip(ids, p.attention_mask[row]).filter { $0.1 == 1 }.map(\.0)
            let alone = TinyModel.f32.forward(ids: real, batch: 1, logits: .last)
            let padded = Array(out.storage[(row * 64)..<((row + 1) * 64)])
            #expect(firstMismatch(alone.storage, padded, rtol: 0, atol: 1e-5) == nil, "row \(row)")
        }
    }

    @Test func kvCacheDecodingEqualsFullRecomputation() throws {
        let model = TinyModel.f32
        let ids: [Int32] = [1, 60, 8, 27, 45, 60, 8, 27, 45, 3, 12]
        let full = model.forward(ids: ids, batch: 1)
        // Prefill 4, then one token at a time, then a 3-token chunk.
        let cache = BloomKVCache(configuration: model.configuration, batch: 1, capacity: ids.count)
        var pieces: [Float] = model.forward(ids: Array(ids[0..<4]), batch: 1, cache: cache).storage
        for i in 4..<8 { pieces += model.forward(ids: [ids[i]], batch: 1, cache: cache).storage }
        pieces += model.forward(ids: Array(ids[8...]), batch: 1, cache: cache).storage
        #expect(cache.length == ids.count)
        #expect(firstMismatch(pieces, full.storage, rtol: 0, atol: 2e-5) == nil, "max diff \(maxAbsDifference(pieces, full.storage))")
    }

    @Test func paddedBatchDecodingWithCacheMatchesRowsAlone() throws {
        let model = TinyModel.f32
        let rows: [[Int32]] = [[1, 5, 9, 14, 5], [1, 20]]
        let next: [Int32] = [9, 33]
        let cache = BloomKVCache(configuration: model.configuration, batch: 2, capacity: 6)
        _ = model.forward(ids: [1, 5, 9, 14, 5, 3, 3, 3, 1, 20], batch: 2, mask: [1, 1, 1, 1, 1, 0, 0, 0, 1, 1], cache: cache)
        let step = model.forward(ids: next, batch: 2, cache: cache, logits: .last)
        for r in 0..<2 {
            let alone = model.forward(ids: rows[r] + [next[r]], batch: 1, logits: .last)
            let got = Array(step.storage[(r * 64)..<((r + 1) * 64)])
            #expect(firstMismatch(got, alone.storage, rtol: 0, atol: 2e-5) == nil, "row \(r): \(maxAbsDifference(got, alone.storage))")
        }
    }

    @Test(arguments: [WeightPrecision.float16, .bfloat16])
    func sixteenBitStorageStaysClose(_ precision: WeightPrecision) throws {
        // 16-bit storage rounds the weights; f16 keeps ~3 decimal digits, bf16 ~2: logits move accordingly.
        let model = try BloomModel.load(directory: TinyModel.f32Dir, precision: precision)
        #expect(model.weights.blocks[0].mlpUp.weight.precision == precision)
        let item = ref.logits[2]
        let out = model.forward(ids: item.ids, batch: 1)
        let diff = maxAbsDifference(out.storage, item.logits.flatMap { $0 })
        #expect(diff < (precision == .float16 ? 2e-2 : 2e-1), "max diff \(diff)")
        #expect(diff > 0, "16-bit storage should round something")
        // GEMV (one row) and GEMM (several rows) agree on 16-bit weights.
        let one = model.forward(ids: item.ids, batch: 1, logits: .last)
        let cache = BloomKVCache(configuration: model.configuration, batch: 1, capacity: item.ids.count)
        _ = model.forward(ids: Array(item.ids.dropLast()), batch: 1, cache: cache)
        let stepped = model.forward(ids: [item.ids.last!], batch: 1, cache: cache, logits: .last)
        #expect(firstMismatch(one.storage, stepped.storage, rtol: 0, atol: 1e-4) == nil)
    }

    @Test func weightMatrixWideningMatchesHalfPrecision() {
        // Every finite half value, including subnormals and negative zero, widens exactly.
        let bits = (0..<UInt16.max).filter { $0 & 0x7C00 != 0x7C00 }.map { UInt16($0) }
        let m = WeightMatrix(rows: 1, columns: bits.count, storage: .float16(bits))
        let widened = m.floats()
        var out = [Float](repeating: 0, count: bits.count)
        out.withUnsafeMutableBufferPointer { m.copyRow(0, to: $0.baseAddress!) }
        let expected = bits.map { HalfPrecision.float(float16: $0) }
        #expect(out.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(widened.map(\.bitPattern) == expected.map(\.bitPattern))
    }
}

@Suite struct BloomLoadingTests {
    /// Copies the f32 fixture's tensors with `edit` applied, into a temporary model directory.
    func editedCheckpoint(_ edit: (inout [SafeTensorsTensor]) -> Void) throws -> URL {
        let dir = try TestPaths.makeTemporaryDirectory("bloom-load")
        let src = try SafeTensorsFile(contentsOf: TinyModel.f32Dir.appendingPathComponent("model.safetensors"))
        var tensors = try src.names.map { name in
            let e = src.entries[name]!
            return SafeTensorsTensor(name: name, dtype: e.dtype, shape: e.shape, data: Data(try src.rawBytes(name)))
        }
        edit(&tensors)
        try SafeTensorsWriter.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
        try FileManager.default.copyItem(at: TinyModel.f32Dir.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        return dir
    }

    func loadError(_ dir: URL) -> String {
        do { _ = try BloomModel.load(directory: dir); return "" } catch { return "\(error)" }
    }

    @Test func bareBloomModelNamesLoadToTheSameLogits() throws {
        let dir = try editedCheckpoint { ts in for i in ts.indices { ts[i].name = String(ts[i].name.dropFirst("transformer.".count)) } }
        let model = try BloomModel.load(directory: dir)
        let ids: [Int32] = [1, 20, 33, 7]
        let (got, want) = ComputeThreads.withSteadyBLASThreads {  // bit equality: one OpenBLAS thread count for both
            (model.forward(ids: ids, batch: 1).storage, TinyModel.f32.forward(ids: ids, batch: 1).storage)
        }
        #expect(got == want)
    }

    @Test func missingAndUnexpectedKeysAreListed() throws {
        let dir = try editedCheckpoint { ts in
            ts.removeAll { $0.name == "transformer.h.1.mlp.dense_4h_to_h.bias" }
            ts.append(SafeTensorsTensor(name: "transformer.h.1.extra.weight", shape: [2], floats: [0, 0]))
        }
        let message = loadError(dir)
        #expect(message.contains("missing keys: transformer.h.1.mlp.dense_4h_to_h.bias"), "\(message)")
        #expect(message.contains("unexpected keys: transformer.h.1.extra.weight"), "\(message)")
    }

    @Test func shapeMismatchNamesTheTensor() throws {
        let dir = try editedCheckpoint { ts in
            let i = ts.firstIndex { $0.name == "transformer.h.0.self_attention.dense.weight" }!
            ts[i] = SafeTensorsTensor(name: ts[i].name, shape: [48, 47], floats: [Float](repeating: 0, count: 48 * 47))
        }
        let message = loadError(dir)
        #expect(message.contains("'transformer.h.0.self_attention.dense.weight' has shape [48, 47]"), "\(message)")
        #expect(message.contains("[48, 48]"), "\(message)")
    }

    @Test func integerWeightsAreRejectedByName() throws {
        let dir = try editedCheckpoint { ts in
            let i = ts.firstIndex { $0.name == "transformer.ln_f.bias" }!
            ts[i] = SafeTensorsTensor(name: ts[i].name, dtype: .i32, shape: [48], data: Data(count: 48 * 4))
        }
        let message = loadError(dir)
        #expect(message.contains("'transformer.ln_f.bias' has dtype I32"), "\(message)")
    }
}

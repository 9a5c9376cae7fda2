// Safetensors reading (HF-written fixtures), writing, sharded checkpoints, and clean errors on corrupt files.
import EcomModel
import EcomTestSupport
import Foundation
import Testing

@Suite struct SafeTensorsTests {
    let f32Dir = TestPaths.fixture("model/tiny-f32")
    let f16Dir = TestPaths.fixture("model/tiny-f16")

    @Test func readsHFCheckpointNamesAndShapes() throws {
        let ckpt = try SafeTensorsCheckpoint(directory: f32Dir)
        let cfg = try BloomConfiguration.load(directory: f32Dir)
        let h = cfg.hiddenSize
        // HF BLOOM's parameter names and shapes (transformers' BloomForCausalLM; lm_head tied, so not stored).
        var expected: [String: [Int]] = [
            "transformer.word_embeddings.weight": [cfg.vocabSize, h],
            "transformer.word_embeddings_layernorm.weight": [h], "transformer.word_embeddings_layernorm.bias": [h],
            "transformer.ln_f.weight": [h], "transformer.ln_f.bias": [h],
        ]
        for l in 0..<cfg.layerCount {
            let p = "transformer.h.\(l)."
            expected[p + "input_layernorm.weight"] = [h]; expected[p + "input_layernorm.bias"] = [h]
            expected[p + "self_attention.query_key_value.weight"] = [3 * h, h]
            expected[p + "self_attention.query_key_value.bias"] = [3 * h]
            expected[p + "self_attention.dense.weight"] = [h, h]; expected[p + "self_attention.dense.bias"] = [h]
            expected[p + "post_attention_layernorm.weight"] = [h]; expected[p + "post_attention_layernorm.bias"] = [h]
            expected[p + "mlp.dense_h_to_4h.weight"] = [4 * h, h]; expected[p + "mlp.dense_h_to_4h.bias"] = [4 * h]
            expected[p + "mlp.dense_4h_to_h.weight"] = [h, 4 * h]; expected[p + "mlp.dense_4h_to_h.bias"] = [h]
        }
        #expect(Set(ckpt.names) == Set(expected.keys))
        for (name, shape) in expected {
            #expect(ckpt.entry(name)?.shape == shape, "\(name)")
            #expect(ckpt.entry(name)?.dtype == .f32, "\(name)")
        }
    }

    @Test func f16CheckpointHoldsTheF32WeightsRounded() throws {
        let a = try SafeTensorsCheckpoint(directory: f32Dir)
        let b = try SafeTensorsCheckpoint(directory: f16Dir)
        #expect(a.names == b.names)
        for name in a.names {
            #expect(b.entry(name)?.dtype == .f16)
            let x = try a.rawBytes(name).bindMemory(to: Float.self)
            let y = try b.rawBytes(name).bindMemory(to: UInt16.self)
            #expect(x.count == y.count)
            for i in 0..<x.count {
                // torch rounds to nearest even, as Float16(Float) does.
                #expect(Float16(x[i]).bitPattern == y[i], "\(name)[\(i)]")
                if Float16(x[i]).bitPattern != y[i] { return }
            }
        }
    }

    @Test func writeThenReadRoundTrip() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SplitMix64(seed: 11)
        let a = (0..<35).map { _ in rng.uniform() }
        let half: [UInt16] = (0..<6).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
        let url = dir.appendingPathComponent("t.safetensors")
        try SafeTensorsWriter.write([
            SafeTensorsTensor(name: "a", shape: [5, 7], floats: a),
            SafeTensorsTensor(name: "h", dtype: .bf16, shape: [2, 3], data: half.withUnsafeBytes { Data($0) }),
            SafeTensorsTensor(name: "scalar", shape: [], floats: [42]),
        ], metadata: ["format": "pt"], to: url)
        let f = try SafeTensorsFile(contentsOf: url)
        #expect(f.metadata == ["format": "pt"])
        #expect(Array(try f.rawBytes("a").bindMemory(to: Float.self)) == a)
        #expect(Array(try f.rawBytes("h").bindMemory(to: UInt16.self)) == half)
        #expect(Array(try f.rawBytes("scalar").bindMemory(to: Float.self)) == [42])
        #expect(f.entries["scalar"]?.shape == [])
        // The header is padded to 8 bytes, so the data buffer is aligned.
        let bytes = try Data(contentsOf: url)
        let n = bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(n % 8 == 0)
        let other = try? FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "t.safetensors" }
        #expect(other == [], "no temporary file left behind")
    }

    @Test func shardedCheckpoint() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try SafeTensorsWriter.write([SafeTensorsTensor(name: "x", shape: [2], floats: [1, 2])],
                                    to: dir.appendingPathComponent("model-00001-of-00002.safetensors"))
        try SafeTensorsWriter.write([SafeTensorsTensor(name: "y", shape: [1], floats: [3])],
                                    to: dir.appendingPathComponent("model-00002-of-00002.safetensors"))
        let index = #"{"metadata": {"total_size": 12}, "weight_map": {"x": "model-00001-of-00002.safetensors", "y": "model-00002-of-00002.safetensors"}}"#
        try Data(index.utf8).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        let ckpt = try SafeTensorsCheckpoint(directory: dir)
        #expect(ckpt.names == ["x", "y"])
        #expect(Array(try ckpt.rawBytes("y").bindMemory(to: Float.self)) == [3])

        let wrong = #"{"weight_map": {"x": "model-00002-of-00002.safetensors"}}"#
        try Data(wrong.utf8).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        let e = #expect(throws: SafeTensorsError.self) { try SafeTensorsCheckpoint(directory: dir) }
        #expect(e?.message.contains("'x'") == true && e?.message.contains("missing from the shard") == true)
    }

    // MARK: corrupt files

    /// Writes a file with the given header JSON (padded) and `dataBytes` zero bytes, returns the error opening it.
    func openError(header: String, dataBytes: Int, truncateTo: Int? = nil) throws -> SafeTensorsError? {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var json = Data(header.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var d = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(json)
        d.append(Data(count: dataBytes))
        if let t = truncateTo { d = d.prefix(t) }
        let url = dir.appendingPathComponent("bad.safetensors")
        try d.write(to: url)
        do { _ = try SafeTensorsFile(contentsOf: url); return nil } catch let e as SafeTensorsError {
            #expect(e.file == url.path)
            return e
        }
    }

    @Test func truncatedData() throws {
        let e = try openError(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, dataBytes: 8)
        #expect(e?.message.contains("'w'") == true && e?.message.contains("truncated") == true, "\(String(describing: e))")
    }

    @Test func headerLengthPastEnd() throws {
        let e = try openError(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, dataBytes: 16, truncateTo: 20)
        #expect(e?.message.contains("header length") == true, "\(String(describing: e))")
    }

    @Test func shorterThanEightBytes() throws {
        let e = try openError(header: "{}", dataBytes: 0, truncateTo: 5)
        #expect(e?.message.contains("shorter than") == true, "\(String(describing: e))")
    }

    @Test func overlappingRanges() throws {
        let e = try openError(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, dataBytes: 12)
        #expect(e?.message.contains("'b'") == true && e?.message.contains("overlaps") == true, "\(String(describing: e))")
    }

    @Test func wrongDtypeSize() throws {
        // Two F32 elements need 8 bytes, not 4 (as if the dtype were F16).
        let e = try openError(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, dataBytes: 4)
        #expect(e?.message.contains("'w'") == true && e?.message.contains("needs 8 bytes") == true, "\(String(describing: e))")
    }

    @Test func holeAndUnknownDtypeAndBadJSON() throws {
        let hole = try openError(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, dataBytes: 8)
        #expect(hole?.message.contains("hole") == true, "\(String(describing: hole))")
        let dtype = try openError(header: #"{"a":{"dtype":"F8_E9","shape":[1],"data_offsets":[0,1]}}"#, dataBytes: 1)
        #expect(dtype?.message.contains("unsupported dtype 'F8_E9'") == true, "\(String(describing: dtype))")
        let json = try openError(header: #"{"a": [1, 2"#, dataBytes: 0)
        #expect(json?.message.contains("JSON") == true, "\(String(describing: json))")
        let negative = try openError(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, dataBytes: 4)
        #expect(negative?.message.contains("negative") == true, "\(String(describing: negative))")
    }
}

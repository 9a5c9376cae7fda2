// Valid files with hostile numbers (issue: reliability): a config.json whose sizes would need terabytes (a 10^12-row
// embedding, 10^9 layers, a 10^12-position context) must be a clear error naming the file before any large
// allocation; the test would be killed for memory, or run for minutes, if a size reached an allocation first.
import EcomLoader
import EcomModel
import EcomTestSupport
import Foundation
import Testing

@Suite struct HostileConfigurationTests {
    /// A copy of a fixture model directory with `change` applied to its config.json.
    func patchedModel(_ fixture: String, _ change: (inout [String: Any]) -> Void) throws -> URL {
        let dir = try TestPaths.makeTemporaryDirectory("hostile-config")
        let source = TestPaths.fixture(fixture)
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let url = dir.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        change(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return dir
    }

    static let llamaCases: [(String, Int)] = [
        ("vocab_size", 1_000_000_000_000), ("hidden_size", 1_000_000_000_000), ("intermediate_size", 1_000_000_000_000),
        ("num_hidden_layers", 1_000_000_000), ("num_attention_heads", 1 << 40), ("head_dim", 1 << 40),
        ("num_key_value_heads", 0), ("vocab_size", -5),
    ]

    @Test(arguments: llamaCases.indices) func llamaSizesBeyondTheWeights(_ i: Int) throws {
        let (key, value) = Self.llamaCases[i]
        let dir = try patchedModel("llama/tiny-hf") { $0[key] = value }
        defer { try? FileManager.default.removeItem(at: dir) }
        let start = Date()
        #expect("\(key) = \(value)", performing: { _ = try ModelBundle.load(dir) }, throws: { e in "\(e)".contains(dir.path) })
        #expect(Date().timeIntervalSince(start) < 10, "\(key) = \(value) took \(Date().timeIntervalSince(start)) s to refuse")
    }

    /// A context of 10^12 positions is only a limit: loading and a short generation allocate for what is used.
    @Test func hugeContextLimitAllocatesOnlyWhatIsUsed() throws {
        let dir = try patchedModel("llama/tiny-hf") { $0["max_position_embeddings"] = 1_000_000_000_000 }
        defer { try? FileManager.default.removeItem(at: dir) }
        let bundle = try ModelBundle.load(dir)
        let logits = bundle.model.forward(ids: [5, 6, 7], batch: 1, logits: .last)
        #expect(logits.storage.allSatisfy { $0.isFinite })
    }

    static let bloomCases: [(String, Int)] = [
        ("vocab_size", 1_000_000_000_000), ("hidden_size", 1_000_000_000_000), ("n_layer", 1_000_000_000), ("n_head", 0),
    ]

    @Test(arguments: bloomCases.indices) func bloomSizesBeyondTheWeights(_ i: Int) throws {
        let (key, value) = Self.bloomCases[i]
        let dir = try patchedModel("model/tiny-f32") { $0[key] = value }
        defer { try? FileManager.default.removeItem(at: dir) }
        let start = Date()
        #expect("\(key) = \(value)", performing: { _ = try ModelBundle.load(dir) }, throws: { e in "\(e)".contains(dir.path) })
        #expect(Date().timeIntervalSince(start) < 10, "\(key) = \(value) took \(Date().timeIntervalSince(start)) s to refuse")
    }
}

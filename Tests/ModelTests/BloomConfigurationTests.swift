// BLOOM configuration decoding: HF's config.json, its alternative key names, and errors naming the file.
import EcomModel
import EcomTestSupport
import Foundation
import Testing

@Suite struct BloomConfigurationTests {
    @Test func decodesHFConfig() throws {
        let cfg = try BloomConfiguration.load(directory: TestPaths.fixture("model/tiny-f32"))
        // Values the reference generator passed to transformers' BloomConfig.
        #expect(cfg.vocabSize == 64 && cfg.hiddenSize == 48 && cfg.layerCount == 2 && cfg.headCount == 6)
        #expect(cfg.headDimension == 8 && cfg.layerNormEpsilon == 1e-5 && cfg.tieWordEmbeddings)
        #expect(cfg.bosTokenId == 1 && cfg.eosTokenId == 2 && cfg.padTokenId == 3)
        #expect(!cfg.applyResidualConnectionPostLayernorm)
    }

    @Test func alternativeNamesAndRoundTrip() throws {
        let json = #"{"model_type":"bloom","vocab_size":100,"hidden_size":32,"num_hidden_layers":3,"num_attention_heads":4}"#
        let cfg = try JSONDecoder().decode(BloomConfiguration.self, from: Data(json.utf8))
        #expect(cfg.layerCount == 3 && cfg.headCount == 4)
        let again = try JSONDecoder().decode(BloomConfiguration.self, from: JSONEncoder().encode(cfg))
        #expect(again == cfg)
    }

    @Test func badConfigNamesTheFile() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(#"{"hidden_size": 30, "n_head": 4}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        let e = #expect(throws: ConfigurationError.self) { try BloomConfiguration.load(directory: dir) }
        #expect(e?.file.hasSuffix("config.json") == true)
        #expect(e?.message.contains("not divisible") == true, "\(String(describing: e))")
        try Data(#"{"model_type": "llama"}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        let e2 = #expect(throws: ConfigurationError.self) { try BloomConfiguration.load(directory: dir) }
        #expect(e2?.message.contains("llama") == true)
    }
}

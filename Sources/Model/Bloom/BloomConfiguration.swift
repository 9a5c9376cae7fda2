// BLOOM's configuration as HF transformers' BloomConfig reads config.json, including the alternative key names it
// accepts (num_hidden_layers → n_layer, num_attention_heads → n_head).
import Foundation

/// The hyper-parameters of a BLOOM model.
public struct BloomConfiguration: Codable, Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var layerNormEpsilon: Float
    public var applyResidualConnectionPostLayernorm: Bool
    public var tieWordEmbeddings: Bool
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var padTokenId: Int?

    /// Hidden size per attention head.
    public var headDimension: Int { hiddenSize / headCount }

    public init(vocabSize: Int, hiddenSize: Int, layerCount: Int, headCount: Int, layerNormEpsilon: Float = 1e-5,
                applyResidualConnectionPostLayernorm: Bool = false, tieWordEmbeddings: Bool = true,
                bosTokenId: Int? = 1, eosTokenId: Int? = 2, padTokenId: Int? = 3) {
        self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.layerCount = layerCount; self.headCount = headCount
        self.layerNormEpsilon = layerNormEpsilon
        self.applyResidualConnectionPostLayernorm = applyResidualConnectionPostLayernorm
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenId = bosTokenId; self.eosTokenId = eosTokenId; self.padTokenId = padTokenId
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", nEmbed = "n_embed"
        case layerCount = "n_layer", numHiddenLayers = "num_hidden_layers"
        case headCount = "n_head", numAttentionHeads = "num_attention_heads"
        case layerNormEpsilon = "layer_norm_epsilon"
        case applyResidualConnectionPostLayernorm = "apply_residual_connection_post_layernorm"
        case tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id", padTokenId = "pad_token_id"
        case modelType = "model_type"
    }

    /// Decodes HF's config.json; defaults as BloomConfig's where a key is absent (vocab 250880, hidden 64,
    /// 2 layers, 8 heads, eps 1e-5, tied embeddings).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let type = try c.decodeIfPresent(String.self, forKey: .modelType), type != "bloom" {
            throw DecodingError.dataCorruptedError(forKey: .modelType, in: c, debugDescription: "model_type is '\(type)', expected 'bloom'")
        }
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? 250_880
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? c.decodeIfPresent(Int.self, forKey: .nEmbed) ?? 64
        layerCount = try c.decodeIfPresent(Int.self, forKey: .layerCount) ?? c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? 2
        headCount = try c.decodeIfPresent(Int.self, forKey: .headCount) ?? c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? 8
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-5
        applyResidualConnectionPostLayernorm = try c.decodeIfPresent(Bool.self, forKey: .applyResidualConnectionPostLayernorm) ?? false
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? true
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId) ?? 1
        eosTokenId = try c.decodeIfPresent(Int.self, forKey: .eosTokenId) ?? 2
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId) ?? 3
        for (value, key) in [(vocabSize, CodingKeys.vocabSize), (hiddenSize, .hiddenSize), (layerCount, .layerCount), (headCount, .headCount)] where value <= 0 {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.rawValue) must be positive, got \(value)")
        }
        guard hiddenSize % headCount == 0 else {
            throw DecodingError.dataCorruptedError(forKey: .headCount, in: c, debugDescription: "hidden_size \(hiddenSize) is not divisible by n_head \(headCount)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("bloom", forKey: .modelType)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(layerCount, forKey: .layerCount)
        try c.encode(headCount, forKey: .headCount)
        try c.encode(layerNormEpsilon, forKey: .layerNormEpsilon)
        try c.encode(applyResidualConnectionPostLayernorm, forKey: .applyResidualConnectionPostLayernorm)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        try c.encodeIfPresent(eosTokenId, forKey: .eosTokenId)
        try c.encodeIfPresent(padTokenId, forKey: .padTokenId)
    }

    /// Reads `directory/config.json`; errors name the file.
    public static func load(directory: URL) throws -> BloomConfiguration {
        try ConfigurationFile.decode(BloomConfiguration.self, directory: directory)
    }
}


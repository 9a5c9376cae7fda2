// Llama's configuration as HF transformers' LlamaConfig reads config.json: grouped-query attention, rotary embeddings
// (transformers 5 `rope_parameters` or the older top-level `rope_theta`), RMSNorm, SwiGLU, tied or untied head.
import Foundation

/// The hyper-parameters of a Llama-family model.
public struct LlamaConfiguration: Codable, Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    /// The SwiGLU MLP's inner width.
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    /// Key/value heads (grouped-query attention; equal to `headCount` for plain multi-head attention).
    public var keyValueHeadCount: Int
    /// Hidden size per attention head (`head_dim`, default hidden / heads).
    public var headDimension: Int
    public var rmsNormEpsilon: Float
    /// RoPE base frequency.
    public var ropeTheta: Double
    public var maxPositionEmbeddings: Int
    public var tieWordEmbeddings: Bool
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var padTokenId: Int?

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int,
                keyValueHeadCount: Int? = nil, headDimension: Int? = nil, rmsNormEpsilon: Float = 1e-6,
                ropeTheta: Double = 10_000, maxPositionEmbeddings: Int = 2048, tieWordEmbeddings: Bool = false,
                bosTokenId: Int? = 1, eosTokenIds: [Int] = [2], padTokenId: Int? = nil) {
        self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.intermediateSize = intermediateSize
        self.layerCount = layerCount; self.headCount = headCount; self.keyValueHeadCount = keyValueHeadCount ?? headCount
        self.headDimension = headDimension ?? hiddenSize / headCount
        self.rmsNormEpsilon = rmsNormEpsilon; self.ropeTheta = ropeTheta; self.maxPositionEmbeddings = maxPositionEmbeddings
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenId = bosTokenId; self.eosTokenIds = eosTokenIds; self.padTokenId = padTokenId
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case layerCount = "num_hidden_layers", headCount = "num_attention_heads", keyValueHeadCount = "num_key_value_heads"
        case headDimension = "head_dim", rmsNormEpsilon = "rms_norm_eps", ropeTheta = "rope_theta"
        case ropeParameters = "rope_parameters", ropeScaling = "rope_scaling"
        case maxPositionEmbeddings = "max_position_embeddings", tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id", padTokenId = "pad_token_id"
        case modelType = "model_type", architectures, attentionBias = "attention_bias", mlpBias = "mlp_bias"
        case hiddenAct = "hidden_act", torchDtype = "dtype"
    }

    struct RopeParameters: Codable { var rope_theta: Double?; var rope_type: String? }

    /// Decodes HF's config.json; defaults as LlamaConfig's where a key is absent. Features Ecom does not implement
    /// (rope scaling, attention or MLP biases, an activation other than SiLU) are errors naming the key.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let type = try c.decodeIfPresent(String.self, forKey: .modelType), type != "llama" {
            throw DecodingError.dataCorruptedError(forKey: .modelType, in: c, debugDescription: "model_type is '\(type)', expected 'llama'")
        }
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? 32000
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 4096
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? 11008
        layerCount = try c.decodeIfPresent(Int.self, forKey: .layerCount) ?? 32
        headCount = try c.decodeIfPresent(Int.self, forKey: .headCount) ?? 32
        keyValueHeadCount = try c.decodeIfPresent(Int.self, forKey: .keyValueHeadCount) ?? headCount
        rmsNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .rmsNormEpsilon) ?? 1e-6
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId) ?? 1
        if let list = try? c.decodeIfPresent([Int].self, forKey: .eosTokenId) {
            eosTokenIds = list
        } else {
            eosTokenIds = try c.decodeIfPresent(Int.self, forKey: .eosTokenId).map { [$0] } ?? [2]
        }
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId)
        let rope = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        if let kind = rope?.rope_type, kind != "default" {
            throw DecodingError.dataCorruptedError(forKey: .ropeParameters, in: c, debugDescription: "rope_type '\(kind)' is not supported (only 'default')")
        }
        if let scaling = try? c.decodeIfPresent(RopeParameters.self, forKey: .ropeScaling), let kind = scaling.rope_type, kind != "default" {
            throw DecodingError.dataCorruptedError(forKey: .ropeScaling, in: c, debugDescription: "rope_scaling type '\(kind)' is not supported")
        }
        ropeTheta = try rope?.rope_theta ?? c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10_000
        for key in [CodingKeys.attentionBias, .mlpBias] where try c.decodeIfPresent(Bool.self, forKey: key) == true {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.rawValue) = true is not supported")
        }
        if let act = try c.decodeIfPresent(String.self, forKey: .hiddenAct), act != "silu" {
            throw DecodingError.dataCorruptedError(forKey: .hiddenAct, in: c, debugDescription: "hidden_act '\(act)' is not supported (only 'silu')")
        }
        for (value, key) in [(vocabSize, CodingKeys.vocabSize), (hiddenSize, .hiddenSize), (intermediateSize, .intermediateSize),
                             (layerCount, .layerCount), (headCount, .headCount), (keyValueHeadCount, .keyValueHeadCount)] where value <= 0 {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.rawValue) must be positive, got \(value)")
        }
        guard headCount % keyValueHeadCount == 0 else {
            throw DecodingError.dataCorruptedError(forKey: .keyValueHeadCount, in: c,
                debugDescription: "num_attention_heads \(headCount) is not a multiple of num_key_value_heads \(keyValueHeadCount)")
        }
        headDimension = try c.decodeIfPresent(Int.self, forKey: .headDimension) ?? hiddenSize / headCount
        guard headDimension > 0, headDimension % 2 == 0, c.contains(.headDimension) || hiddenSize % headCount == 0 else {
            throw DecodingError.dataCorruptedError(forKey: .headDimension, in: c,
                debugDescription: "head dimension must be even and positive (hidden_size \(hiddenSize) / num_attention_heads \(headCount))")
        }
    }

    /// config.json as transformers 5 writes it for LlamaForCausalLM.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(["LlamaForCausalLM"], forKey: .architectures)
        try c.encode("llama", forKey: .modelType)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(layerCount, forKey: .layerCount)
        try c.encode(headCount, forKey: .headCount)
        try c.encode(keyValueHeadCount, forKey: .keyValueHeadCount)
        try c.encode(headDimension, forKey: .headDimension)
        try c.encode(rmsNormEpsilon, forKey: .rmsNormEpsilon)
        try c.encode(RopeParameters(rope_theta: ropeTheta, rope_type: "default"), forKey: .ropeParameters)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(false, forKey: .attentionBias)
        try c.encode(false, forKey: .mlpBias)
        try c.encode("silu", forKey: .hiddenAct)
        try c.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        if eosTokenIds.count == 1 { try c.encode(eosTokenIds[0], forKey: .eosTokenId) } else { try c.encode(eosTokenIds, forKey: .eosTokenId) }
        try c.encodeIfPresent(padTokenId, forKey: .padTokenId)
    }

    /// Reads `directory/config.json`; errors name the file.
    public static func load(directory: URL) throws -> LlamaConfiguration {
        try ConfigurationFile.decode(LlamaConfiguration.self, directory: directory)
    }
}

// An HF tokenizer.json and tokenizer_config.json built from the tokenizer metadata of a GGUF file (plain values, so
// that this library needs no GGUF reader). Reference: transformers `integrations/gguf/gguf_tokenizer_mapping.py`.
import Foundation

/// The `tokenizer.*` metadata of a GGUF file, as plain values (the GGUF reader lives in EcomModel).
///
/// Build an HF tokenizer from it:
///
///     let meta = GGUFTokenizerMetadata(model: "gpt2", pre: "smollm", tokens: tokens, merges: merges,
///                                      tokenTypes: types, bosTokenId: 1, eosTokenId: 2, ...)
///     let tokenizer = try meta.makeTokenizer()          // same ids as transformers' tokenizer from the GGUF
///     try meta.tokenizerJSON().write(to: dir.appending(path: "tokenizer.json"))
///     try meta.tokenizerConfigJSON().write(to: dir.appending(path: "tokenizer_config.json"))
public struct GGUFTokenizerMetadata: Sendable, Equatable {
    /// `tokenizer.ggml.model`: only `gpt2` (byte-level BPE) is supported.
    public var model: String
    /// `tokenizer.ggml.pre`: llama.cpp's name of the pre-tokenizer (`smollm`, `gpt-2`, ...), nil when absent.
    public var pre: String?
    /// `tokenizer.ggml.tokens`, by id.
    public var tokens: [String]
    /// `tokenizer.ggml.merges`: `"left right"`, by rank.
    public var merges: [String]
    /// `tokenizer.ggml.token_type`, by id (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte); may be empty.
    public var tokenTypes: [Int32]
    /// `tokenizer.ggml.{bos,eos,unknown,padding}_token_id`.
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var unknownTokenId: Int?
    public var paddingTokenId: Int?
    /// `tokenizer.ggml.add_bos_token` / `add_eos_token` (absent: false, as transformers reads a `gpt2` file).
    public var addBOS: Bool?
    public var addEOS: Bool?
    /// `tokenizer.ggml.add_space_prefix` (absent: false).
    public var addSpacePrefix: Bool?
    /// `tokenizer.chat_template`.
    public var chatTemplate: String?
    /// `<arch>.context_length`, written as `model_max_length` when known.
    public var contextLength: Int?

    public init(model: String, pre: String?, tokens: [String], merges: [String], tokenTypes: [Int32] = [],
                bosTokenId: Int? = nil, eosTokenId: Int? = nil, unknownTokenId: Int? = nil, paddingTokenId: Int? = nil,
                addBOS: Bool? = nil, addEOS: Bool? = nil, addSpacePrefix: Bool? = nil, chatTemplate: String? = nil,
                contextLength: Int? = nil) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.merges = merges
        self.tokenTypes = tokenTypes
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.unknownTokenId = unknownTokenId
        self.paddingTokenId = paddingTokenId
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.chatTemplate = chatTemplate
        self.contextLength = contextLength
    }

    /// Which pre-tokenizer the built tokenizer gets.
    public enum PreTokenizerChoice: Sendable {
        /// What transformers builds from the GGUF (`AutoTokenizer.from_pretrained(dir, gguf_file:)`): for the `pre`
        /// values supported here, GPT-2's ByteLevel regex, whatever `pre` says (transformers has no entry for them).
        case transformers
        /// The pre-tokenizer of the model's own tokenizer.json, as llama.cpp runs it: for `smollm`, digits split
        /// one by one before the GPT-2 regex (`Sequence[Digits(individual_digits), ByteLevel]`).
        case original
    }

    /// The `pre` values supported, with the pre-tokenizer of the original model (`.original`).
    public static let supportedPre: [String: OriginalPre] = [
        "smollm": .digitsThenGPT2, "gpt-2": .gpt2, "gpt2": .gpt2, "default": .gpt2,
    ]

    /// Pre-tokenizers of the original models of the supported `pre` values.
    public enum OriginalPre: Sendable {
        case gpt2, digitsThenGPT2
    }

    // MARK: - Building

    /// The tokenizer.json (UTF-8, vocabulary in id order) of this metadata. Errors name the metadata key at fault:
    /// an unsupported `tokenizer.ggml.model` or `tokenizer.ggml.pre`, a merge that is not two tokens, an id out of range.
    public func tokenizerJSON(preTokenizer choice: PreTokenizerChoice = .transformers) throws -> Data {
        guard model == "gpt2" else {
            throw TokenizerError.unsupported(field: "tokenizer.ggml.model", value: "\(model) (supported: gpt2, byte-level BPE)")
        }
        let preName = pre ?? "default"
        guard let original = Self.supportedPre[preName] else {
            throw TokenizerError.unsupported(
                field: "tokenizer.ggml.pre",
                value: "\(preName) (supported: \(Self.supportedPre.keys.sorted().joined(separator: ", ")))")
        }
        if !tokenTypes.isEmpty && tokenTypes.count != tokens.count {
            throw TokenizerError.malformed(field: "tokenizer.ggml.token_type",
                                           reason: "\(tokenTypes.count) types for \(tokens.count) tokens")
        }
        for (key, id) in [("bos", bosTokenId), ("eos", eosTokenId), ("unknown", unknownTokenId), ("padding", paddingTokenId)] {
            if let id, id < 0 || id >= tokens.count {
                throw TokenizerError.malformed(field: "tokenizer.ggml.\(key)_token_id", reason: "\(id) is not an id of the \(tokens.count) tokens")
            }
        }
        let spelled = vocabularySpelling()
        let prefixSpace = addSpacePrefix ?? false

        var out = #"{"version":"1.0","truncation":null,"padding":null,"added_tokens":["#
        for (i, t) in addedTokens().enumerated() {
            if i > 0 { out += "," }
            out += #"{"id":\#(t.id),"content":\#(jsonQuoted(t.content)),"single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":\#(t.special)}"#
        }
        out += #"],"normalizer":null,"pre_tokenizer":"#
        let byteLevel = #"{"type":"ByteLevel","add_prefix_space":\#(prefixSpace),"trim_offsets":true,"use_regex":true}"#
        if choice == .original && original == .digitsThenGPT2 {
            out += #"{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},\#(byteLevel)]}"#
        } else {
            out += byteLevel
        }
        out += #","post_processor":"# + postProcessorJSON()
        out += #","decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}"#
        out += #","model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":"","end_of_word_suffix":"","fuse_unk":false,"byte_fallback":false,"ignore_merges":false,"vocab":{"#
        // A repeated token keeps its last id, as the Python dict transformers builds in id order does.
        let lastId = Dictionary(spelled.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { max($0, $1) })
        var first = true
        for (id, token) in spelled.enumerated() where lastId[token] == id {
            if !first { out += "," }
            first = false
            out += jsonQuoted(token) + ":" + String(id)
        }
        out += #"},"merges":["#
        for (rank, merge) in merges.enumerated() {
            let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenizerError.malformed(field: "tokenizer.ggml.merges[\(rank)]", reason: "expected \"left right\", got \(jsonQuoted(merge))")
            }
            if rank > 0 { out += "," }
            out += "[" + jsonQuoted(String(parts[0])) + "," + jsonQuoted(String(parts[1])) + "]"
        }
        out += "]}}\n"
        return Data(out.utf8)
    }

    /// The tokenizer of this metadata (built through `tokenizerJSON`).
    public func makeTokenizer(preTokenizer choice: PreTokenizerChoice = .transformers) throws -> Tokenizer {
        try Tokenizer(json: tokenizerJSON(preTokenizer: choice))
    }

    /// A tokenizer_config.json with which `AutoTokenizer.from_pretrained(dir)` loads the tokenizer.json next to it:
    /// the special token strings, `add_bos_token`/`add_eos_token`, the chat template, `model_max_length` when the
    /// context length is known, and `tokenizer_class`.
    public func tokenizerConfigJSON() throws -> Data {
        var config: [String: Any] = [
            "tokenizer_class": "GPT2Tokenizer",
            "add_bos_token": addBOS ?? false,
            "add_eos_token": addEOS ?? false,
            "add_prefix_space": addSpacePrefix ?? false,
            "clean_up_tokenization_spaces": false,
        ]
        for (key, id) in [("bos_token", bosTokenId), ("eos_token", eosTokenId), ("unk_token", unknownTokenId), ("pad_token", paddingTokenId)] {
            guard let id else { config[key] = NSNull(); continue }
            guard id >= 0 && id < tokens.count else {
                throw TokenizerError.malformed(field: "tokenizer.ggml.\(key)_id", reason: "\(id) is not an id of the \(tokens.count) tokens")
            }
            config[key] = tokens[id]
        }
        if let chatTemplate { config["chat_template"] = chatTemplate }
        if let contextLength { config["model_max_length"] = contextLength }
        return try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }

    // MARK: - Pieces

    /// The vocabulary as transformers spells it: a token that uses a character outside the byte-level alphabet is
    /// rewritten as the alphabet's characters of its UTF-8 bytes.
    func vocabularySpelling() -> [String] {
        tokens.map { token in
            token.unicodeScalars.allSatisfy { ByteLevelAlphabet.byte(for: $0) != nil } ? token : ByteLevelAlphabet.encode(Array(token.utf8))
        }
    }

    /// Added tokens in id order: control tokens (type 3) spelled in the byte-level alphabet as special tokens,
    /// user-defined ones (type 4) as plain added tokens, then the bos/eos/unk/pad tokens not yet among them as special.
    func addedTokens() -> [(id: Int, content: String, special: Bool)] {
        var byId: [Int: (content: String, special: Bool)] = [:]
        var contents = Set<String>()
        for (id, type) in tokenTypes.enumerated() where type == 3 {
            let token = tokens[id]
            if token.unicodeScalars.allSatisfy({ ByteLevelAlphabet.byte(for: $0) != nil }) && contents.insert(token).inserted {
                byId[id] = (token, true)
            }
        }
        for (id, type) in tokenTypes.enumerated() where type == 4 {
            if contents.insert(tokens[id]).inserted { byId[id] = (tokens[id], false) }
        }
        for id in [bosTokenId, eosTokenId, unknownTokenId, paddingTokenId].compactMap({ $0 }) where contents.insert(tokens[id]).inserted {
            byId[id] = (tokens[id], true)
        }
        return byId.keys.sorted().map { (id: $0, content: byId[$0]!.content, special: byId[$0]!.special) }
    }

    /// TemplateProcessing as transformers writes it: BOS and EOS around the sequence when the file asks for them.
    private func postProcessorJSON() -> String {
        var specials: [(String, Int)] = []
        if addBOS ?? false, let id = bosTokenId { specials.append((tokens[id], id)) }
        let bos = specials.first
        if addEOS ?? false, let id = eosTokenId { specials.append((tokens[id], id)) }
        let eos = (addEOS ?? false) ? specials.last : nil
        func special(_ t: (String, Int), _ typeId: Int) -> String { #"{"SpecialToken":{"id":\#(jsonQuoted(t.0)),"type_id":\#(typeId)}}"# }
        func sequence(_ name: String, _ typeId: Int) -> String { #"{"Sequence":{"id":"\#(name)","type_id":\#(typeId)}}"# }
        var single: [String] = [], pair: [String] = []
        if let bos { single.append(special(bos, 0)) }
        single.append(sequence("A", 0))
        if let eos { single.append(special(eos, 0)) }
        pair = single
        if let bos { pair.append(special(bos, 1)) }
        pair.append(sequence("B", 1))
        if let eos { pair.append(special(eos, 1)) }
        var table: [String] = []
        var named = Set<String>()
        for (content, id) in specials where named.insert(content).inserted {
            table.append(#"\#(jsonQuoted(content)):{"id":\#(jsonQuoted(content)),"ids":[\#(id)],"tokens":[\#(jsonQuoted(content))]}"#)
        }
        return #"{"type":"TemplateProcessing","single":[\#(single.joined(separator: ","))],"pair":[\#(pair.joined(separator: ","))],"special_tokens":{\#(table.joined(separator: ","))}}"#
    }
}

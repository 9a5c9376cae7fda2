// SmolLM2-135M-Instruct's tokenizer against transformers (fixtures of scripts/reference/gen_smollm2_tokenizer.py): the
// tokenizer.json transformers builds from the GGUF, the one we build from the GGUF's plain values, and the chat template.
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing

/// smollm2_cases.json and smollm2_tokenizer.json.
enum SmolLM2Fixture {
    /// The parsed cases file, or why it could not be read (a missing fixture fails the tests that need it,
    /// rather than crashing the test process).
    nonisolated(unsafe) static let loaded: Result<[String: Any], Error> = Result {
        let data = try Data(contentsOf: TestPaths.fixture("tokenizer/smollm2_cases.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
    /// Throws when the fixture is missing (run `bash scripts/reference/generate.sh smollm2_tokenizer`).
    static func require() throws { _ = try loaded.get() }
    static var root: [String: Any] { (try? loaded.get()) ?? [:] }
    static var tokenizerURL: URL { TestPaths.fixture("tokenizer/smollm2_tokenizer.json") }
    static var gguf: [String: Any] { root["gguf"] as! [String: Any] }
    static var cases: [[String: Any]] { root["cases"] as! [[String: Any]] }
    static var chats: [[String: Any]] { root["chats"] as! [[String: Any]] }
    static var chatTemplate: String { gguf["tokenizer.chat_template"] as! String }

    static func hfJSON() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: tokenizerURL)) as! [String: Any]
    }

    /// The GGUF's tokenizer metadata as plain values: tokens and merges from tokenizer.json (the generator checked
    /// that they are the GGUF's), everything else from the fixture's copy of the GGUF metadata.
    static func metadata() throws -> GGUFTokenizerMetadata {
        let model = try hfJSON()["model"] as! [String: Any]
        let vocab = model["vocab"] as! [String: Int]
        var tokens = [String](repeating: "", count: vocab.count)
        for (t, id) in vocab { tokens[id] = t }
        let merges = (model["merges"] as! [Any]).map { m in
            (m as? String) ?? (m as! [String]).joined(separator: " ")
        }
        var types = [Int32](repeating: 1, count: tokens.count)
        for (id, type) in gguf["token_types_not_normal"] as! [String: Int] { types[Int(id)!] = Int32(type) }
        func int(_ key: String) -> Int? { gguf["tokenizer.ggml.\(key)"] as? Int }
        func bool(_ key: String) -> Bool? { gguf["tokenizer.ggml.\(key)"] as? Bool }
        return GGUFTokenizerMetadata(
            model: gguf["tokenizer.ggml.model"] as! String, pre: gguf["tokenizer.ggml.pre"] as? String,
            tokens: tokens, merges: merges, tokenTypes: types,
            bosTokenId: int("bos_token_id"), eosTokenId: int("eos_token_id"),
            unknownTokenId: int("unknown_token_id"), paddingTokenId: int("padding_token_id"),
            addBOS: bool("add_bos_token"), addEOS: bool("add_eos_token"), addSpacePrefix: bool("add_space_prefix"),
            chatTemplate: chatTemplate, contextLength: gguf["llama.context_length"] as? Int)
    }

    static func messages(_ chat: [String: Any]) -> [ChatMessage] {
        (chat["messages"] as! [[String: String]]).map { ChatMessage(role: $0["role"]!, content: $0["content"]!) }
    }
}

/// Compares `tok` with HF on every case (ids under `idsKey`); returns the number of mismatches, recording the first few.
func checkSmolLM2(_ tok: Tokenizer, idsKey: String = "ids", full: Bool, label: String) -> Int {
    var failures = 0
    func fail(_ message: String) {
        failures += 1
        if failures <= 8 { Issue.record("\(label): \(message)") }
    }
    for c in SmolLM2Fixture.cases {
        let text = c["text"] as! String
        let ids = c[idsKey] as! [Int]
        let got = tok.encode(text)
        if got != ids { fail("ids of \(text.debugDescription): got \(got), HF \(ids)"); continue }
        guard full else { continue }
        if tok.encode(text, addSpecialTokens: true) != c["ids_special"] as! [Int] { fail("ids with special tokens of \(text.debugDescription)") }
        let offsets = (c["offsets"] as! [[Int]]).map { $0[0]..<$0[1] }
        if tok.encodeWithOffsets(text).offsets != offsets { fail("offsets of \(text.debugDescription): \(tok.encodeWithOffsets(text).offsets), HF \(offsets)") }
        if tok.decode(ids) != c["decoded"] as! String { fail("decode of \(text.debugDescription): \(tok.decode(ids).debugDescription)") }
        if tok.decode(ids, skipSpecialTokens: true) != c["decoded_skip"] as! String { fail("decode (skip specials) of \(text.debugDescription)") }
    }
    if full {
        for r in SmolLM2Fixture.root["random_decodes"] as! [[String: Any]] {
            let ids = r["ids"] as! [Int]
            if tok.decode(ids) != r["decoded"] as! String { fail("decode of random ids \(ids)") }
            if tok.decode(ids, skipSpecialTokens: true) != r["decoded_skip"] as! String { fail("decode (skip) of random ids \(ids)") }
        }
    }
    return failures
}

@Suite struct SmolLM2TokenizerTests {
    @Test func fixtureTokenizerMatchesTransformers() throws {
        try SmolLM2Fixture.require()
        let tok = try Tokenizer(contentsOf: SmolLM2Fixture.tokenizerURL)
        #expect(tok.vocabularySize == SmolLM2Fixture.root["vocab_size"] as! Int)
        #expect(tok.id(forToken: "<|im_end|>") == 2 && tok.isSpecialToken(2))
        #expect(checkSmolLM2(tok, full: true, label: "smollm2_tokenizer.json") == 0)
    }

    @Test func builtFromGGUFValuesMatchesTransformers() throws {
        try SmolLM2Fixture.require()
        let meta = try SmolLM2Fixture.metadata()
        let data = try meta.tokenizerJSON()
        let tok = try Tokenizer(json: data)
        #expect(tok.vocabularySize == SmolLM2Fixture.root["vocab_size"] as! Int)
        #expect(checkSmolLM2(tok, full: true, label: "built from GGUF values") == 0)
        // The stages are those transformers builds (same JSON values), not only the same ids on these cases.
        let ours = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let hf = try SmolLM2Fixture.hfJSON()
        for key in ["added_tokens", "normalizer", "pre_tokenizer", "post_processor", "decoder"] {
            #expect(NSDictionary(dictionary: ["v": ours[key]!]) == NSDictionary(dictionary: ["v": hf[key]!]), "\(key) differs from transformers'")
        }
        let (om, hm) = (ours["model"] as! [String: Any], hf["model"] as! [String: Any])
        for key in om.keys.sorted() where key != "merges" {
            #expect(NSDictionary(dictionary: ["v": om[key]!]) == NSDictionary(dictionary: ["v": hm[key] ?? NSNull()]), "model.\(key) differs from transformers'")
        }
    }

    /// SmolLM2's own pre-tokenizer (digits one by one before ByteLevel), checked against HF tokenizers running it.
    @Test func originalPreTokenizerSplitsDigits() throws {
        try SmolLM2Fixture.require()
        let tok = try SmolLM2Fixture.metadata().makeTokenizer(preTokenizer: .original)
        #expect(checkSmolLM2(tok, idsKey: "ids_original", full: false, label: "original pre-tokenizer") == 0)
        let differing = SmolLM2Fixture.cases.filter { ($0["ids"] as! [Int]) != ($0["ids_original"] as! [Int]) }
        #expect(!differing.isEmpty, "the fixture should hold texts where Digits changes the ids")
    }

    @Test func tokenizerConfigHasTransformersFields() throws {
        try SmolLM2Fixture.require()
        let meta = try SmolLM2Fixture.metadata()
        let config = try JSONSerialization.jsonObject(with: meta.tokenizerConfigJSON()) as! [String: Any]
        let hf = SmolLM2Fixture.root["hf_tokenizer_config"] as! [String: Any]
        for key in ["bos_token", "eos_token", "unk_token", "pad_token", "chat_template", "add_bos_token"] where hf[key] != nil {
            #expect(NSDictionary(dictionary: ["v": config[key]!]) == NSDictionary(dictionary: ["v": hf[key]!]), "\(key)")
        }
        #expect(config["model_max_length"] as? Int == 8192)
        #expect(config["tokenizer_class"] as? String != nil)
    }

    @Test func chatTemplateMatchesTransformers() throws {
        try SmolLM2Fixture.require()
        let template = try ChatTemplate(template: SmolLM2Fixture.chatTemplate)
        #expect(template.kind == .chatml)
        #expect(template.endOfTurn == "<|im_end|>")
        #expect(template.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        for chat in SmolLM2Fixture.chats {
            let messages = SmolLM2Fixture.messages(chat)
            #expect(template.render(messages, addGenerationPrompt: true) == chat["text_generation"] as! String, "\(messages)")
            #expect(template.render(messages, addGenerationPrompt: false) == chat["text"] as! String, "\(messages)")
        }
        let tok = try Tokenizer(contentsOf: SmolLM2Fixture.tokenizerURL)
        for chat in SmolLM2Fixture.chats {
            #expect(tok.encode(chat["text_generation"] as! String) == chat["ids_generation"] as! [Int])
        }
    }

    @Test func chatTemplateRecognitionAndForcing() throws {
        #expect(try ChatTemplate(template: nil).kind == .plain)
        #expect(try ChatTemplate(template: "").endOfTurn == nil)
        let llama3 = "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>' }}{% endfor %}"
        #expect { try ChatTemplate(template: llama3) } throws: { e in
            (e as? ChatTemplateError).map { "\($0)".contains("unrecognized chat template") && "\($0)".contains("start_header_id") } ?? false
        }
        let forced = try ChatTemplate(template: llama3, force: .chatml)
        #expect(forced.defaultSystemPrompt == nil)
        #expect(forced.render([ChatMessage(role: "user", content: "x")], addGenerationPrompt: true)
            == "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n")
        #expect(try ChatTemplate(template: llama3, force: .plain).render([("user", "a"), ("assistant", "b")], addGenerationPrompt: true) == "a\nb")
        // A ChatML template without a default system turn, with `\n` written as an escape in the template text.
        let qwenLike = #"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"#
        #expect(try ChatTemplate(template: qwenLike).defaultSystemPrompt == nil)
        let escaped = #"{% if messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nBe brief.<|im_end|>\n' }}{% endif %}"#
        #expect(try ChatTemplate(template: escaped).defaultSystemPrompt == "Be brief.")
    }

    @Test func unsupportedGGUFValuesAreNamed() throws {
        try SmolLM2Fixture.require()
        var meta = try SmolLM2Fixture.metadata()
        meta.pre = "llama-bpe"
        #expect { try meta.tokenizerJSON() } throws: { e in
            "\(e)".contains("tokenizer.ggml.pre") && "\(e)".contains("llama-bpe") && "\(e)".contains("smollm")
        }
        meta.pre = "smollm"
        meta.model = "llama"
        #expect { try meta.makeTokenizer() } throws: { "\($0)".contains("tokenizer.ggml.model") && "\($0)".contains("llama") }
        meta.model = "gpt2"
        meta.merges[3] = "abc"
        #expect { try meta.tokenizerJSON() } throws: { "\($0)".contains("tokenizer.ggml.merges[3]") }
    }

    /// Writes our tokenizer.json and tokenizer_config.json to ECOM_SMOLLM2_WRITE_DIR (for the generator's check that
    /// HF loads them) and prints load times; off unless that variable is set.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["ECOM_SMOLLM2_WRITE_DIR"] != nil))
    func writeBuiltFilesAndTimeLoading() throws {
        try SmolLM2Fixture.require()
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["ECOM_SMOLLM2_WRITE_DIR"]!)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let meta = try SmolLM2Fixture.metadata()
        try meta.tokenizerJSON().write(to: dir.appendingPathComponent("tokenizer.json"))
        try meta.tokenizerConfigJSON().write(to: dir.appendingPathComponent("tokenizer_config.json"))
        var times: [Double] = []
        for _ in 0..<7 {
            let t = Date()
            _ = try Tokenizer(contentsOf: SmolLM2Fixture.tokenizerURL)
            times.append(Date().timeIntervalSince(t))
        }
        var build: [Double] = []
        for _ in 0..<5 {
            let t = Date()
            _ = try meta.makeTokenizer()
            build.append(Date().timeIntervalSince(t))
        }
        print("smollm2 Tokenizer(contentsOf:) median \(times.sorted()[3] * 1000) ms; GGUF values -> Tokenizer median \(build.sorted()[2] * 1000) ms")
    }
}

// A model ready to prompt: weights (any architecture), tokenizer and chat template, from an HF directory
// (tokenizer.json, tokenizer_config.json's chat_template) or a GGUF file (tokenizer rebuilt from its metadata).
import EcomModel
import EcomTokenizer
import Foundation

/// A loaded model with what it takes to turn text into prompts and answers back into text.
public struct ModelBundle: @unchecked Sendable {
    public let model: any CausalLanguageModel
    /// The model's tokenizer (nil for a directory without tokenizer.json when none was given).
    public let tokenizer: Tokenizer?
    /// The chat template prompts are rendered with (`.plain` when the model has none).
    public let chatTemplate: ChatTemplate
    /// Where the model came from.
    public let source: URL

    public init(model: any CausalLanguageModel, tokenizer: Tokenizer?, chatTemplate: ChatTemplate, source: URL) {
        self.model = model; self.tokenizer = tokenizer; self.chatTemplate = chatTemplate; self.source = source
    }

    /// Loads `url` (an HF directory of either architecture or a `.gguf` file) with its tokenizer and chat template.
    ///
    /// - Parameters:
    ///   - precision: weights in memory (nil: Float32 for directories, the file's blocks for GGUF).
    ///   - tokenizerFile: a tokenizer.json to use instead of the model's.
    ///   - template: forces a chat template kind; nil recognises the model's template (an unrecognised one is an
    ///     error that says to choose `chatml` or `plain`).
    ///   - lora: a PEFT LoRA adapter directory merged into the weights (see ``ModelLoader/load(_:precision:lora:)``);
    ///     the tokenizer and chat template stay the base model's.
    public static func load(_ url: URL, precision: WeightPrecision? = nil, tokenizerFile: URL? = nil,
                            template: ChatTemplate.Kind? = nil, lora: URL? = nil) throws -> ModelBundle {
        let model: any CausalLanguageModel
        var tokenizer: Tokenizer?
        var templateText: String?
        if ModelLoader.isGGUF(url) {
            let file = try GGUFFile(url: url)  // opened once for the weights and the tokenizer
            model = try ModelLoader.load(gguf: file, precision: precision, lora: lora)
            let metadata = try GGUFImport.tokenizerMetadata(file)
            tokenizer = try tokenizerFile.map { try Tokenizer(contentsOf: $0) } ?? metadata.makeTokenizer(preTokenizer: GGUFImport.preTokenizer)
            templateText = metadata.chatTemplate
        } else {
            model = try ModelLoader.load(url, precision: precision, lora: lora)
            let file = tokenizerFile ?? url.appendingPathComponent("tokenizer.json")
            if FileManager.default.fileExists(atPath: file.path) { tokenizer = try Tokenizer(contentsOf: file) }
            templateText = try chatTemplateText(directory: url)
        }
        let chat: ChatTemplate
        do { chat = try ChatTemplate(template: templateText, force: template) } catch {
            throw ConfigurationError(file: url.path, message: "\(error) (choose one with --template chatml|plain)")
        }
        if let tokenizer, tokenizer.vocabularySize > model.vocabularySize {
            throw ConfigurationError(file: url.path, message: "the tokenizer has \(tokenizer.vocabularySize) tokens, the model only \(model.vocabularySize)")
        }
        return ModelBundle(model: model, tokenizer: tokenizer, chatTemplate: chat, source: url)
    }

    /// `chat_template` of `directory/tokenizer_config.json` (or of `chat_template.jinja` beside it), if any.
    public static func chatTemplateText(directory: URL) throws -> String? {
        do { return try ChatTemplate.templateText(directory: directory) } catch {
            throw ConfigurationError(file: directory.appendingPathComponent("tokenizer_config.json").path, message: "not a JSON object")
        }
    }

    /// The generation options for this model: its eos, or the chat template's end-of-turn token when the template
    /// has one (so that answers stop at the end of the assistant's turn), and its pad id.
    public func generationOptions(maxNewTokens: Int) -> GenerationOptions {
        var o = GenerationOptions(model: model, maxNewTokens: maxNewTokens)
        if let tokenizer { o.stopAtEndOfTurn(of: chatTemplate, tokenizer: tokenizer) }
        return o
    }

    /// Parses `--weights` (native, f32, f16, bf16 and their long names); nil stays nil (the model's default).
    public static func weights(named name: String?) throws -> WeightPrecision? {
        guard let name else { return nil }
        guard let p = WeightPrecision(name: name) else { throw OptionError("--weights must be native, f32, f16 or bf16, got '\(name)'") }
        return p
    }

    /// Parses `--template` (chatml or plain); nil stays nil (the model's own template).
    public static func template(named name: String?) throws -> ChatTemplate.Kind? {
        guard let name else { return nil }
        guard let k = ChatTemplate.Kind(rawValue: name) else { throw OptionError("--template must be chatml or plain, got '\(name)'") }
        return k
    }

    /// A tool option that does not parse.
    public struct OptionError: Error, CustomStringConvertible {
        public let description: String
        init(_ message: String) { description = message }
    }

    /// `text` rendered as one user turn with the chat template (as is with `.plain`).
    public func prompt(user text: String) -> String {
        chatTemplate.kind == .plain ? text : chatTemplate.render([ChatMessage(role: "user", content: text)], addGenerationPrompt: true)
    }
}

extension GenerationOptions {
    /// Ends generation at the chat template's end-of-turn token (ChatML's `<|im_end|>`) when the template has one
    /// and the tokenizer knows it, so that an answer stops where the assistant's turn ends.
    public mutating func stopAtEndOfTurn(of template: ChatTemplate, tokenizer: Tokenizer) {
        if let end = template.endOfTurn, let id = tokenizer.id(forToken: end) { eosTokenId = Int32(id) }
    }
}

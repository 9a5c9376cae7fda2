// Chat templates we render without a Jinja engine: ChatML (as SmolLM2's template writes it, with the default system
// turn it inserts) and plain text. Reference: transformers `apply_chat_template` on SmolLM2-135M-Instruct's template.

/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable {
    /// `system`, `user`, `assistant` (any string is written as is).
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A chat template string that is not one of the kinds this library renders.
public enum ChatTemplateError: Error, CustomStringConvertible, Equatable {
    /// The template is not ChatML; `excerpt` is its start. Pass `force: .chatml` or `.plain` to override.
    case unrecognized(excerpt: String)

    public var description: String {
        switch self {
        case let .unrecognized(excerpt):
            return "unrecognized chat template (not ChatML: no <|im_start|> ... <|im_end|> turns): \(excerpt.debugDescription); "
                + "pass force: .chatml or .plain to choose a format"
        }
    }
}

/// Renders conversations as a model's chat template does.
///
/// ChatML, for SmolLM2's template and `addGenerationPrompt: true`:
///
///     [user: "Hi"]  →  "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
///                      + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
///
/// The default system turn is the one the template's text writes when the first message is not a system message
/// (none when the template has none). `.plain` has no turn markup: it is reported when a model has no template.
public struct ChatTemplate: Sendable, Equatable {
    /// The formats rendered here.
    public enum Kind: String, Sendable {
        /// `<|im_start|>ROLE\nCONTENT<|im_end|>\n` turns; generation prompt `<|im_start|>assistant\n`.
        case chatml
        /// No template: message contents joined by newlines, no markup (instruction formats are handled elsewhere).
        case plain
    }

    public static let imStart = "<|im_start|>"
    public static let imEnd = "<|im_end|>"

    public let kind: Kind
    /// The system message written before a conversation whose first message is not a system message.
    public let defaultSystemPrompt: String?

    /// The template of a model: nil (or empty) is `.plain`; a ChatML template is recognised by its turns
    /// (`<|im_start|>` and `<|im_end|>`) and its default system turn read from it. `force` skips recognition
    /// (with `.chatml`, a default system prompt is still read from `template` when it has one).
    public init(template: String?, force: Kind? = nil) throws {
        let text = template ?? ""
        switch force {
        case .plain?:
            self.init(kind: .plain, defaultSystemPrompt: nil)
        case .chatml?:
            self.init(kind: .chatml, defaultSystemPrompt: Self.defaultSystem(in: text))
        case nil:
            if text.isEmpty {
                self.init(kind: .plain, defaultSystemPrompt: nil)
            } else if text.contains(Self.imStart) && text.contains(Self.imEnd) {
                self.init(kind: .chatml, defaultSystemPrompt: Self.defaultSystem(in: text))
            } else {
                throw ChatTemplateError.unrecognized(excerpt: String(text.prefix(120)))
            }
        }
    }

    /// A template of the given kind, with an optional default system turn.
    public init(kind: Kind, defaultSystemPrompt: String? = nil) {
        self.kind = kind
        self.defaultSystemPrompt = kind == .chatml ? defaultSystemPrompt : nil
    }

    /// The token string that ends a turn (generation stops there): `<|im_end|>` for ChatML, nil for plain.
    public var endOfTurn: String? { kind == .chatml ? Self.imEnd : nil }

    /// The prompt text of `messages`, as transformers' `apply_chat_template(messages, tokenize=False,
    /// add_generation_prompt:)`; with `addGenerationPrompt` it ends with the opening of the assistant's turn.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        switch kind {
        case .plain:
            return messages.map(\.content).joined(separator: "\n")
        case .chatml:
            var out = ""
            if let system = defaultSystemPrompt, let first = messages.first, first.role != "system" {
                out += Self.turn(role: "system", content: system)
            }
            for m in messages { out += Self.turn(role: m.role, content: m.content) }
            if addGenerationPrompt { out += Self.imStart + "assistant\n" }
            return out
        }
    }

    /// Convenience for `(role, content)` pairs.
    public func render(_ messages: [(role: String, content: String)], addGenerationPrompt: Bool) -> String {
        render(messages.map { ChatMessage(role: $0.role, content: $0.content) }, addGenerationPrompt: addGenerationPrompt)
    }

    private static func turn(role: String, content: String) -> String {
        imStart + role + "\n" + content + imEnd + "\n"
    }

    /// The literal default system turn of a ChatML template: the text between `<|im_start|>system` + newline
    /// and `<|im_end|>` inside one quoted string of the template (a newline may be written as `\n` there).
    /// A system turn built from variables (`+ message['content'] +`) is not a default and gives nil.
    static func defaultSystem(in template: String) -> String? {
        for newline in ["\n", "\\n"] {
            let opening = imStart + "system" + newline
            var search = template.startIndex..<template.endIndex
            while let start = template.range(of: opening, range: search) {
                search = start.upperBound..<template.endIndex
                guard let end = template.range(of: imEnd, range: start.upperBound..<template.endIndex) else { break }
                let body = String(template[start.upperBound..<end.lowerBound])
                // Inside one string literal: no quote characters or template syntax in between.
                if body.contains(where: { $0 == "'" || $0 == "\"" }) || body.contains("{{") || body.contains("{%") { continue }
                return unescapeJinja(body)
            }
        }
        return nil
    }

    /// Jinja string-literal escapes that can appear in a system prompt (`\n`, `\t`, `\\`, `\'`, `\"`).
    private static func unescapeJinja(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out = ""
        var escaped = false
        for c in s {
            if escaped {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                default: out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        if escaped { out.append("\\") }
        return out
    }
}

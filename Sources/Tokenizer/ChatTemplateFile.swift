// Where HF model directories keep their chat template: `chat_template.jinja`, or the `chat_template` string of
// `tokenizer_config.json` (transformers reads them in that order).
import Foundation

extension ChatTemplate {
    /// The chat template text of a model directory, or nil when it has none. A tokenizer_config.json that is not a
    /// JSON object is an error naming it.
    public static func templateText(directory: URL) throws -> String? {
        let jinja = directory.appendingPathComponent("chat_template.jinja")
        if let text = try? String(contentsOf: jinja, encoding: .utf8) { return text }
        let url = directory.appendingPathComponent("tokenizer_config.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TokenizerError.malformed(field: url.path, reason: "not a JSON object")
        }
        return object["chat_template"] as? String
    }
}

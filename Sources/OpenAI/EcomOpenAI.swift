// EcomOpenAI: the parts of OpenAI's HTTP API that Ecom serves and calls (chat/completions, completions, models):
// request and response types with OpenAI's snake_case keys, the error body, server-sent events and a retrying
// client. Reference: OpenAI API reference (platform.openai.com/docs/api-reference), as the `openai` Python client
// speaks it. Foundation only (FoundationNetworking on Linux).
//
// This file holds the namespace and the message type; requests, responses, errors, events and the client each live
// in a file of their own.
import Foundation

/// OpenAI's API: the types that travel over HTTP.
public enum OpenAI {}

extension OpenAI {
    /// One chat message.
    ///
    /// Decoding accepts `content` as a string, as an array of text parts (`[{"type": "text", "text": "…"}]`, joined
    /// without a separator, as OpenAI concatenates them) or as `null` (read as ""). A part of another type (an image,
    /// audio) is an error naming it. Encoding always writes `content` as a string.
    public struct Message: Codable, Sendable, Equatable {
        public var role: String
        public var content: String

        public init(role: String, content: String) { self.role = role; self.content = content }

        public static func system(_ content: String) -> Message { Message(role: "system", content: content) }
        public static func user(_ content: String) -> Message { Message(role: "user", content: content) }
        public static func assistant(_ content: String) -> Message { Message(role: "assistant", content: content) }

        /// The roles a request may carry.
        public static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool", "function"]

        enum CodingKeys: String, CodingKey { case role, content }

        struct Part: Decodable {
            var type: String
            var text: String?
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            role = try c.decode(String.self, forKey: .role)
            guard Message.roles.contains(role) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .role, in: c,
                    debugDescription: "'\(role)' is not one of \(Message.roles.sorted().map { "'\($0)'" }.joined(separator: ", "))")
            }
            if try !c.contains(.content) || c.decodeNil(forKey: .content) {
                content = ""
            } else if let s = try? c.decode(String.self, forKey: .content) {
                content = s
            } else {
                let parts = try c.decode([Part].self, forKey: .content)
                var text = ""
                for p in parts {
                    guard p.type == "text", let t = p.text else {
                        throw DecodingError.dataCorruptedError(
                            forKey: .content, in: c,
                            debugDescription: "content parts of type '\(p.type)' are not supported (only 'text')")
                    }
                    text += t
                }
                content = text
            }
        }
    }

    /// Token counts of one request.
    public struct Usage: Codable, Sendable, Equatable {
        public var promptTokens: Int
        public var completionTokens: Int
        public var totalTokens: Int

        public init(promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil) {
            self.promptTokens = promptTokens; self.completionTokens = completionTokens
            self.totalTokens = totalTokens ?? promptTokens + completionTokens
        }

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
        }
    }

    /// `stream_options`: with `include_usage`, a streamed answer ends with a chunk carrying the usage and no choices.
    public struct StreamOptions: Codable, Sendable, Equatable {
        public var includeUsage: Bool?
        public init(includeUsage: Bool? = nil) { self.includeUsage = includeUsage }
        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    /// The `finish_reason` values Ecom writes.
    public enum FinishReason {
        /// The model ended its answer or met a stop string.
        public static let stop = "stop"
        /// The answer reached `max_tokens`.
        public static let length = "length"
    }

    /// A JSON encoder for the API's bodies: keys sorted (stable bytes), slashes unescaped.
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// A value's JSON (the API's types cannot fail to encode: they hold strings, numbers and arrays only).
    public static func json(_ value: some Encodable) -> Data {
        do { return try encoder().encode(value) } catch {
            preconditionFailure("OpenAI.json: \(error)")
        }
    }
}

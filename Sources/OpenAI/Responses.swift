// Responses: chat completions and their stream chunks, text completions and their chunks, the model list. Encoded
// with OpenAI's keys (`finish_reason` written as null while a stream runs); decoding is tolerant: unknown fields are
// ignored and `object`/`created` default when a server leaves them out.
import Foundation

extension OpenAI {
    /// A `chat.completion`.
    public struct ChatCompletion: Codable, Sendable, Equatable {
        public struct Choice: Codable, Sendable, Equatable {
            public var index: Int
            public var message: Message
            /// "stop" or "length".
            public var finishReason: String?

            public init(index: Int = 0, message: Message, finishReason: String?) {
                self.index = index; self.message = message; self.finishReason = finishReason
            }

            enum CodingKeys: String, CodingKey { case index, message, finishReason = "finish_reason" }

            public init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                index = try c.decodeIfPresent(Int.self, forKey: .index) ?? 0
                message = try c.decode(Message.self, forKey: .message)
                finishReason = try c.decodeIfPresent(String.self, forKey: .finishReason)
            }

            public func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(index, forKey: .index)
                try c.encode(message, forKey: .message)
                try c.encode(finishReason, forKey: .finishReason)
            }
        }

        public var id: String
        public var object: String
        public var created: Int
        public var model: String
        public var choices: [Choice]
        public var usage: Usage?

        public init(id: String, object: String = "chat.completion", created: Int, model: String, choices: [Choice],
                    usage: Usage? = nil) {
            self.id = id; self.object = object; self.created = created; self.model = model; self.choices = choices
            self.usage = usage
        }

        enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
            object = try c.decodeIfPresent(String.self, forKey: .object) ?? "chat.completion"
            created = try c.decodeIfPresent(Int.self, forKey: .created) ?? 0
            model = try c.decodeIfPresent(String.self, forKey: .model) ?? ""
            choices = try c.decode([Choice].self, forKey: .choices)
            usage = try c.decodeIfPresent(Usage.self, forKey: .usage)
        }
    }

    /// A `chat.completion.chunk` of a streamed chat completion.
    public struct ChatCompletionChunk: Codable, Sendable, Equatable {
        /// What a chunk adds: the role (first chunk) and a piece of content; nil fields are left out.
        public struct Delta: Codable, Sendable, Equatable {
            public var role: String?
            public var content: String?
            public init(role: String? = nil, content: String? = nil) { self.role = role; self.content = content }
        }

        public struct ChunkChoice: Codable, Sendable, Equatable {
            public var index: Int
            public var delta: Delta
            /// Null until the last content chunk.
            public var finishReason: String?

            public init(index: Int = 0, delta: Delta, finishReason: String? = nil) {
                self.index = index; self.delta = delta; self.finishReason = finishReason
            }

            enum CodingKeys: String, CodingKey { case index, delta, finishReason = "finish_reason" }

            public init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                index = try c.decodeIfPresent(Int.self, forKey: .index) ?? 0
                delta = try c.decodeIfPresent(Delta.self, forKey: .delta) ?? Delta()
                finishReason = try c.decodeIfPresent(String.self, forKey: .finishReason)
            }

            public func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(index, forKey: .index)
                try c.encode(delta, forKey: .delta)
                try c.encode(finishReason, forKey: .finishReason)
            }
        }

        public var id: String
        public var object: String
        public var created: Int
        public var model: String
        /// Empty in the usage chunk that ends a stream with `stream_options.include_usage`.
        public var choices: [ChunkChoice]
        public var usage: Usage?

        public init(id: String, object: String = "chat.completion.chunk", created: Int, model: String,
                    choices: [ChunkChoice], usage: Usage? = nil) {
            self.id = id; self.object = object; self.created = created; self.model = model; self.choices = choices
            self.usage = usage
        }

        enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
            object = try c.decodeIfPresent(String.self, forKey: .object) ?? "chat.completion.chunk"
            created = try c.decodeIfPresent(Int.self, forKey: .created) ?? 0
            model = try c.decodeIfPresent(String.self, forKey: .model) ?? ""
            choices = try c.decodeIfPresent([ChunkChoice].self, forKey: .choices) ?? []
            usage = try c.decodeIfPresent(Usage.self, forKey: .usage)
        }
    }

    /// One choice of a text completion (whole, or a piece in a stream).
    public struct CompletionChoice: Codable, Sendable, Equatable {
        public var index: Int
        public var text: String
        public var finishReason: String?

        public init(index: Int = 0, text: String, finishReason: String?) {
            self.index = index; self.text = text; self.finishReason = finishReason
        }

        enum CodingKeys: String, CodingKey { case index, text, finishReason = "finish_reason" }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            index = try c.decodeIfPresent(Int.self, forKey: .index) ?? 0
            text = try c.decode(String.self, forKey: .text)
            finishReason = try c.decodeIfPresent(String.self, forKey: .finishReason)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(text, forKey: .text)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    /// A `text_completion`.
    public struct Completion: Codable, Sendable, Equatable {
        public var id: String
        public var object: String
        public var created: Int
        public var model: String
        public var choices: [CompletionChoice]
        public var usage: Usage?

        public init(id: String, object: String = "text_completion", created: Int, model: String,
                    choices: [CompletionChoice], usage: Usage? = nil) {
            self.id = id; self.object = object; self.created = created; self.model = model; self.choices = choices
            self.usage = usage
        }

        enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
            object = try c.decodeIfPresent(String.self, forKey: .object) ?? "text_completion"
            created = try c.decodeIfPresent(Int.self, forKey: .created) ?? 0
            model = try c.decodeIfPresent(String.self, forKey: .model) ?? ""
            choices = try c.decode([CompletionChoice].self, forKey: .choices)
            usage = try c.decodeIfPresent(Usage.self, forKey: .usage)
        }
    }

    /// A piece of a streamed text completion: OpenAI sends these with `object` "text_completion" too, each choice's
    /// `text` being the new text only.
    public struct CompletionChunk: Codable, Sendable, Equatable {
        public var id: String
        public var object: String
        public var created: Int
        public var model: String
        /// Empty in the usage chunk that ends a stream with `stream_options.include_usage`.
        public var choices: [CompletionChoice]
        public var usage: Usage?

        public init(id: String, object: String = "text_completion", created: Int, model: String,
                    choices: [CompletionChoice], usage: Usage? = nil) {
            self.id = id; self.object = object; self.created = created; self.model = model; self.choices = choices
            self.usage = usage
        }

        enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
            object = try c.decodeIfPresent(String.self, forKey: .object) ?? "text_completion"
            created = try c.decodeIfPresent(Int.self, forKey: .created) ?? 0
            model = try c.decodeIfPresent(String.self, forKey: .model) ?? ""
            choices = try c.decodeIfPresent([CompletionChoice].self, forKey: .choices) ?? []
            usage = try c.decodeIfPresent(Usage.self, forKey: .usage)
        }
    }

    /// One entry of `GET /v1/models`.
    public struct ModelInfo: Codable, Sendable, Equatable {
        public var id: String
        public var object: String
        public var created: Int
        public var ownedBy: String

        public init(id: String, object: String = "model", created: Int, ownedBy: String) {
            self.id = id; self.object = object; self.created = created; self.ownedBy = ownedBy
        }

        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by" }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            object = try c.decodeIfPresent(String.self, forKey: .object) ?? "model"
            created = try c.decodeIfPresent(Int.self, forKey: .created) ?? 0
            ownedBy = try c.decodeIfPresent(String.self, forKey: .ownedBy) ?? ""
        }
    }

    /// `GET /v1/models`.
    public struct ModelList: Codable, Sendable, Equatable {
        public var object: String
        public var data: [ModelInfo]

        public init(object: String = "list", data: [ModelInfo]) { self.object = object; self.data = data }

        enum CodingKeys: String, CodingKey { case object, data }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            object = try c.decodeIfPresent(String.self, forKey: .object) ?? "list"
            data = try c.decode([ModelInfo].self, forKey: .data)
        }
    }
}

// Requests of chat/completions and completions: tolerant decoding (unknown fields ignored, `stop` as a string or a
// list, `max_completion_tokens` for `max_tokens`), snake_case encoding without nil fields, and `parse`, which turns
// every problem of a request body into OpenAI's 400 error naming the parameter.
import Foundation

extension OpenAI {
    /// A `POST /v1/chat/completions` body (the fields Ecom uses; others are ignored when decoding).
    public struct ChatCompletionRequest: Codable, Sendable, Equatable {
        public var model: String
        public var messages: [Message]
        /// `max_tokens`; decoding also reads `max_completion_tokens` (OpenAI's newer name) when `max_tokens` is absent.
        public var maxTokens: Int?
        public var temperature: Double?
        public var topP: Double?
        /// Stop strings (`stop` may be a string or a list of strings in JSON; encoded as a list).
        public var stop: [String]?
        public var seed: Int?
        public var stream: Bool?
        public var n: Int?
        public var streamOptions: StreamOptions?

        public init(model: String, messages: [Message], maxTokens: Int? = nil, temperature: Double? = nil,
                    topP: Double? = nil, stop: [String]? = nil, seed: Int? = nil, stream: Bool? = nil, n: Int? = nil,
                    streamOptions: StreamOptions? = nil) {
            self.model = model; self.messages = messages; self.maxTokens = maxTokens; self.temperature = temperature
            self.topP = topP; self.stop = stop; self.seed = seed; self.stream = stream; self.n = n
            self.streamOptions = streamOptions
        }

        enum CodingKeys: String, CodingKey {
            case model, messages, temperature, stop, seed, stream, n
            case maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens", topP = "top_p"
            case streamOptions = "stream_options"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            model = try c.decode(String.self, forKey: .model)
            messages = try c.decode([Message].self, forKey: .messages)
            maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
                ?? c.decodeIfPresent(Int.self, forKey: .maxCompletionTokens)
            temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
            topP = try c.decodeIfPresent(Double.self, forKey: .topP)
            stop = try decodeStop(c, .stop)
            seed = try c.decodeIfPresent(Int.self, forKey: .seed)
            stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
            n = try c.decodeIfPresent(Int.self, forKey: .n)
            streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(model, forKey: .model)
            try c.encode(messages, forKey: .messages)
            try c.encodeIfPresent(maxTokens, forKey: .maxTokens)
            try c.encodeIfPresent(temperature, forKey: .temperature)
            try c.encodeIfPresent(topP, forKey: .topP)
            try c.encodeIfPresent(stop, forKey: .stop)
            try c.encodeIfPresent(seed, forKey: .seed)
            try c.encodeIfPresent(stream, forKey: .stream)
            try c.encodeIfPresent(n, forKey: .n)
            try c.encodeIfPresent(streamOptions, forKey: .streamOptions)
        }

        /// Decodes and validates a request body. Every problem is a 400 `invalid_request_error` naming the parameter
        /// (`param`, e.g. `messages[1].content`) and a `code` as OpenAI writes them: `missing_required_parameter`,
        /// `invalid_type`, `invalid_value`, `empty_array`, `decimal_above_max_value`, `decimal_below_min_value`,
        /// `integer_below_min_value`; a body that is not JSON names the line and column (no param, no code).
        public static func parse(_ data: Data) throws(OpenAI.APIError) -> ChatCompletionRequest {
            let r: ChatCompletionRequest
            do { r = try JSONDecoder().decode(ChatCompletionRequest.self, from: data) } catch {
                throw APIError.decoding(error, body: data)
            }
            try r.validate()
            return r
        }

        /// The checks `parse` makes after decoding: a model, at least one message, `n` = 1 and the sampling ranges.
        public func validate() throws(OpenAI.APIError) {
            guard !model.isEmpty else {
                throw .invalidRequest("You must provide a model parameter.", param: "model", code: "missing_required_parameter")
            }
            guard !messages.isEmpty else {
                throw .invalidRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                                      param: "messages", code: "empty_array")
            }
            try validateSampling(maxTokens: maxTokens, temperature: temperature, topP: topP, n: n)
        }
    }

    /// A `POST /v1/completions` body (legacy completions: a raw prompt, no chat template).
    public struct CompletionRequest: Codable, Sendable, Equatable {
        /// OpenAI's `max_tokens` when a completions request has none; `maxTokens` stays nil so that the server chooses.
        public static let defaultMaxTokens = 16

        public var model: String
        /// The prompt (JSON: a string, or a list of exactly one string).
        public var prompt: String
        public var maxTokens: Int?
        public var temperature: Double?
        public var topP: Double?
        public var stop: [String]?
        public var seed: Int?
        public var stream: Bool?
        public var n: Int?
        public var streamOptions: StreamOptions?

        public init(model: String, prompt: String, maxTokens: Int? = nil, temperature: Double? = nil, topP: Double? = nil,
                    stop: [String]? = nil, seed: Int? = nil, stream: Bool? = nil, n: Int? = nil,
                    streamOptions: StreamOptions? = nil) {
            self.model = model; self.prompt = prompt; self.maxTokens = maxTokens; self.temperature = temperature
            self.topP = topP; self.stop = stop; self.seed = seed; self.stream = stream; self.n = n
            self.streamOptions = streamOptions
        }

        enum CodingKeys: String, CodingKey {
            case model, prompt, temperature, stop, seed, stream, n
            case maxTokens = "max_tokens", topP = "top_p", streamOptions = "stream_options"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            model = try c.decode(String.self, forKey: .model)
            if let s = try? c.decode(String.self, forKey: .prompt) {
                prompt = s
            } else if !c.contains(.prompt) {
                throw DecodingError.keyNotFound(CodingKeys.prompt, .init(codingPath: c.codingPath, debugDescription: "missing"))
            } else if let list = try? c.decode([String].self, forKey: .prompt) {
                guard list.count == 1 else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .prompt, in: c,
                        debugDescription: "expected one prompt, but got \(list.count) (one prompt per request)")
                }
                prompt = list[0]
            } else {
                throw DecodingError.typeMismatch(String.self, .init(
                    codingPath: c.codingPath + [CodingKeys.prompt],
                    debugDescription: "Expected a string or an array of one string (token ids are not supported)"))
            }
            maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
            temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
            topP = try c.decodeIfPresent(Double.self, forKey: .topP)
            stop = try decodeStop(c, .stop)
            seed = try c.decodeIfPresent(Int.self, forKey: .seed)
            stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
            n = try c.decodeIfPresent(Int.self, forKey: .n)
            streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(model, forKey: .model)
            try c.encode(prompt, forKey: .prompt)
            try c.encodeIfPresent(maxTokens, forKey: .maxTokens)
            try c.encodeIfPresent(temperature, forKey: .temperature)
            try c.encodeIfPresent(topP, forKey: .topP)
            try c.encodeIfPresent(stop, forKey: .stop)
            try c.encodeIfPresent(seed, forKey: .seed)
            try c.encodeIfPresent(stream, forKey: .stream)
            try c.encodeIfPresent(n, forKey: .n)
            try c.encodeIfPresent(streamOptions, forKey: .streamOptions)
        }

        /// Decodes and validates a request body, as ``ChatCompletionRequest/parse(_:)`` does.
        public static func parse(_ data: Data) throws(OpenAI.APIError) -> CompletionRequest {
            let r: CompletionRequest
            do { r = try JSONDecoder().decode(CompletionRequest.self, from: data) } catch {
                throw APIError.decoding(error, body: data)
            }
            try r.validate()
            return r
        }

        /// A model, `n` = 1 and the sampling ranges.
        public func validate() throws(OpenAI.APIError) {
            guard !model.isEmpty else {
                throw .invalidRequest("You must provide a model parameter.", param: "model", code: "missing_required_parameter")
            }
            try validateSampling(maxTokens: maxTokens, temperature: temperature, topP: topP, n: n)
        }
    }
}

/// `stop`: absent or null (nil), a string (one stop string) or a list of strings.
private func decodeStop<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> [String]? {
    guard c.contains(key), try !c.decodeNil(forKey: key) else { return nil }
    if let s = try? c.decode(String.self, forKey: key) { return [s] }
    if let list = try? c.decode([String].self, forKey: key) { return list }
    throw DecodingError.typeMismatch([String].self, .init(
        codingPath: c.codingPath + [key], debugDescription: "Expected a string or an array of strings"))
}

/// The ranges OpenAI documents: temperature in [0, 2], top_p in (0, 1], max_tokens ≥ 1; Ecom answers one choice.
private func validateSampling(maxTokens: Int?, temperature: Double?, topP: Double?, n: Int?) throws(OpenAI.APIError) {
    if let t = temperature {
        if t < 0 {
            throw .invalidRequest("Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got \(t) instead.",
                                  param: "temperature", code: "decimal_below_min_value")
        }
        if t > 2 {
            throw .invalidRequest("Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got \(t) instead.",
                                  param: "temperature", code: "decimal_above_max_value")
        }
    }
    if let p = topP {
        if p <= 0 {
            throw .invalidRequest("Invalid 'top_p': decimal below minimum value. Expected a value > 0, but got \(p) instead.",
                                  param: "top_p", code: "decimal_below_min_value")
        }
        if p > 1 {
            throw .invalidRequest("Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got \(p) instead.",
                                  param: "top_p", code: "decimal_above_max_value")
        }
    }
    if let m = maxTokens, m < 1 {
        throw .invalidRequest("Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got \(m) instead.",
                              param: "max_tokens", code: "integer_below_min_value")
    }
    if let n, n != 1 {
        throw .invalidRequest("Invalid 'n': only n = 1 is supported, but got \(n).", param: "n", code: "invalid_value")
    }
}

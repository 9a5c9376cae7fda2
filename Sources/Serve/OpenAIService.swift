// The OpenAI-compatible API over a BatchEngine, without sockets: a request (method, path, bearer header, body) in, a
// reply (JSON or a stream of server-sent events) out. `ecom-serve` puts it behind Hummingbird; tests call it directly.
// Routes and shapes follow OpenAI's API reference (chat/completions, completions, models) and llama.cpp's server
// (`GET /health`; one model answers whatever model a request names).
import EcomLoader
import EcomModel
import EcomOpenAI
import EcomTokenizer
import Foundation

/// What the service answers.
public enum ServiceReply: Sendable {
    /// A JSON body with its status.
    case json(status: Int, body: Data)
    /// `text/event-stream` chunks (status 200), ending with `data: [DONE]`.
    case events(AsyncStream<Data>)

    /// The status code (200 for a stream).
    public var status: Int {
        if case .json(let status, _) = self { return status }
        return 200
    }
}

/// Settings of the service.
public struct ServeOptions: Sendable {
    /// The id `GET /v1/models` lists and responses name.
    public var modelName: String
    /// Requests must carry `Authorization: Bearer <key>` when set (`/health` excepted).
    public var apiKey: String?
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes: Int = 1 << 20
    /// Prompt plus completion tokens at most per request.
    public var contextLength: Int = 2048

    public init(modelName: String, apiKey: String? = nil, maxBodyBytes: Int = 1 << 20, contextLength: Int = 2048) {
        self.modelName = modelName; self.apiKey = apiKey; self.maxBodyBytes = maxBodyBytes; self.contextLength = contextLength
    }
}

/// The OpenAI-compatible endpoints of one model.
public final class OpenAIService: Sendable {
    public let bundle: ModelBundle
    public let engine: BatchEngine
    public let options: ServeOptions
    let tokenizer: Tokenizer
    let created = Int(Date().timeIntervalSince1970)

    /// A service for `bundle` (which must have a tokenizer) generating through `engine`.
    public init(bundle: ModelBundle, engine: BatchEngine, options: ServeOptions) throws {
        guard let tokenizer = bundle.tokenizer else {
            throw OpenAI.APIError.server("\(bundle.source.path): the model has no tokenizer.json; the server needs one")
        }
        self.bundle = bundle; self.engine = engine; self.options = options; self.tokenizer = tokenizer
    }

    /// Answers one HTTP request. `authorization` is the `Authorization` header's value, if any.
    public func handle(method: String, path: String, authorization: String?, body: Data) async -> ServiceReply {
        switch prepare(method: method, path: path, authorization: authorization, body: body) {
        case .reply(let reply): return reply
        case .generate(let job):
            do { return try await run(job) } catch { return Self.errorReply(error) }
        }
    }

    /// An error as OpenAI's error body with its status (anything but an ``OpenAI/APIError`` is a 500).
    static func errorReply(_ error: any Error) -> ServiceReply {
        let e = error as? OpenAI.APIError ?? OpenAI.APIError.server("\(error)")
        return .json(status: e.status, body: e.body())
    }

    /// What a request comes to once read and checked, before any generation: an immediate reply (an error, the model
    /// list, the health counters) or a generation job.
    public enum Prepared: Sendable {
        case reply(ServiceReply)
        case generate(Job)
    }

    /// Reads and checks one request (route, method, key, body size, JSON body, parameters, prompt rendering and
    /// tokenization, context length) without generating; `handle` runs what it returns. Never throws: every problem
    /// is a reply with its status.
    public func prepare(method: String, path: String, authorization: String?, body: Data) -> Prepared {
        let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        do {
            if route == "/health" {
                guard method == "GET" else { throw OpenAI.APIError.methodNotAllowed("\(method) \(route): use GET") }
                let s = engine.currentStats
                return .reply(.json(status: 200, body: OpenAI.json(Health(status: "ok", running: s.running, waiting: s.waiting,
                                                                          finished: s.finished, cancelled: s.cancelled,
                                                                          generatedTokens: s.generatedTokens))))
            }
            try authorize(authorization)
            guard body.count <= options.maxBodyBytes else {
                throw OpenAI.APIError.tooLarge("The request body has \(body.count) bytes; this server accepts at most \(options.maxBodyBytes).")
            }
            switch (route.hasSuffix("/") ? String(route.dropLast()) : route) {
            case "/v1/models":
                guard method == "GET" else { throw OpenAI.APIError.methodNotAllowed("\(method) \(route): use GET") }
                return .reply(.json(status: 200, body: OpenAI.json(OpenAI.ModelList(data: [
                    OpenAI.ModelInfo(id: options.modelName, created: created, ownedBy: "ecom")]))))
            case "/v1/chat/completions":
                guard method == "POST" else { throw OpenAI.APIError.methodNotAllowed("\(method) \(route): use POST") }
                return .generate(try chatJob(OpenAI.ChatCompletionRequest.parse(body)))
            case "/v1/completions":
                guard method == "POST" else { throw OpenAI.APIError.methodNotAllowed("\(method) \(route): use POST") }
                return .generate(try completionJob(OpenAI.CompletionRequest.parse(body)))
            default:
                throw OpenAI.APIError.notFound("Unknown request URL: \(method) \(route). Routes: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health.",
                                               code: "unknown_url")
            }
        } catch {
            return .reply(Self.errorReply(error))
        }
    }

    /// `GET /health`: the engine's counters (requests running and waiting; finished, cancelled and tokens so far).
    struct Health: Encodable {
        var status: String
        var running: Int, waiting: Int, finished: Int, cancelled: Int, generatedTokens: Int
        enum CodingKeys: String, CodingKey {
            case status, running, waiting, finished, cancelled, generatedTokens = "generated_tokens"
        }
    }

    func authorize(_ header: String?) throws {
        guard let key = options.apiKey else { return }
        guard let header, header.hasPrefix("Bearer ") else {
            throw OpenAI.APIError(status: 401, message: "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
                                  type: "invalid_request_error", code: "missing_api_key")
        }
        guard header.dropFirst("Bearer ".count).trimmingCharacters(in: .whitespaces) == key else {
            throw OpenAI.APIError.authentication("Incorrect API key provided.")
        }
    }

    // MARK: Requests to generation

    /// One request's generation settings, shared by both endpoints.
    public struct Job: Sendable {
        /// Chat completion (true) or legacy completion.
        public var chat: Bool
        /// The prompt's token ids (chat template applied).
        public var prompt: [Int32]
        /// What the engine is given.
        public var request: BatchEngine.Request
        /// Stop strings, cut from the text as OpenAI does.
        public var stop: [String]
        /// Server-sent events instead of one JSON body.
        public var stream: Bool
        /// A last chunk with the token counts (`stream_options.include_usage`).
        public var includeUsage: Bool
    }

    func chatJob(_ r: OpenAI.ChatCompletionRequest) throws -> Job {
        let messages = r.messages.map { ChatMessage(role: $0.role == "developer" ? "system" : $0.role, content: $0.content) }
        let text = bundle.chatTemplate.kind == .plain
            ? messages.map(\.content).joined(separator: "\n")
            : bundle.chatTemplate.render(messages, addGenerationPrompt: true)
        let prompt = tokenizer.encode(text, addSpecialTokens: bundle.chatTemplate.kind == .plain).map(Int32.init)
        var end = Set(bundle.model.specialTokens.eos)
        if let turn = bundle.chatTemplate.endOfTurn, let id = tokenizer.id(forToken: turn) { end.insert(Int32(id)) }
        return try makeJob(chat: true, prompt: prompt, param: "messages", maxTokens: r.maxTokens, temperature: r.temperature, topP: r.topP,
                              seed: r.seed, stop: r.stop, endIds: end, stream: r.stream, includeUsage: r.streamOptions?.includeUsage)
    }

    func completionJob(_ r: OpenAI.CompletionRequest) throws -> Job {
        let prompt = tokenizer.encode(r.prompt, addSpecialTokens: true).map(Int32.init)
        return try makeJob(chat: false, prompt: prompt, param: "prompt", maxTokens: r.maxTokens ?? OpenAI.CompletionRequest.defaultMaxTokens,
                              temperature: r.temperature, topP: r.topP, seed: r.seed, stop: r.stop,
                              endIds: Set(bundle.model.specialTokens.eos), stream: r.stream, includeUsage: r.streamOptions?.includeUsage)
    }

    func makeJob(chat: Bool, prompt: [Int32], param: String, maxTokens: Int?, temperature: Double?, topP: Double?, seed: Int?,
                 stop: [String]?, endIds: Set<Int32>, stream: Bool?, includeUsage: Bool?) throws -> Job {
        guard !prompt.isEmpty else { throw OpenAI.APIError.invalidRequest("The prompt encodes to no tokens.", param: param, code: "invalid_value") }
        let context = options.contextLength
        let budget = maxTokens ?? (context - prompt.count)
        // Compared without adding: max_tokens comes from the client and may be as large as Int.max.
        if max(budget, 1) > context - prompt.count {
            let requested = prompt.count.addingReportingOverflow(max(budget, 1))
            throw OpenAI.APIError.invalidRequest(
                "This model's maximum context length is \(context) tokens. However, you requested \(requested.overflow ? "more than \(Int.max)" : String(requested.partialValue)) tokens (\(prompt.count) in the \(param), \(max(budget, 1)) in the completion). Please reduce the length of the \(param) or completion.",
                param: param, code: "context_length_exceeded")
        }
        var sampling: SamplingOptions?
        let t = temperature ?? 1  // OpenAI's default temperature
        if t > 0 {
            sampling = SamplingOptions(temperature: Float(t), topK: 0, topP: Float(topP ?? 1),
                                       seed: seed.map { UInt64(bitPattern: Int64($0)) } ?? UInt64.random(in: 0...UInt64.max))
        }
        let stops = (stop ?? []).filter { !$0.isEmpty }
        let tok = tokenizer
        let stopStrings = stops.isEmpty ? nil : StopStrings(stops) { tok.decode($0.map(Int.init), skipSpecialTokens: true) }
        return Job(chat: chat, prompt: prompt, request: BatchEngine.Request(promptIds: prompt, maxTokens: budget, sampling: sampling, endIds: endIds, stop: stopStrings),
                   stop: stops, stream: stream ?? false, includeUsage: includeUsage ?? false)
    }

    func submit(_ job: Job) throws -> AsyncStream<BatchEngine.Event> {
        do { return try engine.submit(job.request) } catch {
            switch error {
            case .queueFull: throw OpenAI.APIError.rateLimited("The server is busy: \(error). Retry later.")
            case .invalid(let m): throw OpenAI.APIError.invalidRequest(m)
            case .shutDown: throw OpenAI.APIError.unavailable("The server is shutting down.")
            }
        }
    }

    func run(_ job: Job) async throws -> ServiceReply {
        let chat = job.chat
        let events = try submit(job)
        let id = (chat ? "chatcmpl-" : "cmpl-") + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24).lowercased()
        let tok = tokenizer
        let decode: @Sendable ([Int32]) -> String = { tok.decode($0.map(Int.init), skipSpecialTokens: true) }
        if job.stream { return .events(stream(events, job: job, id: id, chat: chat, decode: decode)) }
        // One JSON body when generation ends. A cancelled caller (a client that went away) ends the iteration, and
        // with it the request's generation.
        var ids: [Int32] = []
        var reason = BatchEngine.FinishReason.cancelled
        for await e in events {
            switch e {
            case .token(let t): ids.append(t)
            case .finished(let r): reason = r
            }
        }
        guard reason != .cancelled else {
            throw OpenAI.APIError(status: 499, message: "The request was cancelled.", type: "invalid_request_error", code: "cancelled")
        }
        let text = TextStream.cut(decode(ids), at: job.stop)
        let usage = OpenAI.Usage(promptTokens: job.prompt.count, completionTokens: ids.count)
        let now = Int(Date().timeIntervalSince1970)
        let body = chat
            ? OpenAI.json(OpenAI.ChatCompletion(id: id, created: now, model: options.modelName, choices: [
                .init(message: .assistant(text), finishReason: reason.rawValue)], usage: usage))
            : OpenAI.json(OpenAI.Completion(id: id, created: now, model: options.modelName, choices: [
                .init(text: text, finishReason: reason.rawValue)], usage: usage))
        return .json(status: 200, body: body)
    }

    /// Server-sent events as OpenAI streams them: a first chunk with the role (chat), content deltas, a last chunk
    /// with `finish_reason`, the usage chunk when asked for (`stream_options.include_usage`), then `[DONE]`.
    func stream(_ events: AsyncStream<BatchEngine.Event>, job: Job, id: String, chat: Bool,
                decode: @escaping @Sendable ([Int32]) -> String) -> AsyncStream<Data> {
        let model = options.modelName
        let created = Int(Date().timeIntervalSince1970)
        func chunk(_ delta: OpenAI.ChatCompletionChunk.Delta?, _ text: String?, finish: String?, usage: OpenAI.Usage? = nil, empty: Bool = false) -> Data {
            if chat {
                return OpenAI.sseEvent(OpenAI.ChatCompletionChunk(id: id, created: created, model: model,
                                                                  choices: empty ? [] : [.init(delta: delta ?? .init(), finishReason: finish)], usage: usage))
            }
            return OpenAI.sseEvent(OpenAI.CompletionChunk(id: id, created: created, model: model,
                                                          choices: empty ? [] : [.init(text: text ?? "", finishReason: finish)], usage: usage))
        }
        return AsyncStream { continuation in
            let task = Task {
                var text = TextStream(stop: job.stop, decode: decode)
                var count = 0
                if chat { continuation.yield(chunk(.init(role: "assistant", content: ""), nil, finish: nil)) }
                for await e in events {
                    switch e {
                    case .token(let t):
                        count += 1
                        let delta = text.append(t)
                        if !delta.isEmpty { continuation.yield(chunk(.init(content: delta), delta, finish: nil)) }
                    case .finished(let reason):
                        guard reason != .cancelled else { continuation.finish(); return }
                        let rest = text.finish()
                        if !rest.isEmpty { continuation.yield(chunk(.init(content: rest), rest, finish: nil)) }
                        continuation.yield(chunk(.init(), "", finish: reason.rawValue))
                        if job.includeUsage {
                            continuation.yield(chunk(nil, nil, finish: nil, usage: OpenAI.Usage(promptTokens: job.prompt.count, completionTokens: count), empty: true))
                        }
                        continuation.yield(OpenAI.sseDone)
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

// The OpenAI-compatible service without sockets: greedy answers equal the model's lone generation of the same
// rendered prompt, streams add up to the plain answer, and every bad request gets OpenAI's error shape and status.
import EcomLoader
import EcomModel
import EcomOpenAI
import EcomServe
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing

@Suite struct OpenAIServiceTests {
    static func service(apiKey: String? = nil, maxBatch: Int = 4, maxQueue: Int = 8, context: Int = 256, maxBody: Int = 4096) throws -> OpenAIService {
        let bundle = TinyServeModel.bundle
        return try OpenAIService(bundle: bundle, engine: BatchEngine(model: bundle.model, maxBatch: maxBatch, maxQueue: maxQueue),
                                 options: ServeOptions(modelName: "tiny", apiKey: apiKey, maxBodyBytes: maxBody, contextLength: context))
    }

    static func json(_ reply: ServiceReply) -> (Int, [String: Any]) {
        guard case .json(let status, let body) = reply else { Issue.record("expected a JSON reply"); return (0, [:]) }
        return (status, (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:])
    }

    static func error(_ reply: ServiceReply) -> (status: Int, type: String?, param: String?, code: String?) {
        let (status, obj) = json(reply)
        let e = obj["error"] as? [String: Any] ?? [:]
        return (status, e["type"] as? String, e["param"] as? String, e["code"] as? String)
    }

    static func body(_ obj: [String: Any]) -> Data { try! JSONSerialization.data(withJSONObject: obj) }

    /// What the model itself generates greedily for `text` (encoded as the service encodes a completions prompt).
    static func localGreedy(_ text: String, maxTokens: Int) -> String {
        let b = TinyServeModel.bundle, tok = b.tokenizer!
        let ids = tok.encode(text, addSpecialTokens: true).map(Int32.init)
        let out = b.model.generate(prompts: [ids], options: GenerationOptions(model: b.model, maxNewTokens: maxTokens))[0]
        return tok.decode(out.map(Int.init), skipSpecialTokens: true)
    }

    @Test func greedyCompletionEqualsLocalGeneration() async throws {
        let s = try Self.service()
        defer { s.engine.shutDown() }
        for prompt in ["hello world", "the cat sat on", "a"] {
            let (status, obj) = Self.json(await s.handle(method: "POST", path: "/v1/completions", authorization: nil,
                                                         body: Self.body(["model": "anything", "prompt": prompt, "max_tokens": 9, "temperature": 0])))
            #expect(status == 200)
            let choice = (obj["choices"] as? [[String: Any]])?.first
            #expect(choice?["text"] as? String == Self.localGreedy(prompt, maxTokens: 9), "prompt \(prompt)")
            let usage = obj["usage"] as? [String: Int]
            #expect(usage?["prompt_tokens"] == TinyServeModel.bundle.tokenizer!.encode(prompt, addSpecialTokens: true).count)
            #expect(obj["object"] as? String == "text_completion" && obj["model"] as? String == "tiny")
        }
    }

    @Test func streamedChatAddsUpToThePlainAnswer() async throws {
        let s = try Self.service()
        defer { s.engine.shutDown() }
        let request: [String: Any] = ["model": "tiny", "messages": [["role": "user", "content": "the cat sat on"]],
                                      "max_tokens": 12, "temperature": 0]
        let (status, plain) = Self.json(await s.handle(method: "POST", path: "/v1/chat/completions", authorization: nil, body: Self.body(request)))
        #expect(status == 200)
        let choice = (plain["choices"] as? [[String: Any]])?.first
        let answer = (choice?["message"] as? [String: Any])?["content"] as? String
        #expect(answer != nil && choice?["finish_reason"] as? String == "length")

        var streaming = request
        streaming["stream"] = true
        streaming["stream_options"] = ["include_usage": true]
        guard case .events(let events) = await s.handle(method: "POST", path: "/v1/chat/completions", authorization: nil, body: Self.body(streaming)) else {
            Issue.record("expected a stream"); return
        }
        var bytes = Data()
        for await chunk in events { bytes += chunk }
        let parsed = OpenAI.SSEParser.events(in: bytes)
        #expect(parsed.last?.isDone == true)
        let chunks = try parsed.dropLast().map { try $0.decode(OpenAI.ChatCompletionChunk.self) }
        #expect(chunks.first?.choices.first?.delta.role == "assistant")
        #expect(chunks.compactMap { $0.choices.first?.delta.content }.joined() == answer)
        #expect(chunks.compactMap { $0.choices.first?.finishReason }.last == "length")
        #expect(chunks.last?.usage?.completionTokens == 12)
    }

    @Test func modelsAndHealth() async throws {
        let s = try Self.service(apiKey: "k")
        defer { s.engine.shutDown() }
        let (hs, health) = Self.json(await s.handle(method: "GET", path: "/health", authorization: nil, body: Data()))
        #expect(hs == 200 && health["status"] as? String == "ok")
        let (ms, models) = Self.json(await s.handle(method: "GET", path: "/v1/models", authorization: "Bearer k", body: Data()))
        #expect(ms == 200 && ((models["data"] as? [[String: Any]])?.first?["id"] as? String) == "tiny")
    }

    @Test func errorsHaveOpenAIsShapeAndStatus() async throws {
        let s = try Self.service(apiKey: "secret", maxBody: 300)
        defer { s.engine.shutDown() }
        func post(_ path: String, _ body: Data, auth: String? = "Bearer secret") async -> (status: Int, type: String?, param: String?, code: String?) {
            Self.error(await s.handle(method: "POST", path: path, authorization: auth, body: body))
        }
        let chat = "/v1/chat/completions"
        let ok = Self.body(["model": "m", "messages": [["role": "user", "content": "hi"]], "max_tokens": 2])
        #expect(await post(chat, ok, auth: nil).status == 401)
        #expect(await post(chat, ok, auth: "Bearer wrong").status == 401)
        #expect(await post(chat, ok, auth: "Bearer wrong").code == "invalid_api_key")
        let malformed = await post(chat, Data("{\"model\": ".utf8))
        #expect(malformed.status == 400 && malformed.type == "invalid_request_error")
        let missing = await post(chat, Self.body(["model": "m"]))
        #expect(missing.status == 400 && missing.param == "messages")
        let big = await post(chat, Data(repeating: UInt8(ascii: " "), count: 301))
        #expect(big.status == 413)
        let unknown = Self.error(await s.handle(method: "GET", path: "/v1/nothing", authorization: "Bearer secret", body: Data()))
        #expect(unknown.status == 404)
        let wrongMethod = Self.error(await s.handle(method: "GET", path: chat, authorization: "Bearer secret", body: Data()))
        #expect(wrongMethod.status == 405)
        let long = Self.body(["model": "m", "prompt": String(repeating: "hello ", count: 40), "max_tokens": 250])
        let overflow = await post("/v1/completions", long)
        #expect(overflow.status == 400 && overflow.code == "context_length_exceeded" && overflow.param == "prompt")
    }

    /// max_tokens up to Int.max is a 400, not an overflow trap that takes the server down (found reading the code
    /// while fuzzing request bodies; Docs/RELIABILITY.md).
    @Test func hugeMaxTokensIsContextLengthExceeded() async throws {
        let s = try Self.service()
        defer { s.engine.shutDown() }
        for maxTokens in [Int.max, Int.max - 1, 1 << 62] {
            for (path, body) in [("/v1/completions", Self.body(["model": "m", "prompt": "hi", "max_tokens": maxTokens])),
                                 ("/v1/chat/completions", Self.body(["model": "m", "messages": [["role": "user", "content": "hi"]], "max_tokens": maxTokens]))] {
                let e = Self.error(await s.handle(method: "POST", path: path, authorization: nil, body: body))
                #expect(e.status == 400 && e.code == "context_length_exceeded", "\(path) max_tokens \(maxTokens): \(e)")
            }
        }
    }

    @Test func aFullQueueAnswers429() async throws {
        let s = try Self.service(maxBatch: 1, maxQueue: 0, context: 50_000)
        defer { s.engine.shutDown() }
        // Long enough (tens of seconds) to hold the one slot however slowly this test is scheduled.
        let long = Self.body(["model": "m", "prompt": "hello", "max_tokens": 49_000, "temperature": 0, "stream": true])
        guard case .events(let first) = await s.handle(method: "POST", path: "/v1/completions", authorization: nil, body: long) else {
            Issue.record("expected a stream"); return
        }
        guard try await waitUntil("the long request runs", { s.engine.currentStats.running == 1 }) else { return }
        let refused = Self.error(await s.handle(method: "POST", path: "/v1/completions", authorization: nil, body: long))
        #expect(refused.status == 429 && refused.type == "rate_limit_error" && refused.code == "rate_limit_exceeded")
        // Dropping the first stream (a client that went away) cancels it and frees the slot.
        let reader = Task { for await _ in first {} }
        reader.cancel()
        _ = await reader.value
        let freed = try await waitUntil("the cancelled request leaves", seconds: 10) { s.engine.currentStats.running == 0 }
        #expect(freed && s.engine.currentStats.cancelled == 1)
    }
}

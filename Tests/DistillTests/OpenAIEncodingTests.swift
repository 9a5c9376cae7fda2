// Encoding shapes of EcomOpenAI (snake_case keys, nil request fields left out, null param/code in errors) and
// server-sent events in both directions.
import Foundation
import Testing
@testable import EcomOpenAI

@Suite struct OpenAIEncodingTests {
    func object(_ d: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: d) as? [String: Any])
    }

    @Test func requestKeysAreSnakeCaseAndNilFieldsAreLeftOut() throws {
        let r = OpenAI.ChatCompletionRequest(model: "m", messages: [.user("hi")], maxTokens: 5, topP: 0.5,
                                             streamOptions: .init(includeUsage: true))
        let o = try object(OpenAI.json(r))
        #expect(Set(o.keys) == ["model", "messages", "max_tokens", "top_p", "stream_options"])
        #expect((o["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        #expect(String(decoding: OpenAI.json(OpenAI.ChatCompletionRequest(model: "m", messages: [.user("hi")])), as: UTF8.self)
                == #"{"messages":[{"content":"hi","role":"user"}],"model":"m"}"#)
        let c = OpenAI.CompletionRequest(model: "m", prompt: "p", stop: ["x"], seed: 1)
        #expect(String(decoding: OpenAI.json(c), as: UTF8.self) == #"{"model":"m","prompt":"p","seed":1,"stop":["x"]}"#)
    }

    @Test func requestsRoundTrip() throws {
        let r = OpenAI.ChatCompletionRequest(model: "m", messages: [.system("s"), .user("u")], maxTokens: 3, temperature: 0,
                                             topP: 1, stop: ["a", "b"], seed: 9, stream: false, n: 1)
        #expect(try OpenAI.ChatCompletionRequest.parse(OpenAI.json(r)) == r)
        let c = OpenAI.CompletionRequest(model: "m", prompt: "p", maxTokens: 4, stream: true, streamOptions: .init(includeUsage: false))
        #expect(try OpenAI.CompletionRequest.parse(OpenAI.json(c)) == c)
    }

    @Test func errorBodyHasNullParamAndCode() {
        let e = OpenAI.APIError.server("boom")
        #expect(String(decoding: e.body(), as: UTF8.self)
                == #"{"error":{"code":null,"message":"boom","param":null,"type":"server_error"}}"#)
        let p = OpenAI.APIError.invalidRequest("bad", param: "n", code: "invalid_value")
        #expect(String(decoding: p.body(), as: UTF8.self)
                == #"{"error":{"code":"invalid_value","message":"bad","param":"n","type":"invalid_request_error"}}"#)
    }

    @Test func errorConstructorsUseOpenAIsStatusesAndTypes() {
        let cases: [(OpenAI.APIError, Int, String, String?)] = [
            (.invalidRequest("x"), 400, "invalid_request_error", nil),
            (.authentication(), 401, "invalid_request_error", "invalid_api_key"),
            (.notFound("x"), 404, "invalid_request_error", nil),
            (.tooLarge("x"), 413, "invalid_request_error", "request_too_large"),
            (.rateLimited(), 429, "rate_limit_error", "rate_limit_exceeded"),
            (.server(), 500, "server_error", nil),
            (.unavailable(), 503, "service_unavailable_error", "server_is_overloaded"),
        ]
        for (e, status, type, code) in cases {
            #expect(e.status == status && e.type == type && e.code == code, "\(e)")
        }
    }

    @Test func errorsDecodeOnTheClientSide() {
        let e = OpenAI.APIError.decode(status: 429, body: OpenAI.APIError.rateLimited("slow down").body())
        #expect(e == OpenAI.APIError(status: 429, message: "slow down", type: "rate_limit_error", code: "rate_limit_exceeded"))
        // `{"error": "text"}` as some servers write it; the type then comes from the status.
        let s = OpenAI.APIError.decode(status: 503, body: Data(#"{"error": "loading model"}"#.utf8))
        #expect(s?.message == "loading model" && s?.type == "service_unavailable_error" && s?.status == 503)
        // A numeric code is read as text; a missing type comes from the status.
        let n = OpenAI.APIError.decode(status: 400, body: Data(#"{"error": {"message": "m", "code": 7}}"#.utf8))
        #expect(n?.code == "7" && n?.type == "invalid_request_error")
        #expect(OpenAI.APIError.decode(status: 502, body: Data("<html>Bad gateway</html>".utf8)) == nil)
        #expect(OpenAI.APIError.decode(status: 500, body: Data(#"{"detail": "x"}"#.utf8)) == nil)
    }

    @Test func errorCodableUsesTheEnvelopeAndTakesTheStatusFromUserInfo() throws {
        let d = JSONDecoder()
        d.userInfo[OpenAI.APIError.statusKey] = 404
        let e = try d.decode(OpenAI.APIError.self, from: OpenAI.APIError.notFound("no model", param: "model", code: "model_not_found").body())
        #expect(e == OpenAI.APIError(status: 404, message: "no model", type: "invalid_request_error", param: "model", code: "model_not_found"))
    }

    @Test func responsesUseOpenAIsKeys() throws {
        let c = OpenAI.ChatCompletion(id: "chatcmpl-1", created: 1700000000, model: "m",
                                      choices: [.init(message: .assistant("hi"), finishReason: "length")],
                                      usage: .init(promptTokens: 3, completionTokens: 2))
        #expect(String(decoding: OpenAI.json(c), as: UTF8.self) == #"{"choices":[{"finish_reason":"length","index":0,"message":{"content":"hi","role":"assistant"}}],"#
                + #""created":1700000000,"id":"chatcmpl-1","model":"m","object":"chat.completion","usage":{"completion_tokens":2,"prompt_tokens":3,"total_tokens":5}}"#)
        let chunk = OpenAI.ChatCompletionChunk(id: "c", created: 1, model: "m", choices: [.init(delta: .init(role: "assistant"))])
        #expect(String(decoding: OpenAI.json(chunk), as: UTF8.self)
                == #"{"choices":[{"delta":{"role":"assistant"},"finish_reason":null,"index":0}],"created":1,"id":"c","model":"m","object":"chat.completion.chunk"}"#)
        let t = OpenAI.Completion(id: "cmpl-1", created: 2, model: "m", choices: [.init(text: "abc", finishReason: "stop")])
        let to = try object(OpenAI.json(t))
        #expect(to["object"] as? String == "text_completion")
        #expect(((to["choices"] as? [[String: Any]])?.first?["finish_reason"]) as? String == "stop")
        let ml = OpenAI.ModelList(data: [.init(id: "smollm2", created: 5, ownedBy: "ecom")])
        #expect(String(decoding: OpenAI.json(ml), as: UTF8.self)
                == #"{"data":[{"created":5,"id":"smollm2","object":"model","owned_by":"ecom"}],"object":"list"}"#)
    }

    @Test func responseDecodingIsTolerant() throws {
        // Unknown fields (system_fingerprint, logprobs) are ignored; a chunk without choices (the usage chunk) reads.
        let c = try JSONDecoder().decode(OpenAI.ChatCompletion.self, from: Data(#"""
            {"id": "x", "object": "chat.completion", "created": 1, "model": "m", "system_fingerprint": "fp",
             "choices": [{"index": 0, "logprobs": null, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok", "refusal": null}}]}
            """#.utf8))
        #expect(c.choices[0].message.content == "ok" && c.choices[0].finishReason == "stop" && c.usage == nil)
        let u = try JSONDecoder().decode(OpenAI.ChatCompletionChunk.self, from: Data(#"""
            {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [],
             "usage": {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}}
            """#.utf8))
        #expect(u.choices.isEmpty && u.usage == OpenAI.Usage(promptTokens: 4, completionTokens: 6))
    }

    @Test func sseEventsAreDataLines() {
        let chunk = OpenAI.ChatCompletionChunk(id: "c", created: 1, model: "m", choices: [.init(delta: .init(content: "Hi"))])
        let e = String(decoding: OpenAI.sseEvent(chunk), as: UTF8.self)
        #expect(e == "data: " + String(decoding: OpenAI.json(chunk), as: UTF8.self) + "\n\n")
        #expect(String(decoding: OpenAI.sseDone, as: UTF8.self) == "data: [DONE]\n\n")
    }

    @Test func sseParserHandlesSplitsCommentsAndLineEndings() throws {
        var p = OpenAI.SSEParser()
        var events: [OpenAI.ServerSentEvent] = []
        // An event split mid-line, a comment, CRLF endings, a CR split from its LF across feeds, two data lines.
        events += p.feed(Data("data: {\"a\":".utf8))
        #expect(events.isEmpty)
        events += p.feed(Data("1}\n\n: keep-alive\n\nevent: note\r\ndata:x\r".utf8))
        #expect(events == [.init(data: "{\"a\":1}")])
        events += p.feed(Data("\ndata:  y\r\n\r\n".utf8))
        #expect(events.count == 2)
        #expect(events[1] == .init(data: "x\n y", event: "note"))
        events += p.feed(Data("data: [DONE]\n\n".utf8))
        #expect(events.last?.isDone == true)
        #expect(events.count == 3)
    }

    @Test func sseParserDispatchesALastEventWithoutItsBlankLine() throws {
        let chunk = OpenAI.ChatCompletionChunk(id: "c", created: 1, model: "m", choices: [.init(delta: .init(content: "é"), finishReason: "stop")])
        var body = OpenAI.sseEvent(chunk)
        body.append(Data("data: [DONE]".utf8))
        let events = OpenAI.SSEParser.events(in: body)
        #expect(events.count == 2)
        #expect(try events[0].decode(OpenAI.ChatCompletionChunk.self) == chunk)
        #expect(events[1].isDone)
        // Multi-byte characters split across feeds survive (bytes are kept until the line ends).
        var p = OpenAI.SSEParser()
        let bytes = Array("data: é\n\n".utf8)
        let split = bytes.firstIndex(of: 0xC3)! + 1
        #expect(p.feed(bytes[..<split]).isEmpty)
        #expect(p.feed(bytes[split...]) == [.init(data: "é")])
    }
}

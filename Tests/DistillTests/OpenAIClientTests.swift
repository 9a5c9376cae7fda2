// OpenAIClient over a fake transport: what is retried and how often, Retry-After, the final error's words.
import Foundation
import Testing
@testable import EcomOpenAI
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite struct OpenAIClientTests {
    let base = URL(string: "http://127.0.0.1:9/v1")!
    let request = OpenAI.ChatCompletionRequest(model: "teacher", messages: [.user("hi")], maxTokens: 8, stream: true,
                                               streamOptions: .init(includeUsage: true))

    /// Records the client's retry events.
    final class Retries: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [OpenAIClient.RetryEvent] = []
        func add(_ e: OpenAIClient.RetryEvent) { lock.lock(); list.append(e); lock.unlock() }
        var events: [OpenAIClient.RetryEvent] { lock.lock(); defer { lock.unlock() }; return list }
    }

    func failure(_ body: () async throws -> Void) async -> OpenAIClientError? {
        do { try await body(); return nil } catch let e as OpenAIClientError { return e } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func sendsANonStreamingRequestWithTheKeyToTheRightURL() async throws {
        let t = FakeTransport { _, _ in .json(completion("hello")) }
        let client = OpenAIClient(baseURL: URL(string: "http://127.0.0.1:9/v1/")!, apiKey: "sk-test", retry: quickRetry(3), transport: t)
        let c = try await client.chat(request)
        #expect(c.choices[0].message.content == "hello")
        let r = try #require(t.requests.first)
        #expect(r.url?.absoluteString == "http://127.0.0.1:9/v1/chat/completions")
        #expect(r.httpMethod == "POST")
        #expect(r.value(forHTTPHeaderField: "Authorization") == "Bearer sk-test")
        #expect(r.value(forHTTPHeaderField: "Content-Type") == "application/json")
        let sent = try OpenAI.ChatCompletionRequest.parse(try #require(r.httpBody))
        #expect(sent.stream == nil && sent.streamOptions == nil && sent.maxTokens == 8 && sent.model == "teacher")
    }

    @Test func modelsAndCompletions() async throws {
        let t = FakeTransport { r, _ in
            if r.url!.path.hasSuffix("/models") {
                return .json(OpenAI.ModelList(data: [.init(id: "m", created: 0, ownedBy: "me")]))
            }
            return .json(OpenAI.Completion(id: "c", created: 0, model: "m", choices: [.init(text: " there", finishReason: "length")]))
        }
        let client = OpenAIClient(baseURL: base, transport: t)
        #expect(try await client.models().data.map(\.id) == ["m"])
        #expect(t.requests[0].httpMethod == "GET" && t.requests[0].value(forHTTPHeaderField: "Authorization") == nil)
        let c = try await client.complete(.init(model: "m", prompt: "hi"))
        #expect(c.choices[0].text == " there")
        #expect(t.requests[1].url?.absoluteString == "http://127.0.0.1:9/v1/completions")
    }

    @Test func serverErrorsAreRetriedUntilTheAttemptsRunOut() async {
        let t = FakeTransport { _, _ in .error(.server("the GPU caught fire")) }
        let client = OpenAIClient(baseURL: base, retry: quickRetry(4), transport: t)
        let e = await failure { _ = try await client.chat(request) }
        #expect(t.count == 4)
        #expect(e?.kind == .http && e?.status == 500 && e?.attempts == 4)
        #expect(e?.apiError?.type == "server_error")
        #expect(e?.description == "http://127.0.0.1:9/v1/chat/completions: HTTP 500 after 4 attempts: the GPU caught fire")
    }

    @Test func unavailableThenAnswer() async throws {
        let t = FakeTransport { _, n in n < 2 ? .error(.unavailable()) : .json(completion("late")) }
        let retries = Retries()
        let client = OpenAIClient(baseURL: base, retry: quickRetry(6), transport: t, onRetry: { retries.add($0) })
        #expect(try await client.chat(request).choices[0].message.content == "late")
        #expect(t.count == 3)
        #expect(retries.events.map(\.attempt) == [1, 2])
        #expect(retries.events.allSatisfy { $0.failure.status == 503 })
    }

    @Test func retryAfterIsHonoured() async throws {
        // The policy's own delays are at most 5 ms; the server asks for 30 ms (fractional seconds are read too).
        let t = FakeTransport { _, n in
            n == 0 ? .error(.rateLimited(), headers: ["Retry-After": "0.03"])
                : n == 1 ? .error(.rateLimited(), headers: ["retry-after-ms": "20"]) : .json(completion("ok"))
        }
        let retries = Retries()
        let client = OpenAIClient(baseURL: base, retry: quickRetry(6), transport: t, onRetry: { retries.add($0) })
        let start = Date()
        _ = try await client.chat(request)
        #expect(Date().timeIntervalSince(start) >= 0.05)
        #expect(retries.events.map(\.delay) == [0.03, 0.02])
        #expect(retries.events.allSatisfy { $0.failure.status == 429 && $0.failure.apiError?.code == "rate_limit_exceeded" })
    }

    @Test func rateLimitedForeverEndsWithTheStatus() async {
        let t = FakeTransport { _, _ in .error(.rateLimited("too many"), headers: ["Retry-After": "0"]) }
        let client = OpenAIClient(baseURL: base, retry: quickRetry(3), transport: t)
        let e = await failure { _ = try await client.chat(request) }
        #expect(t.count == 3)
        #expect(e?.description == "http://127.0.0.1:9/v1/chat/completions: HTTP 429 after 3 attempts: too many")
        #expect(e?.wasRetryable == true)
    }

    @Test(arguments: [400, 401, 403, 404, 413, 422])
    func clientErrorsAreNotRetried(status: Int) async {
        let t = FakeTransport { _, _ in .error(OpenAI.APIError(status: status, message: "no", type: "invalid_request_error", param: "n")) }
        let client = OpenAIClient(baseURL: base, retry: quickRetry(5), transport: t)
        let e = await failure { _ = try await client.chat(request) }
        #expect(t.count == 1)
        #expect(e?.status == status && e?.attempts == 1 && e?.apiError?.param == "n" && e?.wasRetryable == false)
        #expect(e?.description == "http://127.0.0.1:9/v1/chat/completions: HTTP \(status) after 1 attempt: no")
    }

    @Test func aNonJSONErrorBodyIsQuoted() async {
        let t = FakeTransport { _, _ in .text("<html>502 Bad Gateway</html>", status: 502) }
        let client = OpenAIClient(baseURL: base, retry: quickRetry(2), transport: t)
        let e = await failure { _ = try await client.chat(request) }
        #expect(t.count == 2 && e?.apiError == nil)
        #expect(e?.description == "http://127.0.0.1:9/v1/chat/completions: HTTP 502 after 2 attempts: '<html>502 Bad Gateway</html>'")
    }

    @Test func garbageIsRetriedThenReported() async {
        let t = FakeTransport { _, _ in .text("this is not JSON") }
        let client = OpenAIClient(baseURL: base, retry: quickRetry(3), transport: t)
        let e = await failure { _ = try await client.chat(request) }
        #expect(t.count == 3)
        #expect(e?.kind == .invalidResponse && e?.status == 200)
        #expect(e?.description.hasPrefix("http://127.0.0.1:9/v1/chat/completions: invalid response (not a ChatCompletion body") == true)
        #expect(e?.description.contains("'this is not JSON'") == true)
        #expect(e?.description.hasSuffix("after 3 attempts") == true)
    }

    @Test func garbageThenAnswerAndEmptyChoices() async throws {
        let t = FakeTransport { _, n in
            switch n {
            case 0: return .text(#"{"id": "x", "choices": [{"message": {"role": "assistant", "cont"#)  // torn body
            case 1: return .json(OpenAI.ChatCompletion(id: "x", created: 0, model: "m", choices: []))
            default: return .json(completion("fine"))
            }
        }
        let client = OpenAIClient(baseURL: base, retry: quickRetry(3), transport: t)
        #expect(try await client.chat(request).choices[0].message.content == "fine")
        #expect(t.count == 3)
    }

    @Test func timeoutsAndRefusedConnectionsAreRetried() async {
        let t = FakeTransport { _, _ in throw URLError(.timedOut) }
        let client = OpenAIClient(baseURL: base, timeout: 2, retry: quickRetry(3), transport: t)
        let e = await failure { _ = try await client.chat(request) }
        #expect(t.count == 3 && e?.kind == .timeout)
        #expect(e?.description == "http://127.0.0.1:9/v1/chat/completions: timed out (2 s) after 3 attempts")

        let refused = FakeTransport { _, _ in throw URLError(.cannotConnectToHost) }
        let c2 = OpenAIClient(baseURL: base, retry: quickRetry(6), transport: refused)
        let e2 = await failure { _ = try await c2.chat(request) }
        #expect(refused.count == 6 && e2?.kind == .connection && e2?.status == nil)
        #expect(e2?.description.hasPrefix("http://127.0.0.1:9/v1/chat/completions: cannot connect (") == true)
        #expect(e2?.description.hasSuffix(") after 6 attempts") == true)
    }

    @Test func aBadURLIsNotRetried() async {
        let t = FakeTransport { _, _ in throw URLError(.unsupportedURL) }
        let client = OpenAIClient(baseURL: base, retry: quickRetry(5), transport: t)
        let e = await failure { _ = try await client.chat(request) }
        #expect(t.count == 1 && e?.attempts == 1)
    }

    @Test func backoffDelays() {
        let p = RetryPolicy()  // 0.5 s, doubling, at most 20 s, jitter 25 %
        #expect(p.maxAttempts == 6)
        #expect(p.delay(afterAttempt: 1, retryAfter: nil, unit: 0.5) == 0.5)
        #expect(p.delay(afterAttempt: 3, retryAfter: nil, unit: 0.0) == 1.5)   // 2 s × 0.75
        #expect(p.delay(afterAttempt: 3, retryAfter: nil, unit: 1.0) == 2.5)   // 2 s × 1.25 (the bound itself)
        #expect(p.delay(afterAttempt: 10, retryAfter: nil, unit: 0.5) == 20)   // 256 s cut to 20 s
        #expect(p.delay(afterAttempt: 2, retryAfter: 7, unit: 0.9) == 7)
        #expect(p.delay(afterAttempt: 2, retryAfter: 500, unit: 0.9) == 120)   // maxRetryAfter
        #expect(RetryPolicy.none.maxAttempts == 1)
    }
}

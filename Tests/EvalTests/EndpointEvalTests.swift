// Evaluation through an OpenAI-compatible server, against a fake HTTP transport (no sockets): the requests carry the
// examples' turns or rendered prompts with the suites' budgets and stops; the predictions, rows and table equal a local
// run's for the same completions; resumption, refused settings, failures keeping finished answers, the concurrency bound.
@testable import EcomEval
import EcomOpenAI
import EcomTestSupport
import EcomTokenizer
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// A fake server: records every request and answers with `respond(path, body)` → (status, completion text, usage).
final class FakeServer: HTTPTransport, @unchecked Sendable {
    struct Seen { var path: String; var body: [String: Any]; var authorization: String? }
    typealias Reply = (status: Int, text: String, usage: OpenAI.Usage?)
    private let lock = NSLock()
    private var seen: [Seen] = []
    private var inFlight = 0
    private(set) var maxInFlight = 0
    let delay: UInt64
    let respond: @Sendable (String, [String: Any]) -> Reply

    init(delayNanoseconds: UInt64 = 0, respond: @escaping @Sendable (String, [String: Any]) -> Reply) {
        delay = delayNanoseconds; self.respond = respond
    }

    var requests: [Seen] { lock.withLock { seen } }

    func send(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        let url = try #require(request.url)
        let body = try #require(try JSONSerialization.jsonObject(with: request.httpBody ?? Data()) as? [String: Any])
        lock.withLock {
            seen.append(Seen(path: url.path, body: body, authorization: request.value(forHTTPHeaderField: "Authorization")))
            inFlight += 1
            maxInFlight = max(maxInFlight, inFlight)
        }
        if delay > 0 { try await Task.sleep(nanoseconds: delay) }
        let reply = respond(url.path, body)
        lock.withLock { inFlight -= 1 }
        let data: Data
        if reply.status != 200 {
            data = OpenAI.APIError(status: reply.status, message: "fake failure", type: "invalid_request_error").body()
        } else if url.path.hasSuffix("chat/completions") {
            data = OpenAI.json(OpenAI.ChatCompletion(id: "c", created: 0, model: body["model"] as? String ?? "",
                                                     choices: [.init(message: .assistant(reply.text), finishReason: "stop")], usage: reply.usage))
        } else {
            data = OpenAI.json(OpenAI.Completion(id: "c", created: 0, model: body["model"] as? String ?? "",
                                                 choices: [.init(text: reply.text, finishReason: "stop")], usage: reply.usage))
        }
        return (data, HTTPURLResponse(url: url, statusCode: reply.status, httpVersion: "HTTP/1.1", headerFields: ["Content-Type": "application/json"])!)
    }
}

@Suite struct EndpointEvalTests {
    let world = EvalFixture.world
    static let base = URL(string: "http://fake.test/v1")!

    /// The world's examples (EcomGPT CLS and NER, UniversalNER) through `server`.
    func request(_ server: FakeServer, out: URL, api: EndpointAPI = .chat, template: ChatTemplate = ChatTemplate(kind: .chatml),
                 concurrency: Int = 2, retry: RetryPolicy = .none, model: String = "served") -> EndpointEvalRequest {
        let client = OpenAIClient(baseURL: Self.base, apiKey: "k-123", retry: retry, transport: server)
        var r = EndpointEvalRequest(target: EndpointTarget(client: client, model: model, api: api, template: template, concurrency: concurrency),
                                    outDirectory: out)
        r.ecomGPTDirectory = world.ecomgpt
        r.uniNERDirectory = world.uniner
        r.seed = 11
        r.settings.maxNewTokens = 6
        r.settings.uniNERMaxNewTokens = 5
        r.settings.showProgress = false
        return r
    }

    func items() throws -> [EvalItem] {
        try EvalItems.ecomGPT(root: world.ecomgpt, seed: 11) + EvalItems.uniNER(directory: world.uniner)
    }

    /// The example a chat request asks about (its last user turn is unique in the world).
    func item(chat body: [String: Any], _ items: [EvalItem]) -> EvalItem? {
        guard let messages = body["messages"] as? [[String: String]] else { return nil }
        return items.first { $0.turns.map { ["role": $0.role, "content": $0.content] } == messages }
    }

    @Test func chatRequestsCarryTheTurnsTheBudgetsAndTheStop() async throws {
        let out = try TestPaths.makeTemporaryDirectory("endpoint-chat"); defer { try? FileManager.default.removeItem(at: out) }
        let server = FakeServer { _, _ in (200, "[]", nil) }
        let result = try await EvalRun.run(request(server, out: out))
        let items = try items()
        #expect(result.stats.generated == 10 && server.requests.count == 10)
        for seen in server.requests {
            #expect(seen.path == "/v1/chat/completions")
            #expect(seen.authorization == "Bearer k-123")
            let example = try #require(item(chat: seen.body, items), "a request for no example: \(seen.body)")
            #expect(seen.body["model"] as? String == "served")
            #expect(seen.body["temperature"] as? Double == 0)
            #expect(seen.body["max_tokens"] as? Int == (example.suite == .ecomgpt ? 6 : 5))
            #expect(seen.body["stop"] as? [String] == (example.suite == .uniner ? ["USER:"] : nil))
            #expect(seen.body["n"] == nil && seen.body["stream"] == nil)
        }
        // UniversalNER examples go as the released multi-turn conversation.
        let uni = try #require(server.requests.first { ($0.body["messages"] as? [[String: String]])?.count == 4 })
        let messages = try #require(uni.body["messages"] as? [[String: String]])
        #expect(messages.map { $0["role"]! } == ["system", "user", "assistant", "user"])
        #expect(messages[0]["content"] == "A virtual assistant answers questions from a user based on the provided text.")
        #expect(messages[2]["content"] == "I've read this text.")
        #expect(messages[1]["content"]!.hasPrefix("Text: ") && messages[3]["content"]!.hasPrefix("What describes "))
        // EcomGPT examples are one user turn: the paper's prompt.
        #expect(server.requests.filter { ($0.body["messages"] as? [[String: String]])?.count == 1 }.count == 7)

        let config = try #require(try EvalConfiguration.load(from: out))
        #expect(config.endpoint == EvalConfiguration.EndpointIdentity(url: "http://fake.test/v1", model: "served", api: "chat"))
        #expect(config.beams == 1 && config.template == "server" && config.modelFingerprint == "endpoint" && config.maxPromptTokens == 0)
    }

    @Test func completionsRequestsCarryThePromptLocalEvaluationRenders() async throws {
        let out = try TestPaths.makeTemporaryDirectory("endpoint-completions"); defer { try? FileManager.default.removeItem(at: out) }
        let server = FakeServer { _, _ in (200, "x", nil) }
        let chat = ChatTemplate(kind: .chatml, defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        _ = try await EvalRun.run(request(server, out: out, api: .completions, template: chat))
        let prompts = server.requests.map { $0.body["prompt"] as? String }
        #expect(server.requests.allSatisfy { $0.path == "/v1/completions" })
        #expect(Set(prompts) == Set(try items().map { $0.promptText(chat) }))
        // ChatML as written by hand: the default system turn before a lone user turn, the assistant's turn opened.
        let ecom = try #require(try items().first { $0.suite == .ecomgpt })
        #expect(prompts.contains("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                                 + "<|im_start|>user\n" + ecom.prompt + "<|im_end|>\n<|im_start|>assistant\n"))
        let config = try #require(try EvalConfiguration.load(from: out))
        #expect(config.template == "chatml" && config.endpoint?.api == "completions"
                && config.endpoint?.systemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")

        // The plain template sends the papers' text itself.
        let plainOut = try TestPaths.makeTemporaryDirectory("endpoint-plain"); defer { try? FileManager.default.removeItem(at: plainOut) }
        let plain = FakeServer { _, _ in (200, "x", nil) }
        _ = try await EvalRun.run(request(plain, out: plainOut, api: .completions, template: ChatTemplate(kind: .plain)))
        #expect(Set(plain.requests.map { $0.body["prompt"] as? String }) == Set(try items().map(\.prompt)))
    }

    @Test func predictionsAndScoresEqualALocalRunsForTheSameCompletions() async throws {
        // A local greedy run of the world's model, then a server that answers each example with that run's completion.
        let localOut = try TestPaths.makeTemporaryDirectory("endpoint-local"); defer { try? FileManager.default.removeItem(at: localOut) }
        var local = EvalFixture.request(out: localOut)
        local.settings.beams = 1
        let localResult = try EvalRun.run(local)
        let localPredictions = try PredictionStore(directory: localOut).predictions
        let items = try items()
        let completions = Dictionary(uniqueKeysWithValues: localPredictions.map { ($0.key, $0.completion) })
        let byMessages = Dictionary(uniqueKeysWithValues: items.map { ($0.turns.map { "\($0.role)|\($0.content)" }.joined(separator: "\n"), $0.key) })
        let server = FakeServer { _, body in
            let messages = (body["messages"] as? [[String: String]] ?? []).map { "\($0["role"]!)|\($0["content"]!)" }.joined(separator: "\n")
            let key = byMessages[messages] ?? ""
            return (200, completions[key] ?? "", OpenAI.Usage(promptTokens: 40 + key.count, completionTokens: 3))
        }
        let out = try TestPaths.makeTemporaryDirectory("endpoint-same"); defer { try? FileManager.default.removeItem(at: out) }
        let result = try await EvalRun.run(request(server, out: out))
        let stored = try PredictionStore(directory: out).predictions
        #expect(stored.count == localPredictions.count)
        let localByKey = Dictionary(uniqueKeysWithValues: localPredictions.map { ($0.key, $0) })
        for p in stored {
            let l = try #require(localByKey[p.key])
            #expect(p.completion == l.completion && p.prediction == l.prediction && p.prompt == l.prompt && p.reference == l.reference)
            #expect(p.prediction == AnswerExtraction.answer(p.completion, suite: p.suite))
            #expect(p.promptTokens == 40 + p.key.count && p.generatedTokens == 3 && p.truncatedTokens == 0)
        }
        // The same rows (scores and bootstrap intervals) and table as the local run; the answers are not all empty.
        #expect(result.rows == localResult.rows)
        #expect(result.average == localResult.average)
        #expect(result.table == localResult.table)
        #expect(stored.contains { !$0.prediction.isEmpty })
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any])
        #expect((summary["tasks"] as? [Any])?.count == 3)
        let report = try String(contentsOf: result.reportURL, encoding: .utf8)
        #expect(report.contains("served at http://fake.test/v1") && report.contains("0 of 10 were longer than the 800 tokens"))
        #expect(result.stats.generatedTokens == 30)
    }

    @Test func anInterruptedEvaluationResumesAndOtherSettingsAreRefused() async throws {
        let out = try TestPaths.makeTemporaryDirectory("endpoint-resume"); defer { try? FileManager.default.removeItem(at: out) }
        let answer: @Sendable (String, [String: Any]) -> FakeServer.Reply = { _, body in
            let last = (body["messages"] as? [[String: String]])?.last?["content"] ?? ""
            return (200, "answer \(last.count)", nil)
        }
        let first = FakeServer(respond: answer)
        var stopped = request(first, out: out)
        stopped.settings.stopAfter = 4
        let partial = try await EvalRun.run(stopped)
        #expect(partial.stats.generated == 4 && partial.stats.remaining == 6 && first.requests.count == 4)
        let second = FakeServer(respond: answer)
        let resumed = try await EvalRun.run(request(second, out: out))
        #expect(resumed.stats.alreadyDone == 4 && resumed.stats.generated == 6 && second.requests.count == 6)
        // The same answers as an uninterrupted run, and a complete rerun asks nothing.
        let wholeOut = try TestPaths.makeTemporaryDirectory("endpoint-whole"); defer { try? FileManager.default.removeItem(at: wholeOut) }
        _ = try await EvalRun.run(request(FakeServer(respond: answer), out: wholeOut))
        let byKey = { (dir: URL) in Dictionary(uniqueKeysWithValues: try PredictionStore(directory: dir).predictions.map { ($0.key, $0) }) }
        #expect(try byKey(out) == byKey(wholeOut))
        let third = FakeServer(respond: answer)
        #expect(try await EvalRun.run(request(third, out: out)).stats.generated == 0 && third.requests.isEmpty)

        // Another model name, API or URL is another evaluation: refused unless restarted.
        await #expect {
            try await EvalRun.run(request(FakeServer(respond: answer), out: out, model: "other"))
        } throws: { error in
            "\(error)".contains("endpoint model: served -> other") && "\(error)".contains("--restart")
        }
        await #expect(throws: EvalError.self) {
            try await EvalRun.run(request(FakeServer(respond: answer), out: out, api: .completions))
        }
        var restart = request(FakeServer(respond: answer), out: out, model: "other")
        restart.restart = true
        #expect(try await EvalRun.run(restart).stats.generated == 10)
        // A local run's directory is not resumed through an endpoint.
        let localOut = try TestPaths.makeTemporaryDirectory("endpoint-vs-local"); defer { try? FileManager.default.removeItem(at: localOut) }
        var local = EvalFixture.request(out: localOut, limit: 1)
        local.settings.beams = 1
        _ = try EvalRun.run(local)
        var over = request(FakeServer(respond: answer), out: localOut)
        over.limit = 1
        await #expect {
            try await EvalRun.run(over)
        } throws: { error in
            "\(error)".contains("endpoint: none -> http://fake.test/v1")
        }
    }

    @Test func aFailedRequestEndsTheRunKeepingFinishedAnswers() async throws {
        let items = try items()
        let failing = items[5]
        let out = try TestPaths.makeTemporaryDirectory("endpoint-fail"); defer { try? FileManager.default.removeItem(at: out) }
        let broken = FakeServer { _, body in
            let messages = body["messages"] as? [[String: String]] ?? []
            return messages.last?["content"] == failing.turns.last?.content ? (400, "", nil) : (200, "ok", nil)
        }
        // One request at a time: the five examples before the failing one are kept, nothing after it is asked.
        await #expect {
            try await EvalRun.run(request(broken, out: out, concurrency: 1))
        } throws: { error in
            let m = "\(error)"
            return m.contains("\(failing.task) example \(failing.id)") && m.contains("HTTP 400") && m.contains("5 answers of this run")
                && m.contains("rerun to resume")
        }
        #expect(broken.requests.count == 6)
        #expect(try PredictionStore(directory: out).predictions.map(\.key) == items.prefix(5).map(\.key))
        // A retryable failure is retried by the client before the run gives up.
        let retryOut = try TestPaths.makeTemporaryDirectory("endpoint-retry"); defer { try? FileManager.default.removeItem(at: retryOut) }
        let overloaded = FakeServer { _, _ in (503, "", nil) }
        await #expect {
            try await EvalRun.run(request(overloaded, out: retryOut, concurrency: 1, retry: RetryPolicy(maxAttempts: 3, initialDelay: 0)))
        } throws: { error in
            "\(error)".contains("HTTP 503 after 3 attempts")
        }
        #expect(overloaded.requests.count == 3)
        // With several in flight, those already sent still land; the rerun finishes the rest.
        let many = try TestPaths.makeTemporaryDirectory("endpoint-fail-many"); defer { try? FileManager.default.removeItem(at: many) }
        await #expect(throws: EvalError.self) { try await EvalRun.run(request(broken, out: many, concurrency: 3)) }
        let kept = try PredictionStore(directory: many).predictions.count
        #expect(kept >= 5 && kept <= 9 && kept == broken.requests.count - 6 - 1)
        let healthy = FakeServer { _, _ in (200, "ok", nil) }
        let finished = try await EvalRun.run(request(healthy, out: many, concurrency: 3))
        #expect(finished.stats.alreadyDone == kept && finished.stats.generated == 10 - kept && healthy.requests.count == 10 - kept)
    }

    @Test func atMostConcurrencyRequestsAreInFlight() async throws {
        let out = try TestPaths.makeTemporaryDirectory("endpoint-concurrency"); defer { try? FileManager.default.removeItem(at: out) }
        let server = FakeServer(delayNanoseconds: 30_000_000) { _, _ in (200, "[]", nil) }
        _ = try await EvalRun.run(request(server, out: out, concurrency: 3))
        #expect(server.requests.count == 10)
        #expect(server.maxInFlight == 3)
        let one = try TestPaths.makeTemporaryDirectory("endpoint-one"); defer { try? FileManager.default.removeItem(at: one) }
        let serial = FakeServer(delayNanoseconds: 5_000_000) { _, _ in (200, "[]", nil) }
        _ = try await EvalRun.run(request(serial, out: one, concurrency: 1))
        #expect(serial.maxInFlight == 1)
    }

    @Test func comparisonsTreatTheEndpointAsTheModel() throws {
        let a = EvalConfiguration(model: "base at u1", modelFingerprint: "endpoint", tokenizerFingerprint: "endpoint", precision: "server",
                                  beams: 1, maxPromptTokens: 0, template: "server",
                                  endpoint: .init(url: "http://a/v1", model: "base", api: "chat"))
        var b = a
        b.model = "tuned at u2"
        b.endpoint = .init(url: "http://b/v1", model: "tuned", api: "chat")
        // Another server or model name is what a comparison compares, not a setting that differs ...
        #expect(Comparisons.settingDifferences(a, b).isEmpty)
        // ... while the API and the prompts are.
        b.endpoint?.api = "completions"
        b.template = "chatml"
        #expect(Comparisons.settingDifferences(a, b) == ["prompt template: server -> chatml", "endpoint API: chat -> completions"])
        // A run's own configuration does refuse another server.
        #expect(b.differences(from: a).contains("endpoint: http://a/v1 -> http://b/v1"))
        #expect(Comparisons.trainingMetrics(a).isEmpty)
        // Files written before endpoints existed decode without one.
        let old = #"{"beams":4,"max_new_tokens":164,"max_prompt_tokens":800,"model":"/m","model_fingerprint":"ab","precision":"float32","seed":0,"tokenizer_fingerprint":"cd","uniner_max_new_tokens":256}"#
        #expect(try JSONDecoder().decode(EvalConfiguration.self, from: Data(old.utf8)).endpoint == nil)
    }

    @Test func beamSearchIsRefused() async throws {
        let out = try TestPaths.makeTemporaryDirectory("endpoint-beams"); defer { try? FileManager.default.removeItem(at: out) }
        let server = FakeServer { _, _ in (200, "", nil) }
        var r = request(server, out: out)
        r.settings.beams = 4
        await #expect {
            try await EvalRun.run(r)
        } throws: { error in
            "\(error)".contains("--beams 1")
        }
        #expect(server.requests.isEmpty)
    }

    @Test func perTaskBudgetsAreRefusedButAnExamplesOwnBudgetIsSent() async throws {
        let out = try TestPaths.makeTemporaryDirectory("endpoint-auto"); defer { try? FileManager.default.removeItem(at: out) }
        let server = FakeServer { _, _ in (200, "", nil) }
        var r = request(server, out: out)
        r.settings.autoMaxNewTokens = true
        await #expect {
            try await EvalRun.run(r)
        } throws: { error in
            "\(error)".contains("--max-new-tokens auto")
        }
        #expect(server.requests.isEmpty)
        var item = try #require(try items().first)
        item.maxNewTokens = 9
        guard case .chat(let body) = EndpointEvaluator(target: request(server, out: out).target).request(for: item, settings: EvalSettings()) else {
            Issue.record("a chat request was expected"); return
        }
        #expect(body.maxTokens == 9)
    }
}

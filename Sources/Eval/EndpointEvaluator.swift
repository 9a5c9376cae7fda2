// Evaluation through an OpenAI-compatible server (ecom-serve, vLLM, llama.cpp's server, OpenAI): the same examples,
// answer extraction, scores and files as local evaluation (EvalRun), generation replaced by HTTP requests:
// chat/completions with the examples' turns, or completions with the prompt text local evaluation renders. Greedy only
// (temperature 0): beam search cannot be asked of the API, so compare with local runs made with --beams 1.
import EcomInstruct
import EcomLoader
import EcomModel
import EcomOpenAI
import EcomTokenizer
import Foundation

/// Which of the server's endpoints generates.
public enum EndpointAPI: String, Sendable, CaseIterable {
    /// `POST chat/completions` with the example's turns (``EvalItem/turns``), rendered by the server with the served
    /// model's chat template.
    case chat
    /// `POST completions` with ``EvalItem/promptText(_:)`` rendered here, as local evaluation renders it.
    case completions
}

/// An OpenAI-compatible server to evaluate through.
public struct EndpointTarget: Sendable {
    /// The client (its `baseURL` is the API root, e.g. `http://127.0.0.1:8080/v1`).
    public var client: OpenAIClient
    /// The requests' `model`.
    public var model: String
    public var api: EndpointAPI
    /// How `.completions` prompts are rendered (ChatML with the served model's default system turn to match a local
    /// run of that model; `.plain` for the papers' text). Unused by `.chat`.
    public var template: ChatTemplate
    /// Requests in flight at once.
    public var concurrency: Int

    public init(client: OpenAIClient, model: String, api: EndpointAPI = .chat, template: ChatTemplate = ChatTemplate(kind: .chatml),
                concurrency: Int = 4) {
        self.client = client; self.model = model; self.api = api; self.template = template; self.concurrency = concurrency
    }

    /// A target with the default client (URLSession, the client's retry policy): `apiKey` sent as a bearer token,
    /// each retry told to `log` ("eval: retrying ...").
    public init(baseURL: URL, apiKey: String? = nil, model: String, api: EndpointAPI = .chat, template: ChatTemplate = ChatTemplate(kind: .chatml),
                concurrency: Int = 4, log: (@Sendable (String) -> Void)? = nil) {
        var onRetry: (@Sendable (OpenAIClient.RetryEvent) -> Void)?
        if let log {
            onRetry = { (e: OpenAIClient.RetryEvent) in
                log("eval: retrying \(e.url.absoluteString) in \(String(format: "%.1f", e.delay)) s after attempt \(e.attempt): \(e.failure.message)")
            }
        }
        let client = OpenAIClient(baseURL: baseURL, apiKey: apiKey, onRetry: onRetry)
        self.init(client: client, model: model, api: api, template: template, concurrency: concurrency)
    }

    /// What the evaluation's configuration records of the target.
    public var identity: EvalConfiguration.EndpointIdentity {
        EvalConfiguration.EndpointIdentity(
            url: client.baseURL.absoluteString, model: model, api: api.rawValue,
            systemPrompt: api == .completions && template.kind == .chatml ? template.defaultSystemPrompt : nil)
    }

    /// The template of completions prompts: `model`'s chat template (see ``chatTemplate(of:force:)``) when given,
    /// else `force` (ChatML without a default system turn when nil).
    public static func completionsTemplate(model: URL?, force: ChatTemplate.Kind?) throws -> ChatTemplate {
        try model.map { try chatTemplate(of: $0, force: force) } ?? ChatTemplate(kind: force ?? .chatml)
    }

    /// The chat template of a local copy of the served model (an HF directory's tokenizer_config.json or
    /// chat_template.jinja, or a GGUF file's metadata), as local evaluation of that model reads it; `force` overrides
    /// the kind as `--template` does.
    public static func chatTemplate(of model: URL, force: ChatTemplate.Kind? = nil) throws -> ChatTemplate {
        let text: String?
        if ModelLoader.isGGUF(model) {
            text = try GGUFImport.tokenizerMetadata(GGUFFile(url: model)).chatTemplate
        } else {
            guard FileManager.default.fileExists(atPath: model.path) else { throw EvalError("\(model.path): no such model directory") }
            text = try ModelBundle.chatTemplateText(directory: model)
        }
        do { return try ChatTemplate(template: text, force: force) } catch {
            throw EvalError("\(model.path): \(error) (choose one with --template chatml|plain)")
        }
    }
}

/// One example's request.
public enum EndpointRequest: Sendable, Equatable {
    case chat(OpenAI.ChatCompletionRequest)
    case completion(OpenAI.CompletionRequest)
}

/// Asks an OpenAI-compatible server for the answers of evaluation examples, `concurrency` requests at a time,
/// appending each finished example to a ``PredictionStore`` as local evaluation does.
public struct EndpointEvaluator: Sendable {
    public let target: EndpointTarget

    public init(target: EndpointTarget) { self.target = target }

    /// The request of an example: temperature 0, `max_tokens` the example's budget when it has one, else the suite's
    /// (`maxNewTokens` for EcomGPT, `uniNERMaxNewTokens` for UniversalNER); UniversalNER requests stop at "USER:", where local greedy decoding stops
    /// (``Evaluator/options(for:settings:)``) and where answer extraction cuts anyway.
    public func request(for item: EvalItem, settings s: EvalSettings) -> EndpointRequest {
        let maxTokens = item.maxNewTokens ?? (item.suite == .ecomgpt ? s.maxNewTokens : s.uniNERMaxNewTokens)
        let stop = item.suite == .uniner ? ["USER:"] : nil
        switch target.api {
        case .chat:
            return .chat(OpenAI.ChatCompletionRequest(
                model: target.model, messages: item.turns.map { OpenAI.Message(role: $0.role, content: $0.content) },
                maxTokens: maxTokens, temperature: 0, stop: stop))
        case .completions:
            return .completion(OpenAI.CompletionRequest(
                model: target.model, prompt: item.promptText(target.template), maxTokens: maxTokens, temperature: 0, stop: stop))
        }
    }

    /// One example through the server: its completion, the answer extracted as local evaluation extracts it, and the
    /// token counts of the response's `usage` (0 when the server sends none). Prompts are sent whole: an endpoint
    /// cannot be asked to left-truncate them (`truncatedTokens` is 0).
    public func evaluate(_ item: EvalItem, settings s: EvalSettings) async throws -> EvalPrediction {
        let completion: String
        let usage: OpenAI.Usage?
        switch request(for: item, settings: s) {
        case .chat(let r):
            let c = try await target.client.chat(r)
            guard let first = c.choices.first else { throw EvalError("\(target.client.url("chat/completions")): an answer without choices") }
            completion = first.message.content; usage = c.usage
        case .completion(let r):
            let c = try await target.client.complete(r)
            guard let first = c.choices.first else { throw EvalError("\(target.client.url("completions")): an answer without choices") }
            completion = first.text; usage = c.usage
        }
        return EvalPrediction(
            task: item.task, id: item.id, prompt: item.prompt, prediction: AnswerExtraction.answer(completion, suite: item.suite),
            reference: item.reference, suite: item.suite, taskType: item.taskType, text: item.text, labelSeparator: item.labelSeparator,
            completion: completion, promptTokens: usage?.promptTokens ?? 0, truncatedTokens: 0,
            generatedTokens: usage?.completionTokens ?? 0)
    }

    /// Asks for the examples of `items` not yet in `store`, in order, `concurrency` at a time; each answer is appended
    /// as it arrives. After a request fails (the client has retried what is worth retrying) no new request starts,
    /// those in flight are awaited and kept, and the failure is thrown naming the example and what is kept.
    public func run(_ items: [EvalItem], store: PredictionStore, settings s: EvalSettings) async throws -> EvalRunStats {
        let started = Date()
        let waiting = items.filter { !store.contains($0.key) }
        let pending = waiting.prefix(s.stopAfter ?? Int.max)
        let bar = ProgressBar(total: waiting.count, label: "eval", enabled: s.showProgress)
        var done = 0, tokens = 0
        var failure: (item: EvalItem, error: any Error)?
        await withTaskGroup(of: (EvalItem, Result<EvalPrediction, any Error>).self) { group in
            var next = pending.startIndex
            func start(_ group: inout TaskGroup<(EvalItem, Result<EvalPrediction, any Error>)>) {
                let item = pending[next]
                next += 1
                group.addTask {
                    do { return (item, .success(try await evaluate(item, settings: s))) } catch { return (item, .failure(error)) }
                }
            }
            while next < pending.endIndex && next - pending.startIndex < max(1, target.concurrency) { start(&group) }
            while let (item, result) = await group.next() {
                do {
                    let p = try result.get()
                    try store.append([p])
                    done += 1
                    tokens += p.generatedTokens
                    bar.advance(1, note: item.task)
                } catch {
                    if failure == nil { failure = (item, error) }
                }
                if failure == nil && next < pending.endIndex { start(&group) }
            }
        }
        bar.finish()
        if let failure {
            throw EvalError("\(failure.item.task) example \(failure.item.id): \(failure.error); stopped with \(done) answers of this run "
                            + "kept in \(store.url.path) (\(waiting.count - done) left): rerun to resume")
        }
        return EvalRunStats(alreadyDone: items.count - waiting.count, generated: done, remaining: waiting.count - done,
                            generatedTokens: tokens, seconds: Date().timeIntervalSince(started))
    }
}

/// An evaluation through an OpenAI-compatible server: the examples as ``EvalRunRequest`` selects them, the server
/// instead of a model.
public struct EndpointEvalRequest: Sendable, EvalExampleRequest {
    public var target: EndpointTarget
    public var ecomGPTDirectory: URL?
    public var tasksFile: URL?
    public var uniNERDirectory: URL?
    public var uniNERFiles: [String]?
    public var uniNERBalanced = false
    public var title = "Ecom evaluation"
    public var supervised: SupervisedSplit?
    public var limit: Int?
    public var seed: UInt64 = 0
    /// Generation settings: `beams` must be 1; `maxPromptTokens` is only compared with the prompts' token counts
    /// (prompts are not truncated); batch size, workers and threads do not apply (`target.concurrency` does).
    public var settings: EvalSettings = {
        var s = EvalSettings()
        s.beams = 1
        return s
    }()
    public var outDirectory: URL
    public var restart = false
    public var bootstrap = BootstrapSettings()

    public init(target: EndpointTarget, outDirectory: URL) {
        self.target = target; self.outDirectory = outDirectory
    }
}

extension EvalRun {
    /// Runs (or resumes) an evaluation through an OpenAI-compatible server: the same examples, predictions.jsonl,
    /// summary.json and report.html as a local run. The configuration names the endpoint's URL, model and API (and
    /// the completions prompts' default system turn) instead of model files, so a rerun resumes and other settings
    /// are refused unless `restart`. `log` receives human-readable notes (for stderr).
    public static func run(_ r: EndpointEvalRequest, log: (String) -> Void = { _ in }) async throws -> EvalRunResult {
        try checkSelection(r)
        let s = r.settings, t = r.target
        guard s.beams == 1 else {
            throw EvalError("beam search cannot be asked of an endpoint (its requests decode greedily at temperature 0): use --beams 1, "
                            + "and evaluate locally with --beams 1 to compare")
        }
        guard s.maxNewTokens >= 1, s.uniNERMaxNewTokens >= 1, s.maxPromptTokens >= 1, t.concurrency >= 1 else {
            throw EvalError("token limits and the concurrency must be at least 1")
        }
        guard !s.autoMaxNewTokens else {
            throw EvalError("per-task budgets of new tokens (--max-new-tokens auto) count the answers in the model's tokens: evaluate "
                            + "locally, or give an endpoint a fixed --max-new-tokens")
        }
        guard !t.model.isEmpty else { throw EvalError("the endpoint's model name is empty (--endpoint-model)") }
        let identity = t.identity
        let config = EvalConfiguration(
            model: "\(t.model) at \(identity.url)", modelFingerprint: "endpoint", tokenizerFingerprint: "endpoint", precision: "server",
            beams: 1, maxNewTokens: s.maxNewTokens, maxPromptTokens: 0, uniNERMaxNewTokens: s.uniNERMaxNewTokens, seed: r.seed,
            template: t.api == .chat ? "server" : t.template.kind.rawValue, endpoint: identity)

        let (items, tasks) = try examples(r)
        let store = try openStore(r, config: config, items: items, log: log)
        let stats = try await EndpointEvaluator(target: t).run(items, store: store, settings: s)

        let wanted = Set(items.map(\.key))
        let stored = store.predictions.filter { wanted.contains($0.key) }
        let long = stored.filter { $0.promptTokens > s.maxPromptTokens }.count
        var notes = ["model: \(t.model) served at \(identity.url) (OpenAI-compatible endpoint, \(t.api.rawValue) API, \(t.concurrency) requests in flight)"]
        switch t.api {
        case .chat:
            notes.append("prompts: the examples' chat turns (EcomGPT: one user turn; UniversalNER: system, user, assistant and user turns), "
                         + "rendered by the server with the served model's chat template")
        case .completions:
            notes.append("prompts: \(t.template.kind == .plain ? "the papers' plain prompt text" : "rendered here with the \(t.template.kind.rawValue) chat template")"
                         + (identity.systemPrompt.map { " (default system turn: \"\($0)\")" } ?? "") + ", sent to completions")
        }
        notes += [
            "EcomGPT prompts: greedy (temperature 0), up to \(s.maxNewTokens) new tokens; candidate seed \(r.seed)",
            "prompts sent whole (an endpoint cannot left-truncate): \(long) of \(stored.count) were longer than the \(s.maxPromptTokens) tokens "
                + "local evaluation keeps (by the responses' usage; token counts are 0 where a server reports none)",
        ]
        return try finish(r, config: config, items: items, tasks: tasks, store: store, stats: stats, notes: notes, training: [])
    }
}

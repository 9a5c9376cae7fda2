// The settings that make an evaluation's predictions comparable, with fingerprints of the model's files, kept in
// DIR/eval-config.json so that a rerun resumes only what the same model and settings started.
import EcomInstruct
import Foundation

/// What an evaluation was run with. Two runs whose configurations are equal produce the same predictions, so a rerun
/// may skip the examples already in predictions.jsonl. The per-task limit and the task list are not part of it: a
/// larger limit or more tasks only add examples.
public struct EvalConfiguration: Codable, Sendable, Equatable {
    public var model: String
    /// XXH64 of config.json and the safetensors files (hex).
    public var modelFingerprint: String
    /// XXH64 of the tokenizer file (hex).
    public var tokenizerFingerprint: String
    /// The LoRA adapter directory merged into the model (nil: none).
    public var lora: String?
    /// XXH64 of the adapter's adapter_config.json and adapter_model.safetensors (hex; nil: no adapter).
    public var loraFingerprint: String?
    public var precision: String
    public var beams: Int
    public var maxNewTokens: Int
    /// Each EcomGPT task's budget of new tokens when they are set from the tasks' answers (`--max-new-tokens auto`;
    /// nil: ``maxNewTokens`` for every task).
    public var maxNewTokensByTask: [String: Int]?
    public var maxPromptTokens: Int
    public var uniNERMaxNewTokens: Int
    public var seed: UInt64
    /// How prompts were rendered: "plain" (the papers' prompt text) or a chat template ("chatml"); "server" when an
    /// endpoint's chat API rendered the turns with the served model's own template.
    public var template: String
    /// The OpenAI-compatible server that generated (nil: a local model, whose files the fingerprints name).
    public var endpoint: EndpointIdentity?

    /// What names an evaluation through an OpenAI-compatible server instead of model files.
    public struct EndpointIdentity: Codable, Sendable, Equatable {
        /// The API root (`http://127.0.0.1:8080/v1`).
        public var url: String
        /// The `model` of the requests.
        public var model: String
        /// "chat" (chat/completions with the examples' turns) or "completions" (the rendered prompt text).
        public var api: String
        /// The ChatML default system turn of completions prompts (nil: none).
        public var systemPrompt: String?

        public init(url: String, model: String, api: String, systemPrompt: String? = nil) {
            self.url = url; self.model = model; self.api = api; self.systemPrompt = systemPrompt
        }

        enum CodingKeys: String, CodingKey { case url, model, api, systemPrompt = "system_prompt" }
    }

    enum CodingKeys: String, CodingKey {
        case model, precision, beams, seed, template, lora, endpoint
        case modelFingerprint = "model_fingerprint", tokenizerFingerprint = "tokenizer_fingerprint", loraFingerprint = "lora_fingerprint"
        case maxNewTokens = "max_new_tokens", maxPromptTokens = "max_prompt_tokens", uniNERMaxNewTokens = "uniner_max_new_tokens"
        case maxNewTokensByTask = "max_new_tokens_by_task"
    }

    public init(model: String, modelFingerprint: String, tokenizerFingerprint: String, precision: String = "float32",
                beams: Int = 4, maxNewTokens: Int = 164, maxPromptTokens: Int = PromptEncoding.defaultMaxTokens,
                uniNERMaxNewTokens: Int = 256, seed: UInt64 = 0, template: String = "plain", lora: String? = nil,
                loraFingerprint: String? = nil, endpoint: EndpointIdentity? = nil, maxNewTokensByTask: [String: Int]? = nil) {
        self.model = model; self.modelFingerprint = modelFingerprint; self.tokenizerFingerprint = tokenizerFingerprint
        self.lora = lora; self.loraFingerprint = loraFingerprint
        self.precision = precision; self.beams = beams; self.maxNewTokens = maxNewTokens; self.maxPromptTokens = maxPromptTokens
        self.uniNERMaxNewTokens = uniNERMaxNewTokens; self.seed = seed; self.template = template
        self.endpoint = endpoint; self.maxNewTokensByTask = maxNewTokensByTask
    }

    /// Decodes eval-config.json; files written before chat templates existed have no "template" (they are "plain"),
    /// runs without a LoRA adapter (or from before adapters) have no "lora" and "lora_fingerprint", local runs no
    /// "endpoint", and runs with one budget of new tokens no "max_new_tokens_by_task".
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        modelFingerprint = try c.decode(String.self, forKey: .modelFingerprint)
        tokenizerFingerprint = try c.decode(String.self, forKey: .tokenizerFingerprint)
        precision = try c.decode(String.self, forKey: .precision)
        beams = try c.decode(Int.self, forKey: .beams)
        maxNewTokens = try c.decode(Int.self, forKey: .maxNewTokens)
        maxPromptTokens = try c.decode(Int.self, forKey: .maxPromptTokens)
        uniNERMaxNewTokens = try c.decode(Int.self, forKey: .uniNERMaxNewTokens)
        seed = try c.decode(UInt64.self, forKey: .seed)
        template = try c.decodeIfPresent(String.self, forKey: .template) ?? "plain"
        lora = try c.decodeIfPresent(String.self, forKey: .lora)
        loraFingerprint = try c.decodeIfPresent(String.self, forKey: .loraFingerprint)
        endpoint = try c.decodeIfPresent(EndpointIdentity.self, forKey: .endpoint)
        maxNewTokensByTask = try c.decodeIfPresent([String: Int].self, forKey: .maxNewTokensByTask)
    }

    public static let fileName = "eval-config.json"

    /// The EcomGPT prompts' budget of new tokens in words: "up to 164 new tokens", or with per-task budgets
    /// "up to 11-301 new tokens, each task's from its answers".
    public var budgetSummary: String {
        guard let byTask = maxNewTokensByTask, let low = byTask.values.min(), let high = byTask.values.max() else {
            return "up to \(maxNewTokens) new tokens"
        }
        return "up to \(low == high ? "\(low)" : "\(low)-\(high)") new tokens, each task's budget from its reference answers"
    }

    /// The settings that differ from `other`, as "name: old -> new" (the model and adapter paths alone are not
    /// compared: a moved directory with the same files is the same model; an endpoint's URL and model name are).
    /// Per-task budgets are compared on the tasks both runs hold: more tasks only add examples.
    public func differences(from other: EvalConfiguration) -> [String] {
        var out: [String] = []
        func check<T: Equatable>(_ name: String, _ a: T, _ b: T) { if a != b { out.append("\(name): \(b) -> \(a)") } }
        check("model files", modelFingerprint, other.modelFingerprint)
        check("tokenizer", tokenizerFingerprint, other.tokenizerFingerprint)
        check("LoRA adapter files", loraFingerprint ?? "none", other.loraFingerprint ?? "none")
        check("precision", precision, other.precision)
        check("beams", beams, other.beams)
        check("max new tokens", maxNewTokens, other.maxNewTokens)
        check("per-task budgets of new tokens", maxNewTokensByTask != nil, other.maxNewTokensByTask != nil)
        if let mine = maxNewTokensByTask, let theirs = other.maxNewTokensByTask {
            for (task, budget) in mine.sorted(by: { $0.key < $1.key }) {
                if let old = theirs[task] { check("max new tokens of \(task)", budget, old) }
            }
        }
        check("max prompt tokens", maxPromptTokens, other.maxPromptTokens)
        check("UniversalNER max new tokens", uniNERMaxNewTokens, other.uniNERMaxNewTokens)
        check("seed", seed, other.seed)
        check("prompt template", template, other.template)
        check("endpoint", endpoint?.url ?? "none", other.endpoint?.url ?? "none")
        check("endpoint model", endpoint?.model ?? "none", other.endpoint?.model ?? "none")
        check("endpoint API", endpoint?.api ?? "none", other.endpoint?.api ?? "none")
        check("default system prompt", endpoint?.systemPrompt ?? "none", other.endpoint?.systemPrompt ?? "none")
        return out
    }

    /// Reads `dir/eval-config.json` (nil when absent); errors name the file.
    public static func load(from dir: URL) throws -> EvalConfiguration? {
        let url = dir.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do { return try JSONDecoder().decode(EvalConfiguration.self, from: Data(contentsOf: url)) } catch {
            throw EvalError("\(url.path): not a valid evaluation configuration (\(error)); remove it or use --restart")
        }
    }

    /// Writes `dir/eval-config.json` atomically.
    public func save(to dir: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(enc.encode(self), to: dir.appendingPathComponent(Self.fileName))
    }
}

public enum Fingerprint {
    /// XXH64 (hex) of the files' bytes in order, each file's hash seeding the next; errors name a missing file.
    public static func files(_ urls: [URL]) throws -> String {
        var h: UInt64 = 0
        for url in urls {
            let data: Data
            do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
                throw EvalError("\(url.path): cannot read (\(error.localizedDescription))")
            }
            h = data.withUnsafeBytes { XXH64.hash($0, seed: h) }
        }
        return XXH64.hex(h)
    }

    /// The model directory's config.json and safetensors files (sorted by name), or a GGUF file's bytes.
    public static func model(_ dir: URL) throws -> String {
        if dir.pathExtension.lowercased() == "gguf" { return try files([dir]) }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        let weights = names.filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !weights.isEmpty else { throw EvalError("\(dir.path): no .safetensors file in the model directory") }
        return try files([dir.appendingPathComponent("config.json")] + weights.map { dir.appendingPathComponent($0) })
    }

    /// A PEFT adapter directory's adapter_config.json and adapter_model.safetensors.
    public static func adapter(_ dir: URL) throws -> String {
        try files([dir.appendingPathComponent("adapter_config.json"), dir.appendingPathComponent("adapter_model.safetensors")])
    }
}

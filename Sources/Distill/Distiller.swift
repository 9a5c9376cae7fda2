// A distillation run: passages → chunks → the teacher's answers (cached, `concurrency` requests in flight) → labels →
// records in passage order → record shards, manifest.json and summary.json in the output directory.
import EcomInstruct
import EcomOpenAI
import EcomTokenizer
import Foundation

/// The settings of a run.
public struct DistillOptions: Sendable {
    /// The endpoint's API root (`http://127.0.0.1:8080/v1`).
    public var teacher: URL
    /// The model name sent in requests.
    public var model: String
    public var apiKey: String?
    public var sampling = TeacherSampling()
    /// Negative types per record.
    public var negatives = 2
    /// Seed of negative sampling and of the validation split.
    public var seed: UInt64 = 0
    public var maxChunkTokens = 256
    /// Requests in flight.
    public var concurrency = 4
    /// Use only the first N passages.
    public var maxPassages: Int?
    /// The fraction of records that goes to validation (as `ecom-data build`: seeded per record id).
    public var validationFraction = 0.05
    /// Seconds per request attempt.
    public var timeout: TimeInterval = 600
    public var retry = RetryPolicy()
    public var shardBytes = 64 << 20
    /// What the tokenizer was (for summary.json).
    public var tokenizerSource = ""

    public init(teacher: URL, model: String) { self.teacher = teacher; self.model = model }
}

/// summary.json.
public struct DistillSummary: Codable, Sendable, Equatable {
    public var teacher: String
    public var model: String
    public var promptVersion: String
    public var promptHash: String
    public var sampling: TeacherSampling
    public var input: String
    public var tokenizer: String
    public var maxChunkTokens: Int
    public var passages: Int
    public var emptyPassages: Int
    public var chunks: Int
    /// Distinct chunk texts (identical chunks are asked once).
    public var uniqueChunks: Int
    /// Chunks asked of the teacher in this run.
    public var requests: Int
    /// Answers received in this run.
    public var answers: Int
    /// Answers taken from the cache (earlier runs).
    public var cached: Int
    /// Retries of failed attempts in this run.
    public var retries: Int
    public var finishReasons: [String: Int]
    public var entitiesKept: Int
    public var entitiesCaseRepaired: Int
    /// Distinct entity types kept.
    public var types: Int
    /// The most frequent types (chunks in which each has an entity), at most 20, most frequent first.
    public var topTypes: [TypeCount]
    public var records: Int
    public var splits: [String: Int]
    public var negatives: Int
    public var seed: UInt64
    public var drops: DropCounts
    public var output: String

    public struct TypeCount: Codable, Sendable, Equatable {
        public var type: String
        public var count: Int
    }

    enum CodingKeys: String, CodingKey {
        case teacher, model, sampling, input, tokenizer, passages, chunks, requests, answers, cached, retries, types
        case records, splits, negatives, seed, drops, output
        case promptVersion = "prompt_version", promptHash = "prompt_hash", maxChunkTokens = "max_chunk_tokens"
        case emptyPassages = "empty_passages", uniqueChunks = "unique_chunks", finishReasons = "finish_reasons"
        case entitiesKept = "entities_kept", entitiesCaseRepaired = "entities_case_repaired", topTypes = "top_types"
    }
}

/// One run over a set of passages.
public struct Distiller: Sendable {
    public static let summaryFile = "summary.json"

    public let options: DistillOptions
    public let tokenizer: Tokenizer
    let transport: (any HTTPTransport)?
    let log: @Sendable (String) -> Void
    let showProgress: Bool

    /// - Parameters:
    ///   - transport: the HTTP transport (nil: URLSession); tests pass a fake one.
    ///   - log: lines for standard error (retries, notes).
    ///   - showProgress: draw the progress bar on standard error.
    public init(options: DistillOptions, tokenizer: Tokenizer, transport: (any HTTPTransport)? = nil,
                showProgress: Bool = true, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.options = options; self.tokenizer = tokenizer; self.transport = transport; self.log = log
        self.showProgress = showProgress
    }

    struct Item: Sendable {
        var passage: Int
        var text: String
        var language: String
        var key: String
    }

    /// Reads the passages file and runs.
    public func run(input: URL, out: URL) async throws -> DistillSummary {
        let (passages, empty) = try DistillPassages.read(input, limit: options.maxPassages)
        return try await run(passages: passages, emptyPassages: empty, input: input.path, out: out)
    }

    /// Runs over passages already read. Throws a ``DistillError`` naming the endpoint when the teacher fails after its
    /// retries; every answer received until then is in the cache, and a rerun asks only for the rest.
    public func run(passages: [DistillPassage], emptyPassages: Int = 0, input: String = "", out: URL) async throws -> DistillSummary {
        let o = options
        guard o.concurrency >= 1 else { throw DistillError("concurrency must be at least 1") }
        guard o.negatives >= 0 else { throw DistillError("negatives must not be negative") }
        guard o.maxChunkTokens >= 1 else { throw DistillError("the chunk limit must be at least 1 token") }
        let chunker = PassageChunker(tokenizer: tokenizer, maxTokens: o.maxChunkTokens)
        var items: [Item] = []
        for (pi, p) in passages.enumerated() {
            for c in chunker.chunks(p.text) {
                items.append(Item(passage: pi, text: c.text, language: p.language,
                                  key: TeacherCache.key(chunk: c.text, teacher: o.teacher, model: o.model, sampling: o.sampling)))
            }
        }
        do { try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true) } catch {
            throw DistillError("\(out.path): cannot create the output directory (\(error.localizedDescription))")
        }
        let cache = try TeacherCache(url: out.appendingPathComponent(TeacherCache.fileName))
        for n in cache.notes { log("note: \(n)") }
        let known = await cache.answers
        var seen = Set<String>()
        var pending: [Item] = []
        var uniqueKeys = 0
        var cached = 0
        for it in items where seen.insert(it.key).inserted {
            uniqueKeys += 1
            if known[it.key] != nil { cached += 1 } else { pending.append(it) }
        }
        log("\(passages.count) passages, \(items.count) chunks (\(uniqueKeys) distinct); \(cached) answers cached, \(pending.count) to ask "
            + "\(o.model) at \(o.teacher.absoluteString)")

        let retries = Counter()
        let maxAttempts = o.retry.maxAttempts
        let log = self.log
        let client = OpenAIClient(baseURL: o.teacher, apiKey: o.apiKey, timeout: o.timeout, retry: o.retry, transport: transport) { e in
            retries.add()
            log("retry: attempt \(e.attempt) of \(maxAttempts) failed (\(e.failure)); next in \(String(format: "%.2f", e.delay)) s")
        }
        let progress = ProgressBar(total: pending.count, label: "distill", enabled: showProgress && !pending.isEmpty)
        let answered = Counter()
        do {
            try await ask(pending, client: client, cache: cache, progress: progress, answered: answered)
        } catch let e as OpenAIClientError {
            progress.finish()
            await cache.close()
            let total = await cache.answers.count
            throw DistillError("the teacher failed: \(e). \(answered.value) answers arrived in this run; \(total) are kept in "
                               + "\(cache.url.path): rerun the same command to ask only for the rest")
        } catch {
            progress.finish()
            await cache.close()
            throw error
        }
        progress.finish()
        await cache.close()

        // Labels and records, in passage order whatever order the answers came in.
        let all = await cache.answers
        var labelled: [LabelledChunk] = []
        var drops = DropCounts()
        var finish: [String: Int] = [:]
        var caseRepaired = 0
        for it in items {
            guard let a = all[it.key] else { throw DistillError("internal: no answer for a chunk of passage \(it.passage)") }
            let l = EntityGrounding.labels(answer: a.answer, chunk: it.text)
            drops = drops + l.drops
            caseRepaired += l.caseRepaired
            finish[a.finishReason ?? "unknown", default: 0] += 1
            labelled.append(LabelledChunk(text: it.text, language: it.language, labels: l))
        }
        let (records, withoutRecord) = DistilledRecords.build(labelled, negatives: o.negatives, seed: o.seed)
        drops.chunksWithoutRecords = withoutRecord
        let assigner = SplitAssigner(heldOut: [], maxPerDataset: nil, validationFraction: o.validationFraction, seed: o.seed)
        let (split, _) = assigner.assign(records)
        let splits = try Self.writeShards(split, to: out, shardBytes: o.shardBytes)

        let counts = DistilledRecords.typeCounts(labelled)
        let top = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(20)
            .map { DistillSummary.TypeCount(type: $0.key, count: $0.value) }
        let summary = DistillSummary(
            teacher: o.teacher.absoluteString, model: o.model, promptVersion: DistillPrompt.version, promptHash: DistillPrompt.hash,
            sampling: o.sampling, input: input, tokenizer: o.tokenizerSource, maxChunkTokens: o.maxChunkTokens,
            passages: passages.count, emptyPassages: emptyPassages, chunks: items.count, uniqueChunks: uniqueKeys,
            requests: pending.count, answers: answered.value, cached: cached, retries: retries.value, finishReasons: finish,
            entitiesKept: labelled.reduce(0) { $0 + $1.labels.entityCount }, entitiesCaseRepaired: caseRepaired,
            types: counts.count, topTypes: Array(top), records: records.count, splits: splits, negatives: o.negatives,
            seed: o.seed, drops: drops, output: out.path)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try writeAtomically(try enc.encode(summary), to: out.appendingPathComponent(Self.summaryFile))
        return summary
    }

    /// Asks the teacher for every pending chunk, `concurrency` at a time; each answer is appended to the cache as it
    /// arrives. The first failure (after the client's retries) cancels the rest and is thrown.
    func ask(_ pending: [Item], client: OpenAIClient, cache: TeacherCache, progress: ProgressBar, answered: Counter) async throws {
        let o = options
        func request(_ it: Item) -> OpenAI.ChatCompletionRequest {
            OpenAI.ChatCompletionRequest(model: o.model, messages: DistillPrompt.messages(passage: it.text),
                                         maxTokens: o.sampling.maxTokens, temperature: o.sampling.temperature,
                                         topP: o.sampling.topP, seed: o.sampling.seed)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < pending.count && next < o.concurrency {
                let it = pending[next]
                let r = request(it)
                group.addTask { try await Self.answer(it.key, r, client: client, cache: cache, answered: answered, progress: progress) }
                next += 1
            }
            while try await group.next() != nil {
                guard next < pending.count else { continue }
                let it = pending[next]
                let r = request(it)
                group.addTask { try await Self.answer(it.key, r, client: client, cache: cache, answered: answered, progress: progress) }
                next += 1
            }
        }
    }

    /// One request; its answer appended to the cache.
    static func answer(_ key: String, _ r: OpenAI.ChatCompletionRequest, client: OpenAIClient, cache: TeacherCache,
                       answered: Counter, progress: ProgressBar) async throws {
        let c = try await client.chat(r)
        let choice = c.choices[0]  // the client rejects completions without choices
        try await cache.append(CachedAnswer(key: key, answer: choice.message.content, finishReason: choice.finishReason,
                                            promptTokens: c.usage?.promptTokens, completionTokens: c.usage?.completionTokens,
                                            model: c.model.isEmpty ? nil : c.model))
        answered.add()
        progress.advance()
    }

    /// Record shards per split and the manifest (an earlier manifest removed first, the new one written last,
    /// atomically); shards of an earlier run that the new manifest does not list are removed. Returns the records per split.
    static func writeShards(_ records: [InstructionRecord], to out: URL, shardBytes: Int) throws -> [String: Int] {
        try ShardManifest.beginWriting(in: out)
        var shards: [ShardInfo] = []
        var counts: [String: Int] = [:]
        for s in Split.allCases {
            let part = records.filter { $0.provenance.split == s }
            counts[s.rawValue] = part.count
            guard !part.isEmpty else { continue }
            let w = try ShardWriter(directory: out, prefix: s.rawValue, kind: .records, targetShardBytes: shardBytes)
            for r in part { try w.append(RecordCodec.encode(r)) }
            shards += try w.finish(split: s.rawValue)
        }
        try ShardManifest(kind: .records, compressionLevel: 3, shards: shards, notes: counts).write(to: out)
        let listed = Set(shards.map(\.file))
        let names = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
        for n in names where n.hasSuffix(".ecs") && !listed.contains(n) && Split.allCases.contains(where: { n.hasPrefix($0.rawValue + "-") }) {
            try? FileManager.default.removeItem(at: out.appendingPathComponent(n))
        }
        return counts
    }
}

/// A thread-safe counter.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

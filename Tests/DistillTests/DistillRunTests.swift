// Whole runs of the distiller over a fake teacher: outputs, a dead endpoint and the resumed run, order independence,
// and shards that `ecom-data pack` takes.
import EcomInstruct
import EcomOpenAI
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing
@testable import EcomDistill
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite struct DistillRunTests {
    let tokenizer: Tokenizer
    init() throws { tokenizer = try Tokenizer(contentsOf: TestPaths.fixture("tokenizer/gpt2_small.json")) }

    static let known: [(String, String)] = [
        ("Alice", "Person"), ("Bob", "person"), ("Carol", "PERSON"), ("Dave", "person"), ("Paris", "City"),
        ("Tokyo", "city"), ("Berlin", "city"), ("Acme", "Organization"), ("Globex", "organization"),
    ]

    static let passages: [DistillPassage] = [
        "Alice met Bob in Paris. They talked about Acme for a long while, then walked along the river to the old bridge and back.",
        "Carol flew to Tokyo with Dave. The flight was long and the food was poor, but the view over the mountains was worth it.",
        "Globex opened an office in Berlin last spring; Dave visited it twice and said the coffee was the best in town.",
        "Nobody here is named at all: the weather was grey and the streets were quiet for most of the afternoon.",
        "Alice met Bob in Paris. They talked about Acme for a long while, then walked along the river to the old bridge and back.",
        "Bob wrote to Carol from Berlin about Globex and Acme, the two firms that had both offered him a job that year.",
    ].enumerated().map { DistillPassage(text: $1, source: "t#\($0)", language: "en") }

    /// The teacher: the known names in the passage as Python tuples (`[]` when none); prose for the Tokyo passage.
    static func teacherReply(_ request: URLRequest) throws -> FakeTransport.Reply {
        let r = try OpenAI.ChatCompletionRequest.parse(request.httpBody ?? Data())
        guard let passage = r.messages.last?.content.components(separatedBy: "\nPassage: ").last else {
            return .text("no passage", status: 400)
        }
        if passage.contains("Tokyo") { return .json(completion("I'm not sure which entities you mean.")) }
        let found = known.filter { passage.contains($0.0) }
        return .json(completion("Here you go:\n[" + found.map { "('\($0.0)', \"\($0.1)\")" }.joined(separator: ", ") + "]"))
    }

    func options() -> DistillOptions {
        var o = DistillOptions(teacher: URL(string: "http://127.0.0.1:9/v1")!, model: "teacher")
        o.maxChunkTokens = 16
        o.concurrency = 2
        o.negatives = 2
        o.seed = 5
        o.validationFraction = 0.3
        o.retry = quickRetry(2)
        return o
    }

    func run(_ o: DistillOptions, _ t: FakeTransport, out: URL) async throws -> DistillSummary {
        try await Distiller(options: o, tokenizer: tokenizer, transport: t, showProgress: false).run(passages: Self.passages, out: out)
    }

    @Test func aCompleteRun() async throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let t = FakeTransport { r, _ in try Self.teacherReply(r) }
        let s = try await run(options(), t, out: dir)
        let chunker = PassageChunker(tokenizer: tokenizer, maxTokens: 16)
        let chunks = Self.passages.flatMap { chunker.chunks($0.text) }
        #expect(s.passages == 6 && s.chunks == chunks.count && s.chunks > 12)
        // Passage 4 repeats passage 0: its chunks are asked once.
        #expect(s.uniqueChunks == Set(chunks.map(\.text)).count && s.uniqueChunks < s.chunks)
        #expect(t.count == s.uniqueChunks && s.requests == s.uniqueChunks && s.answers == s.uniqueChunks && s.cached == 0)
        #expect(s.retries == 0 && s.finishReasons == ["stop": s.chunks])
        // The teacher named every name it knew in each chunk, always found there.
        var expectedEntities = 0
        for c in chunks where !c.text.contains("Tokyo") {
            expectedEntities += Self.known.filter { c.text.contains($0.0) }.count
        }
        #expect(s.entitiesKept == expectedEntities && s.drops.notInPassage == 0 && s.drops.malformedTuples == 0)
        #expect(s.types == 3)
        #expect(s.drops.unparseableAnswers == chunks.filter { $0.text.contains("Tokyo") }.count)
        #expect(s.drops.unparseableAnswers >= 1)
        #expect(s.teacher == "http://127.0.0.1:9/v1" && s.model == "teacher" && s.promptHash == DistillPrompt.hash)

        // Records on disk, in chunk order, readable as ecom-data reads them.
        let records = try DatasetBuilder.records(in: dir)
        #expect(records.count == s.records && s.records == s.splits.values.reduce(0, +))
        #expect(s.splits["train"]! > 0 && s.splits["validation"]! > 0)
        let summary = try JSONDecoder().decode(DistillSummary.self, from: Data(contentsOf: dir.appendingPathComponent("summary.json")))
        #expect(summary == s)
        let alice = try #require(records.first { $0.input.hasPrefix("Alice met Bob") })
        let labels = try #require(alice.candidateLabels)
        let answers = alice.output.components(separatedBy: "\n")
        #expect(labels.first == "person" && answers.first == "[\"Alice\", \"Bob\"]")
        #expect(labels.count == answers.count)
        // The Tokyo chunk gives no record.
        #expect(!records.contains { $0.input.contains("Tokyo") })
        // The first request carried the prompt.
        let first = try OpenAI.ChatCompletionRequest.parse(try #require(t.requests.first?.httpBody))
        #expect(first.messages.count == 2 && first.messages[0].content == DistillPrompt.system)
        #expect(first.messages[1].content.hasPrefix("Given a passage, your task is to extract all entities and identify their entity types."))
        #expect(first.maxTokens == 512 && first.temperature == 0 && first.model == "teacher")
    }

    @Test func aDeadEndpointKeepsItsAnswersAndTheRerunAsksOnlyTheRest() async throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let resumed = dir.appendingPathComponent("resumed"), whole = dir.appendingPathComponent("whole")
        let k = 3
        final class Served: @unchecked Sendable {
            let lock = NSLock(); var n = 0
            func take(_ limit: Int) -> Bool { lock.lock(); defer { lock.unlock() }; if n < limit { n += 1; return true }; return false }
        }
        let served = Served()
        let dying = FakeTransport { r, _ in
            guard served.take(k) else { throw URLError(.cannotConnectToHost) }
            return try Self.teacherReply(r)
        }
        do {
            _ = try await run(options(), dying, out: resumed)
            Issue.record("the run should fail")
        } catch let e as DistillError {
            #expect(e.message.contains("http://127.0.0.1:9/v1/chat/completions: cannot connect ("), "\(e.message)")
            #expect(e.message.contains("after 2 attempts"))
            #expect(e.message.contains("\(k) are kept in \(resumed.appendingPathComponent("teacher-cache.jsonl").path)"))
            #expect(e.message.contains("rerun the same command"))
        }
        let cache = try String(contentsOf: resumed.appendingPathComponent(TeacherCache.fileName), encoding: .utf8)
        #expect(cache.split(separator: "\n").count == k)
        #expect(!FileManager.default.fileExists(atPath: resumed.appendingPathComponent(ShardManifest.fileName).path))
        #expect(!FileManager.default.fileExists(atPath: resumed.appendingPathComponent(Distiller.summaryFile).path))

        let good = FakeTransport { r, _ in try Self.teacherReply(r) }
        let s = try await run(options(), good, out: resumed)
        #expect(s.cached == k && s.requests == s.uniqueChunks - k && good.count == s.uniqueChunks - k && s.answers == s.requests)
        // Nothing cached was asked again.
        let cachedKeys = Set(cache.split(separator: "\n").map { try! JSONDecoder().decode(CachedAnswer.self, from: Data($0.utf8)).key })
        let o = options()
        for r in good.requests {
            let passage = try OpenAI.ChatCompletionRequest.parse(r.httpBody!).messages[1].content.components(separatedBy: "\nPassage: ")[1]
            #expect(!cachedKeys.contains(TeacherCache.key(chunk: passage, teacher: o.teacher, model: o.model, sampling: o.sampling)))
        }

        let w = try await run(options(), FakeTransport { r, _ in try Self.teacherReply(r) }, out: whole)
        let resumedRecords = try DatasetBuilder.records(in: resumed), wholeRecords = try DatasetBuilder.records(in: whole)
        #expect(resumedRecords == wholeRecords)
        let resumedShards = try ShardManifest.read(from: resumed).shards, wholeShards = try ShardManifest.read(from: whole).shards
        #expect(resumedShards == wholeShards)
        #expect(s.records == w.records && s.drops == w.drops && s.entitiesKept == w.entitiesKept)

        // A third run asks nothing.
        let idle = FakeTransport { r, _ in try Self.teacherReply(r) }
        let again = try await run(options(), idle, out: resumed)
        #expect(idle.count == 0 && again.requests == 0 && again.cached == again.uniqueChunks)
    }

    @Test func outputDoesNotDependOnTheOrderAnswersArriveIn() async throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
        var o = options()
        o.concurrency = 1
        _ = try await run(o, FakeTransport { r, _ in try Self.teacherReply(r) }, out: a)
        // Four in flight, earlier requests answered later: completion order differs from request order.
        o.concurrency = 4
        let late = FakeTransport(delay: { n in n < 8 ? 0.004 * Double(8 - n) : 0 }) { r, _ in try Self.teacherReply(r) }
        _ = try await run(o, late, out: b)
        let requested = try late.requests.map { r in
            let passage = try OpenAI.ChatCompletionRequest.parse(r.httpBody!).messages[1].content.components(separatedBy: "\nPassage: ")[1]
            return TeacherCache.key(chunk: passage, teacher: o.teacher, model: o.model, sampling: o.sampling)
        }
        let answered = try String(contentsOf: b.appendingPathComponent(TeacherCache.fileName), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(CachedAnswer.self, from: Data($0.utf8)).key }
        #expect(requested != answered && Set(requested) == Set(answered))
        let ra = try DatasetBuilder.records(in: a), rb = try DatasetBuilder.records(in: b)
        #expect(ra == rb && !ra.isEmpty)
        let sa = try ShardManifest.read(from: a).shards, sb = try ShardManifest.read(from: b).shards
        #expect(sa == sb)
    }

    @Test func retriesAreCountedAndTheShardsPack() async throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("distilled")
        // Every other request fails with 500 once; two attempts suffice.
        let flaky = FakeTransport { r, n in n % 2 == 0 ? .error(.server("flaky")) : try Self.teacherReply(r) }
        var o = options()
        o.concurrency = 1
        let s = try await run(o, flaky, out: out)
        #expect(s.retries == s.uniqueChunks && flaky.count == 2 * s.uniqueChunks)

        let url = TestPaths.fixture("tokenizer/bloom_small.json")
        let tok = try Tokenizer(contentsOf: url)
        let stats = try PackPipeline.pack(input: out, out: dir.appendingPathComponent("packed"), encoder: tok,
                                          tokenizerHash: try PackPipeline.fileHash(url),
                                          config: PackingConfig(sequenceLength: 256, padID: tok.paddingID), progress: { _ in })
        #expect((stats["train"]?.documents ?? 0) == s.splits["train"])
        #expect((stats["train"]?.sequences ?? 0) > 0)
    }

    @Test func badSettingsAreErrors() async throws {
        let dir = try TestPaths.makeTemporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        var o = options()
        o.concurrency = 0
        await #expect(throws: DistillError.self) { _ = try await run(o, FakeTransport { r, _ in try Self.teacherReply(r) }, out: dir) }
    }
}

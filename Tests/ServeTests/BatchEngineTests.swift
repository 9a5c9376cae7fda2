// The continuous-batching engine on the tiny Llama fixture: concurrent greedy requests decoded together give each
// prompt's lone `generate` tokens; a full queue refuses; a cancelled request frees its slot.
import EcomLoader
import EcomModel
@testable import EcomServe
import EcomTestSupport
import Foundation
import Testing

enum TinyServeModel {
    static let gguf = TestPaths.fixture("llama/tiny.gguf")
    static let bundle: ModelBundle = try! ModelBundle.load(gguf, precision: .float32)
}

/// Waits (polling) until `condition` holds; records an issue and returns false after `seconds`.
func waitUntil(_ what: String, seconds: Double = 60, _ condition: () -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline { Issue.record("timed out waiting until \(what)"); return false }
        try await Task.sleep(for: .milliseconds(1))
    }
    return true
}

/// Collects a request's tokens and finish reason.
func collect(_ events: AsyncStream<BatchEngine.Event>) async -> ([Int32], BatchEngine.FinishReason?) {
    var ids: [Int32] = [], reason: BatchEngine.FinishReason?
    for await e in events {
        switch e {
        case .token(let t): ids.append(t)
        case .finished(let r): reason = r
        }
    }
    return (ids, reason)
}

@Suite struct BatchEngineTests {
    let model = TinyServeModel.bundle.model
    let prompts: [[Int32]] = [[5, 9, 14], [7], [3, 30, 31, 12, 8, 22, 40], [11, 11, 2, 19], [25, 6]]

    @Test func concurrentGreedyRequestsEqualLoneGenerate() async throws {
        let engine = BatchEngine(model: model, maxBatch: 4, maxQueue: 8)
        defer { engine.shutDown() }
        let n = 12
        let streams = try prompts.map { try engine.submit(BatchEngine.Request(promptIds: $0, maxTokens: n)) }
        var results: [[Int32]] = []
        for s in streams {
            let (ids, reason) = await collect(s)
            #expect(reason == .length)
            results.append(ids)
        }
        for (p, got) in zip(prompts, results) {
            var o = GenerationOptions(model: model, maxNewTokens: n)
            o.eosTokenId = nil
            #expect(got == model.generate(prompts: [p], options: o)[0], "prompt \(p)")
        }
        let stats = engine.currentStats
        #expect(stats.batchedSteps > 0 && stats.largestBatch >= 2 && stats.largestBatch <= 4, "\(stats)")
        #expect(stats.finished == prompts.count)
    }

    @Test func newcomersArePrefilledTogetherAndGetTheirLoneTokens() async throws {
        // The first request's prefill is held until three more wait; they then join in one packed prefill step.
        let gated = GatedModel(model)
        let engine = BatchEngine(model: gated, maxBatch: 4, maxQueue: 8)
        defer { engine.shutDown() }
        let n = 6
        let first = try engine.submit(BatchEngine.Request(promptIds: prompts[0], maxTokens: n))
        guard try await waitUntil("the first prefill starts", { gated.entered }) else { return }
        let rest = try prompts[1...3].map { try engine.submit(BatchEngine.Request(promptIds: $0, maxTokens: n)) }
        guard try await waitUntil("three requests wait", { engine.currentStats.waiting == 3 }) else { return }
        gated.open()
        var results: [[Int32]] = []
        for s in [first] + rest { results.append(await collect(s).0) }
        for (p, got) in zip(prompts[0...3], results) {
            var o = GenerationOptions(model: model, maxNewTokens: n)
            o.eosTokenId = nil
            #expect(got == model.generate(prompts: [p], options: o)[0], "prompt \(p)")
        }
        #expect(engine.currentStats.largestPrefill == 3, "\(engine.currentStats)")
    }

    @Test func prefillGroupsKeepOrderAndTheTokenBound() {
        #expect(BatchEngine.prefillGroups([3, 4, 2, 9, 1], tokens: 9) == [[0, 1, 2], [3], [4]])
        #expect(BatchEngine.prefillGroups([12, 1, 1], tokens: 4) == [[0], [1, 2]])  // a long prompt goes alone
        #expect(BatchEngine.prefillGroups([], tokens: 4).isEmpty)
    }

    @Test func endTokensAndStopStringsEndASequence() async throws {
        let engine = BatchEngine(model: model, maxBatch: 2, maxQueue: 2)
        defer { engine.shutDown() }
        var o = GenerationOptions(model: model, maxNewTokens: 10)
        o.eosTokenId = nil
        let free = model.generate(prompts: [prompts[0]], options: o)[0]
        // End at the third generated token's id: the stream stops at its first occurrence.
        let end = free[2]
        let (ids, reason) = await collect(try engine.submit(BatchEngine.Request(promptIds: prompts[0], maxTokens: 10, endIds: [end])))
        #expect(reason == .stop)
        #expect(ids == Array(free[...free.firstIndex(of: end)!]))
        // A stop condition on the ids (here: the decoded "text" is the ids themselves).
        let stop = StopStrings(["\(free[1])|"]) { $0.map { "\($0)|" }.joined() }
        let (ids2, reason2) = await collect(try engine.submit(BatchEngine.Request(promptIds: prompts[0], maxTokens: 10, stop: stop)))
        #expect(reason2 == .stop && ids2 == Array(free.prefix(2)))
    }

    @Test func fullQueueRefusesAndCancellationFreesTheSlot() async throws {
        let engine = BatchEngine(model: model, maxBatch: 1, maxQueue: 1)
        defer { engine.shutDown() }
        // A request long enough (tens of seconds) to hold the one slot however slowly this test is scheduled.
        let long = try engine.submit(BatchEngine.Request(promptIds: prompts[2], maxTokens: 50_000))
        // Let the first request take the slot, then fill the one waiting place.
        guard try await waitUntil("the long request runs", { engine.currentStats.running == 1 }) else { return }
        let waiting = try engine.submit(BatchEngine.Request(promptIds: prompts[1], maxTokens: 3))
        #expect(throws: BatchEngine.SubmitError.queueFull(1)) { try engine.submit(BatchEngine.Request(promptIds: prompts[0], maxTokens: 3)) }
        // A consumer that stops listening cancels its request; the waiting one then runs.
        let consumer = Task { await collect(long) }
        consumer.cancel()
        let (ids, reason) = await collect(waiting)
        #expect(reason == .length && ids.count == 3)
        #expect(engine.currentStats.cancelled == 1)
        _ = await consumer.value
    }

    @Test func badRequestsAreRefused() {
        let engine = BatchEngine(model: model, maxBatch: 1, maxQueue: 0)
        defer { engine.shutDown() }
        #expect(throws: BatchEngine.SubmitError.self) { try engine.submit(BatchEngine.Request(promptIds: [], maxTokens: 3)) }
        #expect(throws: BatchEngine.SubmitError.self) { try engine.submit(BatchEngine.Request(promptIds: [1], maxTokens: 0)) }
        #expect(throws: BatchEngine.SubmitError.self) {
            try engine.submit(BatchEngine.Request(promptIds: [Int32(model.vocabularySize)], maxTokens: 3))
        }
    }
}

@Suite struct TextStreamTests {
    /// A toy decoder: each id is one character of `alphabet`, id 0 an unfinished UTF-8 byte (U+FFFD alone).
    static let alphabet = Array("\u{FFFD}abcdefgh<>/ é")
    static func decode(_ ids: [Int32]) -> String {
        var s = ""
        for (i, id) in ids.enumerated() {
            // An unfinished character decodes as U+FFFD only while it is last.
            if id == 0 { if i == ids.count - 1 { s.append("\u{FFFD}") } } else { s.append(alphabet[Int(id)]) }
        }
        return s
    }

    @Test func deltasAddUpToTheTextAndHoldBackStopPrefixes() {
        // "ab</" could begin the stop "</s>": it is held until it cannot, then cut.
        var t = TextStream(stop: ["</s>"], decode: Self.decode)
        let ids: [Int32] = [1, 2, 9, 11, 5, 9, 11, 4]  // a b < / e < / d
        let deltas = ids.map { t.append($0) }
        #expect(deltas == ["a", "b", "", "", "</e", "", "", "</d"])
        #expect(deltas.joined() + t.finish() == "ab</e</d")
        var u = TextStream(stop: ["</s>"], decode: Self.decode)
        for id: Int32 in [1, 9, 11] { _ = u.append(id) }
        #expect(u.finish() == "</")  // the held prefix is sent when the sequence ends without the stop
        var w = TextStream(stop: ["</s>"], decode: { _ in "x</s>tail" })
        #expect(w.append(1) == "x")
        #expect(w.text == "x")
    }

    @Test func anUnfinishedCharacterIsHeldBack() {
        var t = TextStream(stop: [], decode: Self.decode)
        #expect(t.append(1) == "a")
        #expect(t.append(0) == "")      // U+FFFD at the end: wait for the rest of the character
        #expect(t.append(13) == "é")
        #expect(t.finish() == "")
    }
}

/// A model whose first forward step waits until ``open()``: holds the engine inside a prefill while a test queues more.
final class GatedModel: CausalLanguageModel, @unchecked Sendable {
    let base: any CausalLanguageModel
    private let gate = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var first = true, started = false
    init(_ base: any CausalLanguageModel) { self.base = base }
    /// True once the first step has begun waiting.
    var entered: Bool { lock.withLock { started } }
    func open() { gate.signal() }
    var vocabularySize: Int { base.vocabularySize }
    var specialTokens: SpecialTokenIds { base.specialTokens }
    var architecture: String { base.architecture }
    var parameterCount: Int { base.parameterCount }
    var bytesPerToken: Int { base.bytesPerToken }
    func makeCache(batch: Int, capacity: Int) -> KVCache { base.makeCache(batch: batch, capacity: capacity) }
    private func waitFirst() {
        let wait = lock.withLock { () -> Bool in
            defer { first = false; started = true }
            return first
        }
        if wait { gate.wait() }
    }
    func step<R>(ids: [Int32], mask: [Int32]?, cache: KVCache, last: Bool,
                 _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        waitFirst()
        return try base.step(ids: ids, mask: mask, cache: cache, last: last, body)
    }
    func step<R>(sequences: [SequenceStep], _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        waitFirst()
        return try base.step(sequences: sequences, body)
    }
    func sharingWeights() -> any CausalLanguageModel { GatedModel(base.sharingWeights()) }
    func encodedConfiguration() throws -> Data { try base.encodedConfiguration() }
}

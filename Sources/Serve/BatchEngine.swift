// Continuous batching, as vLLM, TGI and llama.cpp's server schedule generation: requests wait in a bounded queue,
// join the running batch when a slot is free, are prefilled together in packed steps (each prompt attending to
// itself only; alone with `prefillTokens` 1, so that a sequence's tokens are those of a lone `generate`), then decoded
// together, one packed forward step per token for every sequence in flight; each leaves as soon as it finishes or its client goes away, and its slot
// goes to the next waiting request.
import EcomModel
import EcomTensor
import Foundation

/// A generation scheduler over one model: a thread of its own runs the forward passes; callers submit requests from
/// anywhere and read their tokens as an `AsyncStream`.
public final class BatchEngine: @unchecked Sendable {
    /// What to generate for one request.
    public struct Request: Sendable {
        public var promptIds: [Int32]
        /// New tokens at most.
        public var maxTokens: Int
        /// Sampling settings; nil chooses the most likely token (greedy, `temperature: 0`).
        public var sampling: SamplingOptions?
        /// Tokens that end the sequence (kept as its last token): eos, the chat template's end of turn.
        public var endIds: Set<Int32>
        /// Stop strings: the sequence ends once its text contains one.
        public var stop: StopStrings?

        public init(promptIds: [Int32], maxTokens: Int, sampling: SamplingOptions? = nil, endIds: Set<Int32> = [], stop: StopStrings? = nil) {
            self.promptIds = promptIds; self.maxTokens = maxTokens; self.sampling = sampling; self.endIds = endIds; self.stop = stop
        }
    }

    /// Why a sequence ended (OpenAI's `finish_reason`, plus a cancelled request's end).
    public enum FinishReason: String, Sendable, Equatable {
        case stop, length, cancelled
    }

    /// What a request's stream carries: its tokens as chosen, then one `finished`.
    public enum Event: Sendable, Equatable {
        case token(Int32)
        case finished(FinishReason)
    }

    /// A refused submission.
    public enum SubmitError: Error, Equatable, CustomStringConvertible {
        /// `maxQueue` requests are already waiting.
        case queueFull(Int)
        /// The prompt is empty, or prompt plus `maxTokens` is not positive.
        case invalid(String)
        /// The engine was shut down.
        case shutDown

        public var description: String {
            switch self {
            case .queueFull(let n): return "the queue is full (\(n) requests waiting); retry later"
            case .invalid(let m): return m
            case .shutDown: return "the engine is shut down"
            }
        }
    }

    /// A counter snapshot.
    public struct Stats: Sendable, Equatable {
        public var running: Int
        public var waiting: Int
        /// Forward passes run (prefills and decoding steps).
        public var steps: Int
        /// Decoding steps that decoded more than one sequence.
        public var batchedSteps: Int
        /// Largest number of sequences decoded in one step.
        public var largestBatch: Int
        /// Largest number of prompts prefilled in one step.
        public var largestPrefill: Int
        public var generatedTokens: Int
        public var finished: Int
        public var cancelled: Int
    }

    /// One request in the engine.
    final class Sequence {
        let id: Int
        let request: Request
        let continuation: AsyncStream<Event>.Continuation
        var cache: KVCache?
        var generated: [Int32] = []
        var rng: TensorRandom
        init(id: Int, request: Request, continuation: AsyncStream<Event>.Continuation) {
            self.id = id; self.request = request; self.continuation = continuation
            rng = TensorRandom(seed: request.sampling?.seed ?? 0)
        }
    }

    public let model: any CausalLanguageModel
    public let maxBatch: Int
    public let maxQueue: Int
    /// Prompt tokens prefilled together in one packed step at most (a longer prompt is prefilled alone); bounds the
    /// activations a prefill step holds.
    public let prefillTokens: Int
    private let condition = NSCondition()
    private var waiting: [Sequence] = []
    private var cancelled: Set<Int> = []
    private var running: [Sequence] = []  // the engine thread's; its count mirrored in `runningCount` under the lock
    private var runningCount = 0
    private var nextId = 0
    private var isShutDown = false
    private var stats = Stats(running: 0, waiting: 0, steps: 0, batchedSteps: 0, largestBatch: 0, largestPrefill: 0, generatedTokens: 0, finished: 0, cancelled: 0)
    private var thread: Thread?

    /// An engine decoding up to `maxBatch` sequences together, with up to `maxQueue` more waiting, prefilling
    /// newcomers together up to `prefillTokens` prompt tokens per step.
    public init(model: any CausalLanguageModel, maxBatch: Int = 16, maxQueue: Int = 64, prefillTokens: Int = 4096) {
        precondition(maxBatch >= 1 && maxQueue >= 0 && prefillTokens >= 1,
                     "maxBatch and prefillTokens must be at least 1 and maxQueue not negative")
        self.model = model; self.maxBatch = maxBatch; self.maxQueue = maxQueue; self.prefillTokens = prefillTokens
        let t = Thread { [weak self] in self?.loop() }
        t.name = "ecom-batch-engine"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    deinit { shutDown() }

    /// Queues `request`; its events arrive on the returned stream. Ending the stream's iteration (a client that went
    /// away) cancels the request and frees its slot before the next step.
    public func submit(_ request: Request) throws(SubmitError) -> AsyncStream<Event> {
        guard !request.promptIds.isEmpty else { throw .invalid("the prompt encodes to no tokens") }
        guard request.maxTokens >= 1 else { throw .invalid("max_tokens must be at least 1") }
        let V = Int32(model.vocabularySize)
        guard request.promptIds.allSatisfy({ $0 >= 0 && $0 < V }) else { throw .invalid("a prompt token is outside the vocabulary (\(V))") }
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .unbounded)
        condition.lock()
        defer { condition.unlock() }
        if isShutDown { throw .shutDown }
        // Waiting room: the queue plus the slots free now (requests about to join are briefly in `waiting`).
        if waiting.count >= maxQueue + max(0, maxBatch - runningCount) { throw .queueFull(waiting.count) }
        let id = nextId
        nextId += 1
        waiting.append(Sequence(id: id, request: request, continuation: continuation))
        continuation.onTermination = { [weak self] reason in
            if case .cancelled = reason { self?.cancel(id) }
        }
        condition.signal()
        return stream
    }

    /// Cancels request `id` (waiting or running): it ends with `.cancelled` and its slot is freed before the next step.
    func cancel(_ id: Int) {
        condition.lock()
        cancelled.insert(id)
        condition.signal()
        condition.unlock()
    }

    /// The counters now.
    public var currentStats: Stats {
        condition.lock()
        defer { condition.unlock() }
        var s = stats
        s.running = runningCount
        s.waiting = waiting.count
        return s
    }

    /// Stops the engine thread after the current step; waiting and running requests end as cancelled.
    public func shutDown() {
        condition.lock()
        isShutDown = true
        condition.signal()
        condition.unlock()
    }

    // MARK: The engine thread

    private func loop() {
        while true {
            // Take the cancellations and as many waiting requests as there are free slots.
            condition.lock()
            while waiting.isEmpty && running.isEmpty && cancelled.isEmpty && !isShutDown { condition.wait() }
            if isShutDown {
                let all = waiting + running
                waiting.removeAll()
                condition.unlock()
                for s in all { s.continuation.yield(.finished(.cancelled)); s.continuation.finish() }
                return
            }
            let gone = cancelled
            cancelled.removeAll()
            let ended = (waiting + running).filter { gone.contains($0.id) }
            waiting.removeAll { gone.contains($0.id) }
            running.removeAll { gone.contains($0.id) }
            var joining: [Sequence] = []
            while running.count + joining.count < maxBatch, !waiting.isEmpty { joining.append(waiting.removeFirst()) }
            runningCount = running.count + joining.count
            stats.cancelled += ended.count
            condition.unlock()
            for s in ended { end(s, .cancelled) }

            // Prefill the newcomers in packed steps of up to `prefillTokens` prompt tokens (each sequence's first
            // token chosen from its prompt's last logits): the weights are read, and blocks widened, once per step
            // rather than once per prompt. Then decode every running sequence one token in one packed step.
            for group in Self.prefillGroups(joining.map(\.request.promptIds.count), tokens: prefillTokens) {
                let newcomers = group.map { joining[$0] }
                for s in newcomers { s.cache = model.makeCache(batch: 1, capacity: s.request.promptIds.count + s.request.maxTokens) }
                let tokens = model.step(sequences: newcomers.map { SequenceStep(ids: $0.request.promptIds, cache: $0.cache!) }) { logits in
                    newcomers.enumerated().map { i, s in choose(s, logits + i * model.vocabularySize) }
                }
                count(prefilled: newcomers.count)
                for (s, t) in zip(newcomers, tokens) {
                    if let reason = accept(t, for: s) { end(s, reason) } else { running.append(s) }
                }
            }
            if !running.isEmpty {
                let batch = running
                let tokens = model.step(sequences: batch.map { SequenceStep(ids: [$0.generated.last!], cache: $0.cache!) }) { logits in
                    batch.enumerated().map { i, s in choose(s, logits + i * model.vocabularySize) }
                }
                count(steps: 1, batch: batch.count)
                var still: [Sequence] = []
                for (s, t) in zip(batch, tokens) {
                    if let reason = accept(t, for: s) { end(s, reason) } else { still.append(s) }
                }
                running = still
            }
            condition.lock()
            runningCount = running.count
            condition.unlock()
        }
    }

    /// The next token of `s` from its logits row.
    private func choose(_ s: Sequence, _ row: UnsafeMutablePointer<Float>) -> Int32 {
        let V = model.vocabularySize
        if let sampling = s.request.sampling { return Int32(LogitsProcessing.sample(row, count: V, options: sampling, rng: &s.rng)) }
        return Int32(LogitsProcessing.argmax(row, count: V))
    }

    /// Records and sends `token`; returns why the sequence ends, if it does.
    private func accept(_ token: Int32, for s: Sequence) -> FinishReason? {
        s.generated.append(token)
        s.continuation.yield(.token(token))
        if s.request.endIds.contains(token) { return .stop }
        if let stop = s.request.stop, stop.matches(s.generated) { return .stop }
        if s.generated.count >= s.request.maxTokens { return .length }
        return nil
    }

    private func end(_ s: Sequence, _ reason: FinishReason) {
        s.cache = nil
        s.continuation.yield(.finished(reason))
        s.continuation.finish()
        if reason != .cancelled {
            condition.lock()
            stats.finished += 1
            condition.unlock()
        }
    }

    private func count(steps: Int, batch: Int) {
        condition.lock()
        stats.steps += steps
        if batch > 1 { stats.batchedSteps += 1 }
        stats.largestBatch = max(stats.largestBatch, batch)
        stats.generatedTokens += batch
        condition.unlock()
    }

    private func count(prefilled prompts: Int) {
        condition.lock()
        stats.steps += 1
        stats.largestPrefill = max(stats.largestPrefill, prompts)
        stats.generatedTokens += prompts
        condition.unlock()
    }

    /// Consecutive groups (indices in order) of prompts with these lengths, each group's total at most `tokens`
    /// unless a prompt alone is longer (it then forms its own group).
    static func prefillGroups(_ lengths: [Int], tokens: Int) -> [[Int]] {
        var groups: [[Int]] = [], total = 0
        for (i, n) in lengths.enumerated() {
            if let last = groups.last, !last.isEmpty, total + n <= tokens {
                groups[groups.count - 1].append(i)
                total += n
            } else {
                groups.append([i])
                total = n
            }
        }
        return groups
    }
}

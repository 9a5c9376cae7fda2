// Generation over the examples not yet in predictions.jsonl: EcomGPT prompts with beam search (4 beams, 164 new tokens),
// UniversalNER prompts greedy (256 new tokens) in packed batches (no padding computed); several workers share the weights.
import EcomInstruct
import EcomLoader
import EcomModel
import EcomTensor
import EcomTokenizer
import Foundation

/// How the evaluation generates (the comparable part is mirrored in ``EvalConfiguration``).
public struct EvalSettings: Sendable {
    /// Beam count for EcomGPT prompts (1: greedy).
    public var beams: Int = 4
    public var maxNewTokens: Int = 164
    /// Each EcomGPT task's budget from its reference answers (``AnswerBudget``) instead of ``maxNewTokens``.
    public var autoMaxNewTokens = false
    public var maxPromptTokens: Int = PromptEncoding.defaultMaxTokens
    public var uniNERMaxNewTokens: Int = 256
    /// Prompts generated together (packed: each as if alone, none padded) when decoding is greedy.
    public var batchSize: Int = 8
    /// Examples generated in parallel, each worker with its own model workspace over the shared weights.
    public var workers: Int = 2
    /// Compute threads per worker (0: the machine's cores divided by the workers, at least 1).
    public var threadsPerWorker: Int = 0
    /// Stop after this many newly finished examples (a time-boxed or interrupted run); nil: all.
    public var stopAfter: Int?
    public var showProgress: Bool = true

    public init() {}
}

/// What one run did.
public struct EvalRunStats: Sendable {
    public var alreadyDone: Int
    public var generated: Int
    public var remaining: Int
    public var generatedTokens: Int
    public var seconds: Double
}

/// Runs a model over evaluation examples, appending each finished example to a ``PredictionStore``.
public final class Evaluator: @unchecked Sendable {
    public let model: any CausalLanguageModel
    public let tokenizer: Tokenizer
    /// How prompts are rendered (`.plain`: the papers' prompt text as is).
    public let chatTemplate: ChatTemplate

    public init(model: any CausalLanguageModel, tokenizer: Tokenizer, chatTemplate: ChatTemplate = ChatTemplate(kind: .plain)) {
        self.model = model; self.tokenizer = tokenizer; self.chatTemplate = chatTemplate
    }

    /// Generation options for an example of `suite`; `maxNewTokens` is the example's own budget when it has one
    /// (``EvalItem/maxNewTokens``), else the suite's setting applies.
    public func options(for suite: EvalSuite, settings s: EvalSettings, maxNewTokens: Int? = nil) -> GenerationOptions {
        var o = GenerationOptions(model: model,
                                  maxNewTokens: maxNewTokens ?? (suite == .ecomgpt ? s.maxNewTokens : s.uniNERMaxNewTokens))
        o.numBeams = suite == .ecomgpt ? s.beams : 1
        o.stopAtEndOfTurn(of: chatTemplate, tokenizer: tokenizer)
        if suite == .uniner {
            // Greedy continuations do not depend on later tokens, so stopping at the next user turn (where the answer
            // is cut anyway) changes no answer and saves time. Beam search is left to run as the paper's did: a stop
            // there would change which beams finish.
            let tok = tokenizer
            o.stop = StopStrings(["USER:"]) { tok.decode($0.map(Int.init), skipSpecialTokens: false) }.condition
        }
        return o
    }

    /// Generates and extracts the answers of `items` (those already stored are skipped), appending to `store`.
    public func run(_ items: [EvalItem], store: PredictionStore, settings s: EvalSettings) throws -> EvalRunStats {
        let started = Date()
        let pending = items.filter { !store.contains($0.key) }
        let units = Self.units(items, pending: Set(pending.map(\.key)), settings: s)
        let bar = ProgressBar(total: pending.count, label: "eval", enabled: s.showProgress)
        let workers = max(1, min(s.workers, units.count))
        let cores = ComputeThreads.usableProcessors
        let threads = s.threadsPerWorker > 0 ? s.threadsPerWorker : max(1, cores / workers)
        // Each worker's kernels get `threads` through the task-local override, never by changing the process-wide
        // count under other work running in the same process (a trainer's reductions would change their order);
        // OpenBLAS's count, which is process-wide only, is changed for the run through withBLASThreads, which waits
        // for computations that need it steady.
        let queue = WorkQueue(count: units.count, stopAfter: s.stopAfter)
        let models = (0..<workers).map { $0 == 0 ? model : model.sharingWeights() }
        ComputeThreads.withBLASThreads(ComputeThreads.processBLASThreads(count: threads)) {
            DispatchQueue.concurrentPerform(iterations: workers) { w in ComputeThreads.$override.withValue(threads) {
                while let u = queue.take() {
                    do {
                        let (results, count) = generate(units[u], model: models[w], settings: s)
                        try store.append(results)
                        queue.finished(results.count, tokens: count)
                        bar.advance(results.count, note: units[u][0].task)
                    } catch {
                        queue.fail(error)
                        return
                    }
                }
            } }
        }
        bar.finish()
        if let failure = queue.failure { throw failure }
        return EvalRunStats(alreadyDone: items.count - pending.count, generated: queue.done,
                            remaining: pending.count - queue.done, generatedTokens: queue.tokens, seconds: Date().timeIntervalSince(started))
    }

    /// Work units: one example for beam search; for greedy decoding, the pending examples of a task's consecutive
    /// blocks of `batchSize` (blocks fixed by position, so that a resumed run batches the same examples together).
    static func units(_ items: [EvalItem], pending: Set<String>, settings s: EvalSettings) -> [[EvalItem]] {
        var out: [[EvalItem]] = []
        var lastBlock: String?
        var position: [String: Int] = [:]  // index of the item within its task
        for item in items {
            let p = position[item.task, default: 0]
            position[item.task] = p + 1
            guard pending.contains(item.key) else { continue }
            let greedy = item.suite == .uniner || s.beams <= 1
            let block = greedy ? "\(item.task)#\(p / max(1, s.batchSize))" : nil
            if let block, block == lastBlock { out[out.count - 1].append(item) } else { out.append([item]) }
            lastBlock = block
        }
        return out
    }

    /// Generates a unit of examples of one suite (together when greedy) and extracts their answers.
    func generate(_ unit: [EvalItem], model m: any CausalLanguageModel, settings s: EvalSettings) -> ([EvalPrediction], Int) {
        let prompts = unit.map { PromptEncoding.encode($0.promptText(chatTemplate), tokenizer: tokenizer, maxTokens: s.maxPromptTokens) }
        // Packed: no padding computed, finished examples leave the batch; each example's answer is the one it gets alone.
        // A unit holds one task's examples, which share their budget.
        let o = options(for: unit[0].suite, settings: s, maxNewTokens: unit[0].maxNewTokens)
        let outputs = m.generatePacked(prompts: prompts.map(\.ids), options: o)
        var results: [EvalPrediction] = []
        for (i, item) in unit.enumerated() {
            let completion = tokenizer.decode(outputs[i].map(Int.init), skipSpecialTokens: false)
            results.append(EvalPrediction(
                task: item.task, id: item.id, prompt: item.prompt,
                prediction: AnswerExtraction.answer(completion, suite: item.suite), reference: item.reference,
                suite: item.suite, taskType: item.taskType, text: item.text, labelSeparator: item.labelSeparator,
                completion: completion, promptTokens: prompts[i].ids.count, truncatedTokens: prompts[i].truncated,
                generatedTokens: outputs[i].count))
        }
        return (results, outputs.reduce(0) { $0 + $1.count })
    }
}

/// Hands out work-unit indices to workers and counts what they finish; stops early at a limit or the first failure.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let count: Int
    private let stopAfter: Int?
    private var next = 0
    private(set) var done = 0
    private(set) var tokens = 0
    private(set) var failure: Error?

    init(count: Int, stopAfter: Int?) { self.count = count; self.stopAfter = stopAfter }

    func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard failure == nil, next < count, stopAfter.map({ done < $0 }) ?? true else { return nil }
        next += 1
        return next - 1
    }

    func finished(_ examples: Int, tokens t: Int) { lock.lock(); done += examples; tokens += t; lock.unlock() }
    func fail(_ error: Error) { lock.lock(); failure = failure ?? error; lock.unlock() }
}

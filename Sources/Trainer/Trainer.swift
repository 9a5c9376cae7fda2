// The training loop behind `ecom-train`: packed shards streamed from EcomInstruct, gradient accumulation, AdamW with a
// warm-up schedule and clipping, validation, HF-layout checkpoints plus our trainer state committed as one unit
// (CheckpointCommit.swift), exact resume, and a clean stop on a signal or a time budget.
import EcomInstruct
import EcomTensor
import Foundation
import EcomModel

/// Model sizes for training from scratch (the vocabulary comes from the tokenizer).
public enum TrainingPreset: String, Codable, Sendable, CaseIterable {
    case tiny, small
    public func configuration(vocabSize: Int, bos: Int?, eos: Int?, pad: Int?) -> BloomConfiguration {
        switch self {
        case .tiny: BloomConfiguration(vocabSize: vocabSize, hiddenSize: 256, layerCount: 4, headCount: 4, bosTokenId: bos, eosTokenId: eos, padTokenId: pad)
        case .small: BloomConfiguration(vocabSize: vocabSize, hiddenSize: 512, layerCount: 8, headCount: 8, bosTokenId: bos, eosTokenId: eos, padTokenId: pad)
        }
    }
}

/// What `ecom-train` was asked to do.
public struct TrainerOptions: Sendable {
    public var data: URL
    public var out: URL
    public var preset: TrainingPreset?
    public var initFrom: URL?
    /// LoRA adapters instead of full training (empty targets: every projection of the architecture).
    public var lora: LoRAConfiguration?
    /// LoRA starting from this saved adapter (PEFT layout) instead of new adapters; its settings come from the adapter.
    public var loraInit: URL?
    /// How a LoRA run keeps the frozen Llama base (`.native`: a GGUF's blocks as they are).
    public var basePrecision: WeightPrecision = .native
    public var tokenizer: URL?
    public var steps: Int?
    public var epochs: Double?
    public var batch = 8
    public var accumulation = 1
    public var sequenceLength: Int?
    public var learningRate = 2e-5
    public var schedule = LearningRateSchedule.Kind.cosine
    public var warmupRatio = 0.03
    public var weightDecay: Float = 0
    public var decayMatricesOnly = true
    public var clip: Float = 1
    public var evalEvery = 0
    /// Validation batches per evaluation (0: the whole split).
    public var evalBatches = 20
    public var saveEvery = 0
    public var logEvery = 1
    public var resume = false
    public var threads: Int?
    public var timeBudget: Double?
    /// Stop (with a checkpoint, resumable) after this many steps in this session.
    public var stepLimit: Int?
    /// Skip (without updating the weights) a step whose loss or gradients are not finite, instead of stopping.
    public var skipNonFinite = false
    public var seed: UInt64 = 42
    public init(data: URL, out: URL) { self.data = data; self.out = out }
}

/// Why a run ended.
public enum TrainingOutcome: String, Sendable { case finished, interrupted, budgetSpent = "budget-spent" }

/// A stop request shared with a signal handler.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false
    public init() {}
    public func request() { lock.lock(); requested = true; lock.unlock() }
    public var isRequested: Bool { lock.lock(); defer { lock.unlock() }; return requested }
}

public final class Trainer {
    public let options: TrainerOptions
    public let model: any TrainableModel
    public let optimizer: AdamWOptimizer
    public private(set) var state: TrainerState
    let stream: ShardStream
    let tokenizerFile: URL
    let log: (String) -> Void
    private var metrics: [MetricsRecord] = []
    /// The step of the checkpoint now in `--out` (nil until this run, or the run it resumes, has saved one).
    private var savedStep: Int?
    /// Whether appending to metrics.jsonl failed once (said once; the next checkpoint rewrites the file whole).
    private var metricsAppendFailed = false

    /// Sets up a run: opens the data, builds or loads the model, and, with `resume`, restores the saved state.
    public init(options o: TrainerOptions, log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws {
        options = o
        self.log = log
        if let t = o.threads { ComputeThreads.count = t }
        guard o.batch > 0, o.accumulation > 0 else { throw TrainingError("--batch and --accum must be positive") }
        let manifest = try ShardManifest.read(from: o.data)
        guard manifest.kind == ShardKind.packed.name else {
            throw TrainingError("\(o.data.path): holds '\(manifest.kind)' shards; training needs the output of `ecom-data pack`")
        }
        guard let seqLen = manifest.sequenceLength else { throw TrainingError("\(o.data.path)/manifest.json: no sequence_length") }
        if let l = o.sequenceLength, l != seqLen {
            throw TrainingError("--seq-len \(l) differs from the packed data's sequence length \(seqLen) (\(o.data.path)/manifest.json); repack or drop --seq-len")
        }
        tokenizerFile = try Self.findTokenizer(options: o, manifest: manifest)
        let stateURL = o.out.appendingPathComponent("trainer_state.bin")
        // A checkpoint write that a killed process (or a full disk) left unfinished: completed or discarded, so that the
        // weights and the state in --out are from the same step.
        switch try CheckpointCommit.recover(in: o.out) {
        case .none: break
        case .discarded: log("discarded an unfinished checkpoint write in \(o.out.path) (its process stopped before it was complete); the previous checkpoint stands")
        case .completed(let step): log("completed the checkpoint write of step \(step.map(String.init) ?? "?") that a stopped process left in \(o.out.path)")
        }

        // The model: resumed from --out, loaded from --init, or a fresh preset.
        let fresh: Bool
        let adapterConfig = o.out.appendingPathComponent("adapter_config.json")
        if o.resume && FileManager.default.fileExists(atPath: stateURL.path) {
            if FileManager.default.fileExists(atPath: adapterConfig.path) {
                // A LoRA run: the base from --init, else the one the adapter names.
                let saved = try LoRAConfiguration.read(directory: o.out)
                guard let base = o.initFrom ?? saved.baseModel.map({ URL(fileURLWithPath: $0) }) else {
                    throw TrainingError("\(adapterConfig.path): names no base model; resume with --init BASE")
                }
                model = try TrainingModelLoader.load(base, adapterDirectory: o.out, precision: o.basePrecision, seed: o.seed)
            } else {
                model = try TrainingModelLoader.load(o.out, seed: o.seed)
            }
            fresh = false
        } else if let url = o.initFrom, let adapter = o.loraInit {
            guard o.lora == nil else { throw TrainingError("--lora-init takes its rank, alpha and targets from \(adapter.path); drop --lora-rank") }
            model = try TrainingModelLoader.load(url, adapterDirectory: adapter, precision: o.basePrecision, seed: o.seed)
            fresh = true
        } else if let url = o.initFrom {
            var lora = o.lora
            lora?.baseModel = url.path
            model = try TrainingModelLoader.load(url, lora: lora, precision: o.basePrecision, seed: o.seed)
            fresh = true
        } else {
            guard o.lora == nil else { throw TrainingError("LoRA needs a pretrained model: pass --init DIR|FILE.gguf") }
            let info = try Self.tokenizerInfo(tokenizerFile)
            let c = (o.preset ?? .tiny).configuration(vocabSize: info.vocabSize, bos: info.bos, eos: info.eos, pad: info.pad)
            var w = BloomWeights.random(c, seed: o.seed)
            for i in w.blocks.indices {  // HF initialises biases to zero
                for k in [\BloomBlockWeights.queryKeyValue, \.attentionDense, \.mlpUp, \.mlpDown] {
                    w.blocks[i][keyPath: k].bias = [Float](repeating: 0, count: w.blocks[i][keyPath: k].bias.count)
                }
            }
            model = BloomTrainingModel(configuration: c, weights: w)
            fresh = true
        }
        if let bad = Self.nonFiniteTensor(model.parameters, model.parameterEntries) {
            throw TrainingError("the weights to train hold NaN or infinity in \(bad) (\(o.resume ? o.out.path : o.initFrom?.path ?? "the fresh model")); nothing was trained")
        }
        let tokVocab = try Self.tokenizerInfo(tokenizerFile).vocabSize
        guard model.vocabularySize >= tokVocab else {
            throw TrainingError("the model's vocabulary (\(model.vocabularySize)) is smaller than the tokenizer's (\(tokVocab), \(tokenizerFile.path))")
        }
        stream = try ShardStream(directory: o.data, split: "train", seed: o.seed, bufferSize: 1024, epochs: nil)
        guard stream.recordsPerEpoch > 0 else { throw TrainingError("\(o.data.path): no training sequences") }
        let perStep = o.batch * o.accumulation
        let total = o.steps ?? max(1, Int((Double(stream.recordsPerEpoch) * (o.epochs ?? 1) / Double(perStep)).rounded(.up)))
        let schedule = LearningRateSchedule(kind: o.schedule, peak: o.learningRate,
                                            warmupSteps: Int((o.warmupRatio * Double(total)).rounded(.up)), totalSteps: total)
        let adamw = AdamWConfig(learningRate: Float(o.learningRate), beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: o.weightDecay)
        optimizer = AdamWOptimizer(model: model, config: adamw, decayMatricesOnly: o.decayMatricesOnly)
        state = TrainerState(step: 0, totalSteps: total, schedule: schedule, dataPosition: StreamPosition(), dataSeed: o.seed,
                             rngState: o.seed, batch: o.batch, accumulation: o.accumulation, sequenceLength: seqLen,
                             parameterCount: model.parameters.count, elapsedSeconds: 0, tokensSeen: 0,
                             adamw: .init(beta1: adamw.beta1, beta2: adamw.beta2, eps: adamw.eps, weightDecay: adamw.weightDecay),
                             decayMatricesOnly: o.decayMatricesOnly, clip: o.clip)
        if !fresh {
            let saved = try TrainerState.read(from: stateURL, m: optimizer.m, v: optimizer.v)
            guard saved.batch == o.batch, saved.accumulation == o.accumulation, saved.sequenceLength == seqLen, saved.dataSeed == o.seed else {
                throw TrainingError("\(stateURL.path): saved with batch \(saved.batch), accum \(saved.accumulation), seq-len \(saved.sequenceLength), seed \(saved.dataSeed); resume with the same settings")
            }
            state = saved
            optimizer.step = saved.step
            optimizer.config.weightDecay = saved.adamw.weightDecay
            optimizer.decayMatricesOnly = saved.decayMatricesOnly
            try stream.restore(saved.dataPosition)
            savedStep = saved.step
            // Metrics logged after the checkpoint (by a killed run) are dropped: those steps will be redone.
            metrics = try Self.readMetrics(o.out.appendingPathComponent("metrics.jsonl"), log: log).filter { $0.step <= saved.step }
            log("resumed at step \(saved.step) of \(saved.totalSteps) (epoch \(saved.dataPosition.epoch), sequence \(saved.dataPosition.consumed))")
        } else if o.resume {
            log("no trainer state in \(o.out.path); starting a new run")
        }
    }

    /// The tokenizer: --tokenizer, else tokenizer.json in the data directory or its parent; its hash must match the
    /// packed manifest's.
    static func findTokenizer(options o: TrainerOptions, manifest: ShardManifest) throws -> URL {
        var candidates = o.tokenizer.map { [$0] } ?? [o.data.appendingPathComponent("tokenizer.json"),
                                                       o.data.deletingLastPathComponent().appendingPathComponent("tokenizer.json")]
        if o.tokenizer == nil, let dir = o.initFrom, !ModelLoader.isGGUF(dir) { candidates.append(dir.appendingPathComponent("tokenizer.json")) }
        guard let url = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw TrainingError("no tokenizer found (looked at \(candidates.map(\.path).joined(separator: ", "))); pass --tokenizer FILE")
        }
        if let want = manifest.tokenizerHash {
            let got = try PackPipeline.fileHash(url)
            guard got == want else {
                throw TrainingError("\(url.path): hash \(got) differs from the tokenizer the data was packed with (\(want), \(o.data.path)/manifest.json)")
            }
        }
        return url
    }

    /// Vocabulary size (largest id + 1 over the model's vocabulary and the added tokens) and special token ids.
    public static func tokenizerInfo(_ url: URL) throws -> (vocabSize: Int, bos: Int?, eos: Int?, pad: Int?) {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw TrainingError("\(url.path): not a tokenizer.json object")
        }
        var ids: [String: Int] = [:]
        if let model = obj["model"] as? [String: Any], let vocab = model["vocab"] as? [String: Any] {
            for (k, v) in vocab { if let n = v as? Int { ids[k] = n } }
        }
        for t in obj["added_tokens"] as? [[String: Any]] ?? [] {
            if let c = t["content"] as? String, let n = t["id"] as? Int { ids[c] = n }
        }
        guard let maxID = ids.values.max() else { throw TrainingError("\(url.path): no vocabulary") }
        // The vocabulary sizes a fresh model's embedding: ids far past the token count are a broken file, not a size.
        guard maxID < ids.count + (1 << 20), ids.values.allSatisfy({ $0 >= 0 }) else {
            throw TrainingError("\(url.path): token ids run from \(ids.values.min() ?? 0) to \(maxID) over \(ids.count) tokens; a vocabulary's ids are non-negative and nearly contiguous")
        }
        return (maxID + 1, ids["<s>"], ids["</s>"] ?? ids["<|endoftext|>"], ids["<pad>"])
    }

    /// The next micro-batch from the training stream (wrapping around epochs).
    func nextBatch() throws -> TrainingBatch {
        var seqs: [(ids: [Int32], lossMask: [UInt8], documentIDs: [UInt16])] = []
        while seqs.count < options.batch {
            guard let bytes = try stream.next() else { throw TrainingError("\(options.data.path): the training stream ended") }
            let place = "\(options.data.path): epoch \(stream.position.epoch) sequence \(stream.position.consumed - 1)"
            let s = try bytes.withUnsafeBytes { try PackedSequence.decode($0, place: place) }
            let vocab = model.vocabularySize
            if let bad = s.ids.firstIndex(where: { $0 < 0 || Int($0) >= vocab }) {
                throw TrainingError("\(place): token id \(s.ids[bad]) at position \(bad) is outside the model's vocabulary of \(vocab); the shards were packed with another tokenizer or are corrupt")
            }
            seqs.append((s.ids, s.lossMask, s.documentIDs))
        }
        return TrainingBatch(packed: seqs)
    }

    /// One optimizer step over `accumulation` micro-batches; the loss is normalised by the learned tokens of all of
    /// them together, so the update equals that of one batch `accumulation` times larger. Returns the mean loss, the
    /// gradient norm before clipping, and whether the update was applied: a loss or gradient norm that is NaN or
    /// infinite leaves the weights and the optimizer's moments untouched (`applied` false).
    public static func step(model: any TrainableModel, optimizer: AdamWOptimizer, microBatches: [TrainingBatch], learningRate: Float,
                            clip: Float) -> (loss: Double, gradNorm: Float, applied: Bool) {
        model.gradients.zero()
        let total = max(1, microBatches.reduce(0) { $0 + $1.learnedTokens })
        var sum = 0.0
        for b in microBatches { sum += model.forwardBackward(b, normalizer: total).sum }
        let (norm, scale) = clipCoefficient(model.gradients, maxNorm: clip)
        guard sum.isFinite, norm.isFinite else { return (sum / Double(total), norm, false) }
        optimizer.update(parameters: model.parameters, gradients: model.gradients, learningRate: learningRate, gradientScale: scale)
        return (sum / Double(total), norm, true)
    }

    /// The name of the first tensor in `buffer` (laid out by `entries`) holding NaN or infinity, or nil.
    public static func nonFiniteTensor(_ buffer: FlatBuffer, _ entries: [ParameterEntry]) -> String? {
        entries.first { e in UnsafeBufferPointer(start: buffer.pointer + e.offset, count: e.count).contains { !$0.isFinite } }?.name
    }

    /// Mean validation loss over up to `evalBatches` batches (0: all), or nil when there is no validation split.
    public func validationLoss() throws -> Double? {
        let m = try ShardManifest.read(from: options.data)
        guard !m.shards(split: "validation").isEmpty else { return nil }
        let v = try ShardStream(directory: options.data, split: "validation", seed: 0, bufferSize: 1, epochs: 1)
        var sum = 0.0, count = 0, batches = 0
        while options.evalBatches == 0 || batches < options.evalBatches {
            var seqs: [(ids: [Int32], lossMask: [UInt8], documentIDs: [UInt16])] = []
            while seqs.count < options.batch, let bytes = try v.next() {
                let s = try bytes.withUnsafeBytes { try PackedSequence.decode($0, place: "\(options.data.path): validation sequence \(v.position.consumed - 1)") }
                seqs.append((s.ids, s.lossMask, s.documentIDs))
            }
            if seqs.isEmpty { break }
            let r = model.loss(TrainingBatch(packed: seqs))
            sum += r.sum; count += r.count; batches += 1
        }
        return count == 0 ? nil : sum / Double(count)
    }

    /// Writes the checkpoint: config.json and model.safetensors (or the adapter), tokenizer.json, metrics.jsonl,
    /// loss.svg and trainer_state.bin, as one unit (CheckpointCommit): all of them whole into a staging directory, then
    /// moved over the previous checkpoint's. A write that fails (a full disk) leaves the previous checkpoint as it was
    /// and throws one line naming the file and the cause.
    public func checkpoint() throws {
        let out = options.out
        state.dataPosition = stream.position
        // Weights gone non-finite (an update that overflowed) must not replace the last good checkpoint.
        if let bad = Self.nonFiniteTensor(model.parameters, model.parameterEntries) {
            let kept = savedStep.map { "the checkpoint of step \($0) in \(out.path) is kept" } ?? "no checkpoint was written"
            throw TrainingError("step \(state.step): \(bad) holds NaN or infinity after the update; not saved, and \(kept). Lower --lr or --clip")
        }
        do {
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let staging = try CheckpointCommit.prepare(in: out)
            try model.save(to: staging)
            let tok = out.appendingPathComponent("tokenizer.json")
            if tokenizerFile.standardizedFileURL.path != tok.standardizedFileURL.path {
                try AtomicFile.write(try Data(contentsOf: tokenizerFile), to: staging.appendingPathComponent("tokenizer.json"))
            }
            try AtomicFile.write(Data(metrics.map(\.jsonLine).joined().utf8), to: staging.appendingPathComponent("metrics.jsonl"))
            try AtomicFile.write(Data(TrainingLog.lossCurveSVG(metrics).utf8), to: staging.appendingPathComponent("loss.svg"))
            try state.write(to: staging.appendingPathComponent("trainer_state.bin"), m: optimizer.m, v: optimizer.v)
        } catch {
            try? FileManager.default.removeItem(at: CheckpointCommit.stagingDirectory(in: out))
            let kept = savedStep.map { "the checkpoint of step \($0) there is unchanged" } ?? "no checkpoint of this run is saved yet"
            throw TrainingError("cannot write the checkpoint of step \(state.step) to \(out.path) (\(CheckpointCommit.reason(error))); \(kept); rerun with --resume once the cause is fixed")
        }
        do { try CheckpointCommit.commit(in: out, step: state.step) } catch {
            throw TrainingError("cannot move the checkpoint of step \(state.step) into place in \(out.path) (\(CheckpointCommit.reason(error))); rerun with --resume to complete it")
        }
        savedStep = state.step
    }

    /// Appends one record to metrics.jsonl as the step finishes (for watching a run). A failed append (a full disk) is
    /// said once and otherwise ignored: the next checkpoint rewrites the file whole, and a resume drops a torn last line.
    private func appendMetric(_ r: MetricsRecord) {
        metrics.append(r)
        let url = options.out.appendingPathComponent("metrics.jsonl")
        do {
            let h = try FileHandle(forWritingTo: url)
            defer { try? h.close() }
            try h.seekToEnd()
            try h.write(contentsOf: Data(r.jsonLine.utf8))  // the throwing API: `write(_:)` traps on an I/O error
        } catch {
            if !metricsAppendFailed { log("cannot append to \(url.path) (\(CheckpointCommit.reason(error))); it is rewritten at the next checkpoint") }
            metricsAppendFailed = true
        }
    }

    /// The records of a metrics.jsonl being resumed (missing: none). A last line cut off by a crash or a full disk (no
    /// final newline, or not a record) is dropped with a note; a bad line elsewhere is an error naming the line.
    static func readMetrics(_ url: URL, log: (String) -> Void) throws -> [MetricsRecord] {
        guard let data = try? Data(contentsOf: url) else { return [] }
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let complete = data.isEmpty || data.last == UInt8(ascii: "\n")
        if complete { lines.removeLast() }
        var out: [MetricsRecord] = []
        for (i, line) in lines.enumerated() where !line.isEmpty {
            let isLast = i == lines.count - 1
            if let r = try? JSONDecoder().decode(MetricsRecord.self, from: Data(line)), !(isLast && !complete) {
                out.append(r)
            } else if isLast {
                log("dropped a torn last line of \(url.path) (an interrupted write)")
            } else {
                throw TrainingError("\(url.path):\(i + 1): not a metrics record")
            }
        }
        return out
    }

    /// The losses of the steps run by this call, in order (for tests).
    public private(set) var losses: [Double] = []
    /// Steps skipped by this call because their loss or gradients were not finite (`skipNonFinite`).
    public private(set) var skippedSteps = 0

    /// Trains until the last step, a stop request, or the time budget; always ends with a checkpoint. OpenBLAS's
    /// thread count stays as it is throughout (``ComputeThreads/withSteadyBLASThreads(_:)``), so that a resumed run
    /// repeats the straight run's bits even beside an evaluation in the same process.
    public func run(stop: StopFlag = StopFlag()) throws -> TrainingOutcome {
        try ComputeThreads.withSteadyBLASThreads { try runSteps(stop: stop) }
    }

    private func runSteps(stop: StopFlag) throws -> TrainingOutcome {
        let metricsURL = options.out.appendingPathComponent("metrics.jsonl")
        do {
            try FileManager.default.createDirectory(at: options.out, withIntermediateDirectories: true)
            try AtomicFile.write(Data(metrics.map(\.jsonLine).joined().utf8), to: metricsURL)
        } catch {
            throw TrainingError("cannot write \(metricsURL.path) (\(CheckpointCommit.reason(error))); nothing was trained or changed")
        }
        let start = Date()
        let startElapsed = state.elapsedSeconds, startTokens = state.tokensSeen, startStep = state.step
        var outcome = TrainingOutcome.finished
        let tokensPerStep = options.batch * options.accumulation * state.sequenceLength
        while state.step < state.totalSteps {
            if stop.isRequested { outcome = .interrupted; break }
            if let budget = options.timeBudget, Date().timeIntervalSince(start) >= budget { outcome = .budgetSpent; break }
            if let limit = options.stepLimit, state.step - startStep >= limit { outcome = .interrupted; break }
            let lr = state.schedule.rate(at: state.step)
            let micro = try (0..<options.accumulation).map { _ in try nextBatch() }
            let (loss, gradNorm, applied) = Self.step(model: model, optimizer: optimizer, microBatches: micro, learningRate: Float(lr), clip: options.clip)
            if !applied {
                let culprit = Self.nonFiniteTensor(model.gradients, model.parameterEntries).map { "the gradient of \($0)" } ?? "the loss"
                guard options.skipNonFinite else {
                    let kept = savedStep.map { "the checkpoint of step \($0) in \(options.out.path) is kept" } ?? "no checkpoint was written"
                    throw TrainingError("step \(state.step + 1): loss \(loss), gradient norm \(gradNorm): \(culprit) is not finite; training stopped and \(kept). Lower --lr, check the data, or pass --skip-nonfinite to skip such steps")
                }
                skippedSteps += 1
                log("step \(state.step + 1): loss \(loss), gradient norm \(gradNorm): \(culprit) is not finite; the update is skipped (--skip-nonfinite; \(skippedSteps) so far)")
                state.step += 1
                state.tokensSeen += tokensPerStep
                state.dataPosition = stream.position
                continue
            }
            losses.append(loss)
            state.step += 1
            state.tokensSeen += tokensPerStep
            state.dataPosition = stream.position
            let session = Date().timeIntervalSince(start)
            state.elapsedSeconds = startElapsed + session
            let tps = Double(state.tokensSeen - startTokens) / max(1e-9, session)
            let eta = session / Double(state.step - startStep) * Double(state.totalSteps - state.step)
            appendMetric(MetricsRecord(step: state.step, split: "train", loss: loss, lr: lr, tokensPerSecond: tps, elapsedSeconds: state.elapsedSeconds,
                                       gradNorm: Double(gradNorm)))
            if options.logEvery > 0 && (state.step % options.logEvery == 0 || state.step == state.totalSteps) {
                log(TrainingLog.progressLine(step: state.step, total: state.totalSteps, loss: loss, lr: lr, tokensPerSecond: tps,
                                             elapsed: state.elapsedSeconds, eta: eta))
            }
            if options.evalEvery > 0 && state.step % options.evalEvery == 0, let v = try validationLoss() {
                appendMetric(MetricsRecord(step: state.step, split: "validation", loss: v, lr: lr, tokensPerSecond: tps, elapsedSeconds: state.elapsedSeconds))
                log(String(format: "step %d  validation loss %.4f", state.step, v))
            }
            if options.saveEvery > 0 && state.step % options.saveEvery == 0 && state.step < state.totalSteps {
                try checkpoint()
                log("checkpoint at step \(state.step): \(options.out.path)")
            }
        }
        try checkpoint()
        switch outcome {
        case .finished: log("finished \(state.step) steps; model in \(options.out.path)")
        case .interrupted: log("interrupted: saved step \(state.step) to \(options.out.path); continue with --resume")
        case .budgetSpent: log("time budget spent: saved step \(state.step) to \(options.out.path); continue with --resume")
        }
        return outcome
    }
}

// The build pipeline behind `ecom-data build`: sources → primary and atomic records → filter → splits → record shards,
// with the filter report and the review sample beside them; already-built record shards (`--include`) mixed in as
// they are.
import Foundation

public struct BuildOptions {
    public var ecomgpt: URL?
    public var uniner: URL?
    public var raw: [URL] = []
    /// Use the embedded raw sample when no source is given.
    public var embeddedSampleWhenEmpty = true
    public var heldOut: Set<String> = Set(SplitAssigner.ecomGPTHeldOut)
    /// The supervised setting: each held-out EcomGPT task's training part (its own format) enters training, the rest
    /// stays test. Nil: held-out tasks are test only (zero-shot).
    public var supervised: SupervisedSplit?
    /// UniversalNER sets (file names without `.json`) whose passages, and the atomic records derived from them, are
    /// test only.
    public var uniNERHeldOut: [String] = []
    /// Add the atomic-task generators' records (EcomGPT's Chain-of-Task); false keeps only the primary records.
    public var atomic = true
    /// Render the UniversalNER sets' conversations (not those of held-out sets) in UniversalNER's dataset-specific
    /// template, which names the dataset (``InstructionRecord/promptDataset``), as the paper's supervised multi-task
    /// tuning does so that conflicting label definitions of different sets do not collide.
    public var uniNERDatasetSpecific = false
    /// Record-shard directories written by `ecom-data build` or the distiller, mixed in
    /// (see ``DatasetBuilder/includedRecords(_:heldOut:ids:)``).
    public var include: [URL] = []
    public var maxPerDataset: Int? = 800
    public var validationFraction = 0.05
    public var seed: UInt64 = 0
    public var shardBytes = 64 << 20
    /// Negative entity types added per UniversalNER passage.
    public var negativeTypes = 2
    public var filter = FilterConfig()
    /// Counts tokens for the over-long rule (a tokenizer); UTF-8 bytes when nil.
    public var tokenCounter: TokenCounter?
    public init() {}
}

public struct BuildSummary: Codable, Sendable {
    public var sourceRecords: Int
    public var filter: FilterReport
    public var capped: Int
    public var splits: [String: Int]
    /// Records mixed in from `include` directories (counted in `splits` too).
    public var included: Int
    public var shards: Int
    public var bytes: Int
    public var output: String
}

public enum DatasetBuilder {
    public static let reportFile = "filter_report.json"
    public static let reviewFile = "review_sample.txt"

    /// Records of every EcomGPT task folder: held-out tasks keep the file's label order (what evaluation shows); the
    /// others, and the training part of held-out tasks under a supervised split, get sampled candidates; NER tasks feed
    /// the span-detection and typing generators unless `atomic` is false.
    public static func ecomGPTRecords(_ root: URL, heldOut: Set<String>, seed: UInt64, supervised: SupervisedSplit? = nil,
                                      atomic: Bool = true, progress: (String) -> Void) throws -> [InstructionRecord] {
        var out: [InstructionRecord] = []
        for dir in try EcomGPTTask.taskFolders(in: root) {
            let task = try EcomGPTTask.load(dir)
            var recs = task.records()
            if task.taskType == "CLS" {
                let sampled = !heldOut.contains(task.name) ? Array(recs.indices)
                    : supervised?.trainIndices(task: task.name, count: recs.count) ?? []
                for i in sampled {
                    var rng = SeededGenerator(seed: seed, key: "candidates/" + recs[i].id)
                    recs[i].candidateLabels = CandidateSampler.sample(
                        labels: task.candidates(for: task.examples[i]), gold: task.examples[i].labels ?? [], using: &rng)
                }
            }
            if atomic && task.taskType == "NER" {
                let samples = task.examples.enumerated().map { i, e in
                    NERSample(id: "\(task.name)#\(i)", text: e.sentences,
                              spans: (e.spans ?? []).compactMap { s in s.type.map { TypedSpan(term: s.term, type: $0) } },
                              language: task.language, dataset: task.dataset, task: task.name)
                }
                recs += AtomicTasks.fromNER(samples, types: task.labelSet)
            }
            progress("ecomgpt \(task.name): \(recs.count) records")
            out += recs
        }
        return out
    }

    /// UniversalNER passages with their positive types plus sampled negatives, and their atomic simplifications.
    public static func uniNERRecords(_ dir: URL, negatives: Int, seed: UInt64, atomic: Bool = true,
                                     progress: (String) -> Void) throws -> [InstructionRecord] {
        var out: [InstructionRecord] = []
        for file in try UniversalNERSource.files(in: dir) {
            let dataset = file.deletingPathExtension().lastPathComponent
            let passages = UniversalNERSource.passages(try UniversalNERSource.load(file), dataset: dataset)
            let sampler = NegativeTypeSampler(passages: passages.map { Dictionary(zip($0.types, $0.spans), uniquingKeysWith: { a, _ in a }) })
            var samples: [NERSample] = []
            for (i, p) in passages.enumerated() {
                let positive = zip(p.types, p.spans).filter { !$0.1.isEmpty }
                var rng = SeededGenerator(seed: seed, key: "negatives/\(dataset)/\(i)")
                let neg = sampler.sample(count: negatives, excluding: Set(positive.map(\.0)), using: &rng)
                let q = UniversalNERPassage(dataset: dataset, passage: p.passage, types: positive.map(\.0) + neg,
                                            spans: positive.map(\.1) + neg.map { _ in [] })
                out.append(UniversalNERSource.record(q, index: i))
                samples.append(NERSample(p, index: i))
            }
            if atomic { out += AtomicTasks.fromNER(samples, types: sampler.weighted.map(\.type)) }
            progress("uniner \(dataset): \(passages.count) passages")
        }
        return out
    }

    /// The ids of the held-out tasks' primary records (not atomic ones) in the training part of a supervised split;
    /// a task's primary records are its examples in order, so their count is the task's example count.
    public static func supervisedTrainIDs(_ records: [InstructionRecord], heldOut: Set<String>, split: SupervisedSplit) -> Set<String> {
        var byTask: [String: [String]] = [:]
        for r in records where r.provenance.atomicKind == nil && r.template == .ecomgpt && heldOut.contains(r.provenance.task) {
            byTask[r.provenance.task, default: []].append(r.id)
        }
        var ids = Set<String>()
        for (task, list) in byTask {
            for i in split.trainIndices(task: task, count: list.count) { ids.insert(list[i]) }
        }
        return ids
    }

    /// Names each `.uniner` record's dataset in its conversation (UniversalNER's dataset-specific template), except
    /// for records of `heldOut` tasks, which keep the released prompt that evaluation asks.
    public static func namingDatasets(_ records: [InstructionRecord], heldOut: Set<String>) -> [InstructionRecord] {
        records.map { r in
            guard r.template == .uniner, !heldOut.contains(r.provenance.task) else { return r }
            var named = r
            named.promptDataset = r.provenance.dataset
            return named
        }
    }

    /// Every record of already-built record-shard directories (their manifests' shards, all splits), kept as they are:
    /// their producer filtered and split them, and their templates (the plain UniversalNER one for distilled
    /// conversations) are not changed. Only a record of a task in `heldOut` is moved to test, so that held-out tasks
    /// never enter training. `ids` holds the ids already in the build; a repeated id is an error naming the directory.
    public static func includedRecords(_ dirs: [URL], heldOut: Set<String>, ids: inout Set<String>) throws -> [InstructionRecord] {
        var out: [InstructionRecord] = []
        for dir in dirs {
            for var r in try records(in: dir) {
                guard ids.insert(r.id).inserted else {
                    throw InstructError("\(dir.path): record '\(r.id)' is already in the build (the same data included twice?)")
                }
                if heldOut.contains(r.provenance.task) { r.provenance.split = .test }
                out.append(r)
            }
        }
        return out
    }

    /// Runs the whole build into `out` and returns its summary.
    public static func build(_ o: BuildOptions, out: URL, progress: (String) -> Void) throws -> BuildSummary {
        if let same = o.include.first(where: { $0.standardizedFileURL.path == out.standardizedFileURL.path }) {
            throw InstructError("\(same.path): the output directory cannot also be included")
        }
        var records: [InstructionRecord] = []
        var heldOut = o.heldOut
        if let e = o.ecomgpt {
            records += try ecomGPTRecords(e, heldOut: heldOut, seed: o.seed, supervised: o.supervised, atomic: o.atomic, progress: progress)
        }
        if !o.uniNERHeldOut.isEmpty {
            guard let u = o.uniner else { throw InstructError("UniversalNER held-out sets were named without a UniversalNER directory") }
            let present = Set(try UniversalNERSource.files(in: u).map { $0.deletingPathExtension().lastPathComponent })
            for name in o.uniNERHeldOut {
                guard present.contains(name) else { throw InstructError("\(u.path): no UniversalNER set '\(name).json' to hold out") }
                heldOut.insert("UniNER-" + name)
            }
        }
        if let u = o.uniner {
            let uni = try uniNERRecords(u, negatives: o.negativeTypes, seed: o.seed, atomic: o.atomic, progress: progress)
            records += o.uniNERDatasetSpecific ? namingDatasets(uni, heldOut: heldOut) : uni
        } else if o.uniNERDatasetSpecific {
            throw InstructError("the dataset-specific UniversalNER template was asked for without a UniversalNER directory")
        }
        var corpora: [RawCorpus] = []
        if !o.raw.isEmpty { corpora.append(try RawCorpus.load(o.raw)) }
        if o.ecomgpt == nil && o.uniner == nil && o.raw.isEmpty && o.include.isEmpty && o.embeddedSampleWhenEmpty {
            corpora.append(try RawCorpus.embeddedSample())
        }
        for c in corpora {
            records += c.primaryRecords(seed: o.seed) + (o.atomic ? AtomicTasks.fromRaw(c, seed: o.seed) : [])
            progress("raw \(c.dataset): \(c.products.count) products, \(c.reviews.count) reviews, \(c.queries.count) queries, \(c.questions.count) questions")
        }
        let sourceCount = records.count
        var fc = o.filter
        fc.seed = o.seed
        let supervisedTrain = o.supervised.map { supervisedTrainIDs(records, heldOut: heldOut, split: $0) } ?? []
        func isEvaluation(_ r: InstructionRecord) -> Bool { heldOut.contains(r.provenance.task) && !supervisedTrain.contains(r.id) }
        // Held-out evaluation records are kept exactly as released: filtering applies to training candidates only.
        let evaluation = records.filter(isEvaluation)
        let (kept, report, review) = try RecordFilter(config: fc, counter: o.tokenCounter ?? UTF8ByteCounter()).run(records.filter { !isEvaluation($0) }, nearDuplicateExempt: supervisedTrain)
        progress("filter: kept \(report.kept) of \(report.input) training candidates; \(evaluation.count) held-out records")
        var assigner = SplitAssigner(heldOut: heldOut, maxPerDataset: o.maxPerDataset, validationFraction: o.validationFraction, seed: o.seed)
        assigner.supervisedTrain = supervisedTrain
        let (assigned, capped) = assigner.assign(kept + evaluation)
        var ids = Set(assigned.map(\.id))
        let included = try includedRecords(o.include, heldOut: heldOut, ids: &ids)
        if !o.include.isEmpty { progress("include: \(included.count) records from \(o.include.count) directories") }
        let split = assigned + included
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try ShardManifest.beginWriting(in: out)
        var shards: [ShardInfo] = []
        var counts: [String: Int] = [:]
        for s in Split.allCases {
            let part = split.filter { $0.provenance.split == s }
            counts[s.rawValue] = part.count
            guard !part.isEmpty else { continue }
            let w = try ShardWriter(directory: out, prefix: s.rawValue, kind: .records, targetShardBytes: o.shardBytes)
            for r in part { try w.append(RecordCodec.encode(r)) }
            shards += try w.finish(split: s.rawValue)
            progress("shards \(s.rawValue): \(part.count) records")
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(try enc.encode(report), to: out.appendingPathComponent(reportFile))
        try writeAtomically(Data(RecordFilter.reviewText(review).utf8), to: out.appendingPathComponent(reviewFile))
        try ShardManifest(kind: .records, compressionLevel: 3, shards: shards, notes: counts).write(to: out)
        return BuildSummary(sourceRecords: sourceCount, filter: report, capped: capped, splits: counts, included: included.count,
                            shards: shards.count, bytes: shards.reduce(0) { $0 + $1.bytes }, output: out.path)
    }

    /// Every record of a record-shard directory in file order (one split, or all).
    public static func records(in dir: URL, split: String? = nil, limit: Int? = nil) throws -> [InstructionRecord] {
        let m = try ShardManifest.read(from: dir)
        guard m.kind == ShardKind.records.name else { throw InstructError("\(dir.path): holds \(m.kind) shards, not records") }
        var out: [InstructionRecord] = []
        for s in m.shards(split: split) {
            let r = try ShardReader(url: dir.appendingPathComponent(s.file))
            let more = try r.forEachPayload { p, b, i in
                if let l = limit, out.count >= l { return false }
                out.append(try RecordCodec.decode(Data(p), place: "\(r.url.path): block \(b) record \(i)"))
                return limit.map { out.count < $0 } ?? true
            }
            if !more { break }
        }
        return out
    }

    /// Counts of a record-shard directory for `ecom-data inspect`.
    public static func inspect(_ dir: URL) throws -> [String: Any] {
        let m = try ShardManifest.read(from: dir)
        var result: [String: Any] = ["kind": m.kind, "shards": m.shards.count, "bytes": m.shards.reduce(0) { $0 + $1.bytes },
                                     "uncompressed_bytes": m.shards.reduce(0) { $0 + $1.uncompressedBytes },
                                     "records": m.recordCount]
        if m.kind == ShardKind.records.name {
            var by: [String: [String: Int]] = [:]
            for r in try records(in: dir) {
                let p = r.provenance
                let template = r.template.rawValue + (r.template == .uniner && r.promptDataset != nil ? " (dataset-specific)" : "")
                for (k, v) in [("dataset", p.dataset), ("task", p.task), ("task_type", p.taskType),
                               ("atomic_kind", p.atomicKind ?? "none"), ("language", p.language), ("split", p.split.rawValue),
                               ("template", template)] {
                    by[k, default: [:]][v, default: 0] += 1
                }
            }
            for (k, v) in by { result["by_" + k] = v }
        } else {
            result["sequence_length"] = m.sequenceLength ?? 0
            result["tokenizer_hash"] = m.tokenizerHash ?? ""
            for (k, v) in m.notes ?? [:] { result[k] = v }
        }
        return result
    }
}

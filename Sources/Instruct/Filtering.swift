// Record filtering: rules, exact and near-duplicate removal, a model-based scorer hook, every removal counted by reason,
// and EcomGPT's secondary check (a seeded random sample written out for human review).
import Foundation

/// A model-based quality score per record (the training issue plugs perplexity in); higher is worse.
public protocol RecordScorer {
    /// One score per record, in order.
    func scores(_ records: [InstructionRecord]) throws -> [Double]
}

/// Counts token lengths for the over-long rule (a tokenizer; or `UTF8ByteCounter` when none is given).
public protocol TokenCounter {
    func tokenCount(_ text: String) -> Int
}

/// Counts UTF-8 bytes: an upper bound on byte-level BPE token counts, used when no tokenizer is given.
public struct UTF8ByteCounter: TokenCounter {
    public init() {}
    public func tokenCount(_ text: String) -> Int { text.utf8.count }
}

/// Why a record was removed.
public enum RemovalReason: String, Codable, Sendable, CaseIterable {
    case emptyInput = "empty_input"
    case emptyOutput = "empty_output"
    case bannedWord = "banned_word"
    case tooLong = "too_long"
    case exactDuplicate = "exact_duplicate"
    case nearDuplicate = "near_duplicate"
    case scorer
}

/// Filter settings.
public struct FilterConfig: Sendable {
    /// Records whose prompt, input or output contains one of these (case-insensitive) are removed.
    public var bannedWords: [String] = []
    /// Records whose rendered text is longer than this many tokens are removed.
    public var maxTokens: Int = 2048
    /// Whether records whose output is empty are removed (inputs are always required unless the prompt carries them).
    public var requireOutput = true
    /// Near-duplicate removal (nil: exact duplicates only).
    public var nearDuplicates: MinHashDeduplicator? = MinHashDeduplicator()
    /// Records scoring above this are removed when a scorer is given.
    public var maxScore: Double = .infinity
    /// One in this many kept records goes to the review sample.
    public var reviewEvery: Int = 200
    public var seed: UInt64 = 0
    public init() {}
}

/// What filtering did.
public struct FilterReport: Codable, Sendable, Equatable {
    public var input: Int = 0
    public var kept: Int = 0
    /// Removals by reason (`RemovalReason` raw values).
    public var removed: [String: Int] = [:]
    /// Records whose text normalisation changed something (kept, normalised).
    public var normalized: Int = 0
    /// Records in the review sample.
    public var reviewSample: Int = 0
    public init() {}
}

/// Applies the rules in order: normalisation, empty fields, banned words, length, exact duplicates, near-duplicates,
/// scorer. Each record is removed for its first failing rule only.
public struct RecordFilter {
    public var config: FilterConfig
    public var counter: TokenCounter
    public var scorer: RecordScorer?

    public init(config: FilterConfig = FilterConfig(), counter: TokenCounter = UTF8ByteCounter(), scorer: RecordScorer? = nil) {
        self.config = config; self.counter = counter; self.scorer = scorer
    }

    static func normalized(_ r: InstructionRecord) -> InstructionRecord {
        var n = r
        n.taskDescription = TextNormalizer.normalize(r.taskDescription)
        n.input = TextNormalizer.normalize(r.input)
        n.output = TextNormalizer.normalize(r.output)
        n.candidateLabels = r.candidateLabels?.map(TextNormalizer.normalize)
        n.outputConstraints = r.outputConstraints.map(TextNormalizer.normalize)
        return n
    }

    /// The kept records (normalised, in input order), the report, and the review sample. Records whose id is in
    /// `nearDuplicateExempt` pass the near-duplicate rule untouched and take no part in it (a supervised split's
    /// training examples: the task's own labelled set, kept whole as the papers train on it); every other rule
    /// applies to them.
    public func run(_ records: [InstructionRecord], nearDuplicateExempt: Set<String> = []) throws
        -> (kept: [InstructionRecord], report: FilterReport, review: [InstructionRecord]) {
        var report = FilterReport()
        report.input = records.count
        let banned = config.bannedWords.map { $0.lowercased() }.filter { !$0.isEmpty }
        var seen = Set<String>()
        var stage: [InstructionRecord] = []
        func remove(_ reason: RemovalReason) { report.removed[reason.rawValue, default: 0] += 1 }
        for r in records {
            let n = Self.normalized(r)
            if n != r { report.normalized += 1 }
            let promptCarriesInput = !n.prompt.contains("{sentences}") && n.template == .ecomgpt
            if n.input.isEmpty && !promptCarriesInput { remove(.emptyInput); continue }
            if config.requireOutput && n.output.isEmpty { remove(.emptyOutput); continue }
            let text = n.rendered().text
            if !banned.isEmpty {
                let lower = text.lowercased()
                if banned.contains(where: { lower.contains($0) }) { remove(.bannedWord); continue }
            }
            if counter.tokenCount(text) > config.maxTokens { remove(.tooLong); continue }
            if !seen.insert(text).inserted { remove(.exactDuplicate); continue }
            stage.append(n)
        }
        if let dedup = config.nearDuplicates {
            let candidates = stage.indices.filter { !nearDuplicateExempt.contains(stage[$0].id) }
            let dup = dedup.duplicateOf(candidates.map { stage[$0].input + "\n" + stage[$0].output + "\n" + stage[$0].prompt })
            var removed = Set<Int>()
            for (i, d) in zip(candidates, dup) where d != nil { removed.insert(i); remove(.nearDuplicate) }
            stage = stage.indices.filter { !removed.contains($0) }.map { stage[$0] }
        }
        if let scorer {
            let scores = try scorer.scores(stage)
            guard scores.count == stage.count else {
                throw InstructError("scorer returned \(scores.count) scores for \(stage.count) records")
            }
            var kept: [InstructionRecord] = []
            for (r, s) in zip(stage, scores) { if s <= config.maxScore { kept.append(r) } else { remove(.scorer) } }
            stage = kept
        }
        report.kept = stage.count
        var rng = SeededGenerator(seed: config.seed, key: "review")
        let review = config.reviewEvery > 0 ? stage.filter { _ in rng.below(config.reviewEvery) == 0 } : []
        report.reviewSample = review.count
        return (stage, report, review)
    }

    /// The review sample as readable text: each record's id, provenance and rendered prompt and response.
    public static func reviewText(_ records: [InstructionRecord]) -> String {
        records.map { r in
            let x = r.rendered()
            let p = r.provenance
            return """
            ==== \(r.id)  [\(p.dataset) / \(p.task) / \(p.taskType)\(p.atomicKind.map { " / " + $0 } ?? "") / \(p.language) / \(p.split.rawValue)]
            ---- prompt
            \(x.prompt)
            ---- response
            \(x.response)

            """
        }.joined(separator: "\n")
    }
}

// `ecom-data build`: sources → filtered, split records in zstd shards, with the filter report and review sample.
import ArgumentParser
import EcomInstruct
import EcomTokenizer
import Foundation

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build instruction records from EcomGPT task folders, UniversalNER files and raw JSON Lines.",
        discussion: "With no source (and nothing --include'd), builds from the raw sample embedded in the library. Prints a JSON summary.")

    @Option(help: "EcomGPT data directory (<Dataset>/tasks/<task>/{meta-info.json,test.json}).") var ecomgpt: String?
    @Option(help: "UniversalNER directory of conversation JSON files.") var uniner: String?
    @Option(parsing: .upToNextOption, help: "Raw e-commerce JSON Lines files (products, reviews, queries, qa).") var raw: [String] = []
    @Option(help: "Output directory (shards, manifest.json, filter_report.json, review_sample.txt).") var out: String
    @Option(name: .customLong("held-out"), help: "File of held-out task names, one a line (default: EcomGPT's 12).") var heldOut: String?
    @Option(name: .customLong("supervised-split"), help: ArgumentHelp(
        "Supervised setting: the first N examples of each held-out EcomGPT task after a shuffle seeded by --seed train (in the task's own format); the rest stay test.",
        valueName: "N")) var supervisedSplit: Int?
    @Option(name: .customLong("supervised-tasks"), help: ArgumentHelp(
        "With --supervised-split: a file of the held-out tasks whose training part is trained on, one a line (default: all); the others contribute nothing to training (held-out task families).",
        valueName: "file")) var supervisedTasks: String?
    @Option(name: .customLong("uniner-held-out"), parsing: .upToNextOption,
            help: "UniversalNER sets (file names without .json, e.g. CrossNER_AI) kept out of training (test only).") var uniNERHeldOut: [String] = []
    @Flag(name: .customLong("no-atomic"), help: "Leave out the atomic-task generators' records (primary records only).") var noAtomic = false
    @Flag(name: .customLong("uniner-dataset-specific"), help: ArgumentHelp(
        "Render the UniversalNER sets' conversations in UniversalNER's dataset-specific template (the dataset named in the first user turn, as the paper's supervised multi-task tuning; held-out sets and included records keep the released prompt).")) var uniNERDatasetSpecific = false
    @Option(name: .customLong("include"), help: ArgumentHelp(
        "A record-shard directory (written by ecom-data build or ecom-distill) whose records are mixed in as they are, keeping their splits (repeatable).",
        valueName: "dir")) var include: [String] = []
    @Option(name: .customLong("max-per-dataset"), help: "Cap per task and atomic kind (0: no cap).") var maxPerDataset = 800
    @Option(help: "Seed of every sampling step.") var seed: UInt64 = 0
    @Option(name: .customLong("shard-mb"), help: "Target shard size in MiB.") var shardMB = 64
    @Option(name: .customLong("validation-fraction"), help: "Fraction of the non-held-out records for validation.") var validationFraction = 0.05
    @Option(name: .customLong("banned-words"), help: "File of banned words, one a line.") var bannedWords: String?
    @Option(name: .customLong("max-tokens"), help: "Over-long rule: maximum tokens of a rendered record (UTF-8 bytes without --tokenizer).") var maxTokens = 8192
    @Option(help: "tokenizer.json used to count tokens for --max-tokens.") var tokenizer: String?
    @Option(name: .customLong("review-every"), help: "One in this many kept records goes to the review sample.") var reviewEvery = 200

    func run() throws {
        try reportingErrors {
            var o = BuildOptions()
            o.ecomgpt = ecomgpt.map { URL(fileURLWithPath: $0) }
            o.uniner = uniner.map { URL(fileURLWithPath: $0) }
            o.raw = raw.map { URL(fileURLWithPath: $0) }
            if let h = heldOut { o.heldOut = try SplitAssigner.readHeldOut(URL(fileURLWithPath: h)) }
            if let n = supervisedSplit {
                guard n >= 0 else { throw InstructError("--supervised-split must not be negative") }
                let trained = try supervisedTasks.map { try SplitAssigner.readHeldOut(URL(fileURLWithPath: $0)) }
                o.supervised = SupervisedSplit(trainCount: n, seed: seed, trainedTasks: trained)
            }
            if supervisedTasks != nil && supervisedSplit == nil { throw InstructError("--supervised-tasks needs --supervised-split") }
            o.uniNERHeldOut = uniNERHeldOut
            o.atomic = !noAtomic
            o.uniNERDatasetSpecific = uniNERDatasetSpecific
            o.include = include.map { URL(fileURLWithPath: $0) }
            o.maxPerDataset = maxPerDataset > 0 ? maxPerDataset : nil
            o.seed = seed
            o.shardBytes = max(1, shardMB) << 20
            o.validationFraction = validationFraction
            o.filter.maxTokens = maxTokens
            if let t = tokenizer {
                do { o.tokenCounter = try Tokenizer(contentsOf: URL(fileURLWithPath: t)) } catch { throw InstructError("\(t): \(error)") }
            }
            o.filter.reviewEvery = reviewEvery
            if let b = bannedWords {
                let text = try String(contentsOfFile: b, encoding: .utf8)
                o.filter.bannedWords = text.split(whereSeparator: \.isNewline).map(String.init)
            }
            let s = try DatasetBuilder.build(o, out: URL(fileURLWithPath: out), progress: progress)
            let report = try JSONSerialization.jsonObject(with: JSONEncoder().encode(s))
            try printJSON(report)
        }
    }
}

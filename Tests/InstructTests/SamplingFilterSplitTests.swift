// Candidate and negative-type sampling, filtering with its report and review sample, MinHash, and splits.
import EcomInstruct
import EcomTestSupport
import Foundation
import Testing

@Suite struct SamplingFilterSplitTests {
    func rec(_ id: String, input: String, output: String = "out", task: String = "T") -> InstructionRecord {
        InstructionRecord(id: id, taskDescription: "d", prompt: "p", input: input, output: output, template: .alpaca,
                          provenance: Provenance(dataset: "D", task: task, taskType: "CLS", language: "en"))
    }

    @Test func candidateSamplingIsSeededAndKeepsGold() {
        let labels = (0..<20).map { "L\($0)" }
        var sizes = Set<Int>()
        for seed in 0..<50 as Range<UInt64> {
            var a = SeededGenerator(seed: seed), b = SeededGenerator(seed: seed)
            let s = CandidateSampler.sample(labels: labels, gold: ["L3", "L7"], using: &a)
            #expect(s == CandidateSampler.sample(labels: labels, gold: ["L3", "L7"], using: &b), "seed \(seed)")
            #expect(s.contains("L3") && s.contains("L7") && Set(s).count == s.count && Set(s).isSubset(of: Set(labels)))
            sizes.insert(s.count)
        }
        #expect(sizes.count > 5, "subset sizes should vary: \(sizes.sorted())")
    }

    @Test func binaryTasksUsuallyShowBothLabels() {
        // EcomGPT cuts the shuffled label set to randint(50) labels before adding the gold ones, so a two-label set
        // shows both labels unless the cut is 0 or 1 (probability about 1/50 + 1/100 of the draws).
        var rng = SeededGenerator(seed: 3)
        var onlyGold = 0
        for _ in 0..<2000 where CandidateSampler.sample(labels: ["match", "not match"], gold: ["match"], using: &rng) == ["match"] {
            onlyGold += 1
        }
        #expect(onlyGold > 10 && onlyGold < 120, "seed 3: only the gold label shown \(onlyGold) times in 2000")
    }

    @Test func negativeTypesAreAbsentAndFollowFrequency() {
        let sampler = NegativeTypeSampler(counts: ["common": 90, "rare": 10, "present": 50])
        var rng = SeededGenerator(seed: 42)
        var firsts: [String: Int] = [:]
        for _ in 0..<2000 {
            let s = sampler.sample(count: 1, excluding: ["present"], using: &rng)
            firsts[s[0], default: 0] += 1
        }
        #expect(firsts["present"] == nil)
        let common = Double(firsts["common"] ?? 0) / 2000
        #expect(abs(common - 0.9) < 0.03, "seed 42: common drawn \(common)")
        #expect(Set(sampler.sample(count: 5, excluding: [], using: &rng)) == ["common", "rare", "present"])
    }

    @Test func normalization() {
        #expect(TextNormalizer.normalize("  a\u{00A0}\u{00A0}b \r\nc\u{0007}d\u{3000}e\u{200B}  ") == "a b\ncd e")
        #expect(TextNormalizer.normalize("e\u{0301}") == "\u{00E9}")
        #expect(TextNormalizer.normalize("x\t y") == "x\ty")
    }

    @Test func filterCountsEveryReason() throws {
        struct LengthScorer: RecordScorer {
            func scores(_ records: [InstructionRecord]) throws -> [Double] { records.map { $0.input.hasPrefix("bad") ? 9 : 1 } }
        }
        var cfg = FilterConfig()
        cfg.bannedWords = ["Forbidden"]
        cfg.maxTokens = 400
        cfg.maxScore = 5
        cfg.reviewEvery = 2
        let long = String(repeating: "long ", count: 200)
        let base = "the quick brown fox jumps over the lazy dog near the river bank today"
        let records = [rec("1", input: "fine one"), rec("2", input: ""), rec("3", input: "x", output: "  "),
                       rec("4", input: "a forbidden word"), rec("5", input: long), rec("6", input: "fine one"),
                       rec("7", input: base), rec("8", input: base + "!"), rec("9", input: "bad apple"),
                       rec("10", input: "fine  two\u{0000}")]
        let (kept, report, review) = try RecordFilter(config: cfg, scorer: LengthScorer()).run(records)
        #expect(kept.map(\.id) == ["1", "7", "10"])
        #expect(kept[2].input == "fine two")
        #expect(report.removed == ["empty_input": 1, "empty_output": 1, "banned_word": 1, "too_long": 1,
                                   "exact_duplicate": 1, "near_duplicate": 1, "scorer": 1])
        #expect(report.input == 10 && report.kept == 3 && report.normalized >= 2)
        #expect(review.count == report.reviewSample)
        #expect(RecordFilter.reviewText(kept).contains("==== 7  [D / T / CLS / en / train]"))
    }

    @Test func supervisedExamplesAreExemptFromNearDuplicateRemoval() throws {
        let base = "the quick brown fox jumps over the lazy dog near the river bank today"
        let records = [rec("s1", input: base), rec("s2", input: base + "!"), rec("s3", input: base + "?"),
                       rec("o1", input: base + "."), rec("o2", input: base + ";"), rec("s4", input: "")]
        let exempt: Set<String> = ["s1", "s2", "s3", "s4"]
        let (kept, report, _) = try RecordFilter().run(records, nearDuplicateExempt: exempt)
        // Exempt records stay and take no part in the comparison (o1 is kept as the first of the others, o2 goes as
        // its near-duplicate); the other rules still apply to exempt records (s4 is empty).
        #expect(kept.map(\.id) == ["s1", "s2", "s3", "o1"])
        #expect(report.removed == ["empty_input": 1, "near_duplicate": 1])
        let (plain, plainReport, _) = try RecordFilter().run(records)
        #expect(plain.map(\.id) == ["s1"])
        #expect(plainReport.removed == ["empty_input": 1, "near_duplicate": 4])
    }

    @Test func minHashFindsNearDuplicatesOnly() {
        let d = MinHashDeduplicator()
        let a = "Trailwise 40L waterproof hiking backpack in olive green with a rain cover and hip belt"
        let texts = [a, a.replacingOccurrences(of: "olive", with: "olives"), "Brewell 12-cup programmable coffee maker",
                     "山行 40升防水登山包 橄榄绿 背负系统透气", "山行 40升防水登山包 橄榄绿 背负系统透气。"]
        #expect(d.duplicateOf(texts) == [nil, 0, nil, nil, 3])
        let s1 = d.signature(a), s2 = d.signature(texts[2])
        #expect(MinHashDeduplicator.similarity(s1, s1) == 1 && MinHashDeduplicator.similarity(s1, s2) < 0.2)
    }

    @Test func splitsKeepHeldOutOutAndCap() {
        var records = (0..<50).map { rec("a\($0)", input: "x\($0)", task: "Big") }
        records += (0..<5).map { rec("h\($0)", input: "y\($0)", task: "Held") }
        let a = SplitAssigner(heldOut: ["Held"], maxPerDataset: 20, validationFraction: 0.25, seed: 9)
        let (out, capped) = a.assign(records)
        #expect(capped == 30)
        #expect(out.filter { $0.provenance.task == "Held" }.allSatisfy { $0.provenance.split == .test })
        #expect(out.filter { $0.provenance.task == "Held" }.count == 5)
        let big = out.filter { $0.provenance.task == "Big" }
        #expect(big.count == 20 && big.allSatisfy { $0.provenance.split != .test })
        let v = big.filter { $0.provenance.split == .validation }.count
        #expect(v > 0 && v < 20, "seed 9: \(v) validation records")
        #expect(a.assign(records).records == out)
    }
}

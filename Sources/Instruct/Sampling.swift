// Seeded sampling of candidate labels (as EcomGPT's classification tasks show them) and of negative entity types
// (as UniversalNER's training data adds them: types absent from the passage, drawn by frequency, answered []).

public enum CandidateSampler {
    /// EcomGPT's `max_label` (Alibaba-NLP/EcomGPT, src/data/task_cls.py): the prefix length is drawn from 0..<50.
    public static let defaultMaxLabels = 50

    /// The candidates EcomGPT's classification tasks show: the whole label set shuffled, cut to a prefix whose length
    /// is uniform in `0..<maxLabels`, joined with every gold label, in random order. With small label sets (binary
    /// tasks) the prefix almost always keeps every label, so the candidates do not give the answer away.
    /// Deterministic for a given generator state (the paper's code uses Python's unseeded `random` and a `set`);
    /// gold labels missing from `labels` are still included.
    public static func sample(labels: [String], gold: [String], maxLabels: Int = defaultMaxLabels,
                              using rng: inout SeededGenerator) -> [String] {
        var shuffled = labels
        rng.shuffle(&shuffled)
        let keep = rng.below(max(1, maxLabels))
        var out: [String] = []
        var seen = Set<String>()
        for l in shuffled.prefix(keep) + gold where seen.insert(l).inserted { out.append(l) }
        rng.shuffle(&out)
        return out
    }
}

/// Draws entity types absent from a passage, weighted by how often each type occurs in the dataset.
public struct NegativeTypeSampler: Sendable {
    /// Types with their counts, sorted by type so that sampling does not depend on dictionary order.
    public let weighted: [(type: String, count: Int)]

    /// Counts type occurrences (a type counts once per passage in which it has a span).
    public init(passages: [[String: [String]]]) {
        var counts: [String: Int] = [:]
        for p in passages { for (t, spans) in p where !spans.isEmpty { counts[t, default: 0] += 1 } }
        weighted = counts.map { ($0.key, $0.value) }.sorted { $0.type < $1.type }
    }

    public init(counts: [String: Int]) { weighted = counts.map { ($0.key, $0.value) }.sorted { $0.type < $1.type } }

    /// Up to `count` distinct types not in `present`, drawn without replacement with probability proportional to frequency.
    public func sample(count: Int, excluding present: Set<String>, using rng: inout SeededGenerator) -> [String] {
        var pool = weighted.filter { !present.contains($0.type) && $0.count > 0 }
        var out: [String] = []
        while out.count < count && !pool.isEmpty {
            let total = pool.reduce(0) { $0 + $1.count }
            var r = rng.below(total)
            var pick = 0
            while r >= pool[pick].count { r -= pool[pick].count; pick += 1 }
            out.append(pool[pick].type)
            pool.remove(at: pick)
        }
        return out
    }
}

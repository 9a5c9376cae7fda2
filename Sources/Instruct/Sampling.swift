// Seeded sampling of candidate labels (as EcomGPT's classification tasks show them) and of negative entity types
// (as UniversalNER's training data adds them: types absent from the passage, drawn by frequency, answered []).

public enum CandidateSampler {
    /// A random subset of `labels` (size uniform in 0...all others) joined with every gold label, in random order.
    /// Deterministic for a given generator state; gold labels missing from `labels` are still included.
    public static func sample(labels: [String], gold: [String], using rng: inout SeededGenerator) -> [String] {
        let goldSet = Set(gold)
        var others = labels.filter { !goldSet.contains($0) }
        rng.shuffle(&others)
        let extra = others.isEmpty ? 0 : rng.below(others.count + 1)
        var out: [String] = []
        for g in gold where !out.contains(g) { out.append(g) }
        out += others.prefix(extra)
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

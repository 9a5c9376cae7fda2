// Distilled chunks as UniversalNER conversation records (`.uniner`, as `UniversalNERSource.record` builds them for the
// released data): one question per entity type present, answered with the JSON list of its entities, then negative
// types drawn by frequency over the whole distilled set and answered `[]`, as `DatasetBuilder.uniNERRecords` does.
import EcomInstruct
import Foundation

/// One labelled chunk, in passage order.
public struct LabelledChunk: Sendable, Equatable {
    public var text: String
    public var language: String
    public var labels: ChunkLabels
    public init(text: String, language: String, labels: ChunkLabels) { self.text = text; self.language = language; self.labels = labels }
}

public enum DistilledRecords {
    /// The provenance dataset of distilled records; their task is `UniNER-distilled` and their ids
    /// `UniNER-distilled#<chunk index>` (chunks numbered over the whole input in passage order).
    public static let dataset = "distilled"

    /// How often each type is present, counted once per chunk (the weights of negative sampling).
    public static func typeCounts(_ chunks: [LabelledChunk]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for c in chunks { for t in c.labels.types { counts[t, default: 0] += 1 } }
        return counts
    }

    /// Records of the chunks, in chunk order, each with up to `negatives` negative types drawn (weighted by
    /// ``typeCounts(_:)``, without the types the teacher named for that chunk) from a generator seeded with
    /// `SeededGenerator(seed: seed, key: "negatives/distilled/<chunk index>")`.
    ///
    /// A chunk gives a record when it has kept entities, or when its answer was a list with nothing in it and
    /// nothing dropped (a record of negative types only, when `negatives` > 0). Chunks whose answer was prose, or
    /// whose pairs were all dropped, give none: their negatives could be wrong. They are counted in
    /// `DropCounts.chunksWithoutRecords` of the returned counts.
    public static func build(_ chunks: [LabelledChunk], negatives: Int, seed: UInt64) -> (records: [InstructionRecord], withoutRecord: Int) {
        let sampler = NegativeTypeSampler(counts: typeCounts(chunks))
        var records: [InstructionRecord] = []
        var skipped = 0
        for (i, c) in chunks.enumerated() {
            let l = c.labels
            let cleanEmpty = l.parsed && l.types.isEmpty && l.drops == ChunkLabels().drops
            guard !l.types.isEmpty || (cleanEmpty && negatives > 0) else { skipped += 1; continue }
            var rng = SeededGenerator(seed: seed, key: "negatives/\(dataset)/\(i)")
            let neg = sampler.sample(count: negatives, excluding: l.namedTypes.union(l.types), using: &rng)
            if l.types.isEmpty && neg.isEmpty { skipped += 1; continue }
            let p = UniversalNERPassage(dataset: dataset, passage: c.text, types: l.types + neg,
                                        spans: l.entities + neg.map { _ in [] })
            records.append(UniversalNERSource.record(p, index: i, language: c.language))
        }
        return (records, skipped)
    }
}

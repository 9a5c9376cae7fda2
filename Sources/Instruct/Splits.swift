// Splits: held-out tasks (EcomGPT's 12 by default) never enter training; a per-dataset cap (EcomGPT used at most 800
// examples per dataset); a seeded validation split.
import Foundation

public struct SplitAssigner: Sendable {
    /// Task names (EcomGPT task folder names) whose records, and every record derived from them, go to `test`.
    public var heldOut: Set<String>
    /// At most this many records per (task, atomic kind) enter train + validation; nil: no cap.
    public var maxPerDataset: Int?
    /// The fraction of the remaining records that goes to validation.
    public var validationFraction: Double
    public var seed: UInt64
    /// Record ids of held-out tasks that go to `train` all the same (the training part of a supervised split).
    public var supervisedTrain: Set<String> = []

    /// EcomGPT's 12 held-out evaluation tasks.
    public static let ecomGPTHeldOut: [String] = [
        "EN-Lenovo-NER-NER", "ZH-MEPAVE-NER-attribute_value_extraction", "EN-Lenovo-Condition_Extract-Condition_Extract",
        "ZH-MEPAVE-Condition_Extract-attribute_value_detection", "ZH-Multi_CPR-Extract-product_select_2",
        "EN-Reddit_QA-Extract-Extract_QA", "ZH-OpenBG_Align-Generate-title_generate", "ZH-OpenBG_Align-CLS-item_align",
        "ZH-OpenBG_Align-CLS-title_attribute_matching", "ZH-OpenBG_Align-CLS-item_coarse_classify",
        "ZH-OpenBG_Align-CLS-item_fine_classify", "EN-ABSA-CLS-review_topic_category",
    ]

    public init(heldOut: Set<String> = Set(SplitAssigner.ecomGPTHeldOut), maxPerDataset: Int? = 800,
                validationFraction: Double = 0.05, seed: UInt64 = 0) {
        self.heldOut = heldOut; self.maxPerDataset = maxPerDataset; self.validationFraction = validationFraction; self.seed = seed
    }

    /// Reads a held-out list: one task name a line (blank lines and `#` comments ignored).
    public static func readHeldOut(_ url: URL) throws -> Set<String> {
        let text = String(decoding: try readFile(url), as: UTF8.self)
        return Set(text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }

    /// The records with their splits, in input order, and how many were dropped by the cap.
    public func assign(_ records: [InstructionRecord]) -> (records: [InstructionRecord], capped: Int) {
        var keep = Array(repeating: true, count: records.count)
        if let cap = maxPerDataset {
            var groups: [String: [Int]] = [:]
            for (i, r) in records.enumerated() where !heldOut.contains(r.provenance.task) {
                groups["\(r.provenance.task)|\(r.provenance.atomicKind ?? "")", default: []].append(i)
            }
            for (key, idx) in groups where idx.count > cap {
                var rng = SeededGenerator(seed: seed, key: "cap/" + key)
                var order = idx
                rng.shuffle(&order)
                for i in order.dropFirst(cap) { keep[i] = false }
            }
        }
        var out: [InstructionRecord] = []
        for (i, var r) in records.enumerated() where keep[i] {
            if supervisedTrain.contains(r.id) {
                r.provenance.split = .train
            } else if heldOut.contains(r.provenance.task) {
                r.provenance.split = .test
            } else {
                var rng = SeededGenerator(seed: seed, key: "validation/" + r.id)
                r.provenance.split = rng.unit() < validationFraction ? .validation : .train
            }
            out.append(r)
        }
        return (out, records.count - out.count)
    }
}

// Entity F1 for NER as EcomGPT computes it: character-level BIO labels from type -> spans maps
// (Alibaba-NLP/EcomGPT src/data/task_extract.py EN_NER.mapping2label, src/data/utils.py), then seqeval.

/// An ordered map from entity type to spans, as EcomGPT's parsed answers (dict order matters: later types
/// overwrite earlier ones' labels).
public typealias TypedSpans = [(type: String, spans: [String])]

/// EcomGPT's `mapping2label`: one label per code point of `text`, "O" by default; for each type in order and each
/// span (skipping the literal "None"), at EVERY position where the span occurs: "B-type" there and "I-type" on
/// the rest of the span, overwriting earlier labels. An empty span matches everywhere and labels every position
/// "B-type" (Python: text[j:j] == "" and the I- slice assignment is empty).
public func characterLabels(text: String, spans: TypedSpans) -> [String] {
    let t = Array(text.unicodeScalars)
    var labels = [Int32](repeating: -1, count: t.count)  // index into `names` (B at even, I at odd) or -1 for O
    var names: [String] = []
    for (k, entry) in spans.enumerated() {
        names.append("B-" + entry.type)
        names.append("I-" + entry.type)
        let bi = Int32(2 * k), ii = Int32(2 * k + 1)
        for s in entry.spans where s != "None" {
            let sp = Array(s.unicodeScalars)
            guard sp.count <= t.count else { continue }
            if sp.isEmpty { for j in t.indices { labels[j] = bi }; continue }
            for j in 0...(t.count - sp.count) where t[j] == sp[0] {
                var same = true
                for q in 1..<sp.count where t[j + q] != sp[q] { same = false; break }
                if same {
                    labels[j] = bi
                    for q in 1..<sp.count { labels[j + q] = ii }
                }
            }
        }
    }
    return labels.map { $0 < 0 ? "O" : names[Int($0)] }
}

/// One NER example: the text and the predicted and gold type -> spans maps.
public struct EntityExample: Sendable {
    public var text: String
    public var prediction: TypedSpans
    public var reference: TypedSpans
    public init(text: String, prediction: TypedSpans, reference: TypedSpans) {
        self.text = text; self.prediction = prediction; self.reference = reference
    }
}

/// The spans as ``entityF1(_:)`` labels them: a repeated type joins its first occurrence (a Python dict keeps one key,
/// in first-insertion place) and each type's spans keep their first occurrences only.
public func mergingRepeatedTypes(_ m: TypedSpans) -> TypedSpans {
    var order: [PyString] = [], spans: [PyString: [String]] = [:], names: [PyString: String] = [:]
    for entry in m {
        let key = PyString(entry.type)
        if spans[key] == nil { order.append(key); names[key] = entry.type }
        spans[key, default: []] += entry.spans
    }
    return order.map { key in
        var seen = Set<PyString>()
        return (names[key]!, spans[key]!.filter { seen.insert(PyString($0)).inserted })
    }
}

/// EcomGPT's NER entity F1: labels by ``characterLabels(text:spans:)``, then seqeval's lenient report.
/// Within a type, spans are used in first-occurrence order with duplicates dropped (EcomGPT iterates a Python
/// set, whose order depends on the hash seed; see Docs/METRICS.md).
public func entityF1(_ examples: [EntityExample]) -> EntityReport {
    let gold = examples.map { characterLabels(text: $0.text, spans: mergingRepeatedTypes($0.reference)) }
    let pred = examples.map { characterLabels(text: $0.text, spans: mergingRepeatedTypes($0.prediction)) }
    return seqevalReport(gold: gold, predicted: pred)
}

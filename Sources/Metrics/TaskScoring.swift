// EcomGPT's per-task-type evaluation, paper-compatible (Alibaba-NLP/EcomGPT src/data/task_cls.py EN_CLS.evaluate;
// src/data/task_extract.py EN_EXTRACT, EN_GEN, EN_CONDITION_EXTRACT, EN_NER .evaluate / parse_answer).
// Quirks reproduced on purpose are listed in Docs/METRICS.md.

/// EcomGPT's task types (the third field of a task folder name, e.g. "EN-ABSA-CLS-review_topic_category").
public enum EcomTaskType: String, Sendable, CaseIterable {
    case cls = "CLS", extract = "Extract", conditionExtract = "Condition_Extract", generate = "Generate", ner = "NER"
}

/// EcomGPT's key scores for one task.
public struct EcomTaskScores: Sendable, Equatable {
    public var microF1: Double
    public var macroF1: Double
    /// Rouge-L F of the `rouge` package, averaged.
    public var rougeLF: Double
    /// The SetScore details (CLS, Extract, Condition_Extract, Generate) or nil (NER).
    public var set: SetScoreResult?
    /// The seqeval report (NER) or nil.
    public var entities: EntityReport?
}

/// Scores predictions against gold answers of one task as EcomGPT's evaluation code does.
/// - `texts`: the input sentences (needed for NER's character labels; ignored otherwise).
/// - `labelSeparator`: the task's `label_sep` (", " for every released task).
/// - `emptyHypothesis`: `.raise` reproduces the paper code, which crashes where the `rouge` package refuses a
///   hypothesis after EcomGPT's own substitutions (e.g. a CLS answer of only dots or spaces); `.substituteError`
///   scores "error" there instead.
public func ecomTaskScores(type: EcomTaskType, predictions: [String], references: [String], texts: [String] = [],
                           labelSeparator sep: String = ", ",
                           emptyHypothesis: EmptyHypothesisPolicy = .raise) throws -> EcomTaskScores {
    precondition(predictions.count == references.count && !predictions.isEmpty, "need equal, non-zero counts")
    let rouge = RougeL(flavor: .rouge, emptyHypothesis: emptyHypothesis)
    func chars(_ s: String) -> [String] { s.unicodeScalars.map { String($0) } }
    switch type {
    case .cls:
        // parse_answer: "error" when empty, else strip() and every "." removed; the Rouge-L hypothesis is that.
        let parsed = predictions.map { $0.isEmpty ? "error" : withoutDots(pythonStrip($0)) }
        let r = try rouge.score(predictions: parsed, references: references).average
        // parse_answer_to_list / parse_gold_to_list return the STRING "error" when empty: a set of its characters.
        let toList = { (s: String) -> [String] in s.isEmpty ? chars("error") : pythonSplit(s, separator: sep) }
        let s = setScore(predictions: parsed.map(toList), references: references.map(toList))
        return EcomTaskScores(microF1: s.microF1, macroF1: s.macroF1, rougeLF: r.f, set: s, entities: nil)
    case .extract:
        let preds = predictions.map { pythonStrip(withoutDots($0)).isEmpty ? "error" : $0 }
        let r = try rouge.score(predictions: preds, references: references).average
        let s = setScore(predictions: preds.map { pythonSplit(pythonStrip($0), separator: sep) },
                         references: references.map { pythonSplit(pythonStrip($0), separator: sep) })
        return EcomTaskScores(microF1: s.microF1, macroF1: s.macroF1, rougeLF: r.f, set: s, entities: nil)
    case .generate:
        // parse_answer returns a string, so SetScore compares the SETS OF CHARACTERS of answer and gold.
        let preds = predictions.map { $0.isEmpty ? "error" : $0 }
        let r = try rouge.score(predictions: preds, references: references).average
        let s = setScore(predictions: preds.map { chars(pythonStrip($0)) }, references: references.map { chars(pythonStrip($0)) })
        return EcomTaskScores(microF1: s.microF1, macroF1: s.macroF1, rougeLF: r.f, set: s, entities: nil)
    case .conditionExtract:
        let preds = predictions.map { pythonStrip($0).unicodeScalars.count <= 1 ? "error" : $0 }
        let golds = references.map { $0.isEmpty ? "error" : $0 }
        let r = try rouge.score(predictions: preds, references: golds).average
        let s = setScore(predictions: preds.map { pythonSplit($0, separator: sep) },
                         references: golds.map { pythonSplit($0, separator: sep) })
        return EcomTaskScores(microF1: s.microF1, macroF1: s.macroF1, rougeLF: r.f, set: s, entities: nil)
    case .ner:
        precondition(texts.count == predictions.count, "NER scoring needs one text per example")
        let preds = predictions.map { $0.isEmpty ? "error" : $0 }
        let r = try rouge.score(predictions: preds, references: references).average
        let examples = (0..<preds.count).map {
            EntityExample(text: texts[$0], prediction: parseNERAnswer(preds[$0], separator: sep),
                          reference: parseNERAnswer(references[$0], separator: sep))
        }
        let e = entityF1(examples)
        return EcomTaskScores(microF1: e.micro.f1, macroF1: e.macro.f1, rougeLF: r.f, set: nil, entities: e)
    }
}

/// EN_NER.parse_answer: lines "type: span, span"; a line without ": " or ending in ": " is skipped; the type is
/// up to the first ": "; a repeated type collects more spans; no line at all gives {"None": ["None"]}.
public func parseNERAnswer(_ answer: String, separator sep: String = ", ") -> TypedSpans {
    var order: [String] = [], spans: [PyString: [String]] = [:]
    for line in pythonSplit(answer, separator: "\n") {
        let parts = pythonSplit(line, separator: ": ")
        if parts.count < 2 || line.unicodeScalars.reversed().starts(with: [" ", ":"]) { continue }
        let type = parts[0]
        let rest = parts.dropFirst().joined(separator: ": ")
        let key = PyString(type)
        if spans[key] == nil { order.append(type) }
        spans[key, default: []] += pythonSplit(rest, separator: sep)
    }
    if order.isEmpty { return [(type: "None", spans: ["None"])] }
    return order.map { (type: $0, spans: spans[PyString($0)]!) }
}

/// `s.replace(".", "")`.
func withoutDots(_ s: String) -> String {
    var u = String.UnicodeScalarView()
    u.append(contentsOf: s.unicodeScalars.lazy.filter { $0 != "." })
    return String(u)
}

// Fast rescoring of bootstrap resamples: every score of a task is a function of per-example counts and per-example
// Rouge-L values (EcomGPT's SetScore, seqeval's entity counts, UniversalNER's counts, Rouge-L averages), so a resample is
// scored by summing those of its examples, with the formulas of EcomMetrics (TaskScoring.swift, SetScore.swift,
// Seqeval.swift, UniversalNER.swift). The reference is EvalScoring.score on the resampled predictions; a task whose
// statistics do not reproduce its reference score on the whole sample is rescored by the reference instead.
import EcomMetrics
import Foundation

/// Per-example statistics of one task's predictions (in the order given) and the scores of any resample of them.
struct ResampleScorer: Sendable {
    let task: String
    let suite: EvalSuite
    let taskType: String
    let count: Int

    enum Kind: Sendable { case sets, entities, uniner }
    let kind: Kind
    /// Rouge-L F of the `rouge` package and the CJK-aware one, per example (EcomGPT tasks).
    var rouge: [Double] = [], cjk: [Double] = []
    /// SetScore (and UniversalNER) counts per example: predicted items, gold items, correct items; SetScore's
    /// per-example precision and recall (0 when either set is empty).
    var predicted: [Int] = [], gold: [Int] = [], correct: [Int] = []
    var precision: [Double] = [], recall: [Double] = []
    /// seqeval counts per example: (type index, true positives, predicted chunks, gold chunks) for each type it has;
    /// type indices follow the code-point order of the type names (seqeval's report order).
    var entities: [[(type: Int, tp: Int, pred: Int, gold: Int)]] = []
    var typeCount = 0

    /// nil when the predictions do not share one suite, task type and label separator, or the type is unknown (the
    /// reference path then reports it).
    init?(task: String, predictions ps: [EvalPrediction]) throws {
        guard let first = ps.first, ps.allSatisfy({ $0.suite == first.suite && $0.taskType == first.taskType && $0.labelSeparator == first.labelSeparator })
        else { return nil }
        self.task = task; suite = first.suite; taskType = first.taskType; count = ps.count
        let sep = first.labelSeparator
        if first.suite == .uniner {
            kind = .uniner
            for p in ps {
                let g = UniversalNER.parse(p.reference), q = UniversalNER.parse(p.prediction)
                correct.append(q.filter { g.contains($0) }.count)
                predicted.append(q.count)
                gold.append(g.count)
            }
            return
        }
        guard let type = EcomTaskType(rawValue: first.taskType) else { return nil }
        kind = type == .ner ? .entities : .sets
        // Per-example Rouge-L: the task's own scoring of each example alone (its average over one example).
        let cjkRouge = RougeL(flavor: .cjk)
        for p in ps {
            rouge.append(try ecomTaskScores(type: type, predictions: [p.prediction], references: [p.reference], texts: [p.text],
                                            labelSeparator: sep, emptyHypothesis: .substituteError).rougeLF)
            cjk.append(try cjkRouge.score(prediction: p.prediction, reference: p.reference).f)
        }
        func chars(_ s: String) -> [String] { s.unicodeScalars.map { String($0) } }
        func withoutDots(_ s: String) -> String { String(String.UnicodeScalarView(s.unicodeScalars.filter { $0 != "." })) }
        switch type {
        case .ner:
            var perExample: [[(PyString, tp: Int, pred: Int, gold: Int)]] = []
            var names = Set<PyString>()
            for p in ps {
                let answer = p.prediction.isEmpty ? "error" : p.prediction
                let g = Set(seqevalChunks([characterLabels(text: p.text, spans: mergingRepeatedTypes(parseNERAnswer(p.reference, separator: sep)))]))
                let q = Set(seqevalChunks([characterLabels(text: p.text, spans: mergingRepeatedTypes(parseNERAnswer(answer, separator: sep)))]))
                let types = Set(g.map(\.type)).union(q.map(\.type)).sorted()
                perExample.append(types.map { t in
                    let gt = g.filter { $0.type == t }, qt = q.filter { $0.type == t }
                    return (t, gt.intersection(qt).count, qt.count, gt.count)
                })
                names.formUnion(types)
            }
            let order = names.sorted()
            let index = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
            typeCount = order.count
            entities = perExample.map { $0.map { (index[$0.0]!, $0.tp, $0.pred, $0.gold) } }
        case .cls, .extract, .generate, .conditionExtract:
            // The lists SetScore compares, as ecomTaskScores builds them per task type.
            for p in ps {
                let pl: [String], gl: [String]
                switch type {
                case .cls:
                    let parsed = p.prediction.isEmpty ? "error" : withoutDots(pythonStrip(p.prediction))
                    let toList = { (s: String) -> [String] in s.isEmpty ? chars("error") : pythonSplit(s, separator: sep) }
                    pl = toList(parsed); gl = toList(p.reference)
                case .extract:
                    let answer = pythonStrip(withoutDots(p.prediction)).isEmpty ? "error" : p.prediction
                    pl = pythonSplit(pythonStrip(answer), separator: sep); gl = pythonSplit(pythonStrip(p.reference), separator: sep)
                case .generate:
                    pl = chars(pythonStrip(p.prediction.isEmpty ? "error" : p.prediction)); gl = chars(pythonStrip(p.reference))
                default:
                    pl = pythonSplit(pythonStrip(p.prediction).unicodeScalars.count <= 1 ? "error" : p.prediction, separator: sep)
                    gl = pythonSplit(p.reference.isEmpty ? "error" : p.reference, separator: sep)
                }
                let a = Set(pl.map(PyString.init)), b = Set(gl.map(PyString.init))
                let inter = a.intersection(b).count
                predicted.append(a.count); gold.append(b.count); correct.append(inter)
                let both = !a.isEmpty && !b.isEmpty
                precision.append(both ? Double(inter) / Double(a.count) : 0)
                recall.append(both ? Double(inter) / Double(b.count) : 0)
            }
        }
    }

    /// The row of the examples at `indices` (repeats counted), as EvalScoring.score would give for them. Sums run in
    /// the indices' order, as the reference's do, so the values are the same to the bit.
    func score(_ indices: [Int]) -> TaskScoreRow {
        let n = Double(indices.count)
        func f1(_ p: Double, _ r: Double) -> Double { r + p == 0 ? 0 : (2 * p * r) / (p + r) }
        var row = TaskScoreRow(task: task, suite: suite, taskType: taskType, count: indices.count, microF1: 0)
        if kind != .uniner {
            var sf = 0.0, sc = 0.0
            for i in indices { sf += rouge[i]; sc += cjk[i] }
            row.rougeL = sf / n
            row.cjkRougeL = sc / n
        }
        switch kind {
        case .uniner:
            var c = 0, np = 0, ng = 0
            for i in indices { c += correct[i]; np += predicted[i]; ng += gold[i] }
            let p = Double(c) / (Double(np) + 1e-10), r = Double(c) / (Double(ng) + 1e-10)
            row.microF1 = 2 * p * r / (p + r + 1e-10)
            row.precision = p
            row.recall = r
        case .sets:
            var c = 0, np = 0, ng = 0, tp = 0.0, tr = 0.0
            for i in indices { c += correct[i]; np += predicted[i]; ng += gold[i]; tp += precision[i]; tr += recall[i] }
            if np > 0 && ng > 0 { row.microF1 = f1(Double(c) / Double(np), Double(c) / Double(ng)) }
            row.macroF1 = f1(tp / n, tr / n)
        case .entities:
            var tp = [Int](repeating: 0, count: typeCount), pred = tp, gold = tp
            for i in indices { for e in entities[i] { tp[e.type] += e.tp; pred[e.type] += e.pred; gold[e.type] += e.gold } }
            func div(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
            var all = (tp: 0, pred: 0, gold: 0), sumF = 0.0, types = 0
            for t in 0..<typeCount where pred[t] > 0 || gold[t] > 0 {
                sumF += f1(div(tp[t], pred[t]), div(tp[t], gold[t]))
                all.tp += tp[t]; all.pred += pred[t]; all.gold += gold[t]; types += 1
            }
            row.microF1 = f1(div(all.tp, all.pred), div(all.tp, all.gold))
            row.macroF1 = types == 0 ? .nan : sumF / Double(types)
        }
        return row
    }

    /// Whether the whole sample's statistics give the reference row (each metric equal, or within 1e-12).
    func reproduces(_ reference: TaskScoreRow) -> Bool {
        let mine = score(Array(0..<count))
        func same(_ a: Double?, _ b: Double?) -> Bool {
            switch (a, b) {
            case (nil, nil): return true
            case let (x?, y?): return x == y || (x.isNaN && y.isNaN) || abs(x - y) <= 1e-12
            default: return false
            }
        }
        return same(mine.microF1, reference.microF1) && same(mine.macroF1, reference.macroF1) && same(mine.rougeL, reference.rougeL)
            && same(mine.cjkRougeL, reference.cjkRougeL) && same(mine.precision, reference.precision) && same(mine.recall, reference.recall)
    }
}

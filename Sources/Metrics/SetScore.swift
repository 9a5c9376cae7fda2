// EcomGPT's SetScore (Alibaba-NLP/EcomGPT src/data/task_cls.py, class SetScore): set-based precision, recall, F1.

/// The result of ``setScore(predictions:references:)``, with EcomGPT's key names.
public struct SetScoreResult: Sendable, Equatable, Codable {
    /// Share of examples whose prediction set equals the reference set.
    public var strictAcc: Double
    /// Micro: correct / predicted and correct / true over all examples' set sizes (0 when either total is 0).
    public var microP: Double, microR: Double, microF1: Double
    /// "Macro": the mean per-example precision and recall (an example with an empty side counts 0), and the F1
    /// of those two means (not the mean of per-example F1s).
    public var macroP: Double, macroR: Double, macroF1: Double

    enum CodingKeys: String, CodingKey {
        case strictAcc = "strict_acc", microP = "micro_p", microR = "micro_r", microF1 = "micro_f1"
        case macroP = "macro_p", macroR = "macro_r", macroF1 = "macro_f1"
    }
}

/// SetScore over examples; each side's list is made a set (duplicates count once), compared by code points.
/// Precondition: the same number of predictions and references, at least one.
public func setScore(predictions: [[String]], references: [[String]]) -> SetScoreResult {
    precondition(predictions.count == references.count && !predictions.isEmpty, "need equal, non-zero counts")
    func f1(_ p: Double, _ r: Double) -> Double { r + p == 0 ? 0 : (2 * p * r) / (p + r) }
    var strict = 0, nPred = 0, nTrue = 0, nCorrect = 0
    var totalP = 0.0, totalR = 0.0
    for (pl, tl) in zip(predictions, references) {
        let p = Set(pl.map(PyString.init)), t = Set(tl.map(PyString.init))
        if p == t { strict += 1 }
        let inter = p.intersection(t).count
        nPred += p.count; nTrue += t.count; nCorrect += inter
        if !p.isEmpty && !t.isEmpty {
            totalP += Double(inter) / Double(p.count)
            totalR += Double(inter) / Double(t.count)
        }
    }
    var microP = 0.0, microR = 0.0, microF = 0.0
    if nPred > 0 && nTrue > 0 {
        microP = Double(nCorrect) / Double(nPred)
        microR = Double(nCorrect) / Double(nTrue)
        microF = f1(microP, microR)
    }
    let count = Double(predictions.count)
    let macroP = totalP / count, macroR = totalR / count
    return SetScoreResult(strictAcc: Double(strict) / count, microP: microP, microR: microR, microF1: microF,
                          macroP: macroP, macroR: macroR, macroF1: f1(macroP, macroR))
}

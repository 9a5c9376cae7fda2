// UniversalNER's evaluator (universal-ner/universal-ner src/eval/evaluate.py: normalize_answer, parser,
// NEREvaluator): the answer's leading [...] parsed as JSON, items normalised and de-duplicated, exact match,
// micro precision/recall/F1 with 1e-10 smoothing.

/// UniversalNER's scores.
public struct UniNERScore: Sendable, Equatable, Codable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
}

/// An answer item: a string, or (for a JSON list item) a tuple of strings.
public enum UniNERItem: Hashable, Sendable {
    case text(PyString)
    case tuple([PyString])
}

public enum UniversalNER {
    private static let punctuation: Set<UInt32> = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars.map(\.value))

    /// `normalize_answer`: lower case (Python str.lower), ASCII punctuation removed, the words a/an/the removed
    /// (regex \b(a|an|the)\b with Unicode word characters), white space collapsed.
    public static func normalize(_ s: String) -> String {
        let lowered = pythonLower(s).unicodeScalars.filter { !punctuation.contains($0.value) }
        let t = Array(lowered)
        var out = String.UnicodeScalarView()
        var j = 0
        while j < t.count {
            if let len = articleLength(t, j) {
                out.append(" ")
                j += len
            } else {
                out.append(t[j])
                j += 1
            }
        }
        return pythonSplit(String(out)).joined(separator: " ")
    }

    /// The length of "a", "an" or "the" at `j` when it stands between word boundaries (the regex alternation
    /// tries a, an, the in order; "a" fails at "an" because no boundary follows it).
    private static func articleLength(_ t: [Unicode.Scalar], _ j: Int) -> Int? {
        if j > 0 && pythonIsWordChar(t[j - 1]) { return nil }
        for w in ["a", "an", "the"] {
            let u = Array(w.unicodeScalars)
            guard j + u.count <= t.count, Array(t[j..<(j + u.count)]) == u else { continue }
            if j + u.count == t.count || !pythonIsWordChar(t[j + u.count]) { return u.count }
        }
        return nil
    }

    /// `parser`: the text must START with "[" (re.match); the JSON is everything up to the first "]" with no
    /// newline before it (`\[(.*?)\]`); otherwise "[]". Items normalised, duplicates dropped in order; any failure
    /// (bad JSON, an item that is not a string or list of strings) gives no items.
    public static func parse(_ text: String) -> [UniNERItem] {
        let u = Array(text.unicodeScalars)
        var json = "[]"
        if u.first == "[" {
            var k = 1
            while k < u.count && u[k] != "]" && u[k] != "\n" { k += 1 }
            if k < u.count && u[k] == "]" { json = String(String.UnicodeScalarView(u[0...k])) }
        }
        guard case .array(let items)? = try? JSONValue.parse(json) else { return [] }
        var out: [UniNERItem] = []
        for item in items {
            let v: UniNERItem
            switch item {
            case .string(let s): v = .text(PyString(normalize(s)))
            case .array(let xs):
                var parts: [PyString] = []
                for x in xs {
                    guard case .string(let s) = x else { return [] }
                    parts.append(PyString(normalize(s)))
                }
                v = .tuple(parts)
            default: return []
            }
            if !out.contains(v) { out.append(v) }
        }
        return out
    }

    /// `NEREvaluator.evaluate`: micro counts over all pairs; P = c/(pred+1e-10), R = c/(gold+1e-10),
    /// F1 = 2PR/(P+R+1e-10).
    public static func evaluate(predictions: [String], references: [String]) -> UniNERScore {
        precondition(predictions.count == references.count, "predictions and references differ in count")
        var correct = 0, nGold = 0, nPred = 0
        for (p, g) in zip(predictions, references) {
            let gold = parse(g), pred = parse(p)
            for t in pred where gold.contains(t) { correct += 1 }
            nPred += pred.count
            nGold += gold.count
        }
        let prec = Double(correct) / (Double(nPred) + 1e-10)
        let rec = Double(correct) / (Double(nGold) + 1e-10)
        return UniNERScore(precision: prec, recall: rec, f1: 2 * prec * rec / (prec + rec + 1e-10))
    }
}

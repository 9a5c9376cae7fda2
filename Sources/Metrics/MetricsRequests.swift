// The JSON Lines requests of `ecom-metrics` (rouge-l, set-f1, entity-f1, uniner): parsing with line numbers and
// the one-object JSON answers. The tool only reads and writes; everything else is here.

/// A bad input line (1-based), or empty input.
public struct MetricsInputError: Error, CustomStringConvertible, Sendable {
    public let source: String
    public let line: Int?
    public let message: String
    public var description: String { line.map { "\(source):\($0): \(message)" } ?? "\(source): \(message)" }
}

/// One metric request over JSON Lines.
public enum MetricsRequest {
    /// Parses non-blank lines; each must be a JSON object. Throws on a bad line or when there is none.
    public static func objects(_ text: String, source: String) throws -> [(line: Int, value: JSONValue)] {
        var out: [(Int, JSONValue)] = []
        for (k, raw) in pythonSplit(text, separator: "\n").enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            if pythonStrip(line).isEmpty { continue }
            let v: JSONValue
            do { v = try JSONValue.parse(line) } catch {
                throw MetricsInputError(source: source, line: k + 1, message: "not JSON (\(error))")
            }
            guard case .object = v else { throw MetricsInputError(source: source, line: k + 1, message: "not a JSON object") }
            out.append((k + 1, v))
        }
        if out.isEmpty { throw MetricsInputError(source: source, line: nil, message: "empty input: no JSON lines") }
        return out
    }

    static func string(_ v: JSONValue, _ key: String, _ line: Int, _ source: String) throws -> String {
        guard case .string(let s)? = v[key] else {
            throw MetricsInputError(source: source, line: line, message: "missing or non-string field \"\(key)\"")
        }
        return s
    }

    static func strings(_ v: JSONValue?, _ what: String, _ line: Int, _ source: String) throws -> [String] {
        guard case .array(let xs)? = v else {
            throw MetricsInputError(source: source, line: line, message: "missing or non-list field \"\(what)\"")
        }
        return try xs.map {
            guard case .string(let s) = $0 else {
                throw MetricsInputError(source: source, line: line, message: "\"\(what)\" must hold strings")
            }
            return s
        }
    }

    static func typedSpans(_ v: JSONValue, _ key: String, _ line: Int, _ source: String) throws -> TypedSpans {
        guard case .object(let kv)? = v[key] else {
            throw MetricsInputError(source: source, line: line, message: "missing or non-object field \"\(key)\"")
        }
        return try kv.map { (type: $0.0, spans: try strings($0.1, "\(key).\($0.0)", line, source)) }
    }

    /// `rouge-l`: lines {"prediction", "reference"} -> {"f", "p", "r", "per_example": [{"f", "p", "r"}]}.
    public static func rougeL(_ text: String, source: String, flavor: RougeFlavor,
                              emptyHypothesis: EmptyHypothesisPolicy) throws -> String {
        let rows = try objects(text, source: source)
        let scorer = RougeL(flavor: flavor, emptyHypothesis: emptyHypothesis)
        var per: [RougeScore] = []
        var sf = 0.0, sp = 0.0, sr = 0.0
        for (line, v) in rows {
            let s: RougeScore
            do {
                s = try scorer.score(prediction: try string(v, "prediction", line, source),
                                     reference: try string(v, "reference", line, source))
            } catch let e as RougeInputError {
                throw MetricsInputError(source: source, line: line, message: e.description)
            }
            sf += s.f; sp += s.p; sr += s.r
            per.append(s)
        }
        let n = Double(per.count)
        let items = per.map { "{\"f\":\(jsonNumber($0.f)),\"p\":\(jsonNumber($0.p)),\"r\":\(jsonNumber($0.r))}" }
        return "{\"f\":\(jsonNumber(sf / n)),\"p\":\(jsonNumber(sp / n)),\"r\":\(jsonNumber(sr / n)),\"per_example\":[\(items.joined(separator: ","))]}"
    }

    /// `set-f1`: lines {"prediction": [str], "reference": [str]} -> SetScore's seven numbers.
    public static func setF1(_ text: String, source: String) throws -> String {
        let rows = try objects(text, source: source)
        let preds = try rows.map { try strings($0.value["prediction"], "prediction", $0.line, source) }
        let refs = try rows.map { try strings($0.value["reference"], "reference", $0.line, source) }
        let s = setScore(predictions: preds, references: refs)
        return jsonObject([("strict_acc", s.strictAcc), ("micro_p", s.microP), ("micro_r", s.microR),
                           ("micro_f1", s.microF1), ("macro_p", s.macroP), ("macro_r", s.macroR), ("macro_f1", s.macroF1)])
    }

    /// `entity-f1`: lines {"text", "prediction": {type: [span]}, "reference": {type: [span]}} ->
    /// {"micro_p", "micro_r", "micro_f1", "macro_p", "macro_r", "macro_f1", "per_type": {type: {...}}}.
    public static func entityF1(_ text: String, source: String) throws -> String {
        let rows = try objects(text, source: source)
        let examples = try rows.map {
            EntityExample(text: try string($0.value, "text", $0.line, source),
                          prediction: try typedSpans($0.value, "prediction", $0.line, source),
                          reference: try typedSpans($0.value, "reference", $0.line, source))
        }
        let r = EcomMetrics.entityF1(examples)
        let per = r.perType.map { t, s in
            "\(jsonString(t)):{\"precision\":\(jsonNumber(s.precision)),\"recall\":\(jsonNumber(s.recall)),"
                + "\"f1\":\(jsonNumber(s.f1)),\"support\":\(s.support)}"
        }
        let head = jsonObject([("micro_p", r.micro.precision), ("micro_r", r.micro.recall), ("micro_f1", r.micro.f1),
                               ("macro_p", r.macro.precision), ("macro_r", r.macro.recall), ("macro_f1", r.macro.f1)])
        return String(head.dropLast()) + ",\"per_type\":{\(per.joined(separator: ","))}}"
    }

    /// `uniner`: lines {"prediction": str, "reference": str} (raw model answers) -> {"precision", "recall", "f1"}.
    public static func uniner(_ text: String, source: String) throws -> String {
        let rows = try objects(text, source: source)
        let preds = try rows.map { try string($0.value, "prediction", $0.line, source) }
        let refs = try rows.map { try string($0.value, "reference", $0.line, source) }
        let s = UniversalNER.evaluate(predictions: preds, references: refs)
        return jsonObject([("precision", s.precision), ("recall", s.recall), ("f1", s.f1)])
    }
}

/// A finite number in shortest round-trip form; NaN and infinities as null.
func jsonNumber(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

func jsonObject(_ kv: [(String, Double)]) -> String {
    "{" + kv.map { "\(jsonString($0.0)):\(jsonNumber($0.1))" }.joined(separator: ",") + "}"
}

/// A JSON string literal (UTF-8 kept, control characters escaped).
func jsonString(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if c.value < 0x20 {
                let h = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            } else {
                out.unicodeScalars.append(c)
            }
        }
    }
    return out + "\""
}

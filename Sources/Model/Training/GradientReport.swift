// `ecom-model grad`: one batch from JSON Lines {"ids", "labels"} -> the loss, every parameter's gradient norm and
// first values, and optionally the first values after one AdamW step (the shape of the training golden fixture).
import EcomTensor
import Foundation

public enum GradientReport {
    /// Values kept per tensor.
    public static let headCount = 8

    /// Parses `{"ids": [int], "labels": [int]}` lines (all of one length; labels -100 or inside the vocabulary) into
    /// one batch; errors name the source and line.
    public static func parseBatch(_ data: Data, source: String, vocabSize: Int) throws -> TrainingBatch {
        var ids: [Int32] = [], labels: [Int32] = [], rows = 0, length = 0
        let text = String(decoding: data, as: UTF8.self)
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if raw.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
            func fail(_ reason: String) -> ModelInputError { ModelInputError(source: source, line: i + 1, reason: reason) }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any] else { throw fail("not a JSON object") }
            guard let x = integers(obj["ids"]), !x.isEmpty else { throw fail("missing field \"ids\" (a non-empty array of integers)") }
            guard let y = integers(obj["labels"]) else { throw fail("missing field \"labels\" (an array of integers)") }
            guard y.count == x.count else { throw fail("\"labels\" has \(y.count) entries, \"ids\" has \(x.count)") }
            if let bad = x.first(where: { $0 < 0 || $0 >= vocabSize }) { throw fail("token id \(bad) is outside the vocabulary (0..<\(vocabSize))") }
            if let bad = y.first(where: { $0 != -100 && ($0 < 0 || $0 >= vocabSize) }) { throw fail("label \(bad) is neither -100 nor inside the vocabulary") }
            if rows > 0 && x.count != length { throw fail("\(x.count) tokens; every line of the batch must have \(length)") }
            length = x.count; rows += 1
            ids += x; labels += y
        }
        guard rows > 0 else { throw ModelInputError(source: source, line: 0, reason: "no input lines") }
        return TrainingBatch(ids: ids, labels: labels, batch: rows, length: length)
    }

    static func integers(_ value: Any?) -> [Int32]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int32] = []
        for x in array {
            guard let n = x as? NSNumber, let v = Int32(exactly: n.doubleValue) else { return nil }
            out.append(v)
        }
        return out
    }

    /// Runs the batch on `model` (gradients zeroed first) and returns the JSON object
    /// `{"loss", "grads": {name: {"norm", "head"}}, "after_step_head"?: {name: [..]}}` (names as HF's named_parameters).
    public static func run(_ model: any TrainableModel, batch: TrainingBatch, adamw: AdamWConfig?) -> [String: Any] {
        model.gradients.zero()
        let (sum, count) = model.forwardBackward(batch, normalizer: nil)
        var grads: [String: Any] = [:]
        for e in model.parameterEntries {
            let g = model.gradients.pointer + e.offset
            grads[e.name] = ["norm": Double(ReductionKernel.sumOfSquares(g, count: e.count).squareRoot()),
                             "head": model.gradients.slice(e.offset, min(headCount, e.count)).map(Double.init)]
        }
        var out: [String: Any] = ["loss": count == 0 ? 0 : sum / Double(count), "grads": grads]
        if let adamw {
            let opt = AdamWOptimizer(model: model, config: adamw)
            opt.update(parameters: model.parameters, gradients: model.gradients, learningRate: adamw.learningRate)
            var after: [String: Any] = [:]
            for e in model.parameterEntries { after[e.name] = model.parameters.slice(e.offset, min(headCount, e.count)).map(Double.init) }
            out["after_step_head"] = after
        }
        return out
    }

    /// Parses `LR,BETA1,BETA2,EPS,WD`.
    public static func parseAdamW(_ text: String) -> AdamWConfig? {
        let parts = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 5, parts.allSatisfy({ $0 != nil }) else { return nil }
        return AdamWConfig(learningRate: parts[0]!, beta1: parts[1]!, beta2: parts[2]!, eps: parts[3]!, weightDecay: parts[4]!)
    }
}

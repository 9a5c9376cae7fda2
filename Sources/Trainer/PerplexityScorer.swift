// Model-based filtering: a RecordScorer (EcomInstruct's filter hook) giving each record its response perplexity
// under a BLOOM model, so that the filter can drop records the model finds implausible (score above maxScore).
import EcomInstruct
import Foundation
import EcomModel
import EcomTensor

/// Scores a record by exp(mean negative log-likelihood of its learned tokens) under a model: the record is rendered
/// with its template and tokenized as the packer does (prompt unlearned, response and end-of-sequence learned),
/// truncated to `maxLength` tokens. A record with no learned token left scores +infinity.
public final class PerplexityScorer: RecordScorer {
    public let model: BloomTrainingModel
    public let encoder: TokenEncoder
    public let maxLength: Int

    public init(model: BloomTrainingModel, encoder: TokenEncoder, maxLength: Int = 512) {
        self.model = model; self.encoder = encoder; self.maxLength = maxLength
    }

    public func scores(_ records: [InstructionRecord]) throws -> [Double] {
        records.map { r in
            let (ids, mask) = tokenizeDocument(r.rendered(), with: encoder)
            let n = min(maxLength, ids.count)
            guard n >= 2 else { return .infinity }
            let seq = (ids: ids.prefix(n).map { Int32($0) }, lossMask: Array(mask.prefix(n)), documentIDs: [UInt16](repeating: 1, count: n))
            let batch = TrainingBatch(packed: [seq])
            guard batch.learnedTokens > 0 else { return .infinity }
            let (sum, count) = model.loss(batch)
            return exp(sum / Double(count))
        }
    }
}

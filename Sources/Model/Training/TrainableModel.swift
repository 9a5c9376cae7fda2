// What the training loop needs of a model: flat trainable parameters and gradients with named entries, a loss with
// gradients for a batch, and a way to save what was trained (a full checkpoint or an adapter).
import EcomTensor
import Foundation

/// One trainable tensor inside a flat buffer: its name (HF's, or PEFT's for adapters), shape and offset.
public struct ParameterEntry: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var offset: Int
    public init(name: String, shape: [Int], offset: Int) { self.name = name; self.shape = shape; self.offset = offset }
    public var count: Int { shape.reduce(1, *) }
    /// False for biases and norm weights (weight decay skips them when the optimizer decays matrices only).
    public var isMatrix: Bool { shape.count == 2 }
}

/// A model the trainer can tune: BLOOM or Llama, all weights or LoRA adapters.
public protocol TrainableModel: AnyObject {
    /// The trainable values, laid out by ``parameterEntries``.
    var parameters: FlatBuffer { get }
    /// Gradients in the same layout, accumulated by ``forwardBackward(_:normalizer:)``; zero them between steps.
    var gradients: FlatBuffer { get }
    /// Every trainable tensor, in the order the reference implementation lists its parameters.
    var parameterEntries: [ParameterEntry] { get }
    /// The vocabulary the model predicts over.
    var vocabularySize: Int { get }
    /// Adds to ``gradients`` the gradient of (sum of token losses) / `normalizer` (default: the batch's learned
    /// tokens); returns the loss sum and the learned-token count.
    @discardableResult
    func forwardBackward(_ batch: TrainingBatch, normalizer: Int?) -> (sum: Double, count: Int)
    /// The loss sum and learned-token count of `batch`, without gradients.
    func loss(_ batch: TrainingBatch) -> (sum: Double, count: Int)
    /// Writes what is trained into `directory`, each file atomically: an HF checkpoint (config.json,
    /// model.safetensors) for full fine-tuning, PEFT's adapter files for LoRA.
    func save(to directory: URL) throws
}

extension TrainableModel {
    /// The entry named `name`.
    public func entry(_ name: String) -> ParameterEntry? { parameterEntries.first { $0.name == name } }

    /// Writes the trainable tensors (adapters under PEFT's keys) with `configuration` as a PEFT adapter directory.
    func saveAdapter(_ configuration: LoRAConfiguration, to directory: URL) throws {
        let tensors = parameterEntries.map { SafeTensorsTensor(name: $0.name, shape: $0.shape, floats: parameters.slice($0.offset, $0.count)) }
        try LoRAAdapter.save(configuration: configuration, tensors: tensors, to: directory)
    }
}

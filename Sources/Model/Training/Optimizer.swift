// AdamW over the flat parameter buffer (torch.optim.AdamW, decoupled weight decay, optionally not on biases and layer
// norms), global-norm gradient clipping, and HF's learning-rate schedules (constant, linear, cosine; with warm-up).
import EcomTensor
import Foundation

/// AdamW over every tensor of a flat parameter buffer, with its first and second moments.
public final class AdamWOptimizer: @unchecked Sendable {
    public var config: AdamWConfig
    /// Apply weight decay to matrices only (biases and layer norms excluded), as HF Trainer does.
    public var decayMatricesOnly: Bool
    /// The tensors updated (each at its offset in the parameter, gradient and moment buffers).
    public let entries: [ParameterEntry]
    /// First moment, in the layout.
    public let m: FlatBuffer
    /// Second moment, in the layout.
    public let v: FlatBuffer
    /// Updates taken so far (the next update is step + 1).
    public var step = 0

    /// An optimizer for `entries` inside buffers of `count` values.
    public init(entries: [ParameterEntry], count: Int, config: AdamWConfig, decayMatricesOnly: Bool = false) {
        self.entries = entries; self.config = config; self.decayMatricesOnly = decayMatricesOnly
        m = FlatBuffer(count: count)
        v = FlatBuffer(count: count)
    }

    /// An optimizer for every parameter of a BLOOM layout.
    public convenience init(layout: BloomParameterLayout, config: AdamWConfig, decayMatricesOnly: Bool = false) {
        self.init(entries: layout.entries, count: layout.count, config: config, decayMatricesOnly: decayMatricesOnly)
    }

    /// An optimizer for `model`'s trainable parameters.
    public convenience init(model: any TrainableModel, config: AdamWConfig, decayMatricesOnly: Bool = false) {
        self.init(entries: model.parameterEntries, count: model.parameters.count, config: config, decayMatricesOnly: decayMatricesOnly)
    }

    /// One update of `parameters` from `gradients` with learning rate `lr` (overriding the config's), each gradient
    /// multiplied by `gradientScale` as it is read (see ``clipCoefficient(_:maxNorm:)``; `gradients` is not written).
    public func update(parameters: FlatBuffer, gradients: FlatBuffer, learningRate lr: Float, gradientScale: Float = 1) {
        step += 1
        var c = config
        c.learningRate = lr
        var noDecay = c
        noDecay.weightDecay = 0
        for e in entries {
            let k = (decayMatricesOnly && !e.isMatrix) ? noDecay : c
            AdamWKernel.step(parameters.pointer + e.offset, gradients.pointer + e.offset, m: m.pointer + e.offset,
                             v: v.pointer + e.offset, count: e.count, step: step, config: k, gradientScale: gradientScale)
        }
    }
}

/// Clips `gradients` to global L2 norm `maxNorm` (torch's clip_grad_norm_); returns the norm before clipping.
/// A non-positive `maxNorm` only measures.
@discardableResult
public func clipGradients(_ gradients: FlatBuffer, maxNorm: Float) -> Float {
    let (norm, scale) = clipCoefficient(gradients, maxNorm: maxNorm)
    if scale < 1 { ElementwiseKernel.scale(gradients.pointer, scale, gradients.pointer, count: gradients.count) }
    return norm
}

/// The gradients' global L2 norm and the factor torch's clip_grad_norm_ would scale them by (1 within `maxNorm`,
/// and always 1 for a non-positive `maxNorm`): pass the factor to ``AdamWOptimizer/update(parameters:gradients:learningRate:gradientScale:)``
/// to clip inside the update, saving a pass that rewrites every gradient. The result is bit-identical to
/// ``clipGradients(_:maxNorm:)`` followed by an unscaled update.
public func clipCoefficient(_ gradients: FlatBuffer, maxNorm: Float) -> (norm: Float, scale: Float) {
    let (norm, scale) = ReductionKernel.clipCoefficient([UnsafeBufferPointer(gradients.buffer)], maxNorm: maxNorm)
    return (norm, maxNorm <= 0 ? 1 : scale)
}

/// A learning-rate schedule with linear warm-up (transformers' get_{constant,linear,cosine}_schedule_with_warmup).
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case constant, linear, cosine }
    public var kind: Kind
    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(kind: Kind, peak: Double, warmupSteps: Int, totalSteps: Int) {
        self.kind = kind; self.peak = peak; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
    }

    /// The rate for update number `step` (0-based: the first update uses step 0, as LambdaLR before any sched.step()).
    ///
    /// Warm-up: step / max(1, warmup) for step < warmup. After it, with progress = (step - warmup) / max(1, total - warmup):
    /// constant 1; linear max(0, (total - step) / max(1, total - warmup)); cosine max(0, (1 + cos(pi * progress)) / 2).
    public func rate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step) / Double(max(1, warmupSteps)) }
        switch kind {
        case .constant: return peak
        case .linear: return peak * max(0, Double(totalSteps - step) / Double(max(1, totalSteps - warmupSteps)))
        case .cosine:
            let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
            return peak * max(0, 0.5 * (1 + cos(Double.pi * progress)))
        }
    }
}

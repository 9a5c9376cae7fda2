// The AdamW update with decoupled weight decay, step for step as torch.optim.AdamW (single-tensor path).
import Foundation

/// AdamW hyper-parameters (torch's defaults).
public struct AdamWConfig: Sendable, Equatable, Codable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 1e-2) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }
}

/// AdamW kernels: one update of parameters `p` from gradients `g` with moment buffers `m` and `v` (all `count` long).
///
/// For step t (1-based), as torch.optim.AdamW:
///   p <- p * (1 - lr * wd)                       (decoupled weight decay, applied to the weights, not the gradient)
///   m <- m + (1 - b1) (g - m)                    (= b1 m + (1 - b1) g)
///   v <- b2 v + (1 - b2) g^2
///   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
/// The bias corrections are computed in Double, as torch computes them in Python floats.
public enum AdamWKernel {
    @usableFromInline
    struct Coefficients {
        let decay: Float, oneMinusB1: Float, b2: Float, oneMinusB2: Float, stepSize: Float, invBC2Sqrt: Float, eps: Float
        init(_ c: AdamWConfig, step t: Int) {
            precondition(t >= 1, "AdamW step counts from 1")
            decay = 1 - c.learningRate * c.weightDecay
            oneMinusB1 = 1 - c.beta1
            b2 = c.beta2
            oneMinusB2 = 1 - c.beta2
            let bc1 = 1 - pow(Double(c.beta1), Double(t)), bc2 = 1 - pow(Double(c.beta2), Double(t))
            stepSize = Float(Double(c.learningRate) / bc1)
            invBC2Sqrt = Float(1 / bc2.squareRoot())
            eps = c.eps
        }
    }

    /// One update (reference). `gradientScale` multiplies each gradient as it is read (global-norm clipping fused
    /// into the update: the same product torch's `clip_grad_norm_` writes back before the step).
    public static func stepReference(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        count: Int, step t: Int, config: AdamWConfig, gradientScale: Float = 1
    ) {
        let k = Coefficients(config, step: t)
        for i in 0..<count {
            let gi = g[i] * gradientScale
            p[i] *= k.decay
            m[i] += k.oneMinusB1 * (gi - m[i])
            v[i] = k.b2 * v[i] + k.oneMinusB2 * gi * gi
            p[i] -= k.stepSize * m[i] / (v[i].squareRoot() * k.invBC2Sqrt + k.eps)
        }
    }

    /// One update (SIMD, parallel); `gradientScale` as in ``stepReference(_:_:m:v:count:step:config:gradientScale:)``.
    public static func step(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        count: Int, step t: Int, config: AdamWConfig, gradientScale: Float = 1
    ) {
        let k = Coefficients(config, step: t)
        ElementwiseKernel.map(count: count, { i in
            let gv = loadVector(g, i) * gradientScale
            var mv = loadVector(m, i)
            mv += (gv - mv) * k.oneMinusB1
            let vv = loadVector(v, i) * k.b2 + gv * gv * k.oneMinusB2
            let pv = loadVector(p, i) * k.decay - k.stepSize * mv / (vv.squareRoot() * k.invBC2Sqrt + k.eps)
            storeVector(mv, m, i); storeVector(vv, v, i); storeVector(pv, p, i)
        }, { i in
            let gi = g[i] * gradientScale
            p[i] *= k.decay
            m[i] += k.oneMinusB1 * (gi - m[i])
            v[i] = k.b2 * v[i] + k.oneMinusB2 * gi * gi
            p[i] -= k.stepSize * m[i] / (v[i].squareRoot() * k.invBC2Sqrt + k.eps)
        })
    }
}

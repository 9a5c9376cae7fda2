// GELU with BLOOM's tanh approximation, forward and backward (transformers' bloom_gelu_forward / bloom_gelu_back).
import _EcomTensorKernels
import Foundation

/// GELU kernels: y = x * 0.5 * (1 + tanh(0.79788456 * x * (1 + 0.044715 * x^2))), BLOOM's constants.
///
/// The SIMD path uses 0.5 * (1 + tanh(u)) = sigmoid(2u) = 1 / (1 + e^(-2u)), one exp per element. The derivative is
/// dy/dx = 0.5 * (1 + t) + 0.5 * x * (1 - t^2) * u'(x) with t = tanh(u), u' = 0.79788456 + 0.1070322243 * x^2
/// (0.1070322243 = 3 * 0.79788456 * 0.044715); with s = sigmoid(2u), 1 + t = 2s and 1 - t^2 = 4 s (1 - s).
public enum GELUKernel {
    @usableFromInline static let c0: Float = 0.797_884_56
    @usableFromInline static let c1: Float = 0.044_715
    @usableFromInline static let c2: Float = 0.107_032_224_3

    /// Forward (reference, libm tanh as in BLOOM's formula).
    public static func forwardReference(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = x[i]
            out[i] = v * 0.5 * (1 + tanh(c0 * v * (1 + c1 * v * v)))
        }
    }

    /// Backward (reference): dx = dOut * gelu'(x) (or += with `accumulate`).
    public static func backwardReference(_ dOut: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool = false) {
        for i in 0..<count {
            let v = x[i]
            let t = tanh(c0 * v * (1 + c1 * v * v))
            let ff = 0.5 * v * ((1 - t * t) * (c0 + c2 * v * v)) + 0.5 * (1 + t)
            dx[i] = accumulate ? dx[i] + ff * dOut[i] : ff * dOut[i]
        }
    }

    @inline(__always) @usableFromInline
    static func sigmoid2u(_ v: FloatVector) -> FloatVector {
        let u = v * c0 * (v * v * c1 + 1)
        return 1 / (vectorExp(-2 * u) + 1)
    }

    /// Forward (SIMD, parallel): the C kernel of ``NativeKernels/activePath``, else Swift SIMD. `out` may alias `x`.
    public static func forward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        if let kernel = NativeKernels.active?.pointee.gelu_forward {
            let stream = NativeKernels.streams(count)
            ComputeThreads.forEachChunk(count, minPerChunk: ElementwiseKernel.parallelGrain) { _, r in
                kernel(x + r.lowerBound, out + r.lowerBound, r.count, stream)
            }
            return
        }
        ElementwiseKernel.map(count: count, { i in
            let v = loadVector(x, i)
            storeVector(v * sigmoid2u(v), out, i)
        }, { i in
            let v = FloatVector(repeating: x[i])
            out[i] = (v * sigmoid2u(v))[0]
        })
    }

    /// Backward (SIMD, parallel; the active C kernel when there is one): dx = dOut * gelu'(x) (or += with `accumulate`). `dx` may alias `dOut`.
    public static func backward(_ dOut: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool = false) {
        if let kernel = NativeKernels.active?.pointee.gelu_backward {
            ComputeThreads.forEachChunk(count, minPerChunk: ElementwiseKernel.parallelGrain) { _, r in
                kernel(dOut + r.lowerBound, x + r.lowerBound, dx + r.lowerBound, r.count, accumulate ? 1 : 0)
            }
            return
        }
        @inline(__always) func grad(_ v: FloatVector) -> FloatVector {
            let s = sigmoid2u(v)
            return 2 * v * s * (1 - s) * (v * v * c2 + c0) + s
        }
        if accumulate {
            ElementwiseKernel.map(count: count, { i in
                storeVector(loadVector(dx, i) + grad(loadVector(x, i)) * loadVector(dOut, i), dx, i)
            }, { i in dx[i] += grad(FloatVector(repeating: x[i]))[0] * dOut[i] })
        } else {
            ElementwiseKernel.map(count: count, { i in
                storeVector(grad(loadVector(x, i)) * loadVector(dOut, i), dx, i)
            }, { i in dx[i] = grad(FloatVector(repeating: x[i]))[0] * dOut[i] })
        }
    }
}

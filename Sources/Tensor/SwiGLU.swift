// SwiGLU (Shazeer 2020), Llama's MLP activation: y = silu(gate) * up with silu(x) = x * sigmoid(x) = x / (1 + e^-x).
import Foundation
import _EcomTensorKernels

/// The gated SiLU product of Llama's MLP.
public enum SwiGLUKernel {
    /// Forward (reference, libm exp): out[i] = gate[i] / (1 + e^-gate[i]) * up[i]. `out` may alias either input.
    public static func forwardReference(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            out[i] = g / (1 + Foundation.exp(-g)) * up[i]
        }
    }

    /// Forward (SIMD, parallel over chunks: the C kernel of ``NativeKernels/activePath`` when there is one, else
    /// Swift SIMD). `out` may alias either input.
    public static func forward(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        if let kernel = NativeKernels.active?.pointee.swiglu_forward {
            ComputeThreads.forEachChunk(count, minPerChunk: 1 << 15) { _, r in
                kernel(gate + r.lowerBound, up + r.lowerBound, out + r.lowerBound, r.count)
            }
            return
        }
        ComputeThreads.forEachChunk(count, minPerChunk: 1 << 15) { _, range in
            let w = FloatVector.scalarCount
            var i = range.lowerBound
            while i + w <= range.upperBound {
                let g = loadVector(gate, i)
                storeVector(g / (vectorExp(-g) + 1) * loadVector(up, i), out, i)
                i += w
            }
            while i < range.upperBound {
                let g = gate[i]
                out[i] = g / (scalarExp(-g) + 1) * up[i]
                i += 1
            }
        }
    }

    /// Backward: with s = sigmoid(gate), dUp = dOut * gate * s and dGate = dOut * up * s * (1 + gate * (1 - s))
    /// (the derivative of silu). `dGate` and `dUp` may alias `dOut` only if they are not both written over it:
    /// `dGate` may alias `gate`, `dUp` may alias `up` (each element is read before it is written).
    public static func backward(_ dOut: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                                dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>, count: Int) {
        ComputeThreads.forEachChunk(count, minPerChunk: 1 << 15) { _, range in
            let w = FloatVector.scalarCount
            let one = FloatVector(repeating: 1)
            var i = range.lowerBound
            while i + w <= range.upperBound {
                let g = loadVector(gate, i), u = loadVector(up, i), dy = loadVector(dOut, i)
                let s = one / (vectorExp(-g) + 1)
                storeVector(dy * g * s, dUp, i)
                storeVector(dy * u * s * (one + g * (one - s)), dGate, i)
                i += w
            }
            while i < range.upperBound {
                let g = gate[i], u = up[i], dy = dOut[i]
                let s = 1 / (scalarExp(-g) + 1)
                dUp[i] = dy * g * s
                dGate[i] = dy * u * s * (1 + g * (1 - s))
                i += 1
            }
        }
    }
}

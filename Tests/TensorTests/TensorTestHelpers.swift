// Shared helpers for the tensor tests: the torch fixture, seeded random arrays, finite-difference gradients.
import EcomTensor
import EcomTestSupport
import Foundation

/// The awkward sizes every fast path is checked on.
let awkwardSizes = [1, 7, 33, 257]

/// Tests/Fixtures/tensor/reference.json (written by scripts/reference/gen_tensor.py from torch/numpy/transformers).
enum TorchFixture {
    nonisolated(unsafe) static let root: [String: Any] = {
        let url = TestPaths.fixture("tensor/reference.json")
        guard let data = try? Data(contentsOf: url),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            fatalError("cannot read fixture \(url.path); regenerate with scripts/reference/generate.sh tensor")
        }
        return obj
    }()
    static func section(_ name: String) -> [String: Any] { root[name] as! [String: Any] }
}

extension Dictionary where Key == String, Value == Any {
    func floats(_ key: String) -> [Float] { (self[key] as! [Any]).map { Float(($0 as! NSNumber).doubleValue) } }
    func fromBits(_ key: String) -> [Float] { (self[key] as! [Any]).map { Float(bitPattern: UInt32(($0 as! NSNumber).uint64Value)) } }
    func ints(_ key: String) -> [Int] { (self[key] as! [Any]).map { ($0 as! NSNumber).intValue } }
    func int(_ key: String) -> Int { (self[key] as! NSNumber).intValue }
    func float(_ key: String) -> Float { Float((self[key] as! NSNumber).doubleValue) }
}

/// `count` uniform values in [lo, hi) from a seeded generator.
func randomArray(_ count: Int, seed: UInt64, _ lo: Float = -1, _ hi: Float = 1) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in rng.uniform(lo, hi) }
}

/// Central finite differences of a scalar function, evaluated in Double: (f(x + h e_i) - f(x - h e_i)) / 2h.
func numericalGradient(_ x: [Float], h: Float = 1e-2, _ f: ([Float]) -> Double) -> [Double] {
    var x = x
    return (0..<x.count).map { i in
        let v = x[i]
        x[i] = v + h; let fp = f(x)
        x[i] = v - h; let fm = f(x)
        x[i] = v
        return (fp - fm) / (2 * Double(h))
    }
}

/// sum(w * y) in Double: a scalar loss whose gradient with respect to y is w.
func weightedSum(_ y: [Float], _ w: [Float]) -> Double {
    zip(y, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
}

/// Calls `body` with base pointers of arrays (empty arrays get a valid dummy pointer).
func withPointers<R>(_ a: [Float], _ body: (UnsafePointer<Float>) -> R) -> R {
    let a = a.isEmpty ? [0] : a
    return a.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// The implementations behind the `.simd` path that this CPU runs: Swift SIMD, the AVX2 C kernels, the AVX-512 ones
/// where the CPU has AVX-512, and the AVX-512 path's 16-lane code compiled for AVX2. A path the CPU cannot run is left
/// out rather than rerunning another under its name; NativeKernelsTests' path tests then show it as skipped, saying why.
let simdVariants = NativeKernels.runnablePaths

/// Swift SIMD and AVX2 only, for the kernels that have no wider version (the block-quantized ones).
let avx2Variants = NativeKernels.runnablePaths.filter { $0 == .swiftSIMD || $0 == .avx2 }

/// Runs `body` on one implementation of the `.simd` kernels.
func withSIMDVariant<R>(_ path: NativeKernels.Path, _ body: () throws -> R) rethrows -> R {
    try NativeKernels.$pathOverride.withValue(path, operation: body)
}

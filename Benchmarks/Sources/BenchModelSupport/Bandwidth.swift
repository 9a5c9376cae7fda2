// The machine's read bandwidth as decoding sees it, for the decode bound (weight bytes per token / GB/s) that the
// model benchmarks state.
import BenchSupport
import EcomModel

/// Read bandwidth in GB/s: the median time of an f32 GEMV over a 512 MiB weight matrix with the current compute
/// threads (each weight read once, as a decoding step reads them).
public func readBandwidthGBs() -> Double {
    let n = 128 << 20
    let weights = WeightMatrix(rows: n / 1024, columns: 1024, floats: [Float](repeating: 0.5, count: n))
    let x = [Float](repeating: 1, count: 1024)
    var y = [Float](repeating: 0, count: n / 1024)
    let t = medianSeconds(warmup: 1, iterations: 5) {
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { weights.gemv(xp.baseAddress!, into: $0.baseAddress!) } }
    }
    return Double(n * 4) / t / 1e9
}

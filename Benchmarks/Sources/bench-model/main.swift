// bench-model: BLOOM decode tokens/s at batch 1 with the KV cache, and prefill tokens/s, on random weights, for a
// small shape and the bloom-560m shape, with weights kept in Float32 and in 16 bits (f16, widened on the fly).
// Also measures the machine's memory bandwidth (a large sum) to state the decode bound: weight bytes per token / GB/s.
import BenchModelSupport
import BenchSupport
import EcomModel
import EcomTensor
import Foundation

startBenchmark()

let quick = env("BENCH_QUICK", "0") == "1"
ComputeThreads.count = Int(env("BENCH_THREADS", "2")) ?? 2
let decodeTokens = quick ? 8 : 32
let prefillTokens = 64


let bandwidth = readBandwidthGBs()
emit(bench: "model", case: "read bandwidth (f32 gemv)", value: bandwidth, unit: "GB/s", higherIsBetter: true)

let shapes: [(String, BloomConfiguration)] = [
    ("small", BloomConfiguration(vocabSize: 16384, hiddenSize: 512, layerCount: 8, headCount: 8)),
    ("bloom-560m", BloomConfiguration(vocabSize: 250_880, hiddenSize: 1024, layerCount: 24, headCount: 16)),
]
for (name, config) in shapes {
    for precision in [WeightPrecision.float32, .float16] {
        let model = BloomModel(configuration: config, weights: BloomWeights.random(config, seed: 11, precision: precision))
        let prompt = (0..<prefillTokens).map { Int32(($0 * 7919) % config.vocabSize) }
        let cache = BloomKVCache(configuration: config, batch: 1, capacity: prefillTokens + decodeTokens + 1)
        // Prefill: the 64-token prompt in one pass (last-position logits, as generate does).
        let prefill = medianSeconds(warmup: 1, iterations: quick ? 2 : 3) {
            cache.reset()
            _ = model.forward(ids: prompt, batch: 1, cache: cache, logits: .last)
        }
        // Decode: one token at a time after the prompt (greedy, the logits are computed and read every step).
        var token: Int32 = 5
        var samples: [Double] = []
        for _ in 0..<decodeTokens {
            let t0 = now()
            let logits = model.forward(ids: [token], batch: 1, cache: cache, logits: .last)
            token = Int32(logits.storage.indices.max { logits.storage[$0] < logits.storage[$1] }!)
            samples.append(now() - t0)
        }
        let decode = median(samples)
        let bytes = Double(model.weights.bytesPerToken)
        let suffix = precision == .float32 ? "" : " f16 weights"
        let extra: [String: Any] = ["threads": ComputeThreads.count, "weight_MB_per_token": bytes / 1e6,
                                    "bandwidth_bound_tokens_per_s": bandwidth * 1e9 / bytes]
        emit(bench: "model", case: "\(name) decode\(suffix)", value: 1 / decode, unit: "tokens/s", higherIsBetter: true, extra: extra)
        emit(bench: "model", case: "\(name) prefill 64\(suffix)", value: Double(prefillTokens) / prefill, unit: "tokens/s", higherIsBetter: true,
             extra: ["threads": ComputeThreads.count])
    }
}

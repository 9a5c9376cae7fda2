// bench-llama: SmolLM2-135M-Instruct from its GGUF (Q4_1 matrices, Q8_0 embeddings kept as blocks): decode tokens/s at
// batch 1 (128 new tokens after a 64-token prompt, KV cache) and prefill tokens/s of a 512-token prompt, plus the load
// time of the GGUF and the decode bound (weight bytes per token over the measured read bandwidth).
// ECOM_SMOLLM2_GGUF names the file (scripts/bench/model.sh passes what scripts/fetch-model.sh prints).
import BenchModelSupport
import BenchSupport
import EcomModel
import EcomTensor
import Foundation

startBenchmark()

let quick = env("BENCH_QUICK", "0") == "1"
ComputeThreads.count = Int(env("BENCH_THREADS", "2")) ?? 2
let path = env("ECOM_SMOLLM2_GGUF", "")
guard !path.isEmpty, FileManager.default.fileExists(atPath: path) else {
    FileHandle.standardError.write(Data("bench-llama: set ECOM_SMOLLM2_GGUF to the SmolLM2 GGUF (scripts/fetch-model.sh prints it)\n".utf8))
    exit(2)
}


let load = medianSeconds(warmup: 1, iterations: quick ? 2 : 5) { _ = try! ModelLoader.load(URL(fileURLWithPath: path)) }
let common: [String: Any] = ["threads": ComputeThreads.count]
emit(bench: "model", case: "smollm2 gguf load", value: load, unit: "s", higherIsBetter: false, extra: common)

// For profiling: BENCH_DECODE_ONLY=1 runs the decode loop alone, BENCH_PREFILL_ONLY=1 the 512-token prefill alone (ten
// timed passes; no decode figure).
let decodeOnly = env("BENCH_DECODE_ONLY", "0") == "1", prefillOnly = env("BENCH_PREFILL_ONLY", "0") == "1"

for (label, precision) in [("", WeightPrecision.native), (" f32 weights", .float32)] {
    let model = try ModelLoader.load(URL(fileURLWithPath: path), precision: precision)
    if !prefillOnly {
        let decodeTokens = quick ? 16 : 128
        let prompt = (0..<64).map { Int32(($0 * 7919) % model.vocabularySize) }
        let cache = model.makeCache(batch: 1, capacity: 64 + decodeTokens + 1)
        _ = model.forward(ids: prompt, batch: 1, cache: cache, logits: .last)
        var token: Int32 = 5
        var samples: [Double] = []
        for _ in 0..<decodeTokens {
            let t0 = now()
            let logits = model.forward(ids: [token], batch: 1, cache: cache, logits: .last)
            token = Int32(logits.storage.indices.max { logits.storage[$0] < logits.storage[$1] }!)
            samples.append(now() - t0)
        }
        let decode = 1 / median(samples)
        let bandwidth = readBandwidthGBs()
        let bytes = Double(model.bytesPerToken)
        var extra = common
        extra["weight_MB_per_token"] = bytes / 1e6
        extra["read_bandwidth_GBs"] = bandwidth
        extra["bandwidth_bound_tokens_per_s"] = bandwidth * 1e9 / bytes
        for suffix in ["", " vs llama.cpp"] {
            emit(bench: "model", case: "smollm2 decode\(label)\(suffix)", value: decode, unit: "tokens/s", higherIsBetter: true, extra: extra)
        }
        if decodeOnly { exit(0) }
    }
    let long = (0..<512).map { Int32(($0 * 7919 + 13) % model.vocabularySize) }
    let prefill = medianSeconds(warmup: 1, iterations: prefillOnly ? 10 : quick ? 1 : 3) {
        _ = model.forward(ids: long, batch: 1, logits: .last)
    }
    for suffix in ["", " vs llama.cpp"] {
        emit(bench: "model", case: "smollm2 prefill 512\(label)\(suffix)", value: 512 / prefill, unit: "tokens/s", higherIsBetter: true, extra: common)
    }
    if prefillOnly { exit(0) }
}

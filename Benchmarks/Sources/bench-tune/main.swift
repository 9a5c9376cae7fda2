// bench-tune: fine-tuning SmolLM2-135M-Instruct from its GGUF file, tokens/s of a whole step (forward, backward,
// clipping factor, AdamW) at batch 4 x 256 and peak memory (max RSS, loading included). Mode `lora` (the default):
// rank-16 adapters (alpha 32) on all seven projections over the frozen base kept in its GGUF blocks (QLoRA-style);
// mode `full`: every weight in Float32. Labels as the reference's: the first quarter of each row unlearned. Also
// states the compute floor: the step's matrix FLOPs at this machine's measured sgemm rate (same threads), and our
// fraction of it. GGUF path from ECOM_SMOLLM2_GGUF.
import BenchSupport
import EcomModel
import EcomTensor
import Foundation

startBenchmark()

let quick = env("BENCH_QUICK", "0") == "1"
ComputeThreads.count = Int(env("BENCH_THREADS", "2")) ?? 2
let mode = CommandLine.arguments.dropFirst().first ?? "lora"
let gguf = URL(fileURLWithPath: env("ECOM_SMOLLM2_GGUF", NSString(string: "~/.cache/ecom/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf").expandingTildeInPath))
let (B, T) = (4, 256), rank = Int(env("BENCH_RANK", "16")) ?? 16
let lora = mode == "lora" ? LoRAConfiguration(rank: rank, alpha: 32, targets: LoRAConfiguration.llamaTargets) : nil
// BENCH_BASE (native, f32, bf16, f16) changes how the LoRA base is kept; BENCH_ATTENTION_BLOCK the causal block size;
// BENCH_PANEL_VALUES the values of the frozen base widened to Float32 at a time (LlamaTrainingModel.panelValues);
// BENCH_PRECISION=bf16 multiplies in bf16 (as `--precision bf16`; where the CPU has AVX512_BF16 and oneDNN loads).
let precision = try MatmulPrecision.resolve(env("BENCH_PRECISION", "f32"))
MatmulPrecision.processDefault = precision
let basePrecision = WeightPrecision(name: env("BENCH_BASE", "native")) ?? .native
let model = try LlamaTrainingModel.load(model: gguf, precision: lora == nil ? .float32 : basePrecision, lora: lora, seed: 11)
if let block = Int(env("BENCH_ATTENTION_BLOCK", "")) { model.attentionBlock = block }
if let values = Int(env("BENCH_PANEL_VALUES", "")) { model.panelValues = values }  // frozen base widened per product
let c = model.configuration, V = c.vocabSize
// B = 0 would make A's gradients vanish: give the adapters a nonzero start, as after a few steps.
for e in model.parameterEntries where e.name.contains("lora_B") { for i in 0..<e.count { model.parameters.pointer[e.offset + i] = Float(i % 13) * 1e-3 } }
var state: UInt64 = 5
let ids = (0..<(B * T)).map { _ -> Int32 in state = state &* 6364136223846793005 &+ 1442695040888963407; return Int32((state >> 33) % UInt64(V)) }
var labels = ids
for b in 0..<B { for t in 0..<(T / 4) { labels[b * T + t] = -100 } }
let batch = TrainingBatch(ids: ids, labels: labels, batch: B, length: T)
let optimizer = AdamWOptimizer(model: model, config: AdamWConfig(learningRate: 1e-4, weightDecay: 0.01))
let profile = TrainingProfile()
final class Clock: @unchecked Sendable { var optimizer = 0.0; var losses: [Double] = [] }
let clock = Clock()
@MainActor func step() {
    model.gradients.zero()
    let (sum, count) = model.forwardBackward(batch)
    clock.losses.append(sum / Double(max(1, count)))
    let t0 = now()
    let clip = clipCoefficient(model.gradients, maxNorm: 1)
    optimizer.update(parameters: model.parameters, gradients: model.gradients, learningRate: 1e-4, gradientScale: clip.scale)
    clock.optimizer += now() - t0
}
step()  // warm-up (allocates the activations)
model.profile = profile
clock.optimizer = 0
let iterations = quick ? 2 : 3
let t = medianSeconds(warmup: 0, iterations: iterations) { step() }
var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
let maxRSS = Double(usage.ru_maxrss) / 1024  // KiB -> MiB

// The floor. Per token, the projections hold P = L (C·Q + 2·C·KV + Q·C + 3·C·I) weights; forward 2P, input
// gradients 2P, weight gradients 2P (full only); the head 2·V·C per learned row forward, 2·V·C backward (+2·V·C for
// its weight gradient in full training); attention 4·T/2·Q per token forward and 8·T/2·Q backward (causal half).
let C = c.hiddenSize, Q = c.headCount * c.headDimension, KV = c.keyValueHeadCount * c.headDimension, I = c.intermediateSize
let P = Double(c.layerCount * (C * Q + 2 * C * KV + Q * C + 3 * C * I))
let learned = Double(batch.learnedTokens) / Double(B * T)
let attention = Double(c.layerCount) * Double(T) / 2 * Double(Q) * 12
let loraFLOPs = lora == nil ? 0 : Double(c.layerCount) * Double(rank) * Double(2 * (C + Q) + 2 * (C + KV) * 2 + 2 * (Q + C) + 2 * (C + I) * 2 + 2 * (I + C)) * 3
let perToken = (lora == nil ? 6 * P : 4 * P) + learned * Double(V * C) * (lora == nil ? 6 : 4) + attention + loraFLOPs
let peak: Double = {
    let m = 1024, k = 576, n = 1536
    let a = [Float](repeating: 0.01, count: m * k), w = [Float](repeating: 0.02, count: n * k)
    var y = [Float](repeating: 0, count: m * n)
    let s = medianSeconds(warmup: 2, iterations: 7) {
        a.withUnsafeBufferPointer { a in w.withUnsafeBufferPointer { w in y.withUnsafeMutableBufferPointer { y in
            MatmulKernel.gemm(MatrixView(base: a.baseAddress!, rows: m, columns: k, stride: k),
                              MatrixView(base: w.baseAddress!, rows: n, columns: k, stride: k), transposeB: true,
                              MutableMatrixView(base: y.baseAddress!, rows: m, columns: n, stride: n))
        } } }
    }
    return 2 * Double(m * k * n) / s
}()
let achieved = perToken * Double(B * T) / t
let per = { (p: TrainingProfile.Part) in (profile.seconds[p] ?? 0) / Double(iterations) }
let extra: [String: Any] = [
    "matmul_s": per(.matmul), "attention_s": per(.attention), "loss_s": per(.loss),
    "elementwise_s": per(.total) - per(.matmul) - per(.attention) - per(.loss),
    "optimizer_s": clock.optimizer / Double(iterations), "step_s": t, "trainable_parameters": model.parameters.count,
    "base_storage": model.base.layers[0].query.storageName, "threads": ComputeThreads.count,
    "gflop_per_token": perToken / 1e9, "sgemm_peak_gflops": peak / 1e9, "achieved_gflops": achieved / 1e9,
    "fraction_of_floor": achieved / peak, "precision": precision.rawValue, "loss_first": clock.losses.first ?? 0, "loss_last": clock.losses.last ?? 0,
]
let name = (lora == nil ? "smollm2 full fine-tuning" : "smollm2 lora r16") + (precision == .bf16 ? " bf16" : "")
emit(bench: "tune", case: "\(name) tokens/s (4x256)", value: Double(B * T) / t, unit: "tokens/s", higherIsBetter: true, extra: extra)
emit(bench: "tune", case: "\(name) peak memory", value: maxRSS, unit: "MiB", higherIsBetter: false)

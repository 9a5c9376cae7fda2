// bench-train: BLOOM training tokens/s (forward + backward + clipping + AdamW) at batch 4 x 256 tokens on random
// weights, for the tiny (vocab 8192) or small (vocab 16384) shape given as the first argument, with peak memory
// (max RSS) and where the time goes (matmuls, attention, loss, element-wise, optimizer). A second argument
// `instruction` runs a batch shaped like packed instruction data instead (padding, response-only loss).
import BenchSupport
import EcomModel
import EcomTensor
import Foundation

startBenchmark()

let quick = env("BENCH_QUICK", "0") == "1"
ComputeThreads.count = Int(env("BENCH_THREADS", "2")) ?? 2
// BENCH_PRECISION=bf16: matrix products in bf16 with Float32 accumulation (cases get a " bf16" suffix).
let precision = MatmulPrecision(rawValue: env("BENCH_PRECISION", "f32")) ?? .f32
if precision == .bf16 && BF16Matmul.native == nil {
    FileHandle.standardError.write(Data("bench-train: no bf16 compute here: \(BF16Matmul.unavailableReason)\n".utf8))
    exit(0)
}
MatmulPrecision.processDefault = precision
let suffix = precision == .bf16 ? " bf16" : ""
let shape = CommandLine.arguments.dropFirst().first ?? "tiny"
let (B, T) = (4, 256)
let config: BloomConfiguration
switch shape {
case "small": config = BloomConfiguration(vocabSize: 16384, hiddenSize: 512, layerCount: 8, headCount: 8)
default: config = BloomConfiguration(vocabSize: 8192, hiddenSize: 256, layerCount: 4, headCount: 4)
}
let model = BloomTrainingModel(configuration: config, weights: BloomWeights.random(config, seed: 11))
let optimizer = AdamWOptimizer(layout: model.layout, config: AdamWConfig(learningRate: 1e-4, weightDecay: 0.01))
let ids = (0..<(B * T)).map { Int32(($0 * 7919 + 13) % config.vocabSize) }
// The target's case: every position learned (HF labels = ids). The second case is shaped like the main job's packed
// instruction data (runs/default/pack.json: 27% padding, 15% of positions learned): each row one document of
// `documentLength` tokens whose last `responseLength` are the response, then padding. The reference runs the same
// batch as HF does it (attention_mask 0 on the padding, labels -100 outside the response).
let documentLength = 187, responseLength = 39
let instruction: TrainingBatch = {
    let docs = (0..<B).flatMap { _ in [UInt16](repeating: 1, count: documentLength) + [UInt16](repeating: 0, count: T - documentLength) }
    var labels = [Int32](repeating: -100, count: B * T)
    for b in 0..<B { for t in (documentLength - responseLength)..<documentLength { labels[b * T + t] = ids[b * T + t] } }
    var batch = TrainingBatch(ids: ids, labels: labels, batch: B, length: T)
    batch.documents = docs
    return batch
}()
let variant = CommandLine.arguments.dropFirst(2).first ?? "full"
let batch = variant == "instruction" ? instruction : TrainingBatch(ids: ids, labels: ids, batch: B, length: T)
let profile = TrainingProfile()
final class Clock: @unchecked Sendable { var optimizer = 0.0 }
let clock = Clock()
@MainActor func step() {
    model.gradients.zero()
    model.forwardBackward(batch)
    let t0 = now()
    let clip = clipCoefficient(model.gradients, maxNorm: 1)  // as ecom-train: clipping applied inside the update
    optimizer.update(parameters: model.parameters, gradients: model.gradients, learningRate: 1e-4, gradientScale: clip.scale)
    clock.optimizer += now() - t0
}
step()  // warm-up (allocates the activations)
model.profile = profile
clock.optimizer = 0
let iterations = quick ? 2 : 5
let t = medianSeconds(warmup: 0, iterations: iterations) { step() }
var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
let maxRSS = Double(usage.ru_maxrss) / 1024  // KiB -> MiB
let per = { (p: TrainingProfile.Part) in (profile.seconds[p] ?? 0) / Double(iterations) }
let total = per(.total) + clock.optimizer / Double(iterations)
let breakdown: [String: Any] = [
    "matmul_s": per(.matmul), "attention_s": per(.attention), "loss_s": per(.loss),
    "elementwise_s": per(.total) - per(.matmul) - per(.attention) - per(.loss),
    "optimizer_s": clock.optimizer / Double(iterations), "step_s": total,
    "parameters": model.layout.count, "threads": ComputeThreads.count,
]
if variant == "instruction" {
    emit(bench: "train", case: "\(shape) instruction batch tokens/s (4x256, 27% padding, 15% learned)\(suffix)", value: Double(B * T) / t,
         unit: "tokens/s", higherIsBetter: true, extra: breakdown)
} else {
    emit(bench: "train", case: "\(shape) train tokens/s (4x256)\(suffix)", value: Double(B * T) / t, unit: "tokens/s", higherIsBetter: true, extra: breakdown)
    emit(bench: "train", case: "\(shape) peak memory\(suffix)", value: maxRSS, unit: "MiB", higherIsBetter: false)
}

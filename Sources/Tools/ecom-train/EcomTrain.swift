// ecom-train: train BLOOM from scratch, or tune a pretrained Llama/BLOOM model in full or with LoRA, on packed shards
// (ecom-data pack) on the CPU. Logic lives in EcomTrainer's Trainer.
import ArgumentParser
import Dispatch
import EcomModel
import EcomTrainer
import EcomTensor
import Foundation

@main
struct EcomTrain: ParsableCommand {
    /// OpenBLAS's kernels are chosen for this CPU (re-executing once with OPENBLAS_CORETYPE when it fell back to generic
    /// ones), then the arguments are parsed and the command run.
    static func main() {
        BLASCore.reexecWithBetterCoreIfNeeded()
        main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "ecom-train",
        abstract: "Tune a pretrained model (full or LoRA) or train BLOOM from scratch on packed token shards.",
        discussion: """
            --out DIR receives config.json + model.safetensors (full training) or PEFT's adapter_config.json + \
            adapter_model.safetensors (--lora-rank), with tokenizer.json, trainer_state.bin, metrics.jsonl and \
            loss.svg. Ctrl-C (or --time-budget) saves a checkpoint and exits 0; --resume continues exactly. \
            An interval of 0 turns that step off.

            Example (LoRA on SmolLM2 from its GGUF): ecom-train --data packed --init SmolLM2-135M-Instruct.Q4_1.gguf \
            --tokenizer base/tokenizer.json --lora-rank 16 --lr 2e-4 --out runs/lora
            """)

    @Option(help: "Packed data directory (output of `ecom-data pack`).") var data: String
    @Option(help: "Output directory (HF model directory + trainer state).") var out: String
    @Option(help: "Model size from scratch: tiny (hidden 256, 4 layers, 4 heads) or small (512, 8, 8).") var preset: String?
    @Option(name: .customLong("init"), help: "Start from a pretrained model: an HF directory (Llama or BLOOM) or a Llama GGUF file.") var initFrom: String?
    @Option(name: .customLong("lora-rank"), help: "Train LoRA adapters of this rank on a frozen base (PEFT layout) instead of every weight.") var loraRank: Int?
    @Option(name: .customLong("lora-alpha"), help: "LoRA alpha; the update is scaled by alpha / rank (default: 2 x rank).") var loraAlpha: Double?
    @Option(name: .customLong("lora-targets"), help: ArgumentHelp("Comma-separated modules to adapt (default: all: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj for Llama; query_key_value,dense,dense_h_to_4h,dense_4h_to_h for BLOOM).", valueName: "list")) var loraTargets: String?
    @Option(name: .customLong("base-weights"), help: ArgumentHelp("How LoRA keeps the frozen Llama base: native (a GGUF's blocks, QLoRA-style), f32, f16 or bf16.", valueName: "native|f32|f16|bf16")) var baseWeights = "native"
    @Option(name: .customLong("lora-init"), help: ArgumentHelp("Train LoRA starting from this saved adapter (PEFT layout: adapter_config.json + adapter_model.safetensors) on --init; rank, alpha and targets come from it.", valueName: "DIR"))
    var loraInit: String?
    @Option(help: "tokenizer.json (default: the packed data's, found beside it; its hash must match the manifest).") var tokenizer: String?
    @Option(help: "Optimizer steps.") var steps: Int?
    @Option(help: "Epochs over the training split (used when --steps is absent; default 1).") var epochs: Double?
    @Option(help: "Sequences per micro-batch.") var batch = 8
    @Option(help: "Micro-batches accumulated per step.") var accum = 1
    @Option(help: "Sequence length (must equal the packed data's).") var seqLen: Int?
    @Option(help: "Peak learning rate.") var lr = 2e-5
    @Option(help: "constant, linear or cosine (each with warm-up).") var schedule = "cosine"
    @Option(help: "Fraction of steps for linear warm-up.") var warmupRatio = 0.03
    @Option(help: "AdamW decoupled weight decay.") var weightDecay: Float = 0
    @Flag(help: "Apply weight decay to biases and layer norms too.") var decayAll = false
    @Option(help: "Clip gradients to this global norm (0: off).") var clip: Float = 1
    @Option(help: "Validate every N steps (0: off).") var evalEvery = 0
    @Option(help: "Validation batches per evaluation (0: the whole split).") var evalBatches = 20
    @Option(help: "Checkpoint every N steps (0: only at the end).") var saveEvery = 0
    @Option(help: "Print a progress line every N steps.") var logEvery = 1
    @Flag(help: "Continue from the trainer state in --out.") var resume = false
    @Flag(name: .customLong("skip-nonfinite"), help: "Skip a step whose loss or gradients are NaN or infinite (the weights are not updated) instead of stopping with an error.") var skipNonFinite = false
    @Option(help: "Compute threads.") var threads: Int?
    @Option(help: ArgumentHelp(MatmulPrecision.optionHelp)) var precision = "f32"
    @Option(help: "Stop cleanly (checkpoint, exit 0) after this many seconds.") var timeBudget: Double?
    @Option(help: "Data-order and initialisation seed.") var seed: UInt64 = 42

    func validate() throws {
        if preset != nil && initFrom != nil { throw ValidationError("give --preset or --init, not both") }
        if let p = preset, TrainingPreset(rawValue: p) == nil { throw ValidationError("--preset must be tiny or small, got '\(p)'") }
        if LearningRateSchedule.Kind(rawValue: schedule) == nil { throw ValidationError("--schedule must be constant, linear or cosine") }
        if let s = steps, s <= 0 { throw ValidationError("--steps must be positive") }
        if batch <= 0 || accum <= 0 { throw ValidationError("--batch and --accum must be positive") }
        if let r = loraRank, r <= 0 { throw ValidationError("--lora-rank must be positive") }
        if loraRank == nil && (loraAlpha != nil || loraTargets != nil) { throw ValidationError("--lora-alpha and --lora-targets need --lora-rank") }
        if loraRank != nil && initFrom == nil && !resume { throw ValidationError("--lora-rank needs --init (a pretrained model to adapt)") }
        if loraInit != nil && (initFrom == nil || loraRank != nil) { throw ValidationError("--lora-init needs --init (the base) and takes the place of --lora-rank") }
        if WeightPrecision(name: baseWeights) == nil { throw ValidationError("--base-weights must be native, f32, f16 or bf16, got '\(baseWeights)'") }
        if !(0...1).contains(warmupRatio) { throw ValidationError("--warmup-ratio must be in [0, 1]") }
    }

    func run() throws {
        try MatmulPrecision.apply(option: precision)
        var o = TrainerOptions(data: URL(fileURLWithPath: data), out: URL(fileURLWithPath: out))
        o.preset = preset.flatMap(TrainingPreset.init(rawValue:))
        o.initFrom = initFrom.map { URL(fileURLWithPath: $0) }
        if let r = loraRank {
            let targets = loraTargets.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? []
            o.lora = LoRAConfiguration(rank: r, alpha: loraAlpha ?? Double(2 * r), targets: targets)
        }
        o.loraInit = loraInit.map { URL(fileURLWithPath: $0) }
        o.basePrecision = WeightPrecision(name: baseWeights)!
        o.tokenizer = tokenizer.map { URL(fileURLWithPath: $0) }
        o.steps = steps; o.epochs = epochs; o.batch = batch; o.accumulation = accum; o.sequenceLength = seqLen
        o.learningRate = lr; o.schedule = LearningRateSchedule.Kind(rawValue: schedule)!; o.warmupRatio = warmupRatio
        o.weightDecay = weightDecay; o.decayMatricesOnly = !decayAll; o.clip = clip
        o.evalEvery = evalEvery; o.evalBatches = evalBatches; o.saveEvery = saveEvery; o.logEvery = logEvery
        o.resume = resume; o.skipNonFinite = skipNonFinite; o.threads = threads; o.timeBudget = timeBudget; o.seed = seed
        let stop = StopFlag()
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { sig in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                FileHandle.standardError.write(Data("ecom-train: stopping after this step and saving a checkpoint\n".utf8))
                stop.request()
            }
            s.resume()
            return s
        }
        defer { sources.forEach { $0.cancel() } }
        let trainer = try Trainer(options: o)
        _ = try trainer.run(stop: stop)
    }
}

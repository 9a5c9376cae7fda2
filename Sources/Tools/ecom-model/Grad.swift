// `ecom-model grad`: all {"ids", "labels"} lines form one batch -> {"loss", "grads", "after_step_head"?}, for every
// weight of a model or for a LoRA adapter's matrices.
import ArgumentParser
import EcomModel
import EcomToolSupport
import Foundation

struct Grad: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss and every parameter's gradient (norm, first 8 values) for one batch of JSON Lines {\"ids\": [int], \"labels\": [int]}.",
        discussion: """
            Labels are aligned with ids as HF expects them (-100 ignored) and shifted inside. With --adamw, also the first \
            8 values of every parameter after one AdamW step. With --lora, the parameters are the adapter's, under PEFT's \
            names (base_model.model.….lora_A.weight), and the base gets no gradient.
            """)
    @Option(help: "Model: an HF directory (Llama or BLOOM) or a Llama .gguf file.") var model: String
    @Option(help: "A PEFT LoRA adapter directory (adapter_config.json, adapter_model.safetensors) on the model.") var lora: String?
    @Option(help: "One AdamW step: LR,BETA1,BETA2,EPS,WD (e.g. 1e-2,0.9,0.999,1e-8,0.1).") var adamw: String?
    @OptionGroup var stream: StreamOptions

    func run() throws {
        let config = try adamw.map { text in
            guard let c = GradientReport.parseAdamW(text) else { throw ValidationError("--adamw needs LR,BETA1,BETA2,EPS,WD (five numbers), got '\(text)'") }
            return c
        }
        let m = try TrainingModelLoader.load(URL(fileURLWithPath: model), adapterDirectory: lora.map { URL(fileURLWithPath: $0) },
                                             precision: .float32)
        let (data, source) = try stream.read()
        let batch = try GradientReport.parseBatch(data, source: source, vocabSize: m.vocabularySize)
        let object = GradientReport.run(m, batch: batch, adamw: config)
        var out = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        out.append(0x0A)
        if let output = stream.output { try AtomicFile.write(out, to: URL(fileURLWithPath: output)) } else { FileHandle.standardOutput.write(out) }
    }
}

// `ecom-model merge-lora`: a base model with a PEFT LoRA adapter merged in, written as an HF directory.
import ArgumentParser
import EcomLoader
import EcomModel
import Foundation

struct MergeLoRA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-lora",
        abstract: "Merge a PEFT LoRA adapter into its base model and write an HF directory (PEFT's merge_and_unload).",
        discussion: """
        Each adapted weight becomes W + s·B·A (s = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora), computed in \
        Float32. OUT receives config.json and model.safetensors (each written atomically), generation_config.json for \
        Llama, and the tokenizer: tokenizer.json, tokenizer_config.json, special_tokens_map.json and chat_template.jinja \
        copied from a base directory when present, or rebuilt from a GGUF's vocabulary as import-gguf does. The result \
        loads with --model OUT in every tool, and with transformers' from_pretrained(OUT).
        """)
    @Option(help: ArgumentHelp("Base model: an HF directory (config.json + safetensors, BLOOM or Llama) or a Llama .gguf file.", valueName: "dir|file.gguf"))
    var base: String
    @Option(help: ArgumentHelp("PEFT adapter directory trained on that base: adapter_config.json + adapter_model.safetensors.", valueName: "dir"))
    var lora: String
    @Option(help: ArgumentHelp("Output directory (created; files in it replaced). Must not be the base directory.", valueName: "dir"))
    var out: String
    @Option(help: "Tensor dtype in model.safetensors: f32, bf16 or f16 (BLOOM: f32 only).") var dtype = "f32"

    func run() throws {
        guard let d = CheckpointDType(name: dtype) else { throw ValidationError("--dtype must be f32, bf16 or f16, got '\(dtype)'") }
        let started = Date()
        let s = try LoRAMerge.run(base: URL(fileURLWithPath: base), lora: URL(fileURLWithPath: lora), to: URL(fileURLWithPath: out), dtype: d)
        FileHandle.standardError.write(Data(String(format: "merge-lora: %@ + %@ -> %@ (%@, %d parameters, %d modules adapted, %@) in %.1f s\n",
            base, lora, out, s.architecture, s.parameters, s.mergedModules, d.rawValue, Date().timeIntervalSince(started)).utf8))
        print(s.files.map { URL(fileURLWithPath: out).appendingPathComponent($0).path }.joined(separator: "\n"))
    }
}

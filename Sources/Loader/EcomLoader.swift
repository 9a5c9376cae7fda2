// EcomLoader: a model with its tokenizer and chat template, from an HF directory or a GGUF file (optionally with a
// LoRA adapter merged), the GGUF → HF directory import and the LoRA merge. The one library on both EcomModel and
// EcomTokenizer, so that neither depends on the other.
//
// - ModelBundle.swift: loading a model, its tokenizer (tokenizer.json, or rebuilt from GGUF metadata) and its chat template.
// - GGUFImport.swift: `ecom-model import-gguf`: config.json, model.safetensors, tokenizer files, generation config.
// - LoRAMerge.swift: `ecom-model merge-lora`: a base model with a PEFT adapter merged, as an HF directory.

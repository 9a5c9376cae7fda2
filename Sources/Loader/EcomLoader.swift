// EcomLoader: a model with its tokenizer and chat template, from an HF directory or a GGUF file, and the GGUF → HF
// directory import. The one library on both EcomModel and EcomTokenizer, so that neither depends on the other.
//
// - ModelBundle.swift: loading a model, its tokenizer (tokenizer.json, or rebuilt from GGUF metadata) and its chat template.
// - GGUFImport.swift: `ecom-model import-gguf`: config.json, model.safetensors, tokenizer files, generation config.

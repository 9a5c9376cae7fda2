// EcomModel: the BLOOM model: checkpoints (safetensors, HF config.json), forward with KV cache, generation and
// training. This file holds the module's overview; each part lives in a file of its own.
//
// - BloomConfiguration.swift: HF config.json, with the alternative key names HF accepts.
// - SafeTensors.swift, SafeTensorsWriter.swift, Checkpoint.swift: validated, memory-mapped safetensors reading,
//   atomic writing, single-file and sharded checkpoints.

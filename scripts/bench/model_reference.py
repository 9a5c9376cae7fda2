"""PyTorch transformers' BloomForCausalLM on the CPU (2 threads), random weights, same shapes as bench-model:
decode tokens/s at batch 1 with the KV cache after a 64-token prompt, and prefill tokens/s of that prompt.
Both the f32 model and the same cases with " f16 weights" (PyTorch computes in f32: the figure is its f32 speed,
which is what a CPU user of transformers gets) are printed so that combine.py can join each of ours.
"""
import json
import statistics
import sys
import time

import torch
from transformers import BloomConfig, BloomForCausalLM

torch.set_num_threads(2)
torch.manual_seed(11)
quick = len(sys.argv) > 1 and sys.argv[1] == "1"
DECODE = 8 if quick else 32
PREFILL = 64

SHAPES = [("small", 16384, 512, 8, 8), ("bloom-560m", 250880, 1024, 24, 16)]
for name, vocab, hidden, layers, heads in SHAPES:
    config = BloomConfig(vocab_size=vocab, hidden_size=hidden, n_layer=layers, n_head=heads)
    model = BloomForCausalLM(config).eval()
    prompt = torch.tensor([[(i * 7919) % vocab for i in range(PREFILL)]])
    with torch.inference_mode():
        prefill = []
        for _ in range(1 + (2 if quick else 3)):
            t0 = time.perf_counter()
            out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
            prefill.append(time.perf_counter() - t0)
        prefill = statistics.median(prefill[1:])
        past = out.past_key_values
        token = torch.tensor([[5]])
        samples = []
        for _ in range(DECODE):
            t0 = time.perf_counter()
            out = model(input_ids=token, past_key_values=past, use_cache=True)
            past = out.past_key_values
            token = out.logits[:, -1].argmax(-1, keepdim=True)
            samples.append(time.perf_counter() - t0)
    decode = statistics.median(samples)
    kind = f"transformers BloomForCausalLM f32, torch {torch.__version__}, 2 threads"
    for suffix in ("", " f16 weights"):
        print(json.dumps({"bench": "model", "case": f"{name} decode{suffix}", "value": 1 / decode, "unit": "tokens/s",
                          "higher_is_better": True, "reference_kind": kind}), flush=True)
        print(json.dumps({"bench": "model", "case": f"{name} prefill 64{suffix}", "value": PREFILL / prefill,
                          "unit": "tokens/s", "higher_is_better": True, "reference_kind": kind}), flush=True)
    del model

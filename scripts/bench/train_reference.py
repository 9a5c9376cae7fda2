"""PyTorch eager BloomForCausalLM training on the CPU (2 threads): forward + backward + clip_grad_norm_ + AdamW at
batch 4 x 256 tokens on random weights, the same shapes as bench-train (argument: tiny or small), with the process's
peak memory (max RSS). VARIANT `instruction` runs bench-train's instruction-shaped batch instead: each row one
document of 187 tokens (attention_mask 0 on the 69 padding positions after it), labels -100 except its last 39 tokens.
PRECISION `bf16` runs the forward under torch.autocast("cpu", dtype=torch.bfloat16) (PyTorch's mixed precision: bf16
matrix products, Float32 weights and optimizer), the cases named with a " bf16" suffix.
Usage: train_reference.py SHAPE QUICK [full|instruction] [f32|bf16]
"""
import json
import resource
import statistics
import sys
import time

import torch
from transformers import BloomConfig, BloomForCausalLM

torch.set_num_threads(2)
torch.manual_seed(11)
shape = sys.argv[1] if len(sys.argv) > 1 else "tiny"
quick = len(sys.argv) > 2 and sys.argv[2] == "1"
vocab, hidden, layers, heads = {"tiny": (8192, 256, 4, 4), "small": (16384, 512, 8, 8)}[shape]
B, T = 4, 256
model = BloomForCausalLM(BloomConfig(vocab_size=vocab, hidden_size=hidden, n_layer=layers, n_head=heads,
                                     hidden_dropout=0.0, attention_dropout=0.0))
model.train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
variant = sys.argv[3] if len(sys.argv) > 3 else "full"
bf16 = len(sys.argv) > 4 and sys.argv[4] == "bf16"
suffix = " bf16" if bf16 else ""
ids = torch.tensor([[((b * T + t) * 7919 + 13) % vocab for t in range(T)] for b in range(B)])
labels, mask = ids.clone(), torch.ones_like(ids)
if variant == "instruction":
    document, response = 187, 39
    labels[:, :document - response] = -100
    labels[:, document:] = -100
    mask[:, document:] = 0


def step():
    opt.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


step()
samples = []
for _ in range(2 if quick else 5):
    t0 = time.perf_counter()
    step()
    samples.append(time.perf_counter() - t0)
kind = f"PyTorch {torch.__version__} eager, transformers BloomForCausalLM, AdamW, 2 threads" + (", bf16 autocast" if bf16 else "")
if variant == "instruction":
    print(json.dumps({"bench": "train", "case": f"{shape} instruction batch tokens/s (4x256, 27% padding, 15% learned){suffix}",
                      "value": B * T / statistics.median(samples), "unit": "tokens/s", "higher_is_better": True,
                      "reference_kind": kind}), flush=True)
else:
    print(json.dumps({"bench": "train", "case": f"{shape} train tokens/s (4x256){suffix}", "value": B * T / statistics.median(samples),
                      "unit": "tokens/s", "higher_is_better": True, "reference_kind": kind}), flush=True)
    print(json.dumps({"bench": "train", "case": f"{shape} peak memory{suffix}",
                      "value": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "unit": "MiB",
                      "higher_is_better": False, "reference_kind": kind}), flush=True)

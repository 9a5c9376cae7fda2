"""PyTorch eager + PEFT fine-tuning of SmolLM2-135M-Instruct on the CPU: the anchor for our LoRA training benchmark.
The model comes from the GGUF file through transformers (dequantized to f32); mode `lora` wraps it with PEFT LoRA on
all seven projections (q, k, v, o, gate, up, down) and trains only the adapter, mode `full` trains every weight.
Each step is forward + backward + AdamW (lr 1e-4) + zero_grad on seeded random ids, labels -100 on the first quarter
of each row; `--dtype bf16` runs the forward under torch.autocast("cpu", bfloat16) with f32 weights.
W untimed warm-up steps, then N timed steps; seconds_per_step is their median, tokens_per_second batch x seq_len over
it; loss_first is the first step's loss (warm-up included), loss_last the last step's. Prints one JSON object.
Usage: train_lora_reference.py --gguf PATH [--mode lora|full] [--batch 4] [--seq-len 256] [--steps N] [--warmup W]
       [--threads 2] [--rank 16] [--alpha 32] [--dtype f32|bf16]
"""
import argparse
import contextlib
import json
import os
import resource
import statistics
import time

import peft
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

DEFAULT_GGUF = "~/.cache/ecom/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gguf", default=DEFAULT_GGUF, help=f"SmolLM2 GGUF file (default {DEFAULT_GGUF})")
    parser.add_argument("--mode", choices=["lora", "full"], default="lora")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--steps", type=int, default=5, help="timed steps")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=32)
    parser.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0:
        parser.error("--steps must be at least 1 and --warmup at least 0")

    torch.set_num_threads(args.threads)
    torch.manual_seed(11)
    folder, name = os.path.split(os.path.abspath(os.path.expanduser(args.gguf)))
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    if args.mode == "lora":
        model = get_peft_model(model, LoraConfig(r=args.rank, lora_alpha=args.alpha, lora_dropout=0.0,
                                                 target_modules=TARGETS, bias="none", task_type="CAUSAL_LM"))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)

    gen = torch.Generator().manual_seed(5)
    ids = torch.randint(0, model.config.vocab_size, (args.batch, args.seq_len), generator=gen)
    labels = ids.clone()
    labels[:, :args.seq_len // 4] = -100  # the prompt quarter: no loss

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16) if args.dtype == "bf16" else contextlib.nullcontext()

    def step():
        with autocast():
            loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        return float(loss.detach())

    losses, samples = [], []
    for _ in range(args.warmup):
        losses.append(step())
    for _ in range(args.steps):
        t0 = time.perf_counter()
        losses.append(step())
        samples.append(time.perf_counter() - t0)
    seconds = statistics.median(samples)
    print(json.dumps({
        "impl": "pytorch+peft", "mode": args.mode, "dtype": args.dtype, "threads": args.threads, "batch": args.batch,
        "seq_len": args.seq_len, "steps": args.steps, "tokens_per_second": args.batch * args.seq_len / seconds,
        "seconds_per_step": seconds, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__, "peft": peft.__version__, "loss_first": losses[0], "loss_last": losses[-1],
        "trainable_parameters": sum(p.numel() for p in params),
        **({"rank": args.rank, "alpha": args.alpha} if args.mode == "lora" else {}),
    }), flush=True)


if __name__ == "__main__":
    main()

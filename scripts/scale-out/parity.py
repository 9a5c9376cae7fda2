#!/usr/bin/env python3
"""Checks of scripts/scale-out/smoke.sh: the scale-out trainer against ecom-train, and its checkpoints in Ecom's tools.

    parity.py metrics ECOM_METRICS TORCH_METRICS [--rtol 1e-4]   # losses and gradient norms of every step equal
    parity.py logits MODEL_DIR --bin BIN_DIR [--lora DIR]        # ecom-model forward's logits equal transformers'
    parity.py tiny-bloom OUT_DIR --vocab N                      # a small random BLOOM checkpoint (seeded)

Each prints one line and exits 1 when the check fails.
"""
import argparse
import json
import subprocess
import sys
import warnings


warnings.filterwarnings("ignore", category=FutureWarning)  # transformers/peft deprecation notices


def read_metrics(path):
    with open(path) as f:
        return [m for m in (json.loads(l) for l in f if l.strip()) if m["split"] == "train"]


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


def check_metrics(a):
    ours, theirs = read_metrics(a.ecom), read_metrics(a.torch)
    if not ours or len(ours) != len(theirs):
        sys.exit(f"FAIL metrics: {len(ours)} steps in {a.ecom}, {len(theirs)} in {a.torch}")
    worst = 0.0
    for x, y in zip(ours, theirs):
        for key in ("loss", "grad_norm", "lr"):
            worst = max(worst, rel(x[key], y[key]))
    line = (f"{len(ours)} steps, worst relative difference {worst:.2e} (loss, grad_norm, lr); "
            f"step 1 loss {ours[0]['loss']:.6f} vs {theirs[0]['loss']:.6f}, grad norm {ours[0]['grad_norm']:.6f} vs {theirs[0]['grad_norm']:.6f}")
    if worst > a.rtol:
        sys.exit(f"FAIL metrics: {line} > {a.rtol}")
    print(f"ok metrics: {line}")


def check_logits(a):
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    ids = [1, 17, 5, 99, 42, 7, 23, 64, 11, 2, 30, 31]
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    if a.lora:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, a.lora)
    with torch.no_grad():
        want = model(torch.tensor([ids])).logits[0]
    cmd = [f"{a.bin}/ecom-model", "forward", "--model", a.model] + (["--lora", a.lora] if a.lora else [])
    out = subprocess.run(cmd, input=json.dumps({"ids": ids}), capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"FAIL logits: {' '.join(cmd)}: {out.stderr.strip()}")
    got = torch.tensor(json.loads(out.stdout.splitlines()[0])["logits"])
    diff = (got - want).abs().max().item()
    what = f"{a.lora} on {a.model}" if a.lora else a.model
    if got.shape != want.shape or diff > a.atol:
        sys.exit(f"FAIL logits: {what}: shape {tuple(got.shape)} vs {tuple(want.shape)}, max |diff| {diff:.2e} > {a.atol}")
    print(f"ok logits: {what}: ecom-model forward vs transformers{' + peft' if a.lora else ''}, max |diff| {diff:.2e}")


def tiny_bloom(a):
    import torch
    from transformers import BloomConfig, BloomForCausalLM
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    torch.manual_seed(0)
    c = BloomConfig(vocab_size=a.vocab, hidden_size=32, n_layer=2, n_head=4, bos_token_id=1, eos_token_id=2, pad_token_id=3)
    BloomForCausalLM(c).save_pretrained(a.out)
    print(f"ok tiny-bloom: {a.out}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("metrics")
    m.add_argument("ecom")
    m.add_argument("torch")
    m.add_argument("--rtol", type=float, default=1e-4)
    lg = sub.add_parser("logits")
    lg.add_argument("model")
    lg.add_argument("--bin", required=True)
    lg.add_argument("--lora")
    lg.add_argument("--atol", type=float, default=1e-4)
    tb = sub.add_parser("tiny-bloom")
    tb.add_argument("out")
    tb.add_argument("--vocab", type=int, required=True)
    a = p.parse_args()
    {"metrics": check_metrics, "logits": check_logits, "tiny-bloom": tiny_bloom}[a.cmd](a)


if __name__ == "__main__":
    main()

"""Checks Ecom's LoRA adapters against PEFT: the base model (HF Llama or BLOOM directory) with the adapter loaded by
`PeftModel.from_pretrained` must give the logits our tool printed, and, with `--merged`, the HF directory our tool
wrote by merging the adapter must hold the weights of PEFT's `merge_and_unload()`. Not a fixture generator: it reads
our output and prints a verdict (exit 1 on a mismatch).
Usage: check_lora.py ADAPTER_DIR BASE_DIR [OURS_JSON] [--merged MERGED_DIR]
where OURS_JSON is {"ids": [[...], ...], "logits": [[[...vocab...], ...], ...]} (full logits, one row per id).
"""
import argparse
import json
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

torch.set_num_threads(2)
LOGITS_TOLERANCE, WEIGHTS_TOLERANCE = 1e-4, 1e-5


def peft_model(adapter, base):
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    return PeftModel.from_pretrained(model, adapter).eval()


def check_logits(model, path):
    with open(path, encoding="utf-8") as f:
        ours = json.load(f)
    diff = 0.0
    with torch.no_grad():
        for ids, logits in zip(ours["ids"], ours["logits"], strict=True):
            ref = model(input_ids=torch.tensor([ids])).logits[0]
            diff = max(diff, (ref - torch.tensor(logits, dtype=torch.float32)).abs().max().item())
    print(f"logits: {len(ours['ids'])} sequences, max |PEFT(base + adapter) - ours| = {diff:.3g}")
    return diff <= LOGITS_TOLERANCE


def check_merged(model, path):
    ref = {k: v.detach() for k, v in model.merge_and_unload().state_dict().items()}
    ours = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).state_dict()
    missing, extra = sorted(ref.keys() - ours.keys()), sorted(ours.keys() - ref.keys())
    if missing or extra:
        print(f"merged: tensor names differ; missing {missing[:5]}, unexpected {extra[:5]}")
    diff, worst = 0.0, None
    for k in sorted(ref.keys() & ours.keys()):
        if ref[k].shape != ours[k].shape:
            print(f"merged: {k} has shape {tuple(ours[k].shape)}, PEFT's {tuple(ref[k].shape)}")
            return False
        d = (ref[k] - ours[k].float()).abs().max().item()
        if d > diff:
            diff, worst = d, k
    print(f"merged: {len(ref)} tensors, max |merge_and_unload() - ours| = {diff:.3g}" + (f" ({worst})" if worst else ""))
    return not missing and not extra and diff <= WEIGHTS_TOLERANCE


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("adapter", help="PEFT adapter directory (adapter_config.json + adapter_model.safetensors)")
    parser.add_argument("base", help="HF base model directory (Llama or BLOOM)")
    parser.add_argument("ours", nargs="?", help='JSON {"ids": [[...]], "logits": [[[...]]]} from our tool')
    parser.add_argument("--merged", metavar="MERGED_DIR", help="HF directory our tool wrote with the adapter merged")
    args = parser.parse_args()
    if not args.ours and not args.merged:
        parser.error("give OURS_JSON, --merged MERGED_DIR, or both")
    ok = True
    if args.ours:
        ok &= check_logits(peft_model(args.adapter, args.base), args.ours)
    if args.merged:
        ok &= check_merged(peft_model(args.adapter, args.base), args.merged)
    print("verdict:", "ok" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

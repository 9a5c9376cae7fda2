"""Checks `ecom-model import-gguf` against transformers (issue 13): the HF directory Ecom writes from a GGUF must load
with `AutoModelForCausalLM.from_pretrained(DIR)` and give the logits of `from_pretrained(…, gguf_file=…)`, and
`AutoTokenizer.from_pretrained(DIR)` must give the ids of the tokenizer transformers builds from the GGUF (exactly
with `--pre-tokenizer transformers`; with the default `original`, the ids of the model's own pre-tokenizer, which
differ only where digits follow spaces). Not a fixture generator: it reads our output and prints a verdict.
Usage: check_import_gguf.py GGUF DIR_ORIGINAL [DIR_TRANSFORMERS]
"""
import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from shared_text import shared_texts

torch.set_num_threads(2)


def main():
    gguf, ours = sys.argv[1], sys.argv[2]
    ours_tf = sys.argv[3] if len(sys.argv) > 3 else None
    folder, name = os.path.split(gguf)
    ref_model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    our_model = AutoModelForCausalLM.from_pretrained(ours, dtype=torch.float32).eval()
    ids = torch.tensor([[1, 9690, 198, 2683, 359, 253, 5356, 5646, 28, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47]])
    with torch.no_grad():
        diff = (ref_model(ids).logits - our_model(ids).logits).abs().max().item()
    print(f"logits: max |transformers(gguf) - transformers(ours)| = {diff:.3g}")
    ref_tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    everything = shared_texts()
    texts = everything[:: max(1, len(everything) // 300)][:300] + ["Price 1299 and  12 items", "x  1", "商品 2024 年"]
    for label, path in (("original", ours), ("transformers", ours_tf)):
        if not path:
            continue
        tok = AutoTokenizer.from_pretrained(path)
        same = sum(tok.encode(t, add_special_tokens=False) == ref_tok.encode(t, add_special_tokens=False) for t in texts)
        chat = [{"role": "user", "content": "Hi 12"}]
        same_chat = tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True) == \
            ref_tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        print(f"tokenizer ({label} pre-tokenizer): {same}/{len(texts)} texts give transformers' GGUF ids; chat template same: {same_chat}")
    ok = diff < 1e-4
    print("verdict:", "ok" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

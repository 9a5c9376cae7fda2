"""Golden fixtures for the real SmolLM2-135M-Instruct (issue 13), from the GGUF that `scripts/fetch-model.sh` caches:
transformers' greedy continuations of chat prompts (weights dequantized to f32 by transformers' GGUF loader, q/k
permutation undone) and sampled last-position logits. The prompts are stored as ids, so the test needs no tokenizer.
Output: Tests/Fixtures/llama/smollm2_reference.json.
"""
import os
import subprocess

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from provenance import fixture_path, provenance, write_json

torch.set_num_threads(2)

QUESTIONS = [
    "What is the capital of France?",
    "Write a short product title for a red cotton t-shirt.",
    "Is this review positive or negative? \"The battery died after two days.\"",
    "List three colours.",
]


def model_path():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    out = subprocess.run(["bash", os.path.join(root, "scripts", "fetch-model.sh")], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def main():
    path = model_path()
    folder, name = os.path.split(path)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.eval()
    cases = []
    with torch.no_grad():
        for q in QUESTIONS:
            text = tokenizer.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                 max_new_tokens=24, do_sample=False, eos_token_id=2, pad_token_id=2)
            new = out[0, len(ids):].tolist()
            logits = model(torch.tensor([ids])).logits[0, -1]
            top = torch.topk(logits, 16)
            cases.append({"question": q, "prompt": ids, "greedy": new, "text": tokenizer.decode(new, skip_special_tokens=True),
                          "top_ids": top.indices.tolist(), "top_logits": top.values.tolist()})
    write_json(fixture_path("llama", "smollm2_reference.json"), {
        "provenance": provenance("gen_smollm2.py", model=name, note="transformers' GGUF loader, f32, greedy, 24 new tokens"),
        "cases": cases,
    })


if __name__ == "__main__":
    main()

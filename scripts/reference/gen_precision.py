"""Golden fixture for bf16 compute (issue 19): what PyTorch's own bf16 mixed precision (torch.autocast on the CPU,
dtype bfloat16) gives on the tiny Llama and BLOOM fixtures, as the distance of its logits from the fixtures' Float32
logits (||bf16 - f32|| / ||f32|| over the values the fixtures sample). Ecom's bf16 products are held to the issue's
2e-2 or to PyTorch's own distance, whichever is larger.
Reads Tests/Fixtures/llama/{tiny-hf,llama_reference.json} and Tests/Fixtures/model/{tiny-f32,bloom_reference.json}.
Output: Tests/Fixtures/bf16/autocast_reference.json. Named so that generate.sh runs it after gen_llama and gen_model,
whose fixtures it reads.
"""
import json

import torch
from transformers import AutoModelForCausalLM

from provenance import fixture_path, provenance, write_json

torch.set_num_threads(1)


def distance(got, want):
    g, w = torch.tensor(got, dtype=torch.float64), torch.tensor(want, dtype=torch.float64)
    return ((g - w).norm() / w.norm()).item()


def autocast_logits(model, ids):
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        return model(torch.tensor([ids])).logits[0].float()


llama = AutoModelForCausalLM.from_pretrained(fixture_path("llama", "tiny-hf"), dtype=torch.float32).eval()
llama_ref = json.load(open(fixture_path("llama", "llama_reference.json")))
llama_cases = []
for item in llama_ref["forward"]:
    logits = autocast_logits(llama, item["ids"])
    got, want = [], []
    for r, row in enumerate(item["rows"]):
        got += [logits[r, i].item() for i in row["ids"]]
        want += row["values"]
    llama_cases.append({"length": len(item["ids"]), "autocast_relative_error": distance(got, want)})

bloom = AutoModelForCausalLM.from_pretrained(fixture_path("model", "tiny-f32"), dtype=torch.float32).eval()
bloom_ref = json.load(open(fixture_path("model", "bloom_reference.json")))
bloom_cases = []
for item in bloom_ref["logits"]:
    logits = autocast_logits(bloom, item["ids"])
    want = [v for row in item["logits"] for v in row]
    bloom_cases.append({"length": len(item["ids"]), "autocast_relative_error": distance(logits.flatten().tolist(), want)})

write_json(fixture_path("bf16", "autocast_reference.json"), {
    "provenance": provenance("gen_precision.py", note="torch.autocast('cpu', dtype=torch.bfloat16), 1 thread"),
    "llama": llama_cases,
    "bloom": bloom_cases,
})
print("llama", llama_cases)
print("bloom", bloom_cases)

"""HF transformers loads a checkpoint written by our trainer (issue 8): Tests/Fixtures/train/ours-ckpt (config.json +
model.safetensors from `ecom-train`, 5 steps from the tiny fixture model) through BloomForCausalLM.from_pretrained,
with no missing or unexpected weights; HF's logits for a few sequences go to Tests/Fixtures/train/ours_ckpt_logits.json,
which the Swift tests compare with our forward pass on the same directory.
"""
import torch
from transformers import BloomForCausalLM

from provenance import fixture_path, provenance, write_json

torch.set_num_threads(1)


def main():
    directory = fixture_path("train", "ours-ckpt", "config.json").rsplit("/", 1)[0]
    model, info = BloomForCausalLM.from_pretrained(directory, dtype=torch.float32, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    assert not problems, f"HF could not load our checkpoint cleanly: {problems}"
    model.eval()
    gen = torch.Generator().manual_seed(11)
    cases = []
    for length in (1, 7, 20):
        ids = torch.randint(0, model.config.vocab_size, (1, length), generator=gen)
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0]
        cases.append({"ids": ids[0].tolist(), "logits": logits.tolist()})
    write_json(fixture_path("train", "ours_ckpt_logits.json"), {
        "provenance": provenance("gen_train_ckpt.py", model="Tests/Fixtures/train/ours-ckpt (written by ecom-train)"),
        "loading_info": {k: list(v) for k, v in info.items()},
        "cases": cases,
    })
    print(f"gen_train_ckpt: HF loaded our checkpoint; {len(cases)} sequences")


if __name__ == "__main__":
    main()

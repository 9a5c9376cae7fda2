"""Golden fixtures for generation beyond greedy and plain beam search (issue 20), from HF transformers on the tiny
BLOOM that gen_model.py saves (Tests/Fixtures/model/tiny-f32; named so that generate.sh runs it after gen_model):
- the sampling warpers (TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper in generate's order) on logit
  rows: the probabilities a draw follows;
- every prefix a sampled generation can reach under temperature 1.5, top-k 3, top-p 0.95, with the tokens allowed next;
- RepetitionPenaltyLogitsProcessor on logit rows with previous ids, and greedy generate with repetition_penalty 5;
- 4-beam generate with a stop condition (the text "14 5" in the generated ids written as decimal numbers joined by
  spaces, as GenerationTests' StopStrings decodes them), and the number of steps each early_stopping setting runs with
  max_new_tokens 10 and 40 and length_penalty 1 and 2 (counted by a stopping criterion that never fires).
Output: Tests/Fixtures/model/generation_reference.json.
"""
import json
import os

import torch
from transformers import (BloomForCausalLM, LogitsProcessorList, RepetitionPenaltyLogitsProcessor, StoppingCriteria,
                          StoppingCriteriaList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper)

from provenance import fixture_path, provenance, write_json

torch.manual_seed(2024)
torch.set_num_threads(1)

EOS, PAD = 2, 3
MAX_NEW = 10


def warpers(temperature, top_k, top_p):
    """The warpers generate(do_sample=True) builds, in its order (temperature, top-k, top-p)."""
    out = LogitsProcessorList()
    if temperature != 1.0:
        out.append(TemperatureLogitsWarper(temperature))
    if top_k > 0:
        out.append(TopKLogitsWarper(top_k))
    if top_p < 1.0:
        out.append(TopPLogitsWarper(top_p))
    return out


def margins(row, temperature, top_k, top_p):
    """How far a row is from flipping HF's choices: the gap between the k-th and (k+1)-th logits (top-k) and the
    distance of the cumulative probabilities from 1 - p (top-p, after top-k). Small margins would make parity fragile."""
    s = row / temperature
    gaps = []
    if top_k > 0:
        v = torch.sort(s, descending=True).values
        gaps.append(float(v[top_k - 1] - v[top_k]))
        s = TopKLogitsWarper(top_k)(None, s[None])[0]
    if top_p < 1.0:
        cum = torch.sort(s).values.softmax(-1).cumsum(-1)
        gaps.append(float((cum - (1 - top_p)).abs().min()))
    return min(gaps) if gaps else float("inf")


class GeneratedText(StoppingCriteria):
    """A stop condition on the generated ids written as "id id id" (the decode GenerationTests gives StopStrings);
    also records the longest generated length it saw: the number of steps the search ran."""

    def __init__(self, prompt_len, stop=None):
        self.prompt_len, self.stop, self.steps = prompt_len, stop, 0

    def __call__(self, input_ids, scores, **kwargs):
        gen = input_ids[:, self.prompt_len:].tolist()
        self.steps = max(self.steps, max(len(g) for g in gen))
        hits = [self.stop is not None and self.stop in " ".join(map(str, g)) for g in gen]
        return torch.tensor(hits, dtype=torch.bool, device=input_ids.device)


def main():
    model_dir = os.path.dirname(fixture_path("model", "tiny-f32", "config.json"))
    model = BloomForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()
    with open(fixture_path("model", "bloom_reference.json"), encoding="utf-8") as f:
        cases = json.load(f)["generation"]["cases"]

    def last_logits(ids):
        return model(input_ids=torch.tensor([ids])).logits[0, -1]

    def generate(prompt, **kw):
        return model.generate(torch.tensor([prompt]), max_new_tokens=MAX_NEW, eos_token_id=EOS, pad_token_id=PAD,
                              **kw)[0, len(prompt):].tolist()

    with torch.no_grad():
        # The saved model must be the one bloom_reference.json was made from.
        for c in cases:
            if generate(c["prompt"], do_sample=False) != c["greedy"]:
                raise SystemExit("gen_model_generation: tiny-f32 disagrees with bloom_reference.json; run gen_model first")

        # 1. Warpers on logit rows: the model's next-token logits after a few contexts, seeded normals, and a row
        # with a four-way tie at the 3rd place (HF's top-k keeps every token tied with the k-th).
        rows = [last_logits(c["prompt"]) for c in cases[:4]]
        rows += [torch.randn(64, generator=torch.Generator().manual_seed(s)) * 2.5 for s in (1, 2)]
        tie = torch.randn(64, generator=torch.Generator().manual_seed(3))
        tie[[10, 20, 30, 40]] = 4.0
        tie[[5, 6]] = 6.0
        configs = [(1.5, 3, 1.0), (1.5, 0, 0.95), (1.5, 3, 0.95), (0.7, 5, 0.8)]
        warped, min_margin = [], float("inf")
        for i, row in enumerate(rows + [tie]):
            entry = {"logits": row.tolist(), "configs": []}
            for t, k, p in ([(1.0, 3, 1.0)] if i == len(rows) else configs):
                probs = warpers(t, k, p)(None, row[None].clone())[0].softmax(-1)
                if i < len(rows):
                    min_margin = min(min_margin, margins(row, t, k, p))
                entry["configs"].append({"temperature": t, "top_k": k, "top_p": p, "probs": probs.tolist()})
            warped.append(entry)

        # 2. Every prefix sampled generation can reach (temperature 1.5, top-k 3, top-p 0.95), with the allowed next
        # tokens, for each prompt on its own (the batch is left-padded: its logits differ by ~1e-6, far below the
        # margins recorded).
        T, K, P = 1.5, 3, 0.95
        sample_prompts = [[1, 16], [1, 20, 33]]
        reachable, sample_margin = [], float("inf")
        for prompt in sample_prompts:
            allowed, frontier = {}, [[]]
            while frontier:
                prefix = frontier.pop()
                row = last_logits(prompt + prefix)
                sample_margin = min(sample_margin, margins(row, T, K, P))
                probs = warpers(T, K, P)(None, row[None].clone())[0].softmax(-1)
                ok = [int(i) for i in torch.nonzero(probs > 0).flatten()]
                allowed[",".join(map(str, prefix))] = ok
                if len(prefix) + 1 < MAX_NEW:
                    frontier += [prefix + [t] for t in ok if t != EOS]
            reachable.append({"prompt": prompt, "allowed": allowed})

        # 3. Repetition penalty: the processor on logit rows (positive and negative scores, repeated previous ids),
        # and greedy generation with it.
        penalty_rows = []
        for seed, penalty in ((11, 5.0), (12, 1.3), (13, 0.8)):
            g = torch.Generator().manual_seed(seed)
            scores = torch.randn(1, 64, generator=g) * 3
            previous = torch.randint(0, 64, (1, 12), generator=g)
            previous[0, -1] = previous[0, 0]
            out = RepetitionPenaltyLogitsProcessor(penalty)(previous, scores.clone())
            penalty_rows.append({"penalty": penalty, "previous": previous[0].tolist(), "logits": scores[0].tolist(),
                                 "processed": out[0].tolist()})
        penalty_generation = [{"prompt": cases[i]["prompt"], "penalty": 5.0,
                               "greedy": generate(cases[i]["prompt"], do_sample=False, repetition_penalty=5.0)}
                              for i in (0, 2, 5)]

        # 4. Beam search with a stop condition, and the steps each early_stopping setting runs.
        stop_prompt = cases[2]["prompt"]
        criterion = GeneratedText(len(stop_prompt), "14 5")
        stop_beam = generate(stop_prompt, do_sample=False, num_beams=4, length_penalty=1.0, early_stopping=False,
                             stopping_criteria=StoppingCriteriaList([criterion]))
        beam_steps = []
        for max_new, length_penalty in ((MAX_NEW, 1.0), (40, 1.0), (40, 2.0)):
            steps = []
            for c in cases:
                entry = {"prompt": c["prompt"]}
                for name, value in (("heuristic", False), ("always", True), ("never", "never")):
                    counter = GeneratedText(len(c["prompt"]))
                    out = model.generate(torch.tensor([c["prompt"]]), max_new_tokens=max_new, eos_token_id=EOS,
                                         pad_token_id=PAD, do_sample=False, num_beams=4, length_penalty=length_penalty,
                                         early_stopping=value, stopping_criteria=StoppingCriteriaList([counter]))
                    entry[name] = {"steps": counter.steps, "output": out[0, len(c["prompt"]):].tolist()}
                steps.append(entry)
            beam_steps.append({"num_beams": 4, "max_new_tokens": max_new, "length_penalty": length_penalty,
                               "cases": steps})

    write_json(fixture_path("model", "generation_reference.json"), {
        "provenance": provenance("gen_model_generation.py", note="HF transformers' warpers, repetition penalty and "
                                 "generate on Tests/Fixtures/model/tiny-f32",
                                 min_warper_margin=min_margin, min_sampling_margin=sample_margin),
        "warped": warped,
        "sampling": {"temperature": T, "top_k": K, "top_p": P, "max_new_tokens": MAX_NEW, "prompts": reachable},
        "repetition_penalty": {"rows": penalty_rows, "generation": penalty_generation},
        "beam_stop": {"prompt": stop_prompt, "stop": "14 5", "num_beams": 4, "max_new_tokens": MAX_NEW,
                      "beam4": stop_beam, "steps": criterion.steps},
        "beam_steps": beam_steps,
    })
    print(f"gen_model_generation: {sum(len(r['allowed']) for r in reachable)} reachable prefixes; margins: warpers "
          f"{min_margin:.4g}, sampling {sample_margin:.4g}; stop beam {stop_beam}; steps "
          + "; ".join(" ".join(f"{c['heuristic']['steps']}/{c['always']['steps']}/{c['never']['steps']}" for c in b["cases"])
                      for b in beam_steps))


if __name__ == "__main__":
    main()

"""Writes the Rouge-L benchmark pairs: the 12 held-out tasks' gold answers (500 each, ABSA 499: 5,999, plus one
repeated to make 6,000) against seeded perturbed copies, as JSON Lines {"prediction", "reference"}.
A hypothesis the `rouge` package would refuse is replaced by "error" (as EcomGPT does). Usage: metrics_pairs.py OUT"""
import json
import random
import sys

from gen_metrics import all_gold_answers, perturb_text


def refused(t):
    return not any(len(x) for x in t.split("."))


def main():
    rng = random.Random(6000)
    golds = [g for _, _, g, _ in all_gold_answers()]
    while len(golds) < 6000:
        golds.append(golds[len(golds) % 500])
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        for ref in golds[:6000]:
            ref = "None" if refused(ref) else ref
            hyp = perturb_text(ref, rng)
            f.write(json.dumps({"prediction": "error" if refused(hyp) else hyp, "reference": ref},
                               ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

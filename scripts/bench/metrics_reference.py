"""Times the `rouge` package's Rouge-L (get_scores(avg=True), metrics=["rouge-l"]) on the benchmark pairs and prints
one measurement line for scripts/bench/combine.py. Usage: metrics_reference.py PAIRS.jsonl"""
import json
import statistics
import sys
import time

from rouge import Rouge


def main():
    rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
    hyps, refs = [r["prediction"] for r in rows], [r["reference"] for r in rows]
    rouge = Rouge(metrics=["rouge-l"])
    avg = rouge.get_scores(hyps, refs, avg=True)["rouge-l"]  # warm-up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        avg = rouge.get_scores(hyps, refs, avg=True)["rouge-l"]
        times.append(time.perf_counter() - t0)
    print(json.dumps({"bench": "metrics", "case": "rouge-l 6000 pairs (rouge package flavor)",
                      "value": len(rows) / statistics.median(times), "unit": "pairs/s", "higher_is_better": True,
                      "reference_f": avg["f"]}))


if __name__ == "__main__":
    main()

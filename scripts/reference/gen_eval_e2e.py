"""Reference scores of the end-to-end evaluation fixture (Tests/Fixtures/eval/expected_scores.json), for
Tests/EvalTests/EvalEndToEndTests.swift.

The fixture's model, task set and predictions.jsonl are written by scripts/reference/build_trained.py eval-e2e (our
tools: ecom-train, ecom-eval). This script takes only the predictions' strings from it: the gold answers are rebuilt
here from the task files (EcomGPT's encode_to_input_output, gen_metrics.gold_answer; the UniversalNER question's
answer), and every score comes from the reference scorers restated in gen_metrics.py: EcomGPT's task evaluation
(the `rouge` package 1.0.1, SetScore, seqeval 1.2.2 via mapping2label), UniversalNER's evaluator, and the CJK Rouge-L
specification (averaged F over the raw answers). Empty answers are scored as "error", as EcomGPT's code does for
most types (ecom_task_scores). The EcomGPT average is the mean of each metric over the EcomGPT tasks.
"""
import json
import os
import sys

from gen_metrics import cjk_rouge_l, ecom_task_scores, gold_answer, uniner_evaluate
from provenance import fixture_path, provenance, write_json


def load_tasks(root):
    """{task name: (meta, rows)} for every task folder under root/<Dataset>/tasks."""
    out = {}
    for dataset in sorted(os.listdir(root)):
        tasks = os.path.join(root, dataset, "tasks")
        if not os.path.isdir(tasks):
            continue
        for name in sorted(os.listdir(tasks)):
            with open(os.path.join(tasks, name, "meta-info.json"), encoding="utf-8") as f:
                meta = json.load(f)
            with open(os.path.join(tasks, name, "test.json"), encoding="utf-8") as f:
                rows = [json.loads(l) for l in f if l.strip()]
            out[name] = (meta, rows)
    return out


def uniner_golds(root):
    """{(set name, "<conversation id>:<type>"): answer} for every question of every set under root."""
    out = {}
    for fname in sorted(os.listdir(root)):
        with open(os.path.join(root, fname), encoding="utf-8") as f:
            for conv in json.load(f):
                turns = conv["conversations"]
                for q, a in zip(turns[2::2], turns[3::2]):
                    typ = q["value"][len("What describes "):-len(" in the text?")]
                    out[("UniNER-" + fname[:-len(".json")], f"{conv['id']}:{typ}")] = a["value"]
    return out


def main():
    sys.setrecursionlimit(10000)
    base = fixture_path("eval", "x")[:-2]
    with open(os.path.join(base, "predictions.jsonl"), encoding="utf-8") as f:
        preds = [json.loads(l) for l in f if l.strip()]
    tasks = load_tasks(os.path.join(base, "ecomgpt"))
    un = uniner_golds(os.path.join(base, "uniner"))
    order, by_task = [], {}
    for p in preds:
        if p["task"] not in by_task:
            order.append(p["task"])
        by_task.setdefault(p["task"], []).append(p)
    rows = []
    for task in order:
        ps = by_task[task]
        answers = [p["prediction"] for p in ps]
        if task in tasks:
            meta, examples = tasks[task]
            ttype = task.split("-")[2]
            golds = [gold_answer(ttype, meta, examples[int(p["id"])]) for p in ps]
            texts = [examples[int(p["id"])]["sentences"] for p in ps]
            assert golds == [p["reference"] for p in ps], f"{task}: references differ from the task files' gold answers"
            s = ecom_task_scores(ttype, answers, golds, texts, meta["label_sep"])
            cjk = sum(cjk_rouge_l(a, g)["f"] for a, g in zip(answers, golds)) / len(ps)
            rows.append({"task": task, "suite": "ecomgpt", "task_type": ttype, "n": len(ps), "micro_f1": s["micro_f1"],
                         "macro_f1": s["macro_f1"], "rouge_l": s["rouge_l_f"], "cjk_rouge_l": cjk,
                         "precision": None, "recall": None})
        else:
            golds = [un[(task, p["id"])] for p in ps]
            assert golds == [p["reference"] for p in ps], f"{task}: references differ from the sets' answers"
            s = uniner_evaluate(answers, golds)
            rows.append({"task": task, "suite": "uniner", "task_type": "NER", "n": len(ps), "micro_f1": s["f1"],
                         "macro_f1": None, "rouge_l": None, "cjk_rouge_l": None,
                         "precision": s["precision"], "recall": s["recall"]})
    eg = [r for r in rows if r["suite"] == "ecomgpt"]
    average = {k: sum(r[k] for r in eg) / len(eg) for k in ("micro_f1", "macro_f1", "rouge_l", "cjk_rouge_l")}
    average["n"] = sum(r["n"] for r in eg)
    write_json(os.path.join(base, "expected_scores.json"), {
        "provenance": provenance("gen_eval_e2e.py", what="scores of Tests/Fixtures/eval/predictions.jsonl by the "
                                 "reference scorers (gen_metrics.py: EcomGPT's task evaluation, UniversalNER's "
                                 "evaluator, the CJK Rouge-L spec); gold answers rebuilt from the task files"),
        "tasks": rows, "ecomgpt_average": average})
    for r in rows:
        print(f"gen_eval_e2e: {r['task']}: micro-F1 {r['micro_f1']:.4f}")


if __name__ == "__main__":
    main()

"""Golden prompts for EcomInstruct, rendered straight from the released data without any of our code.

EcomGPT: for the first example of each of the 12 held-out tasks (held_out_tasks.txt), the evaluation prompt
  "Below is an instruction that describes the {defi} task. Write a response that appropriately completes the request.\n"
  + test_prompt.instruction.format(sentences=..., label_set=label_sep.join(labels))
where labels is the line's own label_set when it has a non-empty one, else meta-info's label_set[label_key] in the
file's order (the fixed label order for CLS); and the answer: labels[label_key] or span terms joined with label_sep,
for NER one line per label in label-set order, "type: span1, span2" or "type: None".

UniversalNER: for the first example of each file, the released model's prompt in FastChat's vicuna_v1.1 layout
(system, " USER: m ASSISTANT: a</s>" turns; the last assistant turn left open) and the gold answer.
"""
import json
import os

from provenance import fixture_path, provenance, shared_data, write_json

HEAD = "Below is an instruction that describes the {defi} task. Write a response that appropriately completes the request.\n"
SYSTEM = "A virtual assistant answers questions from a user based on the provided text."


def task_dir(name):
    dataset = name.split("-")[1]
    return shared_data("ecomgpt", dataset, "tasks", name)


def ecomgpt_case(name):
    d = task_dir(name)
    with open(os.path.join(d, "meta-info.json"), encoding="utf-8") as f:
        meta = json.load(f)
    with open(os.path.join(d, "test.json"), encoding="utf-8") as f:
        line = next(l for l in f if l.strip())
    ex = json.loads(line)
    sep = meta.get("label_sep", ", ")
    key = meta.get("label_key")
    labels = meta["label_set"][key] if key else []
    own = ex.get("label_set")
    if own and any(own):
        labels = own
    prompt = HEAD.format(defi=meta["defi"]) + meta["test_prompt"]["instruction"].format(
        sentences=ex["sentences"], label_set=sep.join(labels))
    task_type = name.split("-")[2]
    if "labels" in ex:
        answer = sep.join(ex["labels"][key])
    elif task_type == "NER":
        rows = []
        for label in labels:
            terms = [s["term"] for s in ex["spans"] if s.get("type") == label]
            rows.append(f"{label}: " + (sep.join(terms) if terms else "None"))
        answer = "\n".join(rows)
    else:
        answer = sep.join(s["term"] for s in ex["spans"])
    return {"task": name, "index": 0, "prompt": prompt, "answer": answer}


def uniner_case(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    ex = data[0]
    turns = ex["conversations"]
    roles = {"human": "USER", "gpt": "ASSISTANT"}
    seps = [" ", "</s>"]
    # FastChat: system + sep, then role + ": " + message + seps[i % 2]; the answer turn is left open ("ASSISTANT:").
    text = SYSTEM + seps[0]
    for i, t in enumerate(turns[:-1]):
        text += roles[t["from"]] + ": " + t["value"] + seps[i % 2]
    text += roles[turns[-1]["from"]] + ":"
    return {"file": os.path.basename(path), "id": ex["id"], "prompt": text, "answer": turns[-1]["value"]}


def main():
    with open(shared_data("ecomgpt", "held_out_tasks.txt"), encoding="utf-8") as f:
        held_out = [l.strip() for l in f.read().splitlines() if l.strip()]
    uni_dir = shared_data("universal_ner")
    out = {
        "provenance": provenance("gen_instruct.py", source="../shared/data (EcomGPT held-out tasks, UniversalNER test data)"),
        "ecomgpt": [ecomgpt_case(n) for n in held_out],
        "universal_ner": [uniner_case(os.path.join(uni_dir, n)) for n in sorted(os.listdir(uni_dir)) if n.endswith(".json")],
    }
    write_json(fixture_path("instruct", "golden_prompts.json"), out)


if __name__ == "__main__":
    main()

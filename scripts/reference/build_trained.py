"""Rebuilds the fixtures that our own tools write (not the Python references), deterministically:

- ours-ckpt: Tests/Fixtures/train/ours-ckpt (config.json + model.safetensors): `ecom-train` for 5 steps from
  Tests/Fixtures/model/tiny-f32 on a few classification examples written here, packed with a byte-level BPE
  tokenizer of at most 64 ids built here from their text (the tiny model's vocabulary is 64).
  scripts/reference/gen_train_ckpt.py then records HF's logits on it.
- eval-e2e: Tests/Fixtures/eval/ (the end-to-end evaluation fixture of Tests/EvalTests/EvalEndToEndTests.swift):
  a tiny BLOOM (`ecom-eval random-model`, hidden 32) tuned by `ecom-train` on examples written here, a task set in
  EcomGPT's and UniversalNER's layouts (also written here, disjoint from the training examples), and the
  predictions `ecom-eval` makes on it. scripts/reference/gen_eval_e2e.py then scores those predictions with the
  reference scorers.

Each fixture directory gets a provenance.json (command lines, seeds, the tools' git commit and swift version, the
SHA-256 of every file). Training runs with one thread, so a rebuild on the same build is bit-identical (the script
checks it with --check: it rebuilds into a temporary directory and compares bytes with the committed files).

Usage: scripts/reference/.venv/bin/python scripts/reference/build_trained.py [ours-ckpt|eval-e2e ...] [--check]
Tools: $ECOM_BIN (a directory holding ecom-data, ecom-tokenizer, ecom-train, ecom-eval), else they are built with
`swift build -c release --scratch-path .build-ref`.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from provenance import fixture_path, provenance

ROOT = os.environ.get("ECOM_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOLS = ["ecom-data", "ecom-tokenizer", "ecom-train", "ecom-eval"]


def tools():
    b = os.environ.get("ECOM_BIN")
    if not b:
        scratch = os.path.join(ROOT, ".build-ref")
        for t in TOOLS:
            subprocess.run(["swift", "build", "-c", "release", "--scratch-path", scratch, "--product", t], cwd=ROOT, check=True)
        b = os.path.join(scratch, "release")
    return {t: os.path.join(b, t) for t in TOOLS}


def run(cmd, log):
    """Runs a tool (one thread) and records its command line with paths relative to the work directory."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    log.append(" ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd)))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tool_version():
    def out(cmd):
        try:
            return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None
    dirty = out(["git", "status", "--porcelain", "--", "Sources", "Package.swift"])
    return {"commit": out(["git", "rev-parse", "HEAD"]), "sources_modified": bool(dirty),
            "swift": (out(["swift", "--version"]) or "").split("\n")[0]}


def write_json(path, obj, pretty=True):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2 if pretty else None, sort_keys=pretty)
        f.write("\n")


def write_task(root, dataset, name, meta, rows):
    d = os.path.join(root, dataset, "tasks", name)
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, "meta-info.json"), meta)
    with open(os.path.join(d, "test.json"), "w", encoding="utf-8") as f:
        f.write("\n".join(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows) + "\n")


# ----------------------------------------------------------------------------------------------------------------
# ours-ckpt

OURS_EXAMPLES = [
    ("the battery lasts long and the screen is bright", "good"),
    ("the seller sent the wrong color", "bad"),
    ("great price for a strong bag", "good"),
    ("the shoes fit well but the box was torn", "bad"),
    ("fast delivery, kind seller, good phone", "good"),
    ("the cable broke after a week of use", "bad"),
]
OURS_META = {"task": "EN-Shop-CLS-polarity", "defi": "polarity",
             "test_prompt": {"instruction": "{sentences}\nlabel from: {label_set}.\n### response:"},
             "label_set": {"en": ["good", "bad"]}, "label_key": "en", "label_sep": ", "}


def byte_level(text):
    """HF's ByteLevel characters of a text's UTF-8 bytes (GPT-2's bytes_to_unicode)."""
    keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    table, n = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + n)
            n += 1
    return "".join(table[b] for b in text.encode("utf-8"))


def tokenizer_for(texts, size=64):
    """A byte-level BPE tokenizer.json (HF's format) of at most `size` ids: 4 special tokens, every byte the texts
    use, then merges of the most frequent adjacent pair (ties: the smallest pair) within words split at spaces and
    newlines as GPT-2's pre-tokenizer does, until `size`."""
    specials = ["<unk>", "<s>", "</s>", "<pad>"]
    words = []
    for t in texts:
        for w in re.findall(r" ?[^\s]+|\s+", t):
            words.append(list(byte_level(w)))
    chars = sorted({c for w in words for c in w})
    vocab = {t: i for i, t in enumerate(specials + chars)}
    merges = []
    while len(vocab) < size:
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            break
        pair = min(counts, key=lambda p: (-counts[p], p))
        merges.append(pair)
        vocab[pair[0] + pair[1]] = len(vocab)
        for w in words:
            i = 0
            while i < len(w) - 1:
                if (w[i], w[i + 1]) == pair:
                    w[i:i + 2] = [pair[0] + pair[1]]
                i += 1
    level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                              "normalized": False, "special": True} for i, s in enumerate(specials)],
            "normalizer": None, "pre_tokenizer": level, "post_processor": None, "decoder": level,
            "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab, "merges": [a + " " + b for a, b in merges]}}


def build_ours_ckpt(t, out):
    """Writes config.json + model.safetensors + provenance.json into `out`."""
    log = []
    with tempfile.TemporaryDirectory() as w:
        os.chdir(w)
        write_task("src", "Shop", OURS_META["task"], OURS_META,
                   [{"sentences": s, "labels": {"en": [l]}} for s, l in OURS_EXAMPLES])
        open("held_out.txt", "w").close()
        run([t["ecom-data"], "build", "--ecomgpt", "src", "--held-out", "held_out.txt", "--no-atomic",
             "--validation-fraction", "0", "--seed", "0", "--out", "data"], log)
        text = subprocess.run([t["ecom-data"], "cat", "data", "--text"], check=True, capture_output=True, text=True).stdout
        texts = [json.loads(l)["text"] for l in text.splitlines() if l.strip()]
        write_json("tokenizer.json", tokenizer_for(texts), pretty=False)
        log.append("tokenizer.json: build_trained.tokenizer_for(the texts of `ecom-data cat data --text`)")
        run([t["ecom-data"], "pack", "data", "--tokenizer", "tokenizer.json", "--template", "plain", "--seq-len", "128",
             "--seed", "0", "--out", "packed"], log)
        tiny = os.path.join(ROOT, "Tests", "Fixtures", "model", "tiny-f32")
        run([t["ecom-train"], "--data", "packed", "--init", tiny, "--tokenizer", "tokenizer.json", "--steps", "5",
             "--batch", "2", "--lr", "1e-2", "--schedule", "constant", "--warmup-ratio", "0", "--seed", "42",
             "--threads", "1", "--log-every", "5", "--out", "ckpt"], log)
        log = [c.replace(tiny, "Tests/Fixtures/model/tiny-f32") for c in log]
        os.makedirs(out, exist_ok=True)
        for f in ["config.json", "model.safetensors"]:
            shutil.copyfile(os.path.join("ckpt", f), os.path.join(out, f))
        os.chdir(ROOT)
    write_json(os.path.join(out, "provenance.json"), {"provenance": provenance(
        "build_trained.py", what="ecom-train's output (config.json, model.safetensors; its tokenizer.json, "
        "trainer_state.bin, metrics.jsonl and loss.svg left out); the data and tokenizer are written by the script",
        commands=log, seed=42, threads=1, tools=tool_version(),
        sha256={f: sha256(os.path.join(out, f)) for f in ["config.json", "model.safetensors"]})})


# ----------------------------------------------------------------------------------------------------------------
# eval-e2e: our own examples; the last ones of each list are the test set, the others train.

POLARITY = [
    ("the battery lasts long and charges fast", "good"), ("the screen broke after one day", "bad"),
    ("it is a phone with a case", "neutral"), ("fast delivery and a kind seller", "good"),
    ("the bag smells bad and the zip is broken", "bad"), ("the shoes come in a box", "neutral"),
    ("great sound, I love these headphones", "good"), ("the charger stopped working", "bad"),
    ("the shirt is blue", "neutral"), ("very comfortable chair, good value", "good"),
    ("the kettle leaks water, do not buy", "bad"), ("the lamp has a cable", "neutral"),
    ("good quality and a nice color", "good"), ("the watch arrived broken", "bad"),
    ("the mouse is black", "neutral"), ("the seller was kind and the price good", "good"),
    ("cheap plastic, it broke at once", "bad"), ("the table is made of wood", "neutral"),
    # test
    ("good phone, the battery lasts long", "good"), ("the cable broke after a week", "bad"),
    ("the box is white", "neutral"), ("kind seller, fast delivery", "good"), ("the zip is broken, bad bag", "bad"),
    ("the cup is made of glass", "neutral"),
]
POLARITY_TEST = 6

NER = [  # (sentence, [(term, type)])
    ("Lenovo ThinkPad X1 is light", [("Lenovo", "brand"), ("ThinkPad X1", "product")]),
    ("I bought a Galaxy S21 from Samsung", [("Galaxy S21", "product"), ("Samsung", "brand")]),
    ("the Apple iPhone 12 has a good camera", [("Apple", "brand"), ("iPhone 12", "product")]),
    ("Sony WH-1000 headphones are quiet", [("Sony", "brand"), ("WH-1000", "product")]),
    ("no brand is named here", []),
    ("my Dell XPS 13 is fast", [("Dell", "brand"), ("XPS 13", "product")]),
    ("Nike Air Max shoes fit well", [("Nike", "brand"), ("Air Max", "product")]),
    ("the Canon EOS R camera is heavy", [("Canon", "brand"), ("EOS R", "product")]),
    ("a cheap bag from the market", []),
    ("Lenovo Yoga 7 folds flat", [("Lenovo", "brand"), ("Yoga 7", "product")]),
    ("Samsung makes the Galaxy Tab", [("Samsung", "brand"), ("Galaxy Tab", "product")]),
    ("the Sony PlayStation 5 is loud", [("Sony", "brand"), ("PlayStation 5", "product")]),
    # test
    ("Lenovo ThinkPad X13 is light", [("Lenovo", "brand"), ("ThinkPad X13", "product")]),
    ("I bought a Galaxy S22 from Samsung", [("Galaxy S22", "product"), ("Samsung", "brand")]),
    ("the Apple iPad has a good screen", [("Apple", "brand"), ("iPad", "product")]),
    ("no product is named here", []),
    ("my Dell Inspiron is slow", [("Dell", "brand"), ("Inspiron", "product")]),
]
NER_TEST = 5

UNINER = [  # (text, type, answer list)
    ("The Lenovo store in Beijing sells laptops.", "organization", ["Lenovo"]),
    ("The Lenovo store in Beijing sells laptops.", "location", ["Beijing"]),
    ("Samsung opened an office in Seoul.", "organization", ["Samsung"]),
    ("Samsung opened an office in Seoul.", "location", ["Seoul"]),
    ("Tim Cook spoke for Apple in California.", "person", ["Tim Cook"]),
    ("Tim Cook spoke for Apple in California.", "organization", ["Apple"]),
    ("Jeff Bezos founded Amazon in Seattle.", "person", ["Jeff Bezos"]),
    ("Jeff Bezos founded Amazon in Seattle.", "location", ["Seattle"]),
    ("The parcel went from Paris to Berlin.", "location", ["Paris", "Berlin"]),
    ("The parcel went from Paris to Berlin.", "person", []),
    # test
    ("Sony opened a shop in Tokyo.", "organization", ["Sony"]),
    ("Sony opened a shop in Tokyo.", "location", ["Tokyo"]),
    ("Samsung opened a shop in Seoul.", "organization", ["Samsung"]),
    ("Samsung opened a shop in Seoul.", "location", ["Seoul"]),
    ("The box went from Rome to Paris.", "location", ["Rome", "Paris"]),
    ("The box went from Rome to Paris.", "person", []),
]
UNINER_TEST = 6

CLS_META = {"task": "EN-Shop-CLS-review_polarity", "defi": "review polarity classification",
            "test_prompt": {"instruction": "### Instruction:\n{sentences}\nSelect the polarity of the review from: "
                                           "{label_set}. \n### Response:"},
            "label_set": {"en": ["good", "bad", "neutral"]}, "label_key": "en", "label_sep": ", "}
NER_META = {"task": "EN-Shop-NER-brand_product", "defi": "named entity recognition",
            "test_prompt": {"instruction": "### Instruction:\n{sentences}\nExtract all named entity with type about "
                                           "{label_set} in the sentence. \n### Response:"},
            "label_set": {"en": ["brand", "product"]}, "label_key": "en", "label_sep": ", "}


def ner_row(sentence, spans):
    out = []
    for term, typ in spans:
        start = sentence.index(term, 0)
        out.append({"term": term, "start": start, "end": start + len(term), "type": typ})
    return {"sentences": sentence, "spans": out}


def conversation(i, text, typ, answer):
    return {"id": str(i), "conversations": [
        {"from": "human", "value": "Text: " + text}, {"from": "gpt", "value": "I've read this text."},
        {"from": "human", "value": f"What describes {typ} in the text?"},
        {"from": "gpt", "value": json.dumps(answer, ensure_ascii=False)}]}


def write_eval_sets(root, part):
    """part "train" or "test": EcomGPT task folders under root/ecomgpt and a UniversalNER set under root/uniner."""
    def pick(xs, n):
        return xs[:-n] if part == "train" else xs[-n:]
    eg = os.path.join(root, "ecomgpt")
    write_task(eg, "Shop", CLS_META["task"], CLS_META,
               [{"sentences": s, "labels": {"en": [l]}} for s, l in pick(POLARITY, POLARITY_TEST)])
    write_task(eg, "Shop", NER_META["task"], NER_META, [ner_row(s, sp) for s, sp in pick(NER, NER_TEST)])
    with open(os.path.join(eg, "held_out_tasks.txt"), "w") as f:
        f.write("" if part == "train" else CLS_META["task"] + "\n" + NER_META["task"] + "\n")
    un = os.path.join(root, "uniner")
    os.makedirs(un, exist_ok=True)
    write_json(os.path.join(un, "Shop_NER.json"),
               [conversation(i, *x) for i, x in enumerate(pick(UNINER, UNINER_TEST))], pretty=False)


# The evaluation settings the Swift test uses too (EvalEndToEndTests.request).
EVAL_ARGS = ["--beams", "2", "--max-new-tokens", "24", "--uniner-max-new-tokens", "16", "--batch-size", "2",
             "--workers", "1", "--threads", "1", "--seed", "11", "--resamples", "0", "--quiet"]


def build_eval_e2e(t, out):
    """Writes out/{ecomgpt,uniner} (test set), out/model (config.json, model.safetensors, tokenizer.json),
    out/predictions.jsonl and out/provenance.json."""
    log = []
    with tempfile.TemporaryDirectory() as w:
        os.chdir(w)
        write_eval_sets("train", "train")
        corpus = []
        for s, _ in POLARITY:
            corpus.append(s)
        for s, _ in NER:
            corpus.append(s)
        for x in UNINER:
            corpus.append(x[0])
        corpus += [CLS_META["test_prompt"]["instruction"], NER_META["test_prompt"]["instruction"],
                   "good, bad, neutral", "brand: None\nproduct: None", "What describes organization in the text?"]
        with open("corpus.txt", "w", encoding="utf-8") as f:
            f.write("\n".join(corpus * 3) + "\n")
        run([t["ecom-tokenizer"], "train", "--corpus", "corpus.txt", "--vocab-size", "512", "--output", "tokenizer.json"], log)
        run([t["ecom-eval"], "random-model", "--tokenizer", "tokenizer.json", "--hidden", "32", "--layers", "2",
             "--heads", "4", "--seed", "7", "--out", "init"], log)
        run([t["ecom-data"], "build", "--ecomgpt", "train/ecomgpt", "--uniner", "train/uniner",
             "--held-out", "train/ecomgpt/held_out_tasks.txt", "--no-atomic", "--validation-fraction", "0",
             "--seed", "0", "--out", "data"], log)
        run([t["ecom-data"], "pack", "data", "--tokenizer", "tokenizer.json", "--template", "plain",
             "--seq-len", "256", "--seed", "0", "--out", "packed"], log)
        run([t["ecom-train"], "--data", "packed", "--init", "init", "--tokenizer", "tokenizer.json", "--steps", "300",
             "--batch", "4", "--lr", "1e-2", "--schedule", "cosine", "--warmup-ratio", "0.05", "--seed", "42",
             "--threads", "1", "--log-every", "100", "--out", "model"], log)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(os.path.join(out, "model"))
        for f in ["config.json", "model.safetensors", "tokenizer.json"]:
            shutil.copyfile(os.path.join("model", f), os.path.join(out, "model", f))
        os.chdir(ROOT)
    write_eval_sets(out, "test")
    with tempfile.TemporaryDirectory() as w:
        run([t["ecom-eval"], "run", "--model", os.path.join(out, "model"), "--ecomgpt", os.path.join(out, "ecomgpt"),
             "--uniner", os.path.join(out, "uniner"), *EVAL_ARGS, "--out", w], log)
        log[-1] = log[-1].replace(w, "OUT")
        shutil.copyfile(os.path.join(w, "predictions.jsonl"), os.path.join(out, "predictions.jsonl"))
    log = [c.replace(out + "/", "Tests/Fixtures/eval/").replace(out, "Tests/Fixtures/eval") for c in log]
    files = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs
                   if f not in ("provenance.json", "expected_scores.json"))
    write_json(os.path.join(out, "provenance.json"), {"provenance": provenance(
        "build_trained.py", what="a tiny BLOOM tuned by ecom-train on examples written in the script, the task set "
        "(our own examples, disjoint from training) and ecom-eval's predictions on it; scores: gen_eval_e2e.py",
        commands=log, seeds={"random_model": 7, "train": 42, "eval": 11}, threads=1, tools=tool_version(),
        eval_args=EVAL_ARGS, sha256={f: sha256(os.path.join(out, f)) for f in files})})


BUILDERS = {"ours-ckpt": (build_ours_ckpt, ("train", "ours-ckpt")), "eval-e2e": (build_eval_e2e, ("eval",))}


def same_bytes(a, b, skip=("provenance.json", "expected_scores.json")):
    """Relative paths whose bytes differ between two directories (provenance files left out: dates)."""
    def files(d):
        return {os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs if f not in skip}
    fa, fb = files(a), files(b)
    diff = sorted(fa ^ fb)
    diff += sorted(f for f in fa & fb if sha256(os.path.join(a, f)) != sha256(os.path.join(b, f)))
    return diff


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    check = "--check" in sys.argv
    names = args or list(BUILDERS)
    t = tools()
    failed = False
    for n in names:
        build, parts = BUILDERS[n]
        target = fixture_path(*parts, "x")[:-2]
        if check:
            with tempfile.TemporaryDirectory() as w:
                build(t, os.path.join(w, "out"))
                diff = same_bytes(target, os.path.join(w, "out"))
            print(f"build_trained: {n}: " + ("rebuilt bit for bit" if not diff else f"differs: {diff}"))
            failed |= bool(diff)
        else:
            build(t, target)
            print(f"build_trained: {n}: wrote {os.path.relpath(target, ROOT)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

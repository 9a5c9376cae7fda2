#!/usr/bin/env python3
"""Compares an output directory that was killed and resumed with an uninterrupted run's (scripts/soak.sh; Python
standard library only). Prints each difference and exits 1 when there is one, 0 when the two are equal.

  compare.py train REF OUT     ecom-train: every file byte for byte (weights, config, tokenizer, loss.svg), except
                               trainer_state.bin (its JSON header without elapsed_s, then the AdamW moments byte for
                               byte) and metrics.jsonl (the same records in the same order, tokens_per_s and
                               elapsed_s aside); no temporary files or staging directories left behind
  compare.py eval REF OUT      ecom-eval: predictions.jsonl (the same examples, each the same object; appended in
                               completion order, so compared by task and id, and each example once), summary.json
                               without generated_this_run and seconds_this_run, eval-config.json
  compare.py shards REF OUT    ecom-data build/pack: manifest.json and every file of the directory byte for byte
  compare.py distill REF OUT   ecom-distill: manifest.json and the shards byte for byte, summary.json without the
                               per-run counters (requests, answers, cached, retries) and the output path
  compare.py state DIR         prints a trainer_state.bin's step and data position ("step 3 epoch 0 consumed 6")
"""
import json
import os
import struct
import sys

WALL_CLOCK_METRICS = ("tokens_per_s", "elapsed_s")
WALL_CLOCK_STATE = ("elapsed_s",)
EVAL_RUN_FIELDS = ("generated_this_run", "seconds_this_run")
DISTILL_RUN_FIELDS = ("requests", "answers", "cached", "retries", "output")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def files(d):
    """Regular files directly in d (names), and the hidden entries (temporary files, staging directories)."""
    names = sorted(os.listdir(d))
    return [n for n in names if not n.startswith(".") and os.path.isfile(os.path.join(d, n))], [n for n in names if n.startswith(".")]


def trainer_state(path):
    """(JSON header, AdamW moments as bytes) of a trainer_state.bin (Docs/FORMATS.md)."""
    data = read(path)
    if data[:8] != b"ECOMTRNS":
        raise ValueError("%s: not a trainer state (magic %r)" % (path, data[:8]))
    version, h = struct.unpack_from("<II", data, 8)
    header = json.loads(data[16:16 + h])
    start = (16 + h + 3) // 4 * 4
    return header, data[start:]


def first_difference(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class Comparison:
    def __init__(self, ref, out):
        self.ref, self.out, self.problems = ref, out, []

    def fail(self, message):
        self.problems.append(message)

    def same_bytes(self, name):
        a, b = os.path.join(self.ref, name), os.path.join(self.out, name)
        if not os.path.exists(b):
            self.fail("%s: missing" % b)
            return
        x, y = read(a), read(b)
        if x != y:
            self.fail("%s: differs from %s (%d vs %d bytes, first difference at byte %d)" % (b, a, len(y), len(x), first_difference(x, y)))

    def same_file_set(self):
        ref_files, _ = files(self.ref)
        out_files, hidden = files(self.out)
        if ref_files != out_files:
            self.fail("%s: files %s, the uninterrupted run has %s" % (self.out, out_files, ref_files))
        if hidden:
            self.fail("%s: left behind %s (temporary files or staging directories of interrupted writes)" % (self.out, hidden))
        return [n for n in ref_files if n in out_files]

    def same_json(self, name, drop=(), load=None):
        a, b = os.path.join(self.ref, name), os.path.join(self.out, name)
        if not os.path.exists(b):
            self.fail("%s: missing" % b)
            return
        x, y = (load or (lambda p: json.loads(read(p))))(a), (load or (lambda p: json.loads(read(p))))(b)
        for k in drop:
            x.pop(k, None)
            y.pop(k, None)
        if x != y:
            keys = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k)) if isinstance(x, dict) and isinstance(y, dict) else []
            self.fail("%s: differs from %s%s" % (b, a, " in " + ", ".join(keys) if keys else ""))

    def report(self, what):
        for p in self.problems:
            print("  differs: " + p)
        if not self.problems:
            print("  equal: %s" % what)
        return 1 if self.problems else 0


def compare_train(ref, out):
    c = Comparison(ref, out)
    for name in c.same_file_set():
        if name == "trainer_state.bin":
            (hx, mx), (hy, my) = trainer_state(os.path.join(ref, name)), trainer_state(os.path.join(out, name))
            for k in WALL_CLOCK_STATE:
                hx.pop(k, None)
                hy.pop(k, None)
            if hx != hy:
                keys = sorted(k for k in set(hx) | set(hy) if hx.get(k) != hy.get(k))
                c.fail("%s: header differs in %s: %s vs %s" % (os.path.join(out, name), keys, {k: hy.get(k) for k in keys}, {k: hx.get(k) for k in keys}))
            if mx != my:
                c.fail("%s: AdamW moments differ (first difference at byte %d of %d)" % (os.path.join(out, name), first_difference(mx, my), len(mx)))
        elif name == "metrics.jsonl":
            def records(p):
                rows = []
                for line in read(p).decode().splitlines():
                    r = json.loads(line)
                    for k in WALL_CLOCK_METRICS:
                        r.pop(k, None)
                    rows.append(r)
                return rows
            x, y = records(os.path.join(ref, name)), records(os.path.join(out, name))
            if x != y:
                steps = [r.get("step") for r in y]
                bad = next((i for i in range(min(len(x), len(y))) if x[i] != y[i]), min(len(x), len(y)))
                c.fail("%s: %d records (steps %s), the uninterrupted run has %d; first difference at record %d: %s vs %s"
                       % (os.path.join(out, name), len(y), steps, len(x), bad + 1, y[bad] if bad < len(y) else None, x[bad] if bad < len(x) else None))
        else:
            c.same_bytes(name)
    return c.report("weights, optimizer moments, data position, schedule and losses")


def compare_eval(ref, out):
    c = Comparison(ref, out)
    def predictions(d):
        path = os.path.join(d, "predictions.jsonl")
        rows, seen, dupes = {}, set(), []
        for line in read(path).decode().splitlines():
            p = json.loads(line)
            key = (p["task"], p["id"])
            if key in seen:
                dupes.append(key)
            seen.add(key)
            rows.setdefault(key, p)
        return rows, dupes
    x, _ = predictions(ref)
    y, dupes = predictions(out)
    if dupes:
        c.fail("%s/predictions.jsonl: %d examples stored more than once (%s...)" % (out, len(dupes), dupes[:3]))
    missing, extra = sorted(set(x) - set(y)), sorted(set(y) - set(x))
    if missing or extra:
        c.fail("%s/predictions.jsonl: %d examples missing %s, %d extra %s" % (out, len(missing), missing[:3], len(extra), extra[:3]))
    differing = sorted(k for k in set(x) & set(y) if x[k] != y[k])
    if differing:
        k = differing[0]
        c.fail("%s/predictions.jsonl: %d examples differ, e.g. %s: %s" % (out, len(differing), k, sorted(f for f in set(x[k]) | set(y[k]) if x[k].get(f) != y[k].get(f))))
    c.same_json("summary.json", drop=EVAL_RUN_FIELDS)
    c.same_json("eval-config.json")
    _, hidden = files(out)
    if hidden:
        c.fail("%s: left behind %s" % (out, hidden))
    return c.report("%d predictions, summary and configuration" % len(x))


def compare_shards(ref, out):
    c = Comparison(ref, out)
    for name in c.same_file_set():
        c.same_bytes(name)
    return c.report("manifest and every shard byte for byte")


def compare_distill(ref, out):
    c = Comparison(ref, out)
    manifest = json.loads(read(os.path.join(ref, "manifest.json")))
    c.same_bytes("manifest.json")
    for s in manifest["shards"]:
        c.same_bytes(s["file"])
    c.same_json("summary.json", drop=DISTILL_RUN_FIELDS)
    _, hidden = files(out)
    if hidden:
        c.fail("%s: left behind %s" % (out, hidden))
    return c.report("manifest, %d shards and summary" % len(manifest["shards"]))


def state(d):
    h, _ = trainer_state(os.path.join(d, "trainer_state.bin"))
    print("step %d epoch %d consumed %d" % (h["step"], h["data_position"]["epoch"], h["data_position"]["consumed"]))
    return 0


def main(argv):
    commands = {"train": compare_train, "eval": compare_eval, "shards": compare_shards, "distill": compare_distill}
    if len(argv) == 3 and argv[1] == "state":
        return state(argv[2])
    if len(argv) != 4 or argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[argv[1]](argv[2], argv[3])


if __name__ == "__main__":
    sys.exit(main(sys.argv))

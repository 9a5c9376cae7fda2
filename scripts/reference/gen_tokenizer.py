"""Golden fixtures for EcomTokenizer (Tests/Fixtures/tokenizer/), from HF tokenizers.

- bloom_small.json / gpt2_small.json: byte-level BPEs trained here with HF's BpeTrainer on all text of the shared
  data, one configured as BLOOM (Split on BLOOM's regex, ByteLevel without prefix space or regex), one as GPT-2
  (ByteLevel with the GPT-2 regex, TemplateProcessing <s> $A </s>).
- cases.json: for each tokenizer (the two above, pre-tokenizer/normalizer/added-token variants of them, and, when
  present, the shared BLOOM tokenizer ../shared/data/bloom/tokenizer.json): HF's ids (with and without special
  tokens), byte offsets and decodes of an edge-case list and of real lines sampled from the shared data, and
  decodes of seeded random id lists.
- trainer.json: a small corpus, HF's trainer output on it (vocab, merges) for the Swift trainer test.

Optionally (ECOM_OUR_TRAINED=path to a tokenizer.json written by `ecom-tokenizer train`, ECOM_OUR_TRAINED_IDS=a JSON
Lines file of {"text", "ids"} written by our encoder with it): loads our file in HF and reports whether HF encodes
those texts identically. This only prints; it writes no fixture.
"""
import copy
import json
import os
import random
import sys

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from provenance import fixture_path, provenance, shared_data, write_json
from shared_text import shared_texts

BLOOM_REGEX = " ?[^(\\s|[.,!?…。，、।۔،])]+"
SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]
SEED = 1234

EDGE_CASES = [
    "", " ", "  ", "     ", "a", " a", "a ", "  a  b   c ", "\n", "\r\n", "line1\r\nline2\n\nline3", "\t", "a\tb\t\tc",
    " \t \n ", "Hello, world! How are you?", "I'm here, they're there, we've, I'll, he'd, 'tis, '' ''",
    "don't DON'T o'clock", "👨‍👩‍👧‍👦 family", "👍🏽👍🏿 thumbs", "🇨🇳🇺🇸🇫🇷 flags", "e\u0301 a\u0308 n\u0303o\u0301",
    "zero\u200bwidth\u200b space", "ＦＵＬＬ ｗｉｄｔｈ！？（）", "你好，世界。这是测试、对吗？", "「引号」《书名》【括号】",
    "नमस्ते। दुनिया।।", "مرحبا، عالم۔ كيف؟", "(parens) [brackets] {braces} |pipes| a|b (a)[b]", "((()))[[[]]]|||",
    "1234567890123456789012345678901234567890", "3.14159 2,718 1e10 0x1F", "价格：¥199.00元，优惠50%！",
    "<s>inside</s> text <pad> <unk>", "a<s>b</s>c", "<s><s></s>", "x" * 300, "a" * 300, "中" * 300,
    "...!!!???,,,", "…。，、।۔،", "\u00a0nbsp\u3000ideographic\u2028sep", "tabs\t\tand  spaces   mixed \t\n",
    "mixed English和中文text混合", "email@example.com https://example.com/path?q=1&r=2", "#hashtag @mention $100",
    "   leading", "trailing   ", "\x00\x01\x1f\x7f control", "ǅ ǈ titlecase", "Ⅻ ⅷ roman ² ³ ½", "ﬁ ligature ㎏",
    "Iñtërnâtiônàlizætiøn", "😀😃😄😁😆😅😂🤣", "a\u0300\u0301\u0302\u0303 stacked", "ㄱㅏ 가 각",
]


def bloom_configured():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(BLOOM_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.decoder = decoders.ByteLevel()
    return tok


def gpt2_configured():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B </s>", special_tokens=[("<s>", 1), ("</s>", 2)])
    tok.decoder = decoders.ByteLevel()
    return tok


def train(tok, texts, vocab_size, min_frequency=2):
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return tok


def byte_offsets(text, offsets):
    """HF reports character offsets; convert to UTF-8 byte offsets."""
    pos = [0]
    for ch in text:
        pos.append(pos[-1] + len(ch.encode("utf-8")))
    return [[pos[a], pos[b]] for a, b in offsets]


def variants(base_json):
    """Pre-tokenizer, normalizer and added-token variants of a trained BLOOM-configured file."""
    out = {}
    def with_pre(name, pre):
        d = copy.deepcopy(base_json); d["pre_tokenizer"] = pre; out[name] = d
    bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
    split = lambda pattern, behavior, invert=False: {"type": "Split", "pattern": pattern, "behavior": behavior, "invert": invert}
    for behavior in ["Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous"]:
        for invert in [False, True]:
            with_pre(f"split_{behavior}_{'inv' if invert else 'fwd'}",
                     {"type": "Sequence", "pretokenizers": [split({"Regex": BLOOM_REGEX}, behavior, invert), bl]})
    with_pre("split_string_isolated", {"type": "Sequence", "pretokenizers": [split({"String": "|"}, "Isolated"), bl]})
    with_pre("split_string_merged_next", {"type": "Sequence", "pretokenizers": [split({"String": " "}, "MergedWithNext"), bl]})
    with_pre("bytelevel_prefix_regex", {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True})
    with_pre("bytelevel_prefix_noregex", {"type": "Sequence", "pretokenizers": [
        split({"Regex": BLOOM_REGEX}, "Isolated"), {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": False}]})
    d = copy.deepcopy(base_json)
    d["normalizer"] = {"type": "NFKC"}
    d["post_processor"] = {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
         "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
         "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}]}
    n = max(t["id"] for t in d["added_tokens"]) + 1
    n = max(n, max(d["model"]["vocab"].values()) + 1)
    extra = [("<mask>", True, True, False, False, False), ("[NEW]", False, False, False, True, True),
             ("ｆｏｏ", False, False, False, False, True), ("<sep>", True, False, True, False, False),
             ("你好", False, False, False, False, False)]
    for i, (content, special, lstrip, rstrip, single_word, normalized) in enumerate(extra):
        d["added_tokens"].append({"id": n + i, "content": content, "single_word": single_word, "lstrip": lstrip,
                                  "rstrip": rstrip, "normalized": normalized, "special": special})
    out["nfkc_added_tokens"] = d
    d = copy.deepcopy(base_json)
    d["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFC"}]}
    out["nfc"] = d
    return out


VARIANT_EXTRA_CASES = ["a <mask> b", "x<mask>y", "[NEW] a[NEW] [NEW]b [NEW]", "ｆｏｏ foo", "a <sep>  b", "你好你好 好你",
                       "Ｈｅｌｌｏ ＷＯＲＬＤ ①②③ ﬁ", "e\u0301 Å Å", "<s> a </s>"]


def record(tok, texts, rng, with_offsets=True):
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    cases = []
    for text in texts:
        enc = tok.encode(text, add_special_tokens=False)
        enc_sp = tok.encode(text, add_special_tokens=True)
        case = {"text": text, "ids": enc.ids, "ids_special": enc_sp.ids,
                "decoded": tok.decode(enc.ids, skip_special_tokens=False),
                "decoded_skip": tok.decode(enc.ids, skip_special_tokens=True)}
        if with_offsets:
            case["offsets"] = byte_offsets(text, enc.offsets)
        cases.append(case)
    randoms = []
    for _ in range(40):
        ids = [rng.randrange(vocab_size) for _ in range(rng.randrange(1, 12))]
        if rng.random() < 0.5:
            ids.insert(rng.randrange(len(ids) + 1), rng.randrange(4))
        randoms.append({"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                        "decoded_skip": tok.decode(ids, skip_special_tokens=True)})
    return {"vocab_size": vocab_size, "cases": cases, "random_decodes": randoms}


def check_ours():
    path, ids_path = os.environ.get("ECOM_OUR_TRAINED"), os.environ.get("ECOM_OUR_TRAINED_IDS")
    if not path or not os.path.exists(path):
        return
    tok = Tokenizer.from_file(path)
    total = same = 0
    if ids_path and os.path.exists(ids_path):
        with open(ids_path, encoding="utf-8") as f:
            for line in f:
                obj = json.loads(line)
                total += 1
                same += tok.encode(obj["text"], add_special_tokens=False).ids == obj["ids"]
    print(f"gen_tokenizer: HF loaded our trained {path} (vocab {tok.get_vocab_size()}); "
          f"identical encodings {same}/{total}", file=sys.stderr)


def main():
    rng = random.Random(SEED)
    texts = shared_texts()
    bloom = train(bloom_configured(), texts, vocab_size=6000)
    gpt2 = train(gpt2_configured(), texts, vocab_size=3000)
    bloom.save(fixture_path("tokenizer", "bloom_small.json"))
    gpt2.save(fixture_path("tokenizer", "gpt2_small.json"))

    real = [t[:200] for t in rng.sample(texts, 900)]
    tokenizers = {"bloom_small": (bloom, EDGE_CASES + real), "gpt2_small": (gpt2, EDGE_CASES + real[:300])}
    base_json = json.loads(bloom.to_str())
    var_texts = EDGE_CASES + VARIANT_EXTRA_CASES + real[:60]
    for name, d in variants(base_json).items():
        tokenizers["variant_" + name] = (Tokenizer.from_str(json.dumps(d)), var_texts)
    shared_bloom = shared_data("bloom", "tokenizer.json")
    if os.path.exists(shared_bloom):
        tokenizers["shared_bloom"] = (Tokenizer.from_file(shared_bloom), EDGE_CASES + real[:400])
    result = {}
    for name, (tok, cases) in tokenizers.items():
        result[name] = record(tok, cases, rng)
        if name.startswith("variant_"):
            full = json.loads(tok.to_str())
            result[name]["base"] = "bloom_small"
            result[name]["patch"] = {k: full[k] for k in ("normalizer", "pre_tokenizer", "post_processor", "added_tokens")}
    write_json(fixture_path("tokenizer", "cases.json"),
               {"provenance": provenance("gen_tokenizer.py", seed=SEED, edge_cases=len(EDGE_CASES), real_lines=len(real),
                                         shared_texts=len(texts)),
                "tokenizers": result})

    # Trainer: HF's BpeTrainer on a small fixed corpus (the first texts of each shared file kind).
    small = [t[:200] for t in texts[:: max(1, len(texts) // 1200)]][:1200]
    trained = {}
    for preset, make, vocab_size, min_freq in [("bloom", bloom_configured, 700, 2), ("gpt2", gpt2_configured, 500, 3)]:
        tok = train(make(), small, vocab_size, min_freq)
        model = json.loads(tok.to_str())["model"]
        probe = EDGE_CASES[:20] + small[:50]
        trained[preset] = {"vocab_size": vocab_size, "min_frequency": min_freq, "vocab": model["vocab"],
                           "merges": model["merges"],
                           "encodings": [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in probe]}
    write_json(fixture_path("tokenizer", "trainer.json"),
               {"provenance": provenance("gen_tokenizer.py", corpus=len(small)), "special_tokens": SPECIALS,
                "corpus": small, "trained": trained})
    check_ours()


if __name__ == "__main__":
    main()

"""Writes the fuzz targets' seed corpora (Tests/Fuzz/Corpus/TARGET): small valid inputs, made with the reference
packages (safetensors, gguf, tokenizers) where a format has one, and near-valid variants of them (truncated, an offset
or size off by one, a wrong type). Seeds are inputs, not expected values. Run with scripts/reference's venv:

    scripts/reference/.venv/bin/python Tests/Fuzz/make_seeds.py

The shard seeds come from `ecom-data build` / `pack` (Ecom's own format): see make_shard_seeds.sh.
"""
import json
import os
import struct
import tempfile

import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType
from safetensors.numpy import save
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, normalizers, trainers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")


def put(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


def variants(target, stem, data):
    """The file itself, truncated at a third and minus its last byte."""
    put(target, stem, data)
    put(target, stem + ".cut3", data[: len(data) // 3])
    put(target, stem + ".cut1", data[:-1])


# safetensors: every dtype the reader knows, a scalar, an empty tensor, metadata; then hostile headers by hand.
rng = np.random.default_rng(0)
variants("safetensors", "f32.safetensors", save({"a": rng.standard_normal((2, 3)).astype(np.float32)}))
variants("safetensors", "mixed.safetensors", save({
    "w": rng.standard_normal((4,)).astype(np.float16), "i": np.arange(3, dtype=np.int64), "s": np.array(1.5, dtype=np.float32),
    "e": np.zeros((0, 2), dtype=np.float32), "b": np.array([True, False]), "u": np.arange(5, dtype=np.uint8)},
    metadata={"format": "pt"}))


def raw_safetensors(header, data=b""):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


put("safetensors", "overlap.safetensors", raw_safetensors(
    {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8)))
put("safetensors", "past-end.safetensors", raw_safetensors({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8)))
put("safetensors", "big-shape.safetensors", raw_safetensors(
    {"a": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}}))
put("safetensors", "bf16.safetensors", raw_safetensors({"a": {"dtype": "BF16", "shape": [2, 1], "data_offsets": [0, 4]}}, bytes(4)))
put("safetensors", "index.json", json.dumps({"metadata": {"total_size": 12}, "weight_map": {
    "a": "model-00001-of-00001.safetensors", "b": "model-00001-of-00001.safetensors"}}))
put("safetensors", "index-missing.json", json.dumps({"weight_map": {"a": "model-00001-of-00001.safetensors", "c": "other.safetensors"}}))

# GGUF: a complete tiny Llama with a byte-level BPE vocabulary (what ModelBundle loads), in F32, F16 and Q8_0/Q4_0/Q4_1.
vocab = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["Ġ", "Ġa", "ab"]
merges = ["Ġ a", "a b"]


def tiny_llama(path, qtype):
    w = GGUFWriter(path, "llama")
    hidden, ff, heads, kv, layers = 32, 64, 2, 1, 1
    w.add_context_length(64); w.add_embedding_length(hidden); w.add_feed_forward_length(ff); w.add_block_count(layers)
    w.add_head_count(heads); w.add_head_count_kv(kv); w.add_rope_freq_base(10000.0); w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(hidden // heads); w.add_vocab_size(len(vocab))
    w.add_tokenizer_model("gpt2"); w.add_tokenizer_pre("smollm"); w.add_token_list(vocab); w.add_token_merges(merges)
    w.add_token_types([3, 3, 3] + [1] * (len(vocab) - 3)); w.add_bos_token_id(1); w.add_eos_token_id(2)
    w.add_chat_template("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}")
    hd = hidden // heads

    def t(name, shape, quant=True):
        a = rng.standard_normal(shape).astype(np.float32) * 0.1
        if quant and qtype == "f16":
            w.add_tensor(name, a.astype(np.float16))
        elif quant and qtype in ("q8_0", "q4_0", "q4_1"):
            import gguf.quants as q
            kind = {"q8_0": GGMLQuantizationType.Q8_0, "q4_0": GGMLQuantizationType.Q4_0, "q4_1": GGMLQuantizationType.Q4_1}[qtype]
            w.add_tensor(name, q.quantize(a, kind), raw_dtype=kind)
        else:
            w.add_tensor(name, a)
    t("token_embd.weight", (len(vocab), hidden)); t("output_norm.weight", (hidden,), False)
    for l in range(layers):
        t(f"blk.{l}.attn_norm.weight", (hidden,), False); t(f"blk.{l}.ffn_norm.weight", (hidden,), False)
        t(f"blk.{l}.attn_q.weight", (hidden, hidden)); t(f"blk.{l}.attn_k.weight", (kv * hd, hidden))
        t(f"blk.{l}.attn_v.weight", (kv * hd, hidden)); t(f"blk.{l}.attn_output.weight", (hidden, hidden))
        t(f"blk.{l}.ffn_gate.weight", (ff, hidden)); t(f"blk.{l}.ffn_up.weight", (ff, hidden)); t(f"blk.{l}.ffn_down.weight", (hidden, ff))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()


with tempfile.TemporaryDirectory() as tmp:
    for qt in ("f32", "f16", "q8_0", "q4_1"):
        p = os.path.join(tmp, qt + ".gguf")
        tiny_llama(p, qt)
        data = open(p, "rb").read()
        put("gguf", f"llama-{qt}.gguf", data) if qt != "f32" else variants("gguf", "llama-f32.gguf", data)
# The reader's own fixtures: every metadata value type, nested arrays, every block type, general.alignment 64.
for name in ("tiny.gguf", "tiny-align64.gguf"):
    put("gguf", name, open(os.path.join(os.path.dirname(__file__), "..", "Fixtures", "gguf", name), "rb").read())

# tokenizer.json: byte-level BPE (GPT-2 / SmolLM2 style with digits split), BLOOM-style Split, a normalizer, added
# tokens, byte fallback; trained on a few lines so that each file is a few kilobytes.
text = ["Wireless earbuds with noise cancelling, 24h battery.", "Le produit est arrivé cassé !", "商品很好，物流很快。",
        "Price: $19.99 (was 25.00) - 3 colours", "don't can't it's we'll"] * 4


def train(pre, normalizer=None, decoder=None, byte_fallback=False, special=()):
    tok = Tokenizer(models.BPE(byte_fallback=byte_fallback, unk_token=None if not byte_fallback else "<unk>"))
    tok.pre_tokenizer = pre
    if normalizer:
        tok.normalizer = normalizer
    tok.decoder = decoder or decoders.ByteLevel()
    alphabet = pre_tokenizers.ByteLevel.alphabet() if decoder is None else []
    tok.train_from_iterator(text, trainers.BpeTrainer(vocab_size=200, special_tokens=list(special), initial_alphabet=alphabet,
                                                      show_progress=False))
    return tok.to_str()


put("tokenizer", "bytelevel.json", train(pre_tokenizers.ByteLevel(add_prefix_space=False), special=["<|endoftext|>", "<|im_start|>", "<|im_end|>"]))
put("tokenizer", "digits.json", train(pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                                pre_tokenizers.ByteLevel(add_prefix_space=False)]), special=["<s>"]))
put("tokenizer", "split.json", train(pre_tokenizers.Sequence([
    pre_tokenizers.Split(pattern=" ?[^(\\s|[.,!?…。，、।۔،])]+", behavior="isolated"),
    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]), normalizer=normalizers.NFKC(), special=["<unk>", "<s>", "</s>", "<pad>"]))
put("tokenizer", "metaspace.json", train(pre_tokenizers.Metaspace(), decoder=decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]),
                                         byte_fallback=True, special=["<unk>", "<s>"]))
put("tokenizer", "not-bpe.json", json.dumps({"version": "1.0", "model": {"type": "WordPiece", "vocab": {"a": 0}}}))
put("tokenizer", "merge-unknown.json", json.dumps({"version": "1.0", "added_tokens": [{"id": 9, "content": "<x>", "special": True}],
                                                   "model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a c", ["a", "b"]]}}))

# JSON Lines readers: the first byte picks the reader (fuzz-jsonl/main.swift, in order).
jsonl = [
    '{"ids": [1, 2, 3]}\n{"ids": [4], "attention_mask": [1]}\n',
    '{"prompt": "Hello"}\n\n{"prompt": "x", "ids": [1]}\n',
    '{"prediction": "a b c", "reference": "a c"}\n{"prediction": "", "reference": "x"}\n',
    '{"prediction": ["a", "b"], "reference": ["b"]}\n',
    '{"text": "Apple iPhone", "prediction": "brand: Apple", "reference": "brand: Apple; product: iPhone"}\n',
    '{"prediction": "[\\"Apple\\"]", "reference": "[\\"Apple\\", \\"Google\\"]"}\n',
    json.dumps({"id": "t#0", "task_description": "d", "prompt": "p {sentences}", "input": "i", "candidate_labels": ["a"],
                "output": "a", "template": "ecomgpt", "label_separator": ", ",
                "provenance": {"dataset": "D", "task": "t", "task_type": "CLS", "language": "en", "split": "train"}}) + "\n",
    '{"text": "Sony WH-1000XM5 headphones", "source": "s", "language": "en"}\n{"text": "   "}\n',
    '{"text": "ab c"}\n',
    '{"ids": [0, 1, 2, 5]}\n',
    json.dumps({"key": "task/0", "task": "task", "id": "0", "prediction": "yes", "reference": "yes"}) + "\n" + '{"key": "to',
    json.dumps([{"conversations": [{"from": "human", "value": "Text: Apple makes phones."}, {"from": "gpt", "value": "I've read this text."},
                                   {"from": "human", "value": "What describes organisation in the text?"}, {"from": "gpt", "value": "[\"Apple\"]"}]}]),
    json.dumps({"task": "t", "task_type": "CLS", "lang": "en", "defi": "Classify.", "test_prompt": {"instruction": "{sentences} {label_set}"},
                "label_set": ["yes", "no"]}) + "\0" + json.dumps([{"sentences": "a", "label": "yes"}]),
]
for i, body in enumerate(jsonl):
    put("jsonl", f"reader{i:02d}.txt", bytes([i]) + body.encode())

# Server request bodies: the first byte picks the route (fuzz-request/main.swift).
chat = {"model": "m", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "max_tokens": 8,
        "temperature": 0.7, "top_p": 0.9, "stop": ["\n"], "seed": 1, "stream": True, "stream_options": {"include_usage": True}}
requests = [
    (0, json.dumps(chat)), (0, json.dumps({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]})),
    (0, json.dumps({"model": "m", "messages": [], "n": 2})), (0, '{"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 4096}'),
    (1, json.dumps({"model": "m", "prompt": "Once upon", "max_tokens": 4, "stop": "."})), (1, json.dumps({"model": "m", "prompt": ["one"]})),
    (1, '{"model": "m", "prompt": "\\ud800", "temperature": 3}'), (2, ""), (3, ""), (4, json.dumps(chat)),
]
for i, (route, body) in enumerate(requests):
    put("request", f"body{i:02d}.txt", bytes([route]) + body.encode())
print("seeds written to", ROOT)

"""Golden fixtures for the Llama architecture (issue 13): a tiny random LlamaForCausalLM (grouped-query attention,
untied head, a GPT-2-style byte-level BPE vocabulary) written as GGUF with the `gguf` package (several quantization
types, Q/K rows permuted as llama.cpp's converter does), loaded back by transformers (which dequantizes and undoes the
permutation), saved by transformers as an HF directory, and transformers' logits, left-padded batch logits, greedy
and 4-beam continuations and tokenizer ids.
Output: Tests/Fixtures/llama/tiny.gguf, Tests/Fixtures/llama/tiny-hf/, Tests/Fixtures/llama/llama_reference.json.
"""
import copy
import json
import os
import shutil

import numpy as np
import torch
import gguf
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from provenance import fixture_path, provenance, write_json

torch.set_num_threads(1)
rng = np.random.default_rng(20261127)

HIDDEN, INTER, LAYERS, HEADS, KV_HEADS = 64, 128, 2, 4, 2
HEAD_DIM = HIDDEN // HEADS
ROPE_THETA, EPS = 10000.0, 1e-5
Q = gguf.GGMLQuantizationType
# Storage type per tensor (GGUF names): every type Ecom multiplies directly, plus F16/BF16/F32 matrices.
TYPES = {
    "token_embd.weight": Q.Q8_0, "output.weight": Q.F16, "output_norm.weight": Q.F32,
    "blk.0.attn_q.weight": Q.Q4_0, "blk.0.attn_k.weight": Q.Q4_1, "blk.0.attn_v.weight": Q.Q8_0,
    "blk.0.attn_output.weight": Q.F32, "blk.0.ffn_gate.weight": Q.BF16, "blk.0.ffn_up.weight": Q.Q4_1,
    "blk.0.ffn_down.weight": Q.Q8_0,
    "blk.1.attn_q.weight": Q.Q8_0, "blk.1.attn_k.weight": Q.F16, "blk.1.attn_v.weight": Q.Q4_0,
    "blk.1.attn_output.weight": Q.Q4_1, "blk.1.ffn_gate.weight": Q.Q4_0, "blk.1.ffn_up.weight": Q.F16,
    "blk.1.ffn_down.weight": Q.Q4_1,
}


def permute(w, n_head):
    """llama.cpp's convert_hf_to_gguf permutation of q/k rows (rotate-half pairs made adjacent)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def tokenizer_vocab():
    with open(fixture_path("tokenizer", "gpt2_small.json"), encoding="utf-8") as f:
        tok = json.load(f)
    vocab = tok["model"]["vocab"]
    tokens = [None] * len(vocab)
    for t, i in vocab.items():
        tokens[i] = t
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
    types = [gguf.TokenType.CONTROL if i < 4 else gguf.TokenType.NORMAL for i in range(len(tokens))]
    return tokens, merges, types


def write_gguf(path, tokens, merges, types):
    vocab = len(tokens)
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("ecom-tiny-llama")
    w.add_context_length(256)
    w.add_embedding_length(HIDDEN)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(INTER)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_dimension_count(HEAD_DIM)
    w.add_rope_freq_base(ROPE_THETA)
    w.add_layer_norm_rms_eps(EPS)
    w.add_vocab_size(vocab)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_pad_token_id(3)
    w.add_add_bos_token(False)

    def normal(*shape, std):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    tensors = {"token_embd.weight": normal(vocab, HIDDEN, std=1.0), "output.weight": normal(vocab, HIDDEN, std=0.3),
               "output_norm.weight": (1 + normal(HIDDEN, std=0.1))}
    for l in range(LAYERS):
        p = f"blk.{l}."
        tensors[p + "attn_norm.weight"] = 1 + normal(HIDDEN, std=0.1)
        tensors[p + "ffn_norm.weight"] = 1 + normal(HIDDEN, std=0.1)
        tensors[p + "attn_q.weight"] = permute(normal(HEADS * HEAD_DIM, HIDDEN, std=0.3), HEADS)
        tensors[p + "attn_k.weight"] = permute(normal(KV_HEADS * HEAD_DIM, HIDDEN, std=0.3), KV_HEADS)
        tensors[p + "attn_v.weight"] = normal(KV_HEADS * HEAD_DIM, HIDDEN, std=0.3)
        tensors[p + "attn_output.weight"] = normal(HIDDEN, HEADS * HEAD_DIM, std=0.2)
        tensors[p + "ffn_gate.weight"] = normal(INTER, HIDDEN, std=0.3)
        tensors[p + "ffn_up.weight"] = normal(INTER, HIDDEN, std=0.3)
        tensors[p + "ffn_down.weight"] = normal(HIDDEN, INTER, std=0.2)
    for name, value in tensors.items():
        qtype = TYPES.get(name, Q.F32)
        if qtype == Q.F32:
            w.add_tensor(name, value)
        elif qtype == Q.F16:
            w.add_tensor(name, value.astype(np.float16))
        else:
            w.add_tensor(name, gguf.quants.quantize(value, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def subset(row):
    """A fixed sample of a logits row (ids 0..47 and every 61st id), its argmax and log-sum-exp."""
    ids = list(range(48)) + list(range(48, row.shape[-1], 61))
    return {"ids": ids, "values": [float(row[i]) for i in ids], "argmax": int(row.argmax()),
            "logsumexp": float(torch.logsumexp(row.double(), -1))}


def main():
    out_dir = os.path.dirname(fixture_path("llama", "x"))
    gguf_path = os.path.join(out_dir, "tiny.gguf")
    tokens, merges, types = tokenizer_vocab()
    write_gguf(gguf_path, tokens, merges, types)

    model = AutoModelForCausalLM.from_pretrained(out_dir, gguf_file="tiny.gguf", dtype=torch.float32)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(out_dir, gguf_file="tiny.gguf")
    hf_dir = os.path.join(out_dir, "tiny-hf")
    shutil.rmtree(hf_dir, ignore_errors=True)
    # save_pretrained refuses a model loaded from GGUF: write what it would write (tensors, config) by hand.
    os.makedirs(hf_dir)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    save_file(state, os.path.join(hf_dir, "model.safetensors"), metadata={"format": "pt"})
    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.save_pretrained(hf_dir)

    texts = ["Hello world, this is a test.", "商品标题：苹果手机 128GB", "Price: $1,299.99 (incl. 20% VAT)",
             "  leading spaces and\ttabs\nnewline", "émoji 🙂 and accents"]
    tokenizer_cases = [{"text": t, "ids": tokenizer.encode(t, add_special_tokens=False)} for t in texts]

    prompts = [tokenizer.encode(t, add_special_tokens=False)[:10] for t in texts[:3]]
    with torch.no_grad():
        forward = []
        for p in prompts:
            logits = model(torch.tensor([p])).logits[0]
            forward.append({"ids": p, "rows": [subset(logits[i]) for i in range(len(p))]})

        width = max(len(p) for p in prompts)
        ids = torch.tensor([[3] * (width - len(p)) + p for p in prompts])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
        position_ids = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
        batch_logits = model(ids, attention_mask=mask, position_ids=position_ids).logits[:, -1]
        batch = {"ids": ids.tolist(), "attention_mask": mask.tolist(), "last": [subset(r) for r in batch_logits]}

        def generate(p, **kw):
            out = model.generate(torch.tensor([p]), attention_mask=torch.ones(1, len(p), dtype=torch.long),
                                 max_new_tokens=12, pad_token_id=3, eos_token_id=2, do_sample=False, **kw)
            return out[0, len(p):].tolist()
        greedy = [{"prompt": p, "ids": generate(p)} for p in prompts]
        beam = [{"prompt": p, "ids": generate(p, num_beams=4, early_stopping=False, length_penalty=1.0)} for p in prompts]

    config = model.config
    write_json(fixture_path("llama", "llama_reference.json"), {
        "provenance": provenance("gen_llama.py", gguf=gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0",
                                 note="tiny.gguf written by gguf.GGUFWriter; logits from transformers' GGUF loading (f32)"),
        "config": {"vocab_size": config.vocab_size, "hidden_size": config.hidden_size, "layers": config.num_hidden_layers,
                   "heads": config.num_attention_heads, "kv_heads": config.num_key_value_heads,
                   "tie_word_embeddings": config.tie_word_embeddings},
        "tensor_types": {k: v.name for k, v in TYPES.items()},
        "tokenizer": tokenizer_cases, "forward": forward, "batch": batch, "greedy": greedy, "beam": beam,
    })


if __name__ == "__main__":
    main()

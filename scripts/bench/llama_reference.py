"""SmolLM2-135M-Instruct from the same GGUF in the two engines people use on a CPU, 2 threads each, same cases as
bench-llama: transformers (PyTorch f32, weights dequantized by its GGUF loader) and llama.cpp (llama-cpp-python,
n_threads=2, the GGUF's own quantization). Decode: batch 1, 128 new tokens after a 64-token prompt; prefill: 512 tokens.
Usage: llama_reference.py GGUF [QUICK]
"""
import json
import statistics
import sys
import time
import os

import torch

path = sys.argv[1]
quick = len(sys.argv) > 2 and sys.argv[2] == "1"
DECODE = 16 if quick else 128
torch.set_num_threads(2)


def emit(case, value, unit, kind, higher=True):
    print(json.dumps({"bench": "model", "case": case, "value": value, "unit": unit, "higher_is_better": higher,
                      "reference_kind": kind}), flush=True)


def transformers_side():
    from transformers import AutoModelForCausalLM
    folder, name = os.path.split(path)
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    load = time.perf_counter() - t0
    vocab = model.config.vocab_size
    kind = f"transformers LlamaForCausalLM f32 from GGUF, torch {torch.__version__}, 2 threads"
    emit("smollm2 gguf load", load, "s", kind, higher=False)
    prompt = torch.tensor([[(i * 7919) % vocab for i in range(64)]])
    with torch.inference_mode():
        out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        past, token, samples = out.past_key_values, torch.tensor([[5]]), []
        for _ in range(DECODE):
            t0 = time.perf_counter()
            out = model(input_ids=token, past_key_values=past, use_cache=True)
            past = out.past_key_values
            token = out.logits[:, -1].argmax(-1, keepdim=True)
            samples.append(time.perf_counter() - t0)
        long = torch.tensor([[(i * 7919 + 13) % vocab for i in range(512)]])
        times = []
        for _ in range(1 + (1 if quick else 3)):
            t0 = time.perf_counter()
            model(input_ids=long, use_cache=False, logits_to_keep=1)
            times.append(time.perf_counter() - t0)
    for label in ("", " f32 weights"):
        emit(f"smollm2 decode{label}", 1 / statistics.median(samples), "tokens/s", kind)
        emit(f"smollm2 prefill 512{label}", 512 / statistics.median(times[1:]), "tokens/s", kind)


def llama_cpp_side():
    import llama_cpp
    from llama_cpp import Llama
    llm = Llama(model_path=path, n_threads=2, n_threads_batch=2, n_ctx=1024, n_batch=512, verbose=False)
    kind = f"llama.cpp via llama-cpp-python {llama_cpp.__version__}, n_threads=2, GGUF Q4_1"
    vocab = llm.n_vocab()
    prompt = [(i * 7919) % vocab for i in range(64)]
    llm.reset()
    llm.eval(prompt)
    token, samples = 5, []
    for _ in range(DECODE):
        t0 = time.perf_counter()
        llm.eval([token])
        logits = llm.scores[llm.n_tokens - 1]
        token = int(logits.argmax())
        samples.append(time.perf_counter() - t0)
    long = [(i * 7919 + 13) % vocab for i in range(512)]
    times = []
    for _ in range(1 + (1 if quick else 3)):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(long)
        times.append(time.perf_counter() - t0)
    for label in ("", " f32 weights"):
        emit(f"smollm2 decode{label} vs llama.cpp", 1 / statistics.median(samples), "tokens/s", kind)
        emit(f"smollm2 prefill 512{label} vs llama.cpp", 512 / statistics.median(times[1:]), "tokens/s", kind)


transformers_side()
llama_cpp_side()

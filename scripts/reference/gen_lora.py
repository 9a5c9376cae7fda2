"""Golden fixtures for LoRA fine-tuning with packed, document-masked batches, from PEFT + HF transformers + torch on
the CPU, for the tiny Llama (Tests/Fixtures/llama/tiny-hf) and the tiny BLOOM (Tests/Fixtures/model/tiny-f32).
Per model: a PEFT adapter (r 4, alpha 8, every attention and MLP projection; lora_B overwritten with seeded normals so
that lora_A's gradients are not zero) saved in PEFT's layout; the loss and every LoRA gradient for one packed batch
(each document run through the model on its own, positions from 0); the same loss and every gradient with all base
weights trainable and no LoRA; one AdamW step over the LoRA parameters; a 20-step run (AdamW, warm-up + cosine,
global-norm clipping over the LoRA parameters) on fixed packed batches; logits with and without the adapter; and the
weights and logits of merge_and_unload().
Output: Tests/Fixtures/lora/lora_reference.json, Tests/Fixtures/lora/tiny-llama-adapter/,
Tests/Fixtures/lora/tiny-bloom-adapter/.
"""
import os
import shutil

import peft
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors import safe_open
from transformers import AutoModelForCausalLM

from gen_train import cosine_with_warmup
from provenance import fixture_path, provenance, write_json

torch.set_num_threads(1)
HEAD = 8  # values kept per tensor
LOGITS = 16  # vocabulary entries kept per logits row
R, ALPHA = 4, 8
MODELS = {
    "llama": {"base": ("llama", "tiny-hf"), "adapter": "tiny-llama-adapter",
              "targets": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]},
    "bloom": {"base": ("model", "tiny-f32"), "adapter": "tiny-bloom-adapter",
              "targets": ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]},
}
# The main batch's rows: document lengths, then the padding tail (document id 0). Row 2 ends in a one-token document,
# which has no next-token target.
LAYOUT = [([7, 5], 4), ([16], 0), ([3, 9, 1], 3)]


def repo_relative(path):
    return os.path.relpath(path, os.environ.get("ECOM_ROOT") or os.path.join(os.path.dirname(__file__), "..", ".."))


def load(base_dir):
    m = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    m.train()  # dropout is 0 in both configs, so train() and eval() compute the same
    return m


def saved_key(name):
    """The key PEFT writes to adapter_model.safetensors for a parameter name: the adapter name ("default") removed, as
    peft.tuners.tuners_utils._remove_adapter_name_from_state_dict_key does."""
    head, sep, tail = name.rpartition(".default.")
    assert sep, name
    return head + "." + tail


def lora_params(model):
    """(saved key, parameter) for every trainable (LoRA) parameter, in named_parameters() order."""
    return [(saved_key(n), p) for n, p in model.named_parameters() if p.requires_grad]


def random_layout(gen, length):
    """Document lengths (2-10 tokens, the last one cut to fit) and a padding tail of 0-4 positions."""
    pad = int(torch.randint(0, 5, (1,), generator=gen))
    runs, left = [], length - pad
    while left > 0:
        n = min(left, int(torch.randint(2, 11, (1,), generator=gen)))
        runs.append(n)
        left -= n
    return runs, pad


def make_packed(gen, layouts, vocab):
    """ids, targets, documents (B×T int lists) for rows of (document lengths, padding tail). Targets are already shifted:
    targets[t] = ids[t+1] when t+1 is in the same document and is not one of its first 1-3 (prompt) tokens, else -100."""
    ids, targets, documents = [], [], []
    for runs, pad in layouts:
        length = sum(runs) + pad
        row = torch.randint(4, vocab, (length,), generator=gen).tolist()
        tgt, doc = [-100] * length, [0] * length
        start = 0
        for d, n in enumerate(runs, start=1):
            prompt = int(torch.randint(1, 4, (1,), generator=gen))
            for t in range(start, start + n):
                doc[t] = d
                if t + 1 < start + n and t + 1 >= start + prompt:
                    tgt[t] = row[t + 1]
            start += n
        ids.append(row)
        targets.append(tgt)
        documents.append(doc)
    return {"ids": ids, "targets": targets, "documents": documents}


def document_runs(batch):
    """(ids, targets) tensors of every document (id != 0) in the batch, row by row."""
    runs = []
    for ids, tgt, doc in zip(batch["ids"], batch["targets"], batch["documents"]):
        t = 0
        while t < len(ids):
            end = t
            while end < len(ids) and doc[end] == doc[t]:
                end += 1
            if doc[t] != 0:
                runs.append((torch.tensor(ids[t:end]), torch.tensor(tgt[t:end])))
            t = end
    return runs


def packed_loss(model, batch):
    """Sum of token cross-entropies over every document run on its own (positions from 0, attention inside it), divided
    by the number of targets != -100. Returns (loss, count)."""
    total, count = 0.0, 0
    for ids, tgt in document_runs(batch):
        logits = model(input_ids=ids.unsqueeze(0)).logits[0]
        total = total + torch.nn.functional.cross_entropy(logits, tgt, ignore_index=-100, reduction="sum")
        count += int((tgt != -100).sum())
    return total / count, count


def summary(t):
    g = t.detach().flatten()
    return {"norm": float(g.norm()), "head": g[:HEAD].tolist()}


def adamw_for(params, cfg):
    return torch.optim.AdamW(params, lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"],
                             weight_decay=cfg["weight_decay"])


def reference(name, spec, seed):
    base_dir = os.path.dirname(fixture_path(*spec["base"], "config.json"))
    adapter_dir = os.path.dirname(fixture_path("lora", spec["adapter"], "x"))
    gen = torch.Generator().manual_seed(5)

    # 1. The adapter: PEFT's lora_A initialization (seeded), lora_B seeded normals * 0.05 instead of zeros.
    lora = LoraConfig(r=R, lora_alpha=ALPHA, lora_dropout=0.0, target_modules=spec["targets"], bias="none",
                      task_type="CAUSAL_LM")
    torch.manual_seed(seed)
    model = get_peft_model(load(base_dir), lora)
    model.train()
    b_gen = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if ".lora_B." in n:
                p.copy_(torch.randn(p.shape, generator=b_gen) * 0.05)
    model.peft_config["default"].base_model_name_or_path = repo_relative(base_dir)
    model.peft_config["default"].target_modules = spec["targets"]  # PEFT keeps a set: its order would vary per run
    shutil.rmtree(adapter_dir, ignore_errors=True)
    model.save_pretrained(adapter_dir, save_embedding_layers=False)
    readme = os.path.join(adapter_dir, "README.md")  # PEFT's model-card template: not part of the adapter
    if os.path.exists(readme):
        os.remove(readme)
    with safe_open(os.path.join(adapter_dir, "adapter_model.safetensors"), "pt") as f:
        file_keys = set(f.keys())
    params = lora_params(model)
    assert {k for k, _ in params} == file_keys, (sorted(file_keys), [k for k, _ in params])
    assert all(not p.requires_grad for n, p in model.named_parameters() if "lora_" not in n)

    # 2-3. Loss and LoRA gradients for one packed batch.
    batch = make_packed(gen, LAYOUT, model.config.vocab_size)
    loss, count = packed_loss(model, batch)
    loss.backward()
    lora_grads = {k: summary(p.grad) for k, p in params}

    # 5. One AdamW step over the LoRA parameters (from the gradients above).
    adamw = {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1}
    adamw_for([p for _, p in params], adamw).step()
    after = {k: p.detach().flatten()[:HEAD].tolist() for k, p in params}

    # 4. The same loss with every base weight trainable and no LoRA.
    full = load(base_dir)
    full_loss, full_count = packed_loss(full, batch)
    assert full_count == count
    full_loss.backward()
    full_grads = {n: summary(p.grad) for n, p in full.named_parameters()}

    # 6. 20 steps from the saved adapter on fixed packed batches.
    model = PeftModel.from_pretrained(load(base_dir), adapter_dir, is_trainable=True)
    model.train()
    params = lora_params(model)
    run = {"steps": 20, "lr": 3e-3, "warmup_steps": 2, "weight_decay": 0.0, "clip": 1.0, "beta1": 0.9, "beta2": 0.999,
           "eps": 1e-8, "batch": 4, "seq_len": 16}
    opt = adamw_for([p for _, p in params], run)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: cosine_with_warmup(s, run["warmup_steps"], run["steps"]))
    batches, losses, lrs, norms = [], [], [], []
    for _ in range(run["steps"]):
        b = make_packed(gen, [random_layout(gen, run["seq_len"]) for _ in range(run["batch"])], model.config.vocab_size)
        batches.append(b)
        lrs.append(opt.param_groups[0]["lr"])
        loss_s, _ = packed_loss(model, b)
        opt.zero_grad()
        loss_s.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_([p for _, p in params], run["clip"])))
        opt.step()
        sched.step()
        losses.append(float(loss_s.detach()))

    # 7-8. Logits with the saved adapter, without it, and after merge_and_unload().
    ids = torch.randint(4, model.config.vocab_size, (2, 8), generator=gen)
    with torch.no_grad():
        adapted = PeftModel.from_pretrained(load(base_dir), adapter_dir).eval()
        logits = adapted(input_ids=ids).logits
        base_logits = load(base_dir).eval()(input_ids=ids).logits
        merged_model = PeftModel.from_pretrained(load(base_dir), adapter_dir).merge_and_unload().eval()
        merged_logits = merged_model(input_ids=ids).logits
    merged = {n: summary(p) for n, p in merged_model.named_parameters()
              if any(n.endswith(f".{t}.weight") for t in spec["targets"])}
    merge_diff = float((merged_logits - logits).abs().max())
    assert merge_diff < 1e-4, merge_diff

    part = {
        "model": repo_relative(base_dir),
        "adapter": repo_relative(adapter_dir),
        "lora": {"r": R, "alpha": ALPHA, "targets": spec["targets"]},
        "batch": batch,
        "expected": {"loss": float(loss.detach()), "count": count, "lora_grads": lora_grads,
                     "full_loss": float(full_loss.detach()), "full_grads": full_grads, "after_step_head": after},
        "adamw": adamw,
        "run": {**run, "schedule": "cosine", "batches": batches, "losses": losses, "learning_rates": lrs,
                "grad_norms_before_clip": norms},
        "logits": {"ids": ids.tolist(), "argmax": logits.argmax(-1).tolist(), "values": logits[:, :, :LOGITS].tolist(),
                   "base_values": base_logits[:, :, :LOGITS].tolist()},
        "merged": merged,
        "merged_values": merged_logits[:, :, :LOGITS].tolist(),
    }
    print(f"gen_lora: {name}: loss {part['expected']['loss']:.5f} over {count} targets (full {part['expected']['full_loss']:.5f}); "
          f"{len(lora_grads)} LoRA tensors; 20-step run {losses[0]:.4f} -> {losses[-1]:.4f}; "
          f"merged vs adapter logits {merge_diff:.2g}")
    return part


def main():
    parts = {name: reference(name, spec, seed) for seed, (name, spec) in enumerate(MODELS.items())}
    write_json(fixture_path("lora", "lora_reference.json"), {
        "provenance": provenance("gen_lora.py", peft=peft.__version__,
                                 note="targets already shifted (targets[t] is the id at t+1, -100 where not learned); "
                                      "each document (id != 0) runs through the model on its own, positions from 0; "
                                      "loss is the sum of token cross-entropies over all documents divided by the "
                                      "number of targets; adapter keys as PEFT saves them (adapter name removed); BLOOM's "
                                      "full_grads for its tied embeddings include the LM head's"),
        **parts,
    })


if __name__ == "__main__":
    main()

"""Golden fixtures for BLOOM training (issue 8), from HF transformers + torch on CPU, starting from the tiny model
of gen_model.py (Tests/Fixtures/model/tiny-f32): loss and every parameter's gradient for a batch whose prompt tokens
are masked (-100), one torch.optim.AdamW step, and a 20-step run (AdamW, warm-up + cosine schedule, global-norm
clipping) on fixed batches. Output: Tests/Fixtures/train/train_reference.json, whose "grad" part has the shape of
`ecom-model grad --adamw ...` output.
"""
import math

import torch
from transformers import BloomForCausalLM

from provenance import fixture_path, provenance, write_json

torch.set_num_threads(1)
torch.manual_seed(0)
HEAD = 8  # values kept per tensor


def load():
    m = BloomForCausalLM.from_pretrained(fixture_path("model", "tiny-f32"), dtype=torch.float32)
    m.train()  # dropout is 0 in this config, so train() and eval() compute the same
    return m


def make_batch(gen, batch, length, vocab, prompt_range=(2, 6)):
    """Random ids; labels equal to ids with the first k (prompt) tokens and a random padded tail set to -100."""
    ids = torch.randint(4, vocab, (batch, length), generator=gen)
    labels = ids.clone()
    for b in range(batch):
        k = int(torch.randint(*prompt_range, (1,), generator=gen))
        labels[b, :k] = -100
        tail = int(torch.randint(0, 3, (1,), generator=gen))
        if tail:
            labels[b, length - tail:] = -100
    return ids, labels


def grads_summary(model):
    out = {}
    for name, p in model.named_parameters():
        g = p.grad.detach().flatten()
        out[name] = {"norm": float(g.norm()), "head": g[:HEAD].tolist()}
    return out


def cosine_with_warmup(step, warmup, total):
    """HF get_cosine_schedule_with_warmup's multiplier (num_cycles 0.5)."""
    if step < warmup:
        return step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))


def main():
    gen = torch.Generator().manual_seed(5)
    vocab = 64

    # 1. Loss and gradients for one masked batch; then one AdamW step.
    model = load()
    ids, labels = make_batch(gen, 3, 12, vocab)
    loss = model(input_ids=ids, labels=labels).loss
    loss.backward()
    grads = grads_summary(model)
    adamw = {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1}
    opt = torch.optim.AdamW(model.parameters(), lr=adamw["lr"], betas=(adamw["beta1"], adamw["beta2"]),
                            eps=adamw["eps"], weight_decay=adamw["weight_decay"])
    opt.step()
    after = {name: p.detach().flatten()[:HEAD].tolist() for name, p in model.named_parameters()}

    # 2. A 20-step run on fixed batches: AdamW, linear warm-up then cosine, clipping at global norm 1.0.
    model = load()
    run = {"steps": 20, "lr": 3e-3, "warmup_steps": 2, "weight_decay": 0.0, "clip": 1.0, "beta1": 0.9, "beta2": 0.999,
           "eps": 1e-8, "batch": 4, "seq_len": 16}
    opt = torch.optim.AdamW(model.parameters(), lr=run["lr"], betas=(run["beta1"], run["beta2"]), eps=run["eps"],
                            weight_decay=run["weight_decay"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: cosine_with_warmup(s, run["warmup_steps"], run["steps"]))
    batches, losses, lrs, norms = [], [], [], []
    for _ in range(run["steps"]):
        ids_s, labels_s = make_batch(gen, run["batch"], run["seq_len"], vocab)
        batches.append({"ids": ids_s.tolist(), "labels": labels_s.tolist()})
        lrs.append(opt.param_groups[0]["lr"])
        loss_s = model(input_ids=ids_s, labels=labels_s).loss
        opt.zero_grad()
        loss_s.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), run["clip"])))
        opt.step()
        sched.step()
        losses.append(float(loss_s.detach()))

    write_json(fixture_path("train", "train_reference.json"), {
        "provenance": provenance("gen_train.py", model="Tests/Fixtures/model/tiny-f32",
                                 note="labels as HF expects them (shifted inside the model); loss is the mean over "
                                      "non-ignored next-token targets; grads of tied embeddings include the LM head's"),
        "grad": {
            "batch": {"ids": ids.tolist(), "labels": labels.tolist()},
            "adamw": adamw,
            "expected": {"loss": float(loss.detach()), "grads": grads, "after_step_head": after},
        },
        "run": {**run, "schedule": "cosine", "batches": batches, "losses": losses, "learning_rates": lrs,
                "grad_norms_before_clip": norms},
    })
    print(f"gen_train: loss {float(loss.detach()):.5f}; 20-step run {losses[0]:.4f} -> {losses[-1]:.4f}")


if __name__ == "__main__":
    main()

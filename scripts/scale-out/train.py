#!/usr/bin/env python3
"""Fine-tunes a Hugging Face causal LM on Ecom's packed shards with PyTorch distributed: Ecom's data, masks, loss and
schedules on the engines people scale with (torchrun + DDP or FSDP2, DeepSpeed ZeRO-3).

    torchrun --nproc_per_node N scripts/scale-out/train.py --model HF_DIR --data PACKED_DIR --out DIR [options]

One global step consumes batch x world size x accum consecutive sequences of the training stream that `ecom-train
--seed S` reads (ecom_shards.PackedDataset), and its loss is normalised by the learned tokens of all of them, so a run on
W ranks with --batch B equals `ecom-train --batch B*W` on one machine (same losses, gradient norms and updates; checked
by scripts/scale-out/smoke.sh). Writes what `ecom-train` writes: an HF checkpoint or a PEFT adapter, tokenizer.json,
metrics.jsonl (same keys), plus trainer_state.json and optimizer.pt for --resume. Reference semantics: `ecom-train`
(Sources/Trainer/Trainer.swift); schedules as transformers' get_*_schedule_with_warmup.
"""
import argparse
import contextlib
import json
import math
import os
import signal
import sys
import time
import warnings

import torch
import torch.distributed as dist

import batches
from checkpoint import find_tokenizer, load_state, save_checkpoint

LLAMA_TARGETS = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
BLOOM_TARGETS = "query_key_value,dense,dense_h_to_4h,dense_4h_to_h"


warnings.filterwarnings("ignore", category=FutureWarning)  # transformers/peft deprecation notices


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Flags mirror ecom-train's; --batch is per rank.")
    p.add_argument("--model", required=True, help="HF model directory (config.json + safetensors)")
    p.add_argument("--data", required=True, help="packed shard directory (ecom-data pack --out)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--tokenizer", help="tokenizer.json (default: beside the data, else the model's; its hash must match the manifest)")
    p.add_argument("--steps", type=int, help="optimizer steps (default: --epochs over the training split)")
    p.add_argument("--epochs", type=float, default=1.0, help="epochs over the training split when --steps is absent")
    p.add_argument("--batch", type=int, default=8, help="sequences per micro-batch on each rank")
    p.add_argument("--accum", type=int, default=1, help="micro-batches accumulated per step on each rank")
    p.add_argument("--lr", type=float, default=2e-5, help="peak learning rate")
    p.add_argument("--schedule", choices=["constant", "linear", "cosine"], default="cosine", help="decay after the warm-up")
    p.add_argument("--warmup-ratio", type=float, default=0.03, help="fraction of the steps of linear warm-up")
    p.add_argument("--weight-decay", type=float, default=0.0, help="AdamW decoupled weight decay")
    p.add_argument("--decay-all", action="store_true", help="decay biases and norms too (default: matrices only)")
    p.add_argument("--clip", type=float, default=1.0, help="global gradient-norm clip (0: off)")
    p.add_argument("--seed", type=int, default=42, help="data order seed (ecom-train's --seed)")
    p.add_argument("--lora-rank", type=int, help="train PEFT LoRA adapters of this rank instead of every weight")
    p.add_argument("--lora-alpha", type=float, help="LoRA alpha (default 2 x rank)")
    p.add_argument("--lora-targets", help="comma-separated modules (default: every projection of the architecture)")
    p.add_argument("--lora-init", help="start LoRA from this saved PEFT adapter directory")
    p.add_argument("--strategy", choices=["ddp", "fsdp", "deepspeed"], default="ddp",
                   help="ddp (default), fsdp (FSDP2: each decoder layer sharded) or deepspeed (ZeRO-3, pip install deepspeed)")
    p.add_argument("--deepspeed-config", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "zero3.json"),
                   help="DeepSpeed JSON (batch, accumulation, clipping and bf16 come from the flags)")
    p.add_argument("--dtype", choices=["f32", "bf16"], default="f32", help="bf16: autocast with f32 master weights")
    p.add_argument("--attention", choices=["auto", "packed", "split"], default="auto",
                   help="packed: 4D document mask (Llama family); split: one row per document (any model)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: CUDA when available (NCCL), else CPU (gloo)")
    p.add_argument("--eval-every", type=int, default=0, help="validation loss every N steps (0: off)")
    p.add_argument("--eval-batches", type=int, default=20, help="validation micro-batches per evaluation (0: the whole split)")
    p.add_argument("--save-every", type=int, default=0, help="checkpoint every N steps (0: at the end)")
    p.add_argument("--log-every", type=int, default=1)
    p.add_argument("--time-budget", type=float, help="stop cleanly (checkpoint) after this many seconds")
    p.add_argument("--stop-after", type=int, help="stop cleanly (checkpoint) after this many steps of this run")
    p.add_argument("--resume", action="store_true", help="continue from trainer_state.json in --out")
    p.add_argument("--random-init", action="store_true", help="random weights from the model's config.json (throughput runs)")
    a = p.parse_args(argv)
    if a.batch <= 0 or a.accum <= 0:
        p.error("--batch and --accum must be positive")
    if a.lora_init and a.lora_rank:
        p.error("--lora-init takes rank, alpha and targets from the adapter; drop --lora-rank")
    if a.resume and a.strategy == "deepspeed":
        p.error("--resume is implemented for ddp and fsdp (DeepSpeed keeps its own checkpoint format)")
    if not 0 <= a.warmup_ratio <= 1:
        p.error("--warmup-ratio must be in [0, 1]")
    return a


def rate(kind, peak, warmup, total, step):
    """ecom-train's LearningRateSchedule.rate(at:): linear warm-up, then constant, linear or cosine decay."""
    if step < warmup:
        return peak * step / max(1, warmup)
    if kind == "constant":
        return peak
    if kind == "linear":
        return peak * max(0.0, (total - step) / max(1, total - warmup))
    progress = (step - warmup) / max(1, total - warmup)
    return peak * max(0.0, 0.5 * (1 + math.cos(math.pi * progress)))


def clip_gradients(params, max_norm, run, sharded):
    """The global gradient norm before clipping, summed in float64 as ecom-train sums it (torch's clip_grad_norm_
    reduces in float32 and can be 1e-4 off on large embedding gradients), then the clip coefficient
    max_norm / (norm + 1e-6) applied when below 1. FSDP gradients are shards: their squares are summed over ranks."""
    grads = [p.grad for p in params if p.grad is not None]
    sq = torch.zeros((), dtype=torch.float64, device=run.device)
    for g in grads:
        local = g.to_local() if hasattr(g, "to_local") else g
        sq += local.double().square().sum()
    if sharded and run.distributed:
        dist.all_reduce(sq)
    norm = sq.sqrt().item()
    coef = max_norm / (norm + 1e-6)
    if max_norm > 0 and coef < 1:
        for g in grads:
            g.mul_(coef)
    return norm


class Run:
    """The process group, the device and a few collective helpers (a single process works without torchrun)."""

    def __init__(self, device):
        self.distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
        cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
        self.local_rank = int(os.environ.get("LOCAL_RANK", 0))
        self.device = torch.device(f"cuda:{self.local_rank}" if cuda else "cpu")
        if cuda:
            torch.cuda.set_device(self.device)
        if self.distributed:
            dist.init_process_group("nccl" if cuda else "gloo", device_id=self.device if cuda else None)
        self.rank = dist.get_rank() if self.distributed else 0
        self.world = dist.get_world_size() if self.distributed else 1

    def sums(self, *values):
        """Each value (numbers or 0-d tensors) summed over the ranks, in one all-reduce."""
        t = torch.stack([torch.as_tensor(v, dtype=torch.float64, device=self.device) for v in values])
        if self.distributed:
            dist.all_reduce(t)
        return t.tolist()

    def log(self, msg):
        if self.rank == 0:
            print(f"train.py: {msg}", file=sys.stderr, flush=True)


def load_model(a, run):
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    config = AutoConfig.from_pretrained(a.model)
    if a.random_init:
        torch.manual_seed(a.seed)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    else:
        src = a.out if (a.resume and not a.lora_rank and not a.lora_init and os.path.exists(os.path.join(a.out, "config.json"))) else a.model
        model = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32)
    lora_dir = a.out if a.resume and os.path.exists(os.path.join(a.out, "adapter_config.json")) else a.lora_init
    if a.lora_rank or lora_dir:
        from peft import LoraConfig, PeftModel, get_peft_model
        if lora_dir:
            model = PeftModel.from_pretrained(model, lora_dir, is_trainable=True)
            model.peft_config["default"].base_model_name_or_path = os.path.abspath(a.model)
        else:
            default = LLAMA_TARGETS if config.model_type != "bloom" else BLOOM_TARGETS
            targets = [t.strip() for t in (a.lora_targets or default).split(",") if t.strip()]
            torch.manual_seed(a.seed)
            model = get_peft_model(model, LoraConfig(r=a.lora_rank, lora_alpha=a.lora_alpha or 2 * a.lora_rank, lora_dropout=0.0,
                                                     target_modules=targets, task_type="CAUSAL_LM", bias="none"))
            model.peft_config["default"].base_model_name_or_path = os.path.abspath(a.model)
    return model.to(run.device), config


def wrap(model, a, run, decay_groups):
    """(model for forward, optimizer, gradient-sync context factory, unwrapped model)."""
    def adamw(m):
        return torch.optim.AdamW(decay_groups(m), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)

    if a.strategy == "deepspeed":
        import deepspeed
        with open(a.deepspeed_config) as f:
            cfg = json.load(f)
        cfg.update({"train_micro_batch_size_per_gpu": a.batch, "gradient_accumulation_steps": a.accum,
                    "gradient_clipping": a.clip if a.clip > 0 else 0.0, "bf16": {"enabled": a.dtype == "bf16"}})
        engine, opt, _, _ = deepspeed.initialize(model=model, optimizer=adamw(model), config=cfg)
        return engine, opt, lambda last: contextlib.nullcontext(), model
    if a.strategy == "fsdp" and run.distributed:
        from torch.distributed.fsdp import fully_shard
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        for layer in base.model.layers if hasattr(base, "model") and hasattr(base.model, "layers") else base.transformer.h:
            fully_shard(layer)
        fully_shard(model)

        def sync(last):
            model.set_requires_gradient_sync(last)
            return contextlib.nullcontext()
        return model, adamw(model), sync, model
    if run.distributed:
        ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[run.device.index] if run.device.type == "cuda" else None)
        return ddp, adamw(model), (lambda last: contextlib.nullcontext() if last else ddp.no_sync()), model
    return model, adamw(model), lambda last: contextlib.nullcontext(), model


def main(argv=None):
    a = parse_args(argv)
    try:
        from ecom_shards import PackedDataset, read_manifest
    except ImportError:
        sys.exit("train.py: the ecom_shards package is missing: pip install ./python (from the Ecom repository)")

    run = Run(a.device)
    manifest = read_manifest(a.data)
    if manifest.kind != "packed":
        sys.exit(f"train.py: {a.data} holds '{manifest.kind}' shards; training needs the output of `ecom-data pack`")
    tokenizer = find_tokenizer(a, manifest)
    model, config = load_model(a, run)
    mode = a.attention if a.attention != "auto" else ("packed" if config.model_type in batches.PACKED_MODEL_TYPES else "split")
    pad_id = config.pad_token_id if config.pad_token_id is not None else 0
    compute = torch.bfloat16 if a.dtype == "bf16" else torch.float32

    def decay_groups(m):
        params = [(n, p) for n, p in m.named_parameters() if p.requires_grad]
        decay = [p for n, p in params if a.decay_all or p.ndim >= 2]
        rest = [p for n, p in params if not (a.decay_all or p.ndim >= 2)]
        return [{"params": decay, "weight_decay": a.weight_decay}, {"params": rest, "weight_decay": 0.0}]

    model.eval()  # no dropout, as ecom-train (gradients still flow)
    trainable_count = sum(p.numel() for p in model.parameters() if p.requires_grad)  # before sharding hides them
    engine, opt, sync, unwrapped = wrap(model, a, run, decay_groups)
    trainable = [p for p in unwrapped.parameters() if p.requires_grad]

    records = sum(s.records for s in manifest.shards_of("train"))
    if records == 0:
        sys.exit(f"train.py: {a.data}: no training sequences")
    per_step = a.batch * run.world * a.accum
    total = a.steps or max(1, math.ceil(records * a.epochs / per_step))
    warmup = math.ceil(a.warmup_ratio * total)
    state = {"step": 0, "total_steps": total, "data_position": {"epoch": 0, "consumed": 0}, "data_seed": a.seed,
             "global_batch": a.batch * run.world, "accumulation": a.accum, "sequence_length": manifest.sequence_length,
             "elapsed_s": 0.0, "tokens_seen": 0, "world_size": run.world, "strategy": a.strategy,
             "dtype": a.dtype, "attention": mode, "device": run.device.type}
    metrics = []
    if a.resume and os.path.exists(os.path.join(a.out, "trainer_state.json")):
        state, metrics = load_state(a, run, engine, opt, state, unwrapped)
        total = state["total_steps"]
        run.log(f"resumed at step {state['step']} of {total} (epoch {state['data_position']['epoch']}, sequence {state['data_position']['consumed']})")
    pos = state["data_position"]
    data = PackedDataset(a.data, split="train", seed=a.seed, batch_size=a.batch, rank=run.rank, world_size=run.world,
                         start=(pos["epoch"], pos["consumed"]))
    loader = iter(torch.utils.data.DataLoader(data, batch_size=None, num_workers=1, prefetch_factor=4, persistent_workers=False))
    run.log(f"{run.world} rank(s) on {run.device.type}, {a.strategy}, {mode} attention, {a.dtype}; {total} steps of "
            f"{per_step} sequences x {manifest.sequence_length} tokens; {trainable_count:,} trainable parameters")

    stop = {"asked": False}
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.update(asked=True))
    start_time, start_step, start_elapsed, start_tokens = time.time(), state["step"], state["elapsed_s"], state["tokens_seen"]
    os.makedirs(a.out, exist_ok=True)
    # bf16: autocast over f32 master weights; DeepSpeed runs its own bf16 engine from the config instead.
    bf16_autocast = a.dtype == "bf16" and a.strategy != "deepspeed"
    autocast = (lambda: torch.autocast(run.device.type, dtype=torch.bfloat16)) if bf16_autocast else contextlib.nullcontext
    outcome = "finished"
    while state["step"] < total:
        # Every rank must stop at the same step (a rank alone in a collective would wait forever), so a signal or
        # a spent budget seen by any rank stops them all.
        asked, spent = (x > 0 for x in run.sums(stop["asked"], bool(a.time_budget) and time.time() - start_time >= a.time_budget))
        if asked or (a.stop_after is not None and state["step"] - start_step >= a.stop_after):
            outcome = "interrupted"
            break
        if spent:
            outcome = "budget-spent"
            break
        lr = rate(a.schedule, a.lr, warmup, total, state["step"])
        for g in opt.param_groups:
            g["lr"] = lr
        micro = [batches.model_inputs(next(loader), mode, pad_id, compute, run.device) for _ in range(a.accum)]
        learned = run.sums(sum(int((t != batches.IGNORE).sum()) for _, t in micro))[0]
        scale = run.world / max(1.0, learned)
        local = torch.zeros((), dtype=torch.float64, device=run.device)  # summed on the device: no sync per micro-batch
        for i, (inputs, tgt) in enumerate(micro):
            last = i == a.accum - 1
            with sync(last), autocast():
                logits = engine(**inputs).logits
            ce = batches.loss_sum(logits, tgt)
            if a.strategy == "deepspeed":
                engine.backward(ce * scale * a.accum)  # DeepSpeed divides by its accumulation steps itself
                if not last:
                    engine.step()
            else:
                (ce * scale).backward()
            local += ce.detach()
        if a.strategy == "deepspeed":
            engine.step()
            norm = float(engine.get_global_grad_norm() or 0.0)
        else:
            norm = clip_gradients(trainable, a.clip, run, sharded=a.strategy == "fsdp")
            opt.step()
            opt.zero_grad(set_to_none=True)
        loss = run.sums(local)[0] / max(1.0, learned)
        state["step"] += 1
        state["tokens_seen"] += per_step * manifest.sequence_length
        after = PackedDataset.position_after((pos["epoch"], pos["consumed"]), (state["step"] - start_step) * per_step, records)
        state["data_position"] = {"epoch": after.epoch, "consumed": after.consumed}
        session = time.time() - start_time
        state["elapsed_s"] = start_elapsed + session
        tps = (state["tokens_seen"] - start_tokens) / max(1e-9, session)
        metrics.append({"step": state["step"], "split": "train", "loss": loss, "lr": lr, "tokens_per_s": tps,
                        "elapsed_s": state["elapsed_s"], "grad_norm": norm})
        if a.log_every > 0 and (state["step"] % a.log_every == 0 or state["step"] == total):
            eta = session / (state["step"] - start_step) * (total - state["step"])
            run.log(f"step {state['step']}/{total}  loss {loss:.4f}  grad norm {norm:.4f}  lr {lr:.3e}  {tps:.0f} tok/s  "
                    f"elapsed {state['elapsed_s']:.0f}s  eta {eta:.0f}s")
        if a.eval_every > 0 and state["step"] % a.eval_every == 0:
            v = validation_loss(a, run, unwrapped if a.strategy == "ddp" else engine, mode, pad_id, compute, autocast)
            if v is not None:
                metrics.append({"step": state["step"], "split": "validation", "loss": v, "lr": lr, "tokens_per_s": tps,
                                "elapsed_s": state["elapsed_s"]})
                run.log(f"step {state['step']}  validation loss {v:.4f}")
        if a.save_every > 0 and state["step"] % a.save_every == 0 and state["step"] < total:
            save_checkpoint(a, run, engine, opt, unwrapped, state, metrics, tokenizer)
    save_checkpoint(a, run, engine, opt, unwrapped, state, metrics, tokenizer)
    run.log({"finished": f"finished {state['step']} steps; output in {a.out}",
             "interrupted": f"interrupted: saved step {state['step']} to {a.out}; continue with --resume",
             "budget-spent": f"time budget spent: saved step {state['step']} to {a.out}; continue with --resume"}[outcome])
    if run.distributed:
        dist.barrier()
        dist.destroy_process_group()


@torch.no_grad()
def validation_loss(a, run, model, mode, pad_id, compute, autocast):
    """Mean loss per learned token over the first --eval-batches micro-batches of the validation split, in
    ecom-train's order (seed 0, no shuffle window), or None without one. Every rank runs the same batches, so sharded
    strategies keep their collectives in step."""
    from ecom_shards import PackedDataset, read_manifest
    if not any(s.records for s in read_manifest(a.data).shards_of("validation")):
        return None
    data = PackedDataset(a.data, split="validation", seed=0, batch_size=a.batch, rank=0, world_size=1, epochs=1, buffer_size=1)
    total, count = 0.0, 0
    for i, batch in enumerate(data):
        if a.eval_batches and i >= a.eval_batches:
            break
        inputs, tgt = batches.model_inputs(batch, mode, pad_id, compute, run.device)
        with autocast():
            logits = model(**inputs).logits
        total += batches.loss_sum(logits, tgt).item()
        count += int((tgt != batches.IGNORE).sum())
    return total / count if count else None


if __name__ == "__main__":
    try:
        main()
    except (ValueError, OSError) as e:  # ShardError (a ValueError) and unreadable files: one line, not a traceback
        sys.exit(f"train.py: error: {e}")

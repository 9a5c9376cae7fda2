"""Checkpoints of the scale-out trainer: the model in HF layout (or the adapter in PEFT's), tokenizer.json,
metrics.jsonl and loss curve inputs as `ecom-train` writes them, and trainer_state.json + optimizer.pt for --resume.
Every file is written to a temporary name and renamed into place; the trainer state last, so a state file always has
the weights and optimizer moments it was saved with.
"""
import json
import os
import shutil
import sys

import torch
import xxhash


def atomic_write(path, data):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def find_tokenizer(a, manifest):
    """--tokenizer, else tokenizer.json beside the data (or its parent), else the model's; its XXH64 must equal the
    packed manifest's tokenizer_hash (as ecom-train checks)."""
    candidates = [a.tokenizer] if a.tokenizer else [os.path.join(a.data, "tokenizer.json"),
                                                    os.path.join(os.path.dirname(os.path.abspath(a.data)), "tokenizer.json"),
                                                    os.path.join(a.model, "tokenizer.json")]
    path = next((c for c in candidates if os.path.exists(c)), None)
    if path is None:
        sys.exit(f"train.py: no tokenizer found (looked at {', '.join(candidates)}); pass --tokenizer FILE")
    want = getattr(manifest, "tokenizer_hash", None)
    if want:
        with open(path, "rb") as f:
            got = f"{xxhash.xxh64(f.read()).intdigest():016x}"
        if got != want:
            sys.exit(f"train.py: {path}: hash {got} differs from the tokenizer the data was packed with ({want}, {a.data}/manifest.json)")
    return path


def _full_state(a, engine, opt, model):
    """(model state dict, optimizer state dict) gathered in full on every rank, for any strategy."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict, get_optimizer_state_dict
    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    return get_model_state_dict(model, options=options), get_optimizer_state_dict(model, opt, options=options)


def save_checkpoint(a, run, engine, opt, model, state, metrics, tokenizer):
    """Writes the checkpoint into --out (rank 0 writes; every rank takes part in gathering sharded state)."""
    if a.strategy == "deepspeed":
        sd = engine._zero3_consolidated_16bit_state_dict() if hasattr(engine, "_zero3_consolidated_16bit_state_dict") else model.state_dict()
        osd = None
    else:
        sd, osd = _full_state(a, engine, opt, model)
    if run.rank == 0:
        os.makedirs(a.out, exist_ok=True)
        # save_pretrained writes in place: write into a scratch directory, then rename each file into --out.
        scratch = os.path.join(a.out, f".save-{os.getpid()}")
        shutil.rmtree(scratch, ignore_errors=True)
        model.save_pretrained(scratch, state_dict=sd, safe_serialization=True)  # a PeftModel keeps only its adapters
        for name in os.listdir(scratch):
            os.replace(os.path.join(scratch, name), os.path.join(a.out, name))
        os.rmdir(scratch)
        if os.path.abspath(tokenizer) != os.path.abspath(os.path.join(a.out, "tokenizer.json")):
            shutil.copyfile(tokenizer, os.path.join(a.out, "tokenizer.json.tmp"))
            os.replace(os.path.join(a.out, "tokenizer.json.tmp"), os.path.join(a.out, "tokenizer.json"))
        atomic_write(os.path.join(a.out, "metrics.jsonl"), "".join(json.dumps(m, sort_keys=True) + "\n" for m in metrics).encode())
        if osd is not None:
            tmp = os.path.join(a.out, f"optimizer.pt.tmp-{os.getpid()}")
            torch.save(osd, tmp)
            os.replace(tmp, os.path.join(a.out, "optimizer.pt"))
        atomic_write(os.path.join(a.out, "trainer_state.json"), json.dumps(state, sort_keys=True, indent=1).encode())
    if run.distributed:
        torch.distributed.barrier()


def load_state(a, run, engine, opt, state, model):
    """The saved trainer state and metrics (those logged after the checkpoint dropped), with the optimizer restored."""
    path = os.path.join(a.out, "trainer_state.json")
    with open(path) as f:
        saved = json.load(f)
    for key in ("global_batch", "accumulation", "sequence_length", "data_seed"):
        if saved.get(key) != state[key]:
            sys.exit(f"train.py: {path}: saved with {key} {saved.get(key)}, this run has {state[key]}; resume with the same settings")
    if a.strategy != "deepspeed":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict
        osd = torch.load(os.path.join(a.out, "optimizer.pt"), map_location="cpu", weights_only=False)
        set_optimizer_state_dict(model, opt, optim_state_dict=osd, options=StateDictOptions(full_state_dict=True))
    metrics = []
    mpath = os.path.join(a.out, "metrics.jsonl")
    if os.path.exists(mpath):
        with open(mpath) as f:
            metrics = [m for m in (json.loads(l) for l in f if l.strip()) if m["step"] <= saved["step"]]
    return saved, metrics

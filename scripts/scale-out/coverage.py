#!/usr/bin/env python3
"""Run under torchrun: every rank reads one epoch of PackedDataset through a DataLoader with two workers, and rank 0
checks that the ranks together saw each sequence of the epoch exactly once, in the global micro-batch order of the
single-process stream (`ecom-train`'s order). Prints one line; exits 1 on a failure.

    torchrun --nproc_per_node 2 scripts/scale-out/coverage.py PACKED_DIR [--seed S] [--batch B]
"""
import argparse
import sys

import torch
import torch.distributed as dist
from ecom_shards import PackedDataset


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--batch", type=int, default=3)
    a = p.parse_args()
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    data = PackedDataset(a.data, seed=a.seed, batch_size=a.batch, epochs=1)
    mine = [b["input_ids"].tolist() for b in torch.utils.data.DataLoader(data, batch_size=None, num_workers=2)]
    everyone = [None] * world
    dist.all_gather_object(everyone, mine)
    if rank == 0:
        alone = [b["input_ids"].tolist() for b in PackedDataset(a.data, seed=a.seed, batch_size=a.batch, rank=0, world_size=1, epochs=1)]
        merged = [everyone[g % world][g // world] for g in range(sum(len(m) for m in everyone))]
        seqs = [tuple(s) for b in merged for s in b]
        ok = merged == alone and len(seqs) == data.records_per_epoch
        line = (f"{world} ranks x 2 workers read {len(seqs)} sequences of an epoch of {data.records_per_epoch}, "
                f"{'each once, in the single-process order' if ok else 'NOT each once in order'}")
        print(("ok coverage: " if ok else "FAIL coverage: ") + line)
        dist.destroy_process_group()
        sys.exit(0 if ok else 1)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

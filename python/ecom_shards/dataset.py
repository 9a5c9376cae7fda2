# PackedDataset: ecom-train's stream (Sources/Trainer/Trainer.swift) as micro-batches over ranks and workers.
from __future__ import annotations

import os

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .errors import ShardError
from .manifest import read_manifest
from .order import StreamPosition
from .packed import decode_packed
from .stream import StreamSource


def _positive_int(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return v


def _distributed_rank_and_size(rank, world_size) -> tuple[int, int]:
    if rank is None or world_size is None:
        dist = torch.distributed
        if dist.is_available() and dist.is_initialized():
            r, w = dist.get_rank(), dist.get_world_size()
        else:
            try:
                r, w = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
            except ValueError as e:
                raise ValueError(f"RANK / WORLD_SIZE must be integers ({e})") from None
        rank = r if rank is None else rank
        world_size = w if world_size is None else world_size
    world_size = _positive_int("world_size", world_size)
    if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < world_size:
        raise ValueError(f"rank must be in 0..<{world_size}, got {rank!r}")
    return rank, world_size


def global_index(position, records_per_epoch: int) -> int:
    """The number of sequences before `position`: an (epoch, consumed) pair or already a count (returned as is)."""
    if isinstance(position, int) and not isinstance(position, bool):
        if position < 0:
            raise ShardError(f"start {position} is negative")
        return position
    try:
        epoch, consumed = position
    except (TypeError, ValueError):
        raise ShardError(f"start {position!r} is neither a sequence count nor an (epoch, consumed) pair") from None
    if not (isinstance(epoch, int) and isinstance(consumed, int)) or epoch < 0 or not 0 <= consumed <= records_per_epoch:
        raise ShardError(f"position {(epoch, consumed)!r} is outside an epoch of {records_per_epoch} records")
    return epoch * records_per_epoch + consumed


class PackedDataset(IterableDataset):
    """Micro-batches of packed sequences in `ecom-train`'s order, for one rank of a distributed run.

    The global stream (`ShardStream` order for `seed` and `buffer_size`, epoch after epoch) is cut, from `start`
    (an (epoch, consumed) position or a sequence count), into micro-batches of `batch_size` consecutive sequences.
    Global micro-batch g goes to rank g % world_size; a rank's m-th micro-batch is made by DataLoader worker
    m % num_workers, so `DataLoader(dataset, batch_size=None, num_workers=k)` yields the rank's micro-batches in
    order, and W ranks each taking `accum` micro-batches per step see what one process with batch B·W·accum sees.

    Each item is a dict of tensors: `input_ids` int64 [B, T], `loss_mask` bool [B, T] (True = learned),
    `document_ids` int32 [B, T] (1, 2, … per sequence; 0 = padding). With finite `epochs` the stream ends after
    that many epochs in all (counted from epoch 0) and the last micro-batch may be short; with `epochs=None` it never
    ends. `rank`/`world_size` default to torch.distributed's when it is initialised, else to the RANK and WORLD_SIZE
    environment variables, else 0 and 1.
    """

    def __init__(self, directory: str | os.PathLike, split: str = "train", seed: int = 42, *, batch_size: int,
                 rank: int | None = None, world_size: int | None = None, start=(0, 0), epochs: int | None = None,
                 buffer_size: int = 1024):
        super().__init__()
        self.directory = os.fspath(directory)
        self.manifest = read_manifest(self.directory)
        if self.manifest.kind != "packed":
            raise ShardError(f"{self.manifest.path}: kind '{self.manifest.kind}'; PackedDataset needs packed shards (ecom-data pack)")
        if self.manifest.sequence_length is None:
            raise ShardError(f"{self.manifest.path}: packed manifest without 'sequence_length'")
        self.sequence_length = self.manifest.sequence_length
        self.split, self.seed, self.buffer_size = split, seed, buffer_size
        self.batch_size = _positive_int("batch_size", batch_size)
        if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0):
            raise ValueError(f"epochs must be a non-negative integer or None, got {epochs!r}")
        self.epochs = epochs
        self.rank, self.world_size = _distributed_rank_and_size(rank, world_size)
        # Checks the seed and buffer size now rather than in a worker.
        self._records = StreamSource(self.manifest, split, seed, buffer_size).records_per_epoch
        if self._records == 0:
            raise ShardError(f"{self.directory}: no sequences in split '{split}'")
        self.start = global_index(start, self._records)

    @property
    def records_per_epoch(self) -> int:
        """Sequences in one epoch of the split."""
        return self._records

    @property
    def end(self) -> int | None:
        """The global sequence count where the stream ends (None: never)."""
        return None if self.epochs is None else self.epochs * self._records

    @staticmethod
    def position_after(start, sequences: int, records_per_epoch: int) -> StreamPosition:
        """The stream position after `sequences` more sequences from `start` ((epoch, consumed) or a count), as
        ShardStream's `.position` reports it (an epoch's end is (epoch, records_per_epoch)); to resume, pass it as
        `start`. After s optimizer steps, `sequences` = s · batch_size · world_size · accumulation."""
        _positive_int("records_per_epoch", records_per_epoch)
        if isinstance(sequences, bool) or not isinstance(sequences, int) or sequences < 0:
            raise ValueError(f"sequences must be a non-negative integer, got {sequences!r}")
        g = global_index(start, records_per_epoch)
        if sequences == 0:
            if isinstance(start, int):
                return StreamPosition(*divmod(g, records_per_epoch))
            return StreamPosition(*start)
        g += sequences
        epoch = (g - 1) // records_per_epoch
        return StreamPosition(epoch, g - epoch * records_per_epoch)

    def micro_batch_range(self, g: int) -> tuple[int, int] | None:
        """The global sequence range [lo, hi) of global micro-batch `g` (0-based from `start`), None past the end."""
        lo = self.start + g * self.batch_size
        hi = lo + self.batch_size
        if self.end is not None:
            if lo >= self.end:
                return None
            hi = min(hi, self.end)
        return lo, hi

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        source = StreamSource(self.manifest, self.split, self.seed, self.buffer_size)
        r, t = self._records, self.sequence_length
        g = self.rank + self.world_size * worker
        step = self.world_size * workers
        while (span := self.micro_batch_range(g)) is not None:
            lo, hi = span
            source.prune(*divmod(lo, r))
            ids = np.empty((hi - lo, t), dtype=np.int64)
            mask = np.empty((hi - lo, t), dtype=np.bool_)
            docs = np.empty((hi - lo, t), dtype=np.int32)
            for row, x in enumerate(range(lo, hi)):
                epoch, consumed = divmod(x, r)
                place = source.place(epoch, consumed)
                s_ids, s_mask, s_docs = decode_packed(source.payload(epoch, consumed), place)
                if len(s_ids) != t:
                    raise ShardError(f"{place}: a sequence of {len(s_ids)} tokens; the manifest's sequence_length is {t}")
                ids[row], mask[row], docs[row] = s_ids, s_mask != 0, s_docs
            yield {"input_ids": torch.from_numpy(ids), "loss_mask": torch.from_numpy(mask),
                   "document_ids": torch.from_numpy(docs)}
            g += step

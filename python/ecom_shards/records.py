# Reads a shard directory's payloads in stored order (manifest shard order, then block order), as `ecom-data cat`.
from __future__ import annotations

import json
import os
from collections.abc import Iterator

from .errors import ShardError
from .manifest import read_manifest


def read_payloads(directory: str | os.PathLike, split: str | None = None) -> Iterator[bytes]:
    """Every payload of `split` (all splits when None) in stored order; each shard is checked against the manifest."""
    m = read_manifest(directory)
    for info in m.shards_of(split):
        yield from m.open_shard(info)


def read_records(directory: str | os.PathLike, split: str | None = None) -> Iterator[dict]:
    """The instruction records (JSON objects) of a record-shard directory, in stored order."""
    m = read_manifest(directory)
    if m.kind != "records":
        raise ShardError(f"{m.path}: kind '{m.kind}'; read_records needs record shards (use decode_packed for packed)")
    for info in m.shards_of(split):
        shard = m.open_shard(info)
        for b in range(len(shard.blocks)):
            for i, payload in enumerate(shard.block_records(b)):
                try:
                    rec = json.loads(payload)
                except ValueError as e:
                    raise ShardError(f"{shard.path}: block {b} record {i}: not JSON ({e})") from e
                if not isinstance(rec, dict):
                    raise ShardError(f"{shard.path}: block {b} record {i}: expected a JSON object")
                yield rec

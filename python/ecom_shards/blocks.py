# Block access to a split's shards (checked as ShardStream.swift's openShard does), with a pruned cache.
from __future__ import annotations

import bisect

from .manifest import Manifest, ShardInfo
from .shard import ShardFile


class SplitReader:
    """The shards of one split (manifest order), read a block at a time.

    Each cached block carries a tag (any comparable value, e.g. the last (epoch, window) that needs it); `prune(tag)`
    drops the blocks whose tag is below it, so that memory stays bounded by what the caller still needs.
    """

    def __init__(self, manifest: Manifest, split: str | None):
        self.manifest = manifest
        self.infos: list[ShardInfo] = manifest.shards_of(split)
        self._shards: dict[int, tuple[ShardFile, list[int]]] = {}
        self._cache: dict[tuple[int, int], tuple[list[bytes], object]] = {}
        self.blocks_read = 0

    def shard(self, k: int) -> tuple[ShardFile, list[int]]:
        """Shard `k` (index in the split's manifest order) and the first record number of each of its blocks."""
        if k not in self._shards:
            f = self.manifest.open_shard(self.infos[k])
            starts, total = [], 0
            for b in f.blocks:
                starts.append(total)
                total += b.records
            self._shards[k] = (f, starts)
        return self._shards[k]

    def find(self, k: int, record: int) -> tuple[int, int]:
        """(block, record within the block) of record `record` of shard `k`."""
        f, starts = self.shard(k)
        b = bisect.bisect_right(starts, record) - 1  # the last block starting at or before it (empty blocks skipped)
        return b, record - starts[b]

    def block(self, k: int, b: int, tag=None) -> list[bytes]:
        """The payloads of block `b` of shard `k`, from the cache or read and checked; `tag` is kept with it (the
        larger tag wins when it is cached already)."""
        key = (k, b)
        hit = self._cache.get(key)
        if hit is not None:
            records, old = hit
            if tag is not None and (old is None or tag > old):
                self._cache[key] = (records, tag)
            return records
        f, _ = self.shard(k)
        records = f.block_records(b)
        self.blocks_read += 1
        self._cache[key] = (records, tag)
        return records

    def prune(self, tag) -> None:
        """Drops the cached blocks whose tag is below `tag` (or that have none)."""
        for key in [k for k, (_, t) in self._cache.items() if t is None or t < tag]:
            del self._cache[key]

    @property
    def cached_blocks(self) -> int:
        """The number of decoded blocks held."""
        return len(self._cache)

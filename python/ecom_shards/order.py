# The stream order from the seed alone: shard and window permutations of Sources/Instruct/ShardStream.swift.
from __future__ import annotations

import bisect
from collections import OrderedDict
from typing import NamedTuple

from .errors import ShardError
from .rng import SeededGenerator, check_seed


class StreamPosition(NamedTuple):
    """A stream position: `consumed` records (0...records_per_epoch) taken from epoch `epoch`."""

    epoch: int
    consumed: int


class StreamOrder:
    """Where each record of the stream comes from.

    `shard_records` are the record counts of the split's shards in manifest order. Epoch e reads the shards in the
    order `SeededGenerator(seed, "epoch/e")` shuffles them; the concatenated records are cut into windows of
    `buffer_size`, window w shuffled with `SeededGenerator(seed, "epoch/e/window/w")`.
    """

    def __init__(self, shard_records: list[int], seed: int, buffer_size: int = 1024, cache: int = 8):
        if isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size < 1:
            raise ValueError(f"buffer_size must be a positive integer, got {buffer_size!r}")
        self.shard_records = list(shard_records)
        self.seed = check_seed(seed)
        self.buffer_size = buffer_size
        self.records_per_epoch = sum(self.shard_records)
        self._epochs: OrderedDict[int, tuple[list[int], list[int], dict[int, int]]] = OrderedDict()
        self._windows: OrderedDict[tuple[int, int], list[int]] = OrderedDict()
        self._cache = max(1, cache)

    def _remember(self, d: OrderedDict, key, value):
        d[key] = value
        if len(d) > self._cache:
            d.popitem(last=False)
        return value

    def _epoch(self, epoch: int) -> tuple[list[int], list[int], dict[int, int]]:
        if epoch in self._epochs:
            self._epochs.move_to_end(epoch)
            return self._epochs[epoch]
        order = SeededGenerator(self.seed, f"epoch/{epoch}").permutation(len(self.shard_records))
        starts, total = [], 0
        for s in order:
            starts.append(total)
            total += self.shard_records[s]
        return self._remember(self._epochs, epoch, (order, starts, dict(zip(order, starts))))

    def shard_order(self, epoch: int) -> list[int]:
        """The indices (into the split's shards in manifest order) of the shards in epoch `epoch`'s reading order."""
        return list(self._epoch(epoch)[0])

    def window_size(self, window: int) -> int:
        """The number of records in window `window` (the last one may be short)."""
        return max(0, min(self.buffer_size, self.records_per_epoch - window * self.buffer_size))

    def window_permutation(self, epoch: int, window: int) -> list[int]:
        """Position i of the shuffled window holds the window's record permutation[i] (in reading order)."""
        key = (epoch, window)
        if key in self._windows:
            self._windows.move_to_end(key)
            return self._windows[key]
        perm = SeededGenerator(self.seed, f"epoch/{epoch}/window/{window}").permutation(self.window_size(window))
        return self._remember(self._windows, key, perm)

    def check_position(self, position) -> StreamPosition:
        """`position` as a StreamPosition, or a ShardError if it lies outside an epoch."""
        try:
            epoch, consumed = position
        except (TypeError, ValueError):
            raise ShardError(f"position {position!r} is not an (epoch, consumed) pair") from None
        if not (isinstance(epoch, int) and isinstance(consumed, int)) or epoch < 0 or not 0 <= consumed <= self.records_per_epoch:
            raise ShardError(f"position {tuple(position)!r} is outside an epoch of {self.records_per_epoch} records")
        return StreamPosition(epoch, consumed)

    def read_index(self, epoch: int, consumed: int) -> int:
        """The index, in epoch `epoch`'s reading order (shards concatenated), of the stream's record number `consumed`."""
        if not 0 <= consumed < self.records_per_epoch:
            raise IndexError(f"record {consumed} of an epoch of {self.records_per_epoch}")
        w, i = divmod(consumed, self.buffer_size)
        return w * self.buffer_size + self.window_permutation(epoch, w)[i]

    def locate(self, epoch: int, read_index: int) -> tuple[int, int]:
        """(shard index in manifest order, record number within the shard) of epoch `epoch`'s `read_index`-th record."""
        order, starts, _ = self._epoch(epoch)
        if not 0 <= read_index < self.records_per_epoch:
            raise IndexError(f"record {read_index} of an epoch of {self.records_per_epoch}")
        # The last shard starting at or before the index (an empty shard shares its start with the next one).
        k = bisect.bisect_right(starts, read_index) - 1
        return order[k], read_index - starts[k]

    def shard_start(self, epoch: int, shard: int) -> int:
        """The reading-order index of shard `shard`'s first record in epoch `epoch`."""
        return self._epoch(epoch)[2][shard]

    def source(self, epoch: int, consumed: int) -> tuple[int, int]:
        """(shard index, record within the shard) of the stream's record `consumed` in epoch `epoch`."""
        return self.locate(epoch, self.read_index(epoch, consumed))

# ShardStream: a split in ecom-train's order with a resumable position, as Sources/Instruct/ShardStream.swift.
from __future__ import annotations

import os
from collections.abc import Iterator

from .blocks import SplitReader
from .manifest import Manifest, read_manifest
from .order import StreamOrder, StreamPosition


class StreamSource:
    """The payload at any stream position, reading only the blocks that hold it.

    Blocks are cached until the stream moves past the last window that needs them (`prune`), so that records taken in
    stream order decompress each block once per epoch and nothing before the current window is read.
    """

    def __init__(self, manifest: Manifest, split: str | None, seed: int, buffer_size: int = 1024):
        self.manifest = manifest
        self.reader = SplitReader(manifest, split)
        self.order = StreamOrder([s.records for s in self.reader.infos], seed, buffer_size)

    @property
    def records_per_epoch(self) -> int:
        """Records in one epoch of the split."""
        return self.order.records_per_epoch

    def payload(self, epoch: int, consumed: int) -> bytes:
        """The payload of the stream's record `consumed` (0-based) of epoch `epoch`."""
        k, record = self.order.source(epoch, consumed)
        b, i = self.reader.find(k, record)
        f, starts = self.reader.shard(k)
        last = self.order.shard_start(epoch, k) + starts[b] + f.blocks[b].records - 1
        return self.reader.block(k, b, tag=(epoch, last // self.order.buffer_size))[i]

    def prune(self, epoch: int, consumed: int) -> None:
        """Forgets the blocks that no record from position (epoch, consumed) on needs."""
        self.reader.prune((epoch, consumed // self.order.buffer_size))

    def place(self, epoch: int, consumed: int) -> str:
        """A description of a stream position for error messages."""
        return f"{self.manifest.directory}: epoch {epoch} stream record {consumed}"


class ShardStream:
    """Iterates the payloads (bytes) of a split in the order `ecom-train` reads them, epoch after epoch.

    `epochs=None` runs forever (as `ecom-train`); `position=(epoch, consumed)` resumes where a saved `.position`
    left off. After each item, `.position` is the position to save: `consumed` counts the records taken from the
    current epoch (it reaches `records_per_epoch` at the epoch's end; the next item starts the next epoch).
    """

    def __init__(self, directory: str | os.PathLike, split: str | None = "train", seed: int = 42,
                 buffer_size: int = 1024, epochs: int | None = None, position=(0, 0)):
        if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0):
            raise ValueError(f"epochs must be a non-negative integer or None, got {epochs!r}")
        self.directory = os.fspath(directory)
        self.manifest = read_manifest(self.directory)
        self.source = StreamSource(self.manifest, split, seed, buffer_size)
        self.split = split
        self.seed = seed
        self.buffer_size = buffer_size
        self.epochs = epochs
        self.restore(position)

    @property
    def records_per_epoch(self) -> int:
        """Records in one epoch of the split (from the manifest)."""
        return self.source.records_per_epoch

    @property
    def position(self) -> StreamPosition:
        """The position after the last item taken: (epoch, consumed)."""
        return self._position

    def restore(self, position) -> None:
        """Moves to a saved (epoch, consumed) position; nothing is read until the next item."""
        self._position = self.source.order.check_position(position)
        self.source.prune(*self._position)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        epoch, consumed = self._position
        r = self.records_per_epoch
        if r == 0 or (self.epochs is not None and epoch >= self.epochs):
            raise StopIteration
        if consumed == r:
            if self.epochs is not None and epoch + 1 >= self.epochs:
                raise StopIteration
            epoch, consumed = epoch + 1, 0
        if consumed % self.buffer_size == 0:
            self.source.prune(epoch, consumed)
        payload = self.source.payload(epoch, consumed)
        self._position = StreamPosition(epoch, consumed + 1)
        return payload

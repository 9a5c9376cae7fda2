# One shard file: header, footer and checked blocks, as Sources/Instruct/ShardReader.swift and ShardFormat.swift.
from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import xxhash
import zstandard

from .errors import ShardError

MAGIC = b"ECOMSHRD"
END_MAGIC = b"ECOMEND1"
VERSION = 1
HEADER_SIZE = 16
TRAILER_SIZE = 24
BLOCK_ENTRY_SIZE = 40
KIND_RECORDS = 1
KIND_PACKED = 2
KIND_NAMES = {KIND_RECORDS: "records", KIND_PACKED: "packed"}

_HEADER = struct.Struct("<8sII")
_TRAILER = struct.Struct("<QQ8s")
_ENTRY = struct.Struct("<QQQIIQ")
_U32 = struct.Struct("<I")


@dataclass(frozen=True)
class ShardBlock:
    """One block as the footer indexes it."""

    offset: int
    compressed_size: int
    uncompressed_size: int
    records: int
    checksum: int


def _truncated(path: str, what: str) -> ShardError:
    return ShardError(f"{path}: {what}; the shard is truncated or not an Ecom shard: rebuild it (ecom-data build / pack)")


class ShardFile:
    """One `.ecs` shard: the header and footer are read and checked on opening; blocks are read on demand.

    No file descriptor is held between calls (each read opens the file), so instances are cheap and safe to share
    with forked DataLoader workers.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        try:
            with open(self.path, "rb") as f:
                self.file_size = os.fstat(f.fileno()).st_size
                if self.file_size < HEADER_SIZE + TRAILER_SIZE:
                    raise _truncated(self.path, f"file of {self.file_size} bytes is shorter than a header and a trailer")
                head = f.read(HEADER_SIZE)
                f.seek(self.file_size - TRAILER_SIZE)
                tail = f.read(TRAILER_SIZE)
                magic, version, kind = _HEADER.unpack(head)
                if magic != MAGIC:
                    raise _truncated(self.path, "expected the magic 'ECOMSHRD' at offset 0")
                if version != VERSION:
                    raise ShardError(f"{self.path}: shard format version {version}; this reader reads version {VERSION}")
                if kind not in KIND_NAMES:
                    raise ShardError(f"{self.path}: unknown shard kind {kind} (1 records, 2 packed)")
                self.kind = KIND_NAMES[kind]
                count, footer_offset, end = _TRAILER.unpack(tail)
                if end != END_MAGIC:
                    raise _truncated(self.path, "expected the end magic 'ECOMEND1' in the last 8 bytes")
                if footer_offset < HEADER_SIZE or footer_offset + count * BLOCK_ENTRY_SIZE + TRAILER_SIZE != self.file_size:
                    raise _truncated(self.path, f"the footer ({count} blocks at offset {footer_offset}) does not fit the file")
                f.seek(footer_offset)
                footer = f.read(count * BLOCK_ENTRY_SIZE)
        except OSError as e:
            raise ShardError(f"{self.path}: cannot read the shard ({e.strerror or e})") from e
        blocks = []
        expected = HEADER_SIZE
        for i in range(count):
            off, csize, usize, records, _reserved, checksum = _ENTRY.unpack_from(footer, i * BLOCK_ENTRY_SIZE)
            if off != expected:
                raise _truncated(self.path, f"block {i} should start at offset {expected}, the footer says {off}")
            expected += csize
            blocks.append(ShardBlock(off, csize, usize, records, checksum))
        if expected != footer_offset:
            raise _truncated(self.path, f"blocks end at {expected} but the footer starts at {footer_offset}")
        self.footer_offset = footer_offset
        self.blocks: list[ShardBlock] = blocks

    @property
    def record_count(self) -> int:
        """Records in the shard, by the footer's per-block counts."""
        return sum(b.records for b in self.blocks)

    def _read(self, offset: int, size: int) -> bytes:
        with open(self.path, "rb") as f:
            f.seek(offset)
            return f.read(size)

    def read_block(self, index: int) -> bytes:
        """Block `index` decompressed, its size and XXH64 checked (a ShardError naming the file and block if not)."""
        if not 0 <= index < len(self.blocks):
            raise ShardError(f"{self.path}: block {index} does not exist (the shard has {len(self.blocks)})")
        b = self.blocks[index]
        place = f"{self.path}: block {index} (offset {b.offset})"
        try:
            data = self._read(b.offset, b.compressed_size)
        except OSError as e:
            raise ShardError(f"{place}: cannot read ({e.strerror or e})") from e
        if len(data) != b.compressed_size:
            raise ShardError(f"{place}: unexpected end of file (truncated shard)")
        out = bytearray()
        try:
            reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=False)
            while len(out) <= b.uncompressed_size:
                chunk = reader.read(b.uncompressed_size + 1 - len(out))
                if not chunk:
                    break
                out += chunk
        except zstandard.ZstdError as e:
            raise ShardError(f"{place}: corrupt zstd data ({e}); the shard is corrupt: rebuild it") from e
        if len(out) > b.uncompressed_size:
            raise ShardError(f"{place}: decompresses to more than the {b.uncompressed_size} bytes the footer records (corrupt block)")
        if len(out) != b.uncompressed_size:
            raise ShardError(f"{place}: decompressed {len(out)} of {b.uncompressed_size} bytes; the block is truncated or corrupt")
        h = xxhash.xxh64_intdigest(out, seed=0)
        if h != b.checksum:
            raise ShardError(f"{place}: checksum mismatch (XXH64 {h:016x}, footer {b.checksum:016x}); the shard is corrupt: rebuild it")
        return bytes(out)

    def split_records(self, index: int, data: bytes) -> list[bytes]:
        """The payloads of block `index` given its decompressed bytes; checks lengths and the footer's record count."""
        out = []
        i, n, end = 0, 0, len(data)
        while i < end:
            if i + 4 > end:
                raise ShardError(f"{self.path}: block {index}: truncated record length at byte {i}")
            (length,) = _U32.unpack_from(data, i)
            i += 4
            if i + length > end:
                raise ShardError(f"{self.path}: block {index}: record {n} of {length} bytes runs past the block's end")
            out.append(data[i:i + length])
            i += length
            n += 1
        if n != self.blocks[index].records:
            raise ShardError(f"{self.path}: block {index}: {n} records, the footer says {self.blocks[index].records}")
        return out

    def block_records(self, index: int) -> list[bytes]:
        """The payloads of block `index`, checked."""
        return self.split_records(index, self.read_block(index))

    def __iter__(self):
        """Every payload in stored order."""
        for i in range(len(self.blocks)):
            yield from self.block_records(i)

    def file_checksum(self) -> int:
        """The chained XXH64 the manifest records: h = XXH64(header); h = XXH64(block, seed=h) for each compressed
        block in order; h = XXH64(footer + trailer, seed=h)."""
        pieces = [(0, HEADER_SIZE)] + [(b.offset, b.compressed_size) for b in self.blocks]
        footer_start = self.blocks[-1].offset + self.blocks[-1].compressed_size if self.blocks else HEADER_SIZE
        pieces.append((footer_start, self.file_size - footer_start))
        h = 0
        try:
            with open(self.path, "rb") as f:
                for off, size in pieces:
                    f.seek(off)
                    h = xxhash.xxh64_intdigest(f.read(size), seed=h)
        except OSError as e:
            raise ShardError(f"{self.path}: cannot read the shard ({e.strerror or e})") from e
        return h

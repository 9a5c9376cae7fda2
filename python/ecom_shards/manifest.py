# The shard directory's manifest.json: reading, checking and verify(), following Sources/Instruct/Manifest.swift.
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from .errors import ShardError
from .shard import ShardFile

MANIFEST_NAME = "manifest.json"
FORMAT = "ecom-shards"
VERSION = 1
_HEX16 = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class ShardInfo:
    """One shard as the manifest lists it."""

    file: str
    split: str
    records: int
    bytes: int
    uncompressed_bytes: int
    xxh64: str


@dataclass(frozen=True)
class Manifest:
    """A shard directory's manifest.json."""

    directory: str
    kind: str
    shards: tuple[ShardInfo, ...]
    tokenizer_hash: str | None = None
    sequence_length: int | None = None
    compression_level: int | None = None

    @property
    def path(self) -> str:
        """The manifest file's path."""
        return os.path.join(self.directory, MANIFEST_NAME)

    def shards_of(self, split: str | None) -> list[ShardInfo]:
        """The shards of `split` in manifest order (all of them when None)."""
        return [s for s in self.shards if split is None or s.split == split]

    def shard_path(self, info: ShardInfo) -> str:
        """The path of a listed shard."""
        return os.path.join(self.directory, info.file)

    def open_shard(self, info: ShardInfo) -> ShardFile:
        """Opens a listed shard and checks its size and record count against the manifest (as ShardStream does)."""
        shard = ShardFile(self.shard_path(info))
        if shard.file_size != info.bytes or shard.record_count != info.records:
            raise ShardError(f"{shard.path}: {shard.file_size} bytes and {shard.record_count} records, "
                             f"the manifest says {info.bytes} and {info.records}")
        return shard


def _field(obj: dict, key: str, types, place: str, optional: bool = False):
    if key not in obj or obj[key] is None:
        if optional:
            return None
        raise ShardError(f"{place}: missing '{key}'")
    v = obj[key]
    if not isinstance(v, types) or isinstance(v, bool):
        raise ShardError(f"{place}: '{key}' has the wrong type ({type(v).__name__})")
    return v


def read_manifest(directory: str | os.PathLike) -> Manifest:
    """Reads and checks `directory`/manifest.json (format, version, kind, shard entries)."""
    directory = os.fspath(directory)
    path = os.path.join(directory, MANIFEST_NAME)
    if not os.path.isfile(path):
        raise ShardError(f"{path}: no manifest; is {directory} a directory written by ecom-data build or pack?")
    try:
        with open(path, "rb") as f:
            obj = json.load(f)
    except (OSError, ValueError) as e:
        raise ShardError(f"{path}: not a valid manifest ({e})") from e
    if not isinstance(obj, dict):
        raise ShardError(f"{path}: not a valid manifest (expected a JSON object)")
    fmt = _field(obj, "format", str, path)
    if fmt != FORMAT:
        raise ShardError(f"{path}: format '{fmt}', expected '{FORMAT}'")
    version = _field(obj, "version", int, path)
    if version != VERSION:
        raise ShardError(f"{path}: manifest version {version}; this reader reads version {VERSION}")
    kind = _field(obj, "kind", str, path)
    if kind not in ("records", "packed"):
        raise ShardError(f"{path}: kind '{kind}', expected 'records' or 'packed'")
    shards = []
    for i, s in enumerate(_field(obj, "shards", list, path)):
        place = f"{path}: shards[{i}]"
        if not isinstance(s, dict):
            raise ShardError(f"{place}: expected an object")
        info = ShardInfo(file=_field(s, "file", str, place), split=_field(s, "split", str, place),
                         records=_field(s, "records", int, place), bytes=_field(s, "bytes", int, place),
                         uncompressed_bytes=_field(s, "uncompressed_bytes", int, place),
                         xxh64=_field(s, "xxh64", str, place))
        if not _HEX16.match(info.xxh64):
            raise ShardError(f"{place}: xxh64 '{info.xxh64}' is not 16 lowercase hex digits")
        if info.records < 0 or info.bytes < 0:
            raise ShardError(f"{place}: negative records or bytes")
        if os.path.basename(info.file) != info.file:
            raise ShardError(f"{place}: file '{info.file}' is not a plain file name")
        shards.append(info)
    return Manifest(directory=directory, kind=kind, shards=tuple(shards),
                    tokenizer_hash=_field(obj, "tokenizer_hash", str, path, optional=True),
                    sequence_length=_field(obj, "sequence_length", int, path, optional=True),
                    compression_level=_field(obj, "compression_level", int, path, optional=True))


def verify(directory: str | os.PathLike, deep: bool = False) -> Manifest:
    """Checks every shard's size, chained XXH64 and record count against the manifest (`ecom-data inspect --verify`);
    with `deep`, also decompresses every block and checks its XXH64 and records. Returns the manifest; raises a
    ShardError naming the shard otherwise."""
    m = read_manifest(directory)
    for s in m.shards:
        shard = ShardFile(m.shard_path(s))
        if shard.file_size != s.bytes:
            raise ShardError(f"{shard.path}: {shard.file_size} bytes, the manifest says {s.bytes} (truncated or replaced shard)")
        h = f"{shard.file_checksum():016x}"
        if h != s.xxh64:
            raise ShardError(f"{shard.path}: checksum {h}, the manifest says {s.xxh64} (corrupt shard)")
        if shard.record_count != s.records:
            raise ShardError(f"{shard.path}: {shard.record_count} records, the manifest says {s.records}")
        if deep:
            for i in range(len(shard.blocks)):
                shard.block_records(i)
    return m

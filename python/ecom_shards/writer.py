# Writes shard directories as Sources/Instruct/ShardWriter.swift and Manifest.swift do (test fixtures).
from __future__ import annotations

import json
import os
import struct

import xxhash
import zstandard

from .shard import BLOCK_ENTRY_SIZE, END_MAGIC, HEADER_SIZE, MAGIC, VERSION, KIND_PACKED, KIND_RECORDS

_KINDS = {"records": KIND_RECORDS, "packed": KIND_PACKED}


def write_shard(path: str | os.PathLike, kind: str, payloads: list[bytes], block_records: int, level: int = 3) -> dict:
    """Writes one shard of `payloads`, `block_records` per block; returns its manifest entry (without `split`)."""
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'records' or 'packed', got {kind!r}")
    if block_records < 1:
        raise ValueError("block_records must be positive")
    path = os.fspath(path)
    cctx = zstandard.ZstdCompressor(level=level)
    out = bytearray(MAGIC + struct.pack("<II", VERSION, _KINDS[kind]))
    h = xxhash.xxh64_intdigest(bytes(out), seed=0)
    entries = []
    uncompressed = 0
    for i in range(0, len(payloads), block_records):
        chunk = payloads[i:i + block_records]
        block = b"".join(struct.pack("<I", len(p)) + p for p in chunk)
        frame = cctx.compress(block)
        entries.append(struct.pack("<QQQIIQ", len(out), len(frame), len(block), len(chunk), 0,
                                   xxhash.xxh64_intdigest(block, seed=0)))
        h = xxhash.xxh64_intdigest(frame, seed=h)
        out += frame
        uncompressed += len(block)
    tail = b"".join(entries) + struct.pack("<QQ", len(entries), len(out)) + END_MAGIC
    assert len(tail) == len(entries) * BLOCK_ENTRY_SIZE + 24 and len(out) >= HEADER_SIZE
    h = xxhash.xxh64_intdigest(tail, seed=h)
    out += tail
    tmp = os.path.join(os.path.dirname(path) or ".", "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(out)
    os.replace(tmp, path)
    return {"file": os.path.basename(path), "records": len(payloads), "bytes": len(out),
            "uncompressed_bytes": uncompressed, "xxh64": f"{h:016x}"}


def write_directory(directory: str | os.PathLike, kind: str, splits: dict[str, list[list[bytes]]], block_records: int,
                    sequence_length: int | None = None, tokenizer_hash: str | None = None) -> dict:
    """Writes `splits` ({split: [payloads of shard 0, of shard 1, …]}) as `<split>-NNNNN.ecs` shards and a manifest
    (written last); returns the manifest object."""
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    shards = []
    for split, parts in splits.items():
        for n, payloads in enumerate(parts):
            info = write_shard(os.path.join(directory, f"{split}-{n:05d}.ecs"), kind, payloads, block_records)
            shards.append({**info, "split": split})
    manifest = {"format": "ecom-shards", "version": 1, "kind": kind, "compression_level": 3, "shards": shards}
    if kind == "packed":
        manifest["sequence_length"] = sequence_length
        manifest["tokenizer_hash"] = tokenizer_hash
    manifest = {k: v for k, v in manifest.items() if v is not None}
    tmp = os.path.join(directory, ".manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
    os.replace(tmp, os.path.join(directory, "manifest.json"))
    return manifest

# Test fixtures: Swift-written shards (ecom-data from $ECOM_BIN) and Python-written multi-shard ones.
from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import numpy as np

from ecom_shards.packed import encode_packed
from ecom_shards.writer import write_directory

REPO = Path(__file__).resolve().parents[2]
TOKENIZER = REPO / "Tests" / "Fixtures" / "tokenizer" / "gpt2_small.json"
# The sample data gives no sequences at --seq-len 64 or 32 (every document is longer and loses its response);
# 256 gives one sequence per record (275 train, 17 validation).
SWIFT_SEQ_LEN = 256

_root = tempfile.mkdtemp(prefix="ecom_shards_tests_")
atexit.register(shutil.rmtree, _root, True)
_built: dict[str, Path] = {}


def ecom_bin() -> Path:
    """The directory holding ecom-data ($ECOM_BIN, default <repo>/.build/release)."""
    return Path(os.environ.get("ECOM_BIN") or REPO / ".build" / "release")


def ecom_data() -> Path:
    """The ecom-data executable; skips the test when it is absent, or fails when CI=true."""
    exe = ecom_bin() / "ecom-data"
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        msg = (f"{exe} not found: build the tools (swift build -c release) or set ECOM_BIN to the directory "
               f"holding ecom-data")
        if os.environ.get("CI", "").lower() == "true":
            raise AssertionError(msg + " (CI=true: Swift-written shards are required)")
        raise unittest.SkipTest(msg)
    return exe


def run_ecom_data(*args: str) -> str:
    """Runs ecom-data and returns its stdout; a failure shows its stderr."""
    p = subprocess.run([str(ecom_data()), *map(str, args)], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"ecom-data {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stderr}")
    return p.stdout


def swift_records() -> Path:
    """Record shards written by `ecom-data build` (the embedded raw sample)."""
    if "records" not in _built:
        out = Path(_root) / "swift-records"
        run_ecom_data("build", "--out", out)
        _built["records"] = out
    return _built["records"]


def swift_packed() -> Path:
    """Packed shards written by `ecom-data pack` from swift_records()."""
    if "packed" not in _built:
        out = Path(_root) / "swift-packed"
        run_ecom_data("pack", swift_records(), "--tokenizer", TOKENIZER, "--seq-len", SWIFT_SEQ_LEN, "--out", out)
        _built["packed"] = out
    return _built["packed"]


def synthetic_sequences(count: int, seq_len: int, seed: int = 0) -> list[bytes]:
    """`count` distinct packed payloads (ids[0] is the sequence's number)."""
    rng = np.random.default_rng(seed)
    out = []
    for n in range(count):
        ids = rng.integers(0, 50000, seq_len, dtype=np.int32)
        ids[0] = n
        docs = np.sort(rng.integers(0, 4, seq_len)).astype(np.uint16)
        out.append(encode_packed(ids, rng.integers(0, 2, seq_len, dtype=np.uint8), docs))
    return out


SYNTHETIC_SEQ_LEN = 16
# Train shards of these sizes (one empty, one of a single sequence), 7 sequences per block.
SYNTHETIC_SHARDS = [90, 0, 1, 64, 150, 45]


def synthetic_packed() -> Path:
    """A packed directory written by ecom_shards.writer: 350 train sequences in 6 shards, and a validation shard."""
    if "synthetic" not in _built:
        out = Path(_root) / "synthetic-packed"
        seqs = synthetic_sequences(sum(SYNTHETIC_SHARDS) + 20, SYNTHETIC_SEQ_LEN)
        parts, at = [], 0
        for n in SYNTHETIC_SHARDS:
            parts.append(seqs[at:at + n])
            at += n
        write_directory(out, "packed", {"train": parts, "validation": [seqs[at:]]}, block_records=7,
                        sequence_length=SYNTHETIC_SEQ_LEN, tokenizer_hash="0" * 16)
        _built["synthetic"] = out
    return _built["synthetic"]


def synthetic_records() -> Path:
    """A record directory written by ecom_shards.writer (JSON objects, 3 per block)."""
    if "synthetic-records" not in _built:
        out = Path(_root) / "synthetic-records"
        recs = [json.dumps({"id": f"r#{i}", "output": "x" * i}).encode() for i in range(20)]
        write_directory(out, "records", {"train": [recs[:12], recs[12:17]], "validation": [recs[17:]]}, block_records=3)
        _built["synthetic-records"] = out
    return _built["synthetic-records"]


def resharded(source: Path, name: str, cuts: list[int], block_records: int) -> Path:
    """The train split of `source` rewritten into shards cut at `cuts` with `block_records` per block (other splits
    copied whole): Swift-written payloads in a multi-shard, multi-block layout."""
    from ecom_shards import read_manifest, read_payloads
    if name not in _built:
        m = read_manifest(source)
        train = list(read_payloads(source, "train"))
        bounds = [0, *cuts, len(train)]
        splits = {"train": [train[a:b] for a, b in zip(bounds, bounds[1:])]}
        for s in sorted({i.split for i in m.shards} - {"train"}):
            splits[s] = [list(read_payloads(source, s))]
        out = Path(_root) / name
        write_directory(out, m.kind, splits, block_records, sequence_length=m.sequence_length,
                        tokenizer_hash=m.tokenizer_hash)
        _built[name] = out
    return _built[name]


def copy_dir(source: Path) -> Path:
    """A fresh copy of a shard directory (to damage)."""
    return Path(shutil.copytree(source, tempfile.mkdtemp(dir=_root), dirs_exist_ok=True))


def swift_stream(directory: Path, seed: int, buffer_size: int, split: str = "train") -> list[dict]:
    """One epoch in ShardStream's order, as `ecom-data cat --stream-seed` prints it (one JSON object a line)."""
    text = run_ecom_data("cat", directory, "--split", split, "--stream-seed", seed, "--buffer-size", buffer_size)
    return [json.loads(line) for line in text.splitlines()]


def assert_same_sequence(test: unittest.TestCase, ours: list, expected: list, what: str = "stream") -> None:
    """Fails with the first differing index (unittest's diff of long lists of large items is far too slow)."""
    for i, (a, b) in enumerate(zip(ours, expected)):
        if a != b:
            test.fail(f"{what}: item {i} differs (of {len(ours)} and {len(expected)})")
    if len(ours) != len(expected):
        test.fail(f"{what}: {len(ours)} items, expected {len(expected)}")

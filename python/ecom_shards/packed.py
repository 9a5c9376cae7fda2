# Packed-sequence payloads (n, ids i32, loss mask u8, document ids u16), as Sources/Instruct/Packing.swift.
from __future__ import annotations

import numpy as np

from .errors import ShardError

_U32 = np.dtype("<u4")
_I32 = np.dtype("<i4")
_U16 = np.dtype("<u2")


def decode_packed(payload: bytes, place: str = "packed sequence") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A packed payload as `(ids int32[n], loss_mask uint8[n], document_ids uint16[n])` (native-endian copies).

    Raises a ShardError mentioning `place` if the payload's length is not 4 + 7·n.
    """
    buf = memoryview(payload).cast("B")
    if len(buf) < 4:
        raise ShardError(f"{place}: packed sequence shorter than its length field")
    n = int(np.frombuffer(buf, _U32, 1)[0])
    if len(buf) != 4 + 7 * n:
        raise ShardError(f"{place}: packed sequence of {len(buf)} bytes, expected {4 + 7 * n} for {n} tokens")
    ids = np.frombuffer(buf, _I32, n, 4).astype(np.int32)
    mask = np.frombuffer(buf, np.uint8, n, 4 + 4 * n).copy()
    docs = np.frombuffer(buf, _U16, n, 4 + 5 * n).astype(np.uint16)
    return ids, mask, docs


def encode_packed(ids, loss_mask, document_ids) -> bytes:
    """The payload of one packed sequence (the inverse of decode_packed; used to write test shards)."""
    ids = np.asarray(ids, dtype=_I32)
    mask = np.asarray(loss_mask, dtype=np.uint8)
    docs = np.asarray(document_ids, dtype=_U16)
    if not (ids.ndim == mask.ndim == docs.ndim == 1 and len(ids) == len(mask) == len(docs)):
        raise ValueError("ids, loss_mask and document_ids must be 1-D and of one length")
    return np.array([len(ids)], dtype=_U32).tobytes() + ids.tobytes() + mask.tobytes() + docs.tobytes()

# ecom_shards: Python reader for Ecom's zstd shards (Docs/FORMATS.md) and the training stream order of ecom-train.
"""Read Ecom record and packed-sequence shards, verify them, and stream them in `ecom-train`'s order.

Public API: ShardError, SeededGenerator, ShardFile, Manifest, read_manifest, verify, read_payloads, read_records,
decode_packed, StreamPosition, StreamOrder, ShardStream, PackedDataset.
"""
from .dataset import PackedDataset
from .errors import ShardError
from .manifest import Manifest, ShardInfo, read_manifest, verify
from .order import StreamOrder, StreamPosition
from .packed import decode_packed, encode_packed
from .records import read_payloads, read_records
from .rng import SeededGenerator
from .shard import ShardFile
from .stream import ShardStream

__version__ = "0.1.0"
__all__ = ["PackedDataset", "ShardError", "Manifest", "ShardInfo", "read_manifest", "verify", "StreamOrder",
           "StreamPosition", "decode_packed", "encode_packed", "read_payloads", "read_records", "SeededGenerator",
           "ShardFile", "ShardStream"]

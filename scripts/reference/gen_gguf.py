"""Golden fixtures for the GGUF reader and dequantization (issue 13), from the `gguf` package (gguf-py, pinned).

Output, under Tests/Fixtures/gguf/:
  blocks.json       per ggml type: raw block bytes (hex) and `gguf.quants.dequantize`'s output as float32 bit
                    patterns (exact comparison). Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/BF16 data are random floats quantized with
                    `gguf.quants.quantize` followed by random raw blocks (random bytes, sane f16 scales); the K-quants,
                    which the package cannot quantize, are random raw blocks only; F16/F32 are random bit patterns.
  tiny.gguf         a GGUF v3 file written with `gguf.GGUFWriter`: every metadata value type, a nested array, and
                    tensors of several types (default alignment 32).
  tiny-align64.gguf the same writer with `general.alignment` = 64 and fewer tensors.
  gguf_reference.json  what `gguf.GGUFReader` reads from both files: version, alignment, data offset, metadata keys in
                    order with typed values (numbers as strings, floats as bit patterns), tensor names, dims (ne0
                    first), types, offsets, byte sizes, and each tensor dequantized (float32 bit patterns).
Every fixture carries provenance: a "provenance" object in the JSON files, an `ecom.provenance` string key in the
GGUF files.
"""
import importlib.metadata
import json
import os

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V
from gguf.quants import dequantize, quantize

from provenance import fixture_path, provenance, write_json

RNG = np.random.default_rng(20240613)
EXTRA = {"gguf": importlib.metadata.version("gguf"), "numpy": np.__version__}

# Byte ranges of the f16 scales inside each block type (set to sane values in random raw blocks).
F16_SCALES = {
    Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0],
    Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208],
}


def u32_bits(a: np.ndarray) -> list:
    return [int(x) for x in np.ascontiguousarray(a, dtype=np.float32).reshape(-1).view(np.uint32)]


def random_blocks(qtype: Q, n_blocks: int) -> np.ndarray:
    """Random block bytes with finite, moderate f16 scales (random sign), so every bit of the payload is exercised."""
    _, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = RNG.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for off in F16_SCALES[qtype]:
        scale = (RNG.standard_normal(n_blocks) * 0.05).astype(np.float16)
        raw[:, off:off + 2] = scale.view(np.uint8).reshape(n_blocks, 2)
    return raw


def block_case(qtype: Q) -> dict:
    block_size, _ = gguf.GGML_QUANT_SIZES[qtype]
    if qtype == Q.F32:
        raw = RNG.integers(0, 2**32, size=64, dtype=np.uint32)
        raw[:4] = [0x7F800000, 0xFF800000, 0x7FC00001, 0x00000001]  # +inf, -inf, NaN with payload, smallest subnormal
        data = raw.view(np.uint8)
    elif qtype == Q.F16:
        raw = RNG.integers(0, 2**16, size=256, dtype=np.uint16)
        raw[:6] = [0x7C00, 0xFC00, 0x7E01, 0x0001, 0x83FF, 0x8000]  # infinities, NaN payload, subnormals, -0
        data = raw.view(np.uint8)
    elif qtype == Q.BF16:
        x = RNG.standard_normal(64).astype(np.float32)
        bits = RNG.integers(0, 2**16, size=64, dtype=np.uint16)
        data = np.concatenate([quantize(x, qtype).reshape(-1), bits.view(np.uint8)])
    elif qtype in (Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0):
        x = (RNG.standard_normal((4, block_size)) * RNG.uniform(0.01, 3.0, size=(4, 1))).astype(np.float32)
        x[0, 3] = 0.0
        data = np.concatenate([quantize(x, qtype).reshape(-1), random_blocks(qtype, 3).reshape(-1)])
    else:  # K-quants: gguf-py does not quantize them
        data = random_blocks(qtype, 3).reshape(-1)
    data = np.ascontiguousarray(data, dtype=np.uint8)
    values = dequantize(data, qtype)
    return {"type": qtype.name, "type_id": int(qtype), "count": int(values.size),
            "bytes_hex": data.tobytes().hex(), "floats_u32": u32_bits(values)}


BLOCK_TYPES = [Q.F32, Q.F16, Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q4_K, Q.Q5_K, Q.Q6_K]

# Tensors of the tiny files: name (all 5 bytes long, so tests can swap names in place), ggml type, numpy shape.
TINY_TENSORS = [
    ("a.f32", Q.F32, (3, 8)),
    ("b.f16", Q.F16, (2, 16)),
    ("c.q80", Q.Q8_0, (2, 64)),
    ("d.q41", Q.Q4_1, (4, 32)),
    ("e.q4k", Q.Q4_K, (1, 256)),
    ("f.b16", Q.BF16, (3, 4)),
    ("g.q51", Q.Q5_1, (2, 32)),
    ("h.q6k", Q.Q6_K, (2, 256)),
    ("i.f3d", Q.F32, (2, 3, 4)),
]


def tensor_bytes(qtype: Q, shape) -> tuple:
    """(array to hand to GGUFWriter.add_tensor, raw_dtype) for a tensor of `shape` and `qtype`."""
    if qtype == Q.F32:
        return RNG.standard_normal(shape).astype(np.float32), None
    if qtype == Q.F16:
        return RNG.standard_normal(shape).astype(np.float16), None
    if qtype in (Q.Q4_K, Q.Q6_K):
        block_size, _ = gguf.GGML_QUANT_SIZES[qtype]
        rows, n = int(np.prod(shape[:-1])), shape[-1]
        raw = random_blocks(qtype, rows * n // block_size).reshape(*shape[:-1], -1)
        return raw, qtype
    x = RNG.standard_normal(shape).astype(np.float32)
    return quantize(x, qtype), qtype


def write_tiny(path: str, tensors, alignment=None, meta=True) -> None:
    w = gguf.GGUFWriter(path, "llama")
    w.add_string("ecom.provenance", json.dumps(provenance("gen_gguf.py", **EXTRA), sort_keys=True))
    if alignment is not None:
        w.add_custom_alignment(alignment)
    if meta:
        w.add_uint8("test.u8", 200)
        w.add_int8("test.i8", -100)
        w.add_uint16("test.u16", 60000)
        w.add_int16("test.i16", -30000)
        w.add_uint32("test.u32", 4_000_000_000)
        w.add_int32("test.i32", -2_000_000_000)
        w.add_float32("test.f32", 3.14159)
        w.add_bool("test.bool_true", True)
        w.add_bool("test.bool_false", False)
        w.add_string("test.string", "h\u00e9llo \u2713 \U0001F600")
        w.add_array("test.array_i32", [1, -2, 3])
        w.add_uint64("test.u64", 2**63 + 5)
        w.add_int64("test.i64", -(2**62) - 7)
        w.add_float64("test.f64", 2.718281828459045)
        w.add_array("test.array_str", ["a", "bc", "\u00fc"])
        w.add_array("test.array_f32", [0.5, -1.25])
        w.add_array("test.array_bool", [True, False, True])
        w.add_array("test.nested", [[1, 2], [3], [4, 5, 6]])
        w.add_array("test.nested_str", [["x", "yz"], ["w"]])
        w.add_uint32("llama.block_count", 2)
    for name, qtype, shape in tensors:
        arr, raw_dtype = tensor_bytes(qtype, shape)
        if raw_dtype is None:
            w.add_tensor(name, arr)
        else:
            w.add_tensor(name, arr, raw_dtype=raw_dtype)  # shape: from the byte shape and the type
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def typed_value(parts, i, t):
    """Rebuilds one value from GGUFReader's parts (nested arrays keep their structure, which contents() flattens).
    Returns (value, next part index). Numbers are strings (64-bit integers do not fit JSON doubles everywhere);
    floats are their IEEE bit patterns in hex."""
    if t == V.STRING:
        return {"t": "STRING", "v": str(bytes(parts[i + 1]), encoding="utf-8")}, i + 2
    if t == V.ARRAY:
        et = V(int(parts[i][0]))
        n = int(parts[i + 1][0])
        j = i + 2
        items = []
        for _ in range(n):
            item, j = typed_value(parts, j, et)
            items.append(item)
        return {"t": "ARRAY", "e": et.name, "v": items}, j
    x = parts[i][0]
    if t == V.BOOL:
        return {"t": "BOOL", "v": bool(x)}, i + 1
    if t == V.FLOAT32:
        return {"t": "FLOAT32", "v": "0x%08x" % int(np.float32(x).view(np.uint32))}, i + 1
    if t == V.FLOAT64:
        return {"t": "FLOAT64", "v": "0x%016x" % int(np.float64(x).view(np.uint64))}, i + 1
    return {"t": t.name, "v": str(int(x))}, i + 1


def read_reference(path: str) -> dict:
    r = gguf.GGUFReader(path)
    keys, values = [], {}
    for name, field in r.fields.items():
        if name.startswith("GGUF."):
            continue  # the reader's pseudo-fields for the header
        # parts[0..2] are the key (length, bytes) and the value type; the value starts at parts[3].
        value, end = typed_value(field.parts, 3, V(int(field.parts[2][0])))
        assert end == len(field.parts), name
        keys.append(name)
        values[name] = value
    tensors = []
    for t in r.tensors:
        tensors.append({
            "name": t.name, "type": t.tensor_type.name, "type_id": int(t.tensor_type),
            "dims": [int(d) for d in t.shape], "n_elements": int(t.n_elements), "n_bytes": int(t.n_bytes),
            "data_offset": int(t.data_offset), "offset": int(t.data_offset - r.data_offset),
            "floats_u32": u32_bits(dequantize(np.asarray(t.data).view(np.uint8).reshape(-1), t.tensor_type)),
        })
    return {"version": int(r.fields["GGUF.version"].parts[0][0]), "alignment": int(r.alignment),
            "data_offset": int(r.data_offset), "file_size": os.path.getsize(path),
            "keys": keys, "metadata": values, "tensors": tensors}


def main():
    write_json(fixture_path("gguf", "blocks.json"), {
        "provenance": provenance("gen_gguf.py", **EXTRA),
        "cases": [block_case(q) for q in BLOCK_TYPES],
    })
    tiny = fixture_path("gguf", "tiny.gguf")
    write_tiny(tiny, TINY_TENSORS)
    tiny64 = fixture_path("gguf", "tiny-align64.gguf")
    write_tiny(tiny64, [TINY_TENSORS[0], TINY_TENSORS[2], TINY_TENSORS[4]], alignment=64, meta=False)
    write_json(fixture_path("gguf", "gguf_reference.json"), {
        "provenance": provenance("gen_gguf.py", **EXTRA),
        "files": {"tiny.gguf": read_reference(tiny), "tiny-align64.gguf": read_reference(tiny64)},
    })


if __name__ == "__main__":
    main()

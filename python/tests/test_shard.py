# Tests of reading, verifying and rejecting damaged shards: Swift-written ones (ecom-data) and Python-written ones.
import json
import os
import struct
import unittest

import numpy as np
import xxhash
import zstandard

import fixtures
from ecom_shards import (ShardError, ShardFile, decode_packed, encode_packed, read_manifest, read_payloads, read_records,
                         verify)


class SwiftShardTests(unittest.TestCase):
    """Shards written by the Swift tools decode to what their manifests record."""

    def test_records_decode_to_the_manifest_counts(self):
        d = fixtures.swift_records()
        m = verify(d, deep=True)
        self.assertEqual(m.kind, "records")
        for split in {s.split for s in m.shards}:
            recs = list(read_records(d, split))
            self.assertEqual(len(recs), sum(s.records for s in m.shards_of(split)))
            self.assertTrue(all(r["provenance"]["split"] == split for r in recs))
        self.assertGreater(len(list(read_records(d))), 0)

    def test_records_equal_ecom_data_cat(self):
        d = fixtures.swift_records()
        cat = [json.loads(line) for line in fixtures.run_ecom_data("cat", d, "--split", "train").splitlines()]
        fixtures.assert_same_sequence(self, list(read_records(d, "train")), cat, "records")

    def test_packed_decode_to_the_manifest_counts(self):
        d = fixtures.swift_packed()
        m = verify(d, deep=True)
        self.assertEqual((m.kind, m.sequence_length), ("packed", fixtures.SWIFT_SEQ_LEN))
        self.assertRegex(m.tokenizer_hash, "^[0-9a-f]{16}$")
        for split in ("train", "validation"):
            seqs = [decode_packed(p) for p in read_payloads(d, split)]
            self.assertEqual(len(seqs), sum(s.records for s in m.shards_of(split)))
            self.assertGreater(len(seqs), 0)
            for ids, mask, docs in seqs:
                self.assertEqual((ids.dtype, mask.dtype, docs.dtype), (np.int32, np.uint8, np.uint16))
                self.assertEqual(len(ids), fixtures.SWIFT_SEQ_LEN)
                self.assertTrue(mask.any())
                self.assertTrue(set(np.unique(mask)) <= {0, 1})
                self.assertTrue(np.all(mask[docs == 0] == 0))  # padding is never learned
        cat = [json.loads(line) for line in fixtures.run_ecom_data("cat", d, "--split", "train").splitlines()]
        ours = [decode_packed(p) for p in read_payloads(d, "train")]
        fixtures.assert_same_sequence(self, [[i.tolist(), m.tolist(), x.tolist()] for i, m, x in ours],
                                      [[c["ids"], c["loss_mask"], c["document_ids"]] for c in cat], "stored order")

    def test_swift_verifies_python_written_shards(self):
        fixtures.ecom_data()
        d = fixtures.synthetic_packed()
        fixtures.run_ecom_data("inspect", d, "--verify")
        verify(d, deep=True)


class DamageTests:
    """Damaged shards are rejected with errors naming the file and the place (mixed into a TestCase per source)."""

    def directory(self):
        raise NotImplementedError

    def first_shard(self, d):
        info = next(s for s in read_manifest(d).shards if s.records > 0)
        return os.path.join(d, info.file), info

    def edit_manifest_entry(self, d, file, edit):
        """Applies `edit` to the manifest entry of shard `file` and writes the manifest back."""
        mpath = os.path.join(d, "manifest.json")
        with open(mpath) as f:
            m = json.load(f)
        for entry in m["shards"]:
            if entry["file"] == file:
                edit(entry)
        with open(mpath, "w") as f:
            json.dump(m, f)

    def rewrite(self, path, offset, data):
        with open(path, "r+b") as f:
            f.seek(offset)
            f.write(data)

    def test_clean_directory_verifies(self):
        verify(self.directory(), deep=True)

    def test_flipped_byte_in_a_block(self):
        d = fixtures.copy_dir(self.directory())
        path, _ = self.first_shard(d)
        block = ShardFile(path).blocks[0]
        with open(path, "rb") as f:
            f.seek(block.offset + block.compressed_size // 2)
            byte = f.read(1)[0]
        self.rewrite(path, block.offset + block.compressed_size // 2, bytes([byte ^ 0x40]))
        with self.assertRaises(ShardError) as e:
            ShardFile(path).read_block(0)
        self.assertIn(path, str(e.exception))
        self.assertIn("block 0", str(e.exception))
        self.assertIn("corrupt", str(e.exception))
        with self.assertRaises(ShardError) as e:
            list(read_payloads(d))
        self.assertIn(f"{path}: block 0", str(e.exception))
        with self.assertRaises(ShardError) as e:
            verify(d)
        self.assertIn(path, str(e.exception))
        self.assertIn("checksum", str(e.exception))

    def test_truncated_file(self):
        d = fixtures.copy_dir(self.directory())
        path, _ = self.first_shard(d)
        size = os.path.getsize(path)
        for keep in (size - 1, size - 30, 20, 0):
            os.truncate(path, keep)
            for action in (lambda: ShardFile(path), lambda: verify(d), lambda: list(read_payloads(d))):
                with self.assertRaises(ShardError) as e:
                    action()
                self.assertIn(path, str(e.exception))
                self.assertIn("truncated", str(e.exception))

    def test_manifest_checksum_mismatch(self):
        d = fixtures.copy_dir(self.directory())
        path, info = self.first_shard(d)
        self.edit_manifest_entry(d, info.file, lambda s: s.update(xxh64=f"{int(s['xxh64'], 16) ^ 1:016x}"))
        with self.assertRaises(ShardError) as e:
            verify(d)
        self.assertIn(path, str(e.exception))
        self.assertIn("the manifest says", str(e.exception))

    def test_manifest_size_and_count_mismatch(self):
        for key in ("bytes", "records"):
            d = fixtures.copy_dir(self.directory())
            path, info = self.first_shard(d)
            self.edit_manifest_entry(d, info.file, lambda s: s.update({key: s[key] + 1}))
            for action in (lambda: verify(d), lambda: list(read_payloads(d))):
                with self.assertRaises(ShardError) as e:
                    action()
                self.assertIn(path, str(e.exception))

    def test_bad_magic_version_kind(self):
        for offset, data, words in ((0, b"X", "magic"), (8, struct.pack("<I", 2), "version 2"),
                                    (12, struct.pack("<I", 9), "kind 9"), (-1, b"X", "end magic")):
            d = fixtures.copy_dir(self.directory())
            path, _ = self.first_shard(d)
            self.rewrite(path, offset if offset >= 0 else os.path.getsize(path) - 1, data)
            with self.assertRaises(ShardError) as e:
                ShardFile(path)
            self.assertIn(path, str(e.exception))
            self.assertIn(words, str(e.exception))

    def test_footer_record_count_differs_from_block(self):
        d = fixtures.copy_dir(self.directory())
        path, _ = self.first_shard(d)
        shard = ShardFile(path)
        self.rewrite(path, shard.footer_offset + 24, struct.pack("<I", shard.blocks[0].records + 1))
        with self.assertRaises(ShardError) as e:
            ShardFile(path).block_records(0)
        self.assertIn(f"{path}: block 0: {shard.blocks[0].records} records, the footer says", str(e.exception))


class SyntheticDamageTests(DamageTests, unittest.TestCase):
    def directory(self):
        return fixtures.synthetic_packed()


class SwiftPackedDamageTests(DamageTests, unittest.TestCase):
    def directory(self):
        return fixtures.swift_packed()


class SwiftRecordsDamageTests(DamageTests, unittest.TestCase):
    def directory(self):
        return fixtures.swift_records()


def raw_shard(path, block: bytes, records: int):
    """A one-block shard holding `block` as given (checksums right), to test record framing."""
    frame = zstandard.ZstdCompressor(level=3).compress(block)
    body = b"ECOMSHRD" + struct.pack("<II", 1, 2) + frame
    footer = struct.pack("<QQQIIQ", 16, len(frame), len(block), records, 0, xxhash.xxh64_intdigest(block))
    with open(path, "wb") as f:
        f.write(body + footer + struct.pack("<QQ", 1, len(body)) + b"ECOMEND1")


class FramingTests(unittest.TestCase):
    def setUp(self):
        self.path = os.path.join(fixtures.copy_dir(fixtures.synthetic_packed()), "raw.ecs")

    def test_record_overrunning_the_block(self):
        raw_shard(self.path, struct.pack("<I", 3) + b"abc" + struct.pack("<I", 10) + b"xy", 2)
        with self.assertRaises(ShardError) as e:
            ShardFile(self.path).block_records(0)
        self.assertIn(f"{self.path}: block 0: record 1 of 10 bytes runs past the block's end", str(e.exception))

    def test_truncated_length_field(self):
        raw_shard(self.path, struct.pack("<I", 1) + b"a" + b"\x01\x00", 2)
        with self.assertRaises(ShardError) as e:
            ShardFile(self.path).block_records(0)
        self.assertIn("truncated record length", str(e.exception))

    def test_wrong_uncompressed_size(self):
        raw_shard(self.path, struct.pack("<I", 1) + b"a", 1)
        with open(self.path, "r+b") as f:
            shard = ShardFile(self.path)
            f.seek(shard.footer_offset + 16)
            f.write(struct.pack("<Q", 4))
        with self.assertRaises(ShardError) as e:
            ShardFile(self.path).read_block(0)
        self.assertIn(f"{self.path}: block 0", str(e.exception))
        self.assertIn("corrupt", str(e.exception))

    def test_missing_file(self):
        with self.assertRaises(ShardError) as e:
            ShardFile(self.path + ".nope")
        self.assertIn(self.path + ".nope", str(e.exception))


class SyntheticRecordsTests(unittest.TestCase):
    def test_read_records_in_stored_order(self):
        d = fixtures.synthetic_records()
        verify(d, deep=True)
        self.assertEqual([r["id"] for r in read_records(d)], [f"r#{i}" for i in range(20)])
        self.assertEqual([r["id"] for r in read_records(d, "validation")], ["r#17", "r#18", "r#19"])
        with self.assertRaises(ShardError):
            list(read_records(fixtures.synthetic_packed()))


class PackedPayloadTests(unittest.TestCase):
    def test_round_trip_and_length_check(self):
        ids, mask, docs = np.array([5, -1, 70000], np.int32), np.array([0, 1, 1], np.uint8), np.array([1, 1, 0], np.uint16)
        p = encode_packed(ids, mask, docs)
        self.assertEqual(len(p), 4 + 7 * 3)
        for a, b in zip(decode_packed(p), (ids, mask, docs)):
            np.testing.assert_array_equal(a, b)
            self.assertEqual(a.dtype, b.dtype)
        for bad in (p[:-1], p + b"\0", b"\1\0"):
            with self.assertRaises(ShardError) as e:
                decode_packed(bad, "somewhere")
            self.assertIn("somewhere", str(e.exception))
        self.assertEqual(len(decode_packed(struct.pack("<I", 0))[0]), 0)


class ManifestTests(unittest.TestCase):
    def test_bad_manifests(self):
        d = fixtures.copy_dir(fixtures.synthetic_packed())
        mpath = os.path.join(d, "manifest.json")
        with open(mpath) as f:
            good = json.load(f)
        for change, words in (({"format": "other"}, "format 'other'"), ({"version": 2}, "manifest version 2"),
                              ({"kind": "tokens"}, "kind 'tokens'"), ({"shards": "x"}, "'shards'")):
            with open(mpath, "w") as f:
                json.dump({**good, **change}, f)
            with self.assertRaises(ShardError) as e:
                read_manifest(d)
            self.assertIn(mpath, str(e.exception))
            self.assertIn(words, str(e.exception))
        with open(mpath, "w") as f:
            f.write("{")
        with self.assertRaises(ShardError):
            read_manifest(d)
        os.remove(mpath)
        with self.assertRaises(ShardError) as e:
            read_manifest(d)
        self.assertIn("no manifest", str(e.exception))


if __name__ == "__main__":
    unittest.main()

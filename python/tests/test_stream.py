# Tests of ShardStream: the order equals Swift's ShardStream (`ecom-data cat --stream-seed`), resuming, epochs.
import itertools
import json
import unittest
from unittest import mock

import fixtures
from ecom_shards import ShardError, ShardFile, ShardStream, StreamOrder, decode_packed, read_manifest, read_payloads


def as_cat_json(payload: bytes, kind: str) -> dict:
    """A payload as `ecom-data cat` prints it."""
    if kind == "records":
        return json.loads(payload)
    ids, mask, docs = decode_packed(payload)
    return {"document_ids": docs.tolist(), "ids": ids.tolist(), "loss_mask": mask.tolist()}


class SwiftOrderTests(unittest.TestCase):
    """One epoch of ShardStream equals the Swift stream for several seeds and window sizes."""

    def check(self, directory, seeds=(0, 42, 2**64 - 1), buffer_sizes=(1, 7, 64, 1024), split="train"):
        kind = read_manifest(directory).kind
        for seed, bs in itertools.product(seeds, buffer_sizes):
            with self.subTest(directory=str(directory), seed=seed, buffer_size=bs):
                swift = fixtures.swift_stream(directory, seed, bs, split)
                ours = [as_cat_json(p, kind) for p in ShardStream(directory, split, seed, bs, epochs=1)]
                self.assertEqual(len(ours), sum(s.records for s in read_manifest(directory).shards_of(split)))
                fixtures.assert_same_sequence(self, ours, swift, f"seed {seed} buffer {bs}")

    def test_swift_packed(self):
        self.check(fixtures.swift_packed())

    def test_swift_records(self):
        self.check(fixtures.swift_records(), seeds=(3,), buffer_sizes=(10, 1024))
        self.check(fixtures.swift_records(), seeds=(3,), buffer_sizes=(5,), split="validation")

    def test_several_shards_and_blocks(self):
        # The sample gives one shard of one block per split: rewrite the Swift-packed sequences into six shards
        # (one empty, one of a single sequence) of 9-sequence blocks, so that the shard order and window
        # boundaries inside and across blocks and shards are exercised.
        fixtures.ecom_data()
        d = fixtures.resharded(fixtures.swift_packed(), "swift-packed-resharded", [30, 31, 31, 100, 180], 9)
        self.assertEqual(len(read_manifest(d).shards_of("train")), 6)
        self.check(d, seeds=(0, 1, 42, 12345), buffer_sizes=(1, 10, 50, 128, 1024))

    def test_synthetic_shards(self):
        fixtures.ecom_data()
        self.check(fixtures.synthetic_packed(), seeds=(5,), buffer_sizes=(1, 33, 100, 1024))


class StreamTests(unittest.TestCase):
    def setUp(self):
        self.dir = fixtures.synthetic_packed()
        self.total = sum(fixtures.SYNTHETIC_SHARDS)

    def take(self, stream, n=None):
        return [int(decode_packed(p)[0][0]) for p in itertools.islice(stream, n)]

    def test_an_epoch_is_a_permutation(self):
        s = ShardStream(self.dir, seed=9, buffer_size=32, epochs=1)
        self.assertEqual(s.records_per_epoch, self.total)
        got = self.take(s)
        self.assertEqual(sorted(got), list(range(self.total)))
        self.assertNotEqual(got, list(range(self.total)))
        self.assertEqual(s.position, (0, self.total))
        self.assertEqual(next(s, None), None)

    def test_resume_mid_epoch_equals_the_tail(self):
        full = self.take(ShardStream(self.dir, seed=9, buffer_size=32, epochs=3))
        for at in (0, 1, 31, 32, 33, 100, self.total - 1, self.total, self.total + 40, 2 * self.total + 5):
            with self.subTest(at=at):
                s = ShardStream(self.dir, seed=9, buffer_size=32, epochs=3)
                head = self.take(s, at)
                pos = s.position
                fixtures.assert_same_sequence(self, head, full[:at], "head")
                resumed = ShardStream(self.dir, seed=9, buffer_size=32, epochs=3, position=pos)
                self.assertEqual(resumed.position, pos)
                fixtures.assert_same_sequence(self, self.take(resumed), full[at:], "resumed")

    def test_positions(self):
        s = ShardStream(self.dir, seed=1, buffer_size=50, epochs=2)
        positions = []
        for _ in s:
            positions.append(s.position)
        n = self.total
        self.assertEqual(positions[0], (0, 1))
        self.assertEqual(positions[n - 1], (0, n))
        self.assertEqual(positions[n], (1, 1))
        self.assertEqual(positions[-1], (1, n))
        self.assertEqual(len(positions), 2 * n)

    def test_epochs_continue_with_new_orders(self):
        s = ShardStream(self.dir, seed=4, buffer_size=16, epochs=None)
        epochs = [self.take(s, self.total) for _ in range(3)]
        for e in epochs:
            self.assertEqual(sorted(e), list(range(self.total)))
        self.assertNotEqual(epochs[0], epochs[1])
        self.assertNotEqual(epochs[1], epochs[2])
        for e in (1, 2):
            fixtures.assert_same_sequence(
                self, self.take(ShardStream(self.dir, seed=4, buffer_size=16, epochs=e + 1, position=(e, 0))), epochs[e])
        order = StreamOrder([s.records for s in read_manifest(self.dir).shards_of("train")], 4, 16)
        self.assertNotEqual(order.shard_order(0), order.shard_order(1))

    def test_restore_reads_no_block_before_the_window(self):
        buffer_size = 40
        position = (1, 3 * buffer_size + 7)
        order = StreamOrder([s.records for s in read_manifest(self.dir).shards_of("train")], 11, buffer_size)
        window_start = 3 * buffer_size
        # Reading-order range of each (shard, block) in epoch 1.
        m = read_manifest(self.dir)
        infos = m.shards_of("train")
        ranges = {}
        for k in order.shard_order(1):
            at = order.shard_start(1, k)
            for b, blk in enumerate(ShardFile(m.shard_path(infos[k])).blocks):
                ranges[(m.shard_path(infos[k]), b)] = (at, at + blk.records)
                at += blk.records
        read = []
        original = ShardFile.read_block

        def recording(shard, index):
            read.append((shard.path, index))
            return original(shard, index)

        with mock.patch.object(ShardFile, "read_block", recording):
            s = ShardStream(self.dir, seed=11, buffer_size=buffer_size, epochs=2, position=position)
            self.assertEqual(read, [])
            self.take(s, buffer_size - 7)  # the rest of the window
        self.assertTrue(read)
        for key in read:
            lo, hi = ranges[key]
            self.assertGreater(hi, window_start, f"block {key} ends before the window")
            self.assertLessEqual(lo, window_start + buffer_size - 1)
        self.assertEqual(len(read), len(set(read)), "a block was decompressed twice within one window")

    def test_bad_positions_and_arguments(self):
        for pos in ((0, self.total + 1), (-1, 0), (0, -1), "x", (1,)):
            with self.assertRaises(ShardError):
                ShardStream(self.dir, position=pos)
        with self.assertRaises(ValueError):
            ShardStream(self.dir, buffer_size=0)
        with self.assertRaises(ValueError):
            ShardStream(self.dir, seed=-1)

    def test_other_split_and_all_splits(self):
        val = list(ShardStream(self.dir, split="validation", seed=0, epochs=1))
        self.assertEqual(sorted(val), sorted(read_payloads(self.dir, "validation")))
        everything = list(ShardStream(self.dir, split=None, seed=0, epochs=1))
        self.assertEqual(len(everything), self.total + len(val))
        self.assertEqual(list(ShardStream(self.dir, split="test", epochs=None)), [])


if __name__ == "__main__":
    unittest.main()

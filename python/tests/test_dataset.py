# Tests of PackedDataset: ranks and DataLoader workers split the global stream exactly, resuming, epochs, tensors.
import itertools
import os
import unittest
from unittest import mock

import numpy as np
import torch
from torch.utils.data import DataLoader

import fixtures
from ecom_shards import PackedDataset, ShardError, ShardStream, decode_packed


def stream_ids(directory, seed, buffer_size, count, start=(0, 0)):
    """The first `count` sequences' ids of the single-process stream from `start`, as an array [count, T]."""
    s = ShardStream(directory, "train", seed, buffer_size, epochs=None, position=start)
    return np.stack([decode_packed(p)[0] for p in itertools.islice(s, count)]).astype(np.int64)


class PackedDatasetTests(unittest.TestCase):
    def setUp(self):
        self.dir = fixtures.synthetic_packed()
        self.n = sum(fixtures.SYNTHETIC_SHARDS)
        self.T = fixtures.SYNTHETIC_SEQ_LEN

    def batches(self, **kw):
        kw.setdefault("seed", 3)
        kw.setdefault("buffer_size", 64)
        workers = kw.pop("num_workers", 0)
        ds = PackedDataset(self.dir, **kw)
        loader = DataLoader(ds, batch_size=None, num_workers=workers)
        return list(loader)

    def test_ranks_and_workers_cover_an_epoch_once_in_stream_order(self):
        B, W = 8, 2
        per_rank = [self.batches(batch_size=B, rank=r, world_size=W, epochs=1, num_workers=2) for r in range(W)]
        # Global micro-batch g is rank g % W's (g // W)-th.
        total = sum(len(b) for b in per_rank)
        self.assertEqual(total, -(-self.n // B))
        merged = [per_rank[g % W][g // W] for g in range(total)]
        ids = torch.cat([b["input_ids"] for b in merged]).numpy()
        self.assertEqual(ids.shape, (self.n, self.T))
        np.testing.assert_array_equal(ids, stream_ids(self.dir, 3, 64, self.n))
        self.assertEqual(sorted(ids[:, 0].tolist()), list(range(self.n)))  # each sequence exactly once
        self.assertEqual(len(merged[-1]["input_ids"]), self.n % B or B)  # a short final micro-batch
        for b in merged:
            self.assertEqual((b["input_ids"].dtype, b["loss_mask"].dtype, b["document_ids"].dtype),
                             (torch.int64, torch.bool, torch.int32))

    def test_fields_match_the_decoded_sequences(self):
        b = self.batches(batch_size=5, epochs=1)[3]
        s = ShardStream(self.dir, "train", 3, 64, epochs=1, position=(0, 15))
        for row in range(5):
            ids, mask, docs = decode_packed(next(s))
            np.testing.assert_array_equal(b["input_ids"][row].numpy(), ids)
            np.testing.assert_array_equal(b["loss_mask"][row].numpy(), mask != 0)
            np.testing.assert_array_equal(b["document_ids"][row].numpy(), docs)

    def test_endless_stream_continues_across_epochs(self):
        B, W = 16, 3
        steps = 3 * self.n // (B * W) + 2
        per_rank = []
        for r in range(W):
            it = iter(DataLoader(PackedDataset(self.dir, seed=3, batch_size=B, rank=r, world_size=W, buffer_size=64),
                                 batch_size=None, num_workers=2))
            per_rank.append([next(it) for _ in range(steps)])
        merged = torch.cat([per_rank[g % W][g // W]["input_ids"] for g in range(steps * W)]).numpy()
        np.testing.assert_array_equal(merged, stream_ids(self.dir, 3, 64, steps * W * B))
        for e in range(3):
            self.assertEqual(sorted(merged[e * self.n:(e + 1) * self.n, 0].tolist()), list(range(self.n)))

    def test_resume_from_a_saved_position(self):
        B, W, accum, steps = 4, 2, 3, 5
        ds = PackedDataset(self.dir, seed=3, batch_size=B, rank=0, world_size=W, buffer_size=64)
        done = steps * B * W * accum
        pos = PackedDataset.position_after((0, 0), done, ds.records_per_epoch)
        self.assertEqual(pos, divmod(done, self.n))
        full = stream_ids(self.dir, 3, 64, done + 2 * W * B)
        for start in (pos, done):
            got = []
            for r in range(W):
                it = iter(PackedDataset(self.dir, seed=3, batch_size=B, rank=r, world_size=W, buffer_size=64,
                                        start=start))
                got.append([next(it)["input_ids"] for _ in range(2)])
            merged = torch.cat([got[g % W][g // W] for g in range(2 * W)]).numpy()
            np.testing.assert_array_equal(merged, full[done:])

    def test_position_after(self):
        n = self.n
        pa = PackedDataset.position_after
        self.assertEqual(pa((0, 0), 0, n), (0, 0))
        self.assertEqual(pa((0, 0), 1, n), (0, 1))
        self.assertEqual(pa((0, 0), n, n), (0, n))  # as ShardStream.position reports an epoch's end
        self.assertEqual(pa((0, 0), n + 1, n), (1, 1))
        self.assertEqual(pa((1, 5), 2 * n, n), (3, 5))
        self.assertEqual(pa(n + 5, 0, n), (1, 5))
        self.assertEqual(pa((0, n), 0, n), (0, n))
        # The position after s items of a ShardStream.
        s = ShardStream(self.dir, seed=3, buffer_size=64, epochs=None, position=(0, 7))
        for taken in range(1, 2 * n + 3):
            next(s)
            if taken in (1, n - 7, n - 6, 2 * n - 7, 2 * n + 2):
                self.assertEqual(pa((0, 7), taken, n), s.position)
        with self.assertRaises(ShardError):
            pa((0, n + 1), 1, n)
        with self.assertRaises(ValueError):
            pa((0, 0), -1, n)

    def test_finite_epochs_from_a_later_start(self):
        B = 32
        got = self.batches(batch_size=B, epochs=2, start=(1, 300))
        ids = torch.cat([b["input_ids"] for b in got]).numpy()
        np.testing.assert_array_equal(ids, stream_ids(self.dir, 3, 64, self.n - 300, start=(1, 300)))
        self.assertEqual(self.batches(batch_size=B, epochs=1, start=(1, 0)), [])

    def test_rank_from_environment(self):
        with mock.patch.dict(os.environ, {"RANK": "1", "WORLD_SIZE": "3"}):
            ds = PackedDataset(self.dir, batch_size=2)
        self.assertEqual((ds.rank, ds.world_size), (1, 3))
        with mock.patch.dict(os.environ, {}, clear=True):
            ds = PackedDataset(self.dir, batch_size=2)
        self.assertEqual((ds.rank, ds.world_size), (0, 1))
        with self.assertRaises(ValueError):
            PackedDataset(self.dir, batch_size=2, rank=2, world_size=2)
        with self.assertRaises(ValueError):
            PackedDataset(self.dir, batch_size=0)

    def test_needs_packed_shards(self):
        with self.assertRaises(ShardError) as e:
            PackedDataset(fixtures.synthetic_records(), batch_size=2)
        self.assertIn("packed", str(e.exception))

    def test_swift_packed_shards(self):
        fixtures.ecom_data()
        d = fixtures.swift_packed()
        ds = PackedDataset(d, seed=42, batch_size=7, epochs=1, rank=0, world_size=1)
        batches = list(DataLoader(ds, batch_size=None, num_workers=2))
        ids = torch.cat([b["input_ids"] for b in batches]).numpy()
        self.assertEqual(ids.shape, (ds.records_per_epoch, fixtures.SWIFT_SEQ_LEN))
        swift = fixtures.swift_stream(d, 42, 1024)
        np.testing.assert_array_equal(ids, np.array([s["ids"] for s in swift]))


if __name__ == "__main__":
    unittest.main()

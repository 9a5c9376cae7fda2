# Tests of ecom_shards.rng against SplitMix64's published vector and the Swift generator's definitions.
import unittest

from ecom_shards.rng import SeededGenerator, fnv1a64, mix64


class SeededGeneratorTests(unittest.TestCase):
    def test_splitmix64_vector(self):
        g = SeededGenerator(1234567)
        self.assertEqual([g.next() for _ in range(5)],
                         [6457827717110365317, 3203168211198807973, 9817491932198370423,
                          4593380528125082431, 16408922859458223821])

    def test_keyed_init_mixes_fnv1a_and_discards_one_output(self):
        self.assertEqual(fnv1a64(b""), 0xCBF29CE484222325)
        self.assertEqual(fnv1a64(b"a"), 0xAF63DC4C8601EC8C)  # FNV-1a 64 reference value
        keyed = SeededGenerator(42, "epoch/0")
        plain = SeededGenerator(42 ^ fnv1a64(b"epoch/0"))
        plain.next()
        self.assertEqual([keyed.next() for _ in range(3)], [plain.next() for _ in range(3)])
        self.assertNotEqual(SeededGenerator(42, "epoch/1").next(), SeededGenerator(42, "epoch/0").next())

    def test_state_wraps_modulo_2_64(self):
        g = SeededGenerator(2**64 - 1)
        self.assertEqual(g.next(), mix64((2**64 - 1 + 0x9E3779B97F4A7C15) % 2**64))

    def test_below_is_rejection_sampling(self):
        g, h = SeededGenerator(7), SeededGenerator(7)
        for n in (1, 2, 3, 10, 1000, 2**63 + 1):
            limit = 2**64 - 1 - (2**64 - 1) % n
            x = h.next()
            while x >= limit:
                x = h.next()
            self.assertEqual(g.below(n), x % n)
        with self.assertRaises(ValueError):
            g.below(0)

    def test_shuffle_is_fisher_yates_from_the_end(self):
        items = list(range(10))
        SeededGenerator(5).shuffle(items)
        h = SeededGenerator(5)
        expected = list(range(10))
        for i in range(9, 0, -1):
            j = h.below(i + 1)
            expected[i], expected[j] = expected[j], expected[i]
        self.assertEqual(items, expected)
        self.assertEqual(sorted(items), list(range(10)))
        self.assertEqual(SeededGenerator(5).permutation(10), items)

    def test_bad_seed(self):
        for seed in (-1, 2**64, 1.5, "1"):
            with self.assertRaises(ValueError):
                SeededGenerator(seed)


if __name__ == "__main__":
    unittest.main()

# SplitMix64 seeded generator, bit for bit Sources/Instruct/SeededGenerator.swift (keyed init, below(n), shuffle).

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3


def mix64(x: int) -> int:
    """SplitMix64's finaliser (a bijective 64-bit mix)."""
    z = x & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def fnv1a64(data: bytes) -> int:
    """FNV-1a 64-bit hash of `data`."""
    h = _FNV_OFFSET
    for b in data:
        h = ((h ^ b) * _FNV_PRIME) & _MASK
    return h


def check_seed(seed: int) -> int:
    """`seed` as an unsigned 64-bit integer; a ValueError if it is not one."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= _MASK:
        raise ValueError(f"seed must be an integer in 0...2^64-1, got {seed!r}")
    return seed


class SeededGenerator:
    """Deterministic 64-bit random numbers (SplitMix64), identical to Ecom's Swift `SeededGenerator`.

    `SeededGenerator(seed)` starts from the seed; `SeededGenerator(seed, key)` mixes the seed with the FNV-1a hash of
    the key's UTF-8 bytes and discards one output, as the Swift keyed initialiser does.
    """

    def __init__(self, seed: int, key: str | None = None):
        seed = check_seed(seed)
        if key is None:
            self.state = seed
        else:
            self.state = seed ^ fnv1a64(key.encode("utf-8"))
            self.next()

    def next(self) -> int:
        """The next 64-bit output."""
        self.state = (self.state + _GAMMA) & _MASK
        return mix64(self.state)

    def below(self, n: int) -> int:
        """A uniform integer in 0..<n (n > 0), by rejection so that it is unbiased."""
        if n <= 0:
            raise ValueError(f"below({n}): n must be positive")
        limit = _MASK - _MASK % n
        while True:
            x = self.next()
            if x < limit:
                return x % n

    def shuffle(self, items: list) -> None:
        """Fisher–Yates shuffle of `items` in place (i from the end down to 1, j = below(i + 1))."""
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            if i != j:
                items[i], items[j] = items[j], items[i]

    def permutation(self, n: int) -> list[int]:
        """`list(range(n))` shuffled: position i of a shuffled list holds the element that was at permutation[i]."""
        p = list(range(n))
        self.shuffle(p)
        return p

"""Pure-Python twin of crates/workloads/src/synthetic (no numpy needed).

The peer comparison (Optuna, DEHB, HpBandSter, SMAC3) must see the same functions and the same
noise as the Rust benchmarks; this file reimplements the seeding scheme documented in
synthetic/mod.rs (splitmix64 word hash -> ChaCha8 key -> rand 0.9 uniforms -> Box-Muller) and
every problem of docs/problems.md. The Rust test
`streams_match_the_independent_python_reference` pins values printed by `python3 peer_reference.py`.

    evaluate(name, x, budget, run, job, sigma=0.0) -> observed loss
    true_value(name, x) -> noise-free full-fidelity loss
"""

import math
import struct

M64 = (1 << 64) - 1
TAG_OBSERVATION, TAG_MFH, TAG_COUNTING_ONES = 1, 2, 3


def splitmix64(v):
    z = (v + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def hash_words(words):
    h = 0
    for w in words:
        h = splitmix64(h ^ w)
    return h


def f64_word(v):
    return 0 if v == 0.0 else struct.unpack("<Q", struct.pack("<d", v))[0]


def _rotl(x, n):
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


def _qr(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = _rotl(s[b] ^ s[c], 7)


class SeededRng:
    """rand_chacha 0.9 ChaCha8Rng::from_seed(key): stream 0, 64-bit block counter from 0."""

    def __init__(self, words):
        h = hash_words(words)
        key = b"".join(struct.pack("<Q", splitmix64((h + i) & M64)) for i in range(4))
        self.key = list(struct.unpack("<8I", key))
        self.counter = 0
        self.buf = []

    def _block(self):
        st = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574] + self.key
        st += [self.counter & 0xFFFFFFFF, self.counter >> 32, 0, 0]
        w = list(st)
        for _ in range(4):  # 8 rounds
            _qr(w, 0, 4, 8, 12); _qr(w, 1, 5, 9, 13); _qr(w, 2, 6, 10, 14); _qr(w, 3, 7, 11, 15)
            _qr(w, 0, 5, 10, 15); _qr(w, 1, 6, 11, 12); _qr(w, 2, 7, 8, 13); _qr(w, 3, 4, 9, 14)
        self.counter += 1
        self.buf = [(a + b) & 0xFFFFFFFF for a, b in zip(w, st)]

    def next_u32(self):
        if not self.buf:
            self._block()
        return self.buf.pop(0)

    def next_u64(self):
        lo = self.next_u32()
        return lo | (self.next_u32() << 32)

    def uniform(self):
        return (self.next_u64() >> 11) * 2.0**-53

    def normal(self):
        u1, u2 = self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = {
    3: [[3, 10, 30], [0.1, 10, 35], [3, 10, 30], [0.1, 10, 35]],
    6: [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]],
}
P = {
    3: [[0.3689, 0.1170, 0.2673], [0.4699, 0.4387, 0.7470],
        [0.1091, 0.8732, 0.5547], [0.0381, 0.5743, 0.8828]],
    6: [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
        [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
        [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
        [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]],
}
H_MAX = {3: 3.86278, 6: 3.322368}
PRESETS = {"default": (0.5, 0.1), "good": (2.5, 2.0), "moderate": (3.0, 3.0),
           "bad": (3.5, 4.0), "terrible": (4.0, 5.0)}


def bumps(d, x):
    return [math.exp(-sum(A[d][i][j] * (x[j] - P[d][i][j]) ** 2 for j in range(d)))
            for i in range(4)]


def _branin(x, z):
    b = 5.1 / (4 * math.pi**2) - 0.01 * (1 - z)
    q = x[1] - b * x[0] ** 2 + 5 / math.pi * x[0] - 6
    return q * q + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x[0]) + 10


def _mf_hartmann(d, x, z):
    alpha = [ALPHA[0] - 0.1 * (1 - z)] + ALPHA[1:]
    return -min(H_MAX[d], sum(a * e for a, e in zip(alpha, bumps(d, x))))


def _mfh_noise_free(d, bias, x, budget):
    zhat = math.log(budget) / math.log(100.0)
    return -sum((a - bias * (1 - zhat)) * e for a, e in zip(ALPHA, bumps(d, x)))


def _counting_ones_sizes(name):
    if name == "counting-ones":
        return 8, 8
    cat, cont = name[len("counting-ones-"):].split("-")
    return int(cat), int(cont)


def evaluate(name, x, budget, run, job, sigma=0.0):
    if name == "mf-branin":
        loss = _branin(x, budget / 81.0)
    elif name.startswith("mf-hartmann"):
        loss = _mf_hartmann(int(name[-1]), x, budget / 81.0)
    elif name.startswith("mfh"):
        d, preset = int(name[3]), name[5:]
        bias, noise = PRESETS[preset]
        zhat = math.log(budget) / math.log(100.0)
        loss = _mfh_noise_free(d, bias, x, budget)
        scale = noise * (1 - zhat)
        if scale != 0.0:
            words = [TAG_MFH, run, f64_word(budget)] + [f64_word(v) for v in x]
            loss += abs(SeededRng(words).normal()) * scale
    elif name.startswith("counting-ones"):
        n_cat, _ = _counting_ones_sizes(name)
        b = max(1, int(math.floor(budget + 0.5)))
        rng = SeededRng([TAG_COUNTING_ONES, run, job])
        total = sum(x[:n_cat])
        for p in x[n_cat:]:
            total += sum(1 for _ in range(b) if rng.uniform() < p) / b
        loss = -total
    else:
        raise KeyError(name)
    if sigma != 0.0:
        loss += sigma * SeededRng([TAG_OBSERVATION, run, job]).normal()
    return loss


def true_value(name, x):
    if name == "mf-branin":
        return _branin(x, 1.0)
    if name.startswith("mf-hartmann"):
        return _mf_hartmann(int(name[-1]), x, 1.0)
    if name.startswith("mfh"):
        return _mfh_noise_free(int(name[3]), 0.0, x, 100.0)
    if name.startswith("counting-ones"):
        return -sum(x)
    raise KeyError(name)


if __name__ == "__main__":
    rng = SeededRng([1, 2, 3])
    print(hex(hash_words([1, 2, 3])), hex(rng.next_u64()), hex(rng.next_u64()))
    print(repr(SeededRng([1, 2, 3]).uniform()), repr(SeededRng([1, 2, 3]).normal()))
    print(repr(evaluate("counting-ones", [0.0] * 8 + [0.5] * 8, 9.0, 11, 2)))
    print(repr(evaluate("mfh6-terrible", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 3.0, 1, 1)))
    print(repr(evaluate("mf-branin", [1.0, 2.0], 9.0, 1, 1, sigma=0.5)))

"""The two string hashes Keras's `Hashing` and lookup layers use (through TensorFlow):

- `fingerprint64(data)`: FarmHash's 64-bit fingerprint (the "na" family), what
  `tf.strings.to_hash_bucket_fast` computes before taking the remainder;
- `siphash(data, key)`: SipHash-2-4 keyed with two 64-bit words, what
  `tf.strings.to_hash_bucket_strong` (a `salt`) computes.

Both are written from the published algorithms in plain Python integers, masked to 64 bits
after every operation that could overflow. They run once per *distinct* value: the layers
hash `np.unique` of their input and scatter the results back.
"""

import numpy as np

_MASK = (1 << 64) - 1

# FarmHash's multipliers.
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


def _rotate_right(value, shift):
    return ((value >> shift) | (value << (64 - shift))) & _MASK


def _fetch64(data, i):
    return int.from_bytes(data[i:i + 8], "little")


def _fetch32(data, i):
    return int.from_bytes(data[i:i + 4], "little")


def _shift_mix(value):
    return value ^ (value >> 47)


def _hash_len16(u, v, mul):
    a = ((u ^ v) * mul) & _MASK
    a ^= a >> 47
    b = ((v ^ a) * mul) & _MASK
    b ^= b >> 47
    return (b * mul) & _MASK


def _hash_len0to16(data):
    n = len(data)
    if n >= 8:
        mul = _K2 + n * 2
        a = (_fetch64(data, 0) + _K2) & _MASK
        b = _fetch64(data, n - 8)
        c = (_rotate_right(b, 37) * mul + a) & _MASK
        d = ((_rotate_right(a, 25) + b) * mul) & _MASK
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        a = _fetch32(data, 0)
        return _hash_len16((n + (a << 3)) & _MASK, _fetch32(data, n - 4), mul)
    if n > 0:
        y = data[0] + (data[n >> 1] << 8)
        z = n + (data[n - 1] << 2)
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _MASK) * _K2) & _MASK
    return _K2


def _hash_len17to32(data):
    n = len(data)
    mul = _K2 + n * 2
    a = (_fetch64(data, 0) * _K1) & _MASK
    b = _fetch64(data, 8)
    c = (_fetch64(data, n - 8) * mul) & _MASK
    d = (_fetch64(data, n - 16) * _K2) & _MASK
    return _hash_len16(
        (_rotate_right((a + b) & _MASK, 43) + _rotate_right(c, 30) + d) & _MASK,
        (a + _rotate_right((b + _K2) & _MASK, 18) + c) & _MASK, mul)


def _hash_len33to64(data):
    n = len(data)
    mul = _K2 + n * 2
    a = (_fetch64(data, 0) * _K2) & _MASK
    b = _fetch64(data, 8)
    c = (_fetch64(data, n - 8) * mul) & _MASK
    d = (_fetch64(data, n - 16) * _K2) & _MASK
    y = (_rotate_right((a + b) & _MASK, 43) + _rotate_right(c, 30) + d) & _MASK
    z = _hash_len16(y, (a + _rotate_right((b + _K2) & _MASK, 18) + c) & _MASK, mul)
    e = (_fetch64(data, 16) * mul) & _MASK
    f = _fetch64(data, 24)
    g = ((y + _fetch64(data, n - 32)) * mul) & _MASK
    h = ((z + _fetch64(data, n - 24)) * mul) & _MASK
    return _hash_len16(
        (_rotate_right((e + f) & _MASK, 43) + _rotate_right(g, 30) + h) & _MASK,
        (e + _rotate_right((f + a) & _MASK, 18) + g) & _MASK, mul)


def _weak_hash_len32_with_seeds(data, i, a, b):
    w, x, y, z = (_fetch64(data, i + 8 * k) for k in range(4))
    a = (a + w) & _MASK
    b = _rotate_right((b + a + z) & _MASK, 21)
    c = a
    a = (a + x + y) & _MASK
    b = (b + _rotate_right(a, 44)) & _MASK
    return (a + z) & _MASK, (b + c) & _MASK


def fingerprint64(data):
    """FarmHash Fingerprint64 of `data` (bytes), an int in [0, 2**64)."""
    n = len(data)
    if n <= 16:
        return _hash_len0to16(data)
    if n <= 32:
        return _hash_len17to32(data)
    if n <= 64:
        return _hash_len33to64(data)
    # Longer inputs: 64-byte blocks through a 56-byte state (x, y, z, v, w), then the last
    # 64 bytes (overlapping the previous block when n is not a multiple of 64).
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & _MASK
    z = (_shift_mix((y * _K2 + 113) & _MASK) * _K2) & _MASK
    v = (0, 0)
    w = (0, 0)
    x = (x * _K2 + _fetch64(data, 0)) & _MASK
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    i = 0
    while True:
        x = (_rotate_right((x + y + v[0] + _fetch64(data, i + 8)) & _MASK, 37) * _K1) & _MASK
        y = (_rotate_right((y + v[1] + _fetch64(data, i + 48)) & _MASK, 42) * _K1) & _MASK
        x ^= w[1]
        y = (y + v[0] + _fetch64(data, i + 40)) & _MASK
        z = (_rotate_right((z + w[0]) & _MASK, 33) * _K1) & _MASK
        v = _weak_hash_len32_with_seeds(data, i, (v[1] * _K1) & _MASK, (x + w[0]) & _MASK)
        w = _weak_hash_len32_with_seeds(data, i + 32, (z + w[1]) & _MASK,
                                        (y + _fetch64(data, i + 16)) & _MASK)
        z, x = x, z
        i += 64
        if i == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    i = last64
    w0 = (w[0] + ((n - 1) & 63)) & _MASK
    v0 = (v[0] + w0) & _MASK
    w0 = (w0 + v0) & _MASK
    v, w = (v0, v[1]), (w0, w[1])
    x = (_rotate_right((x + y + v[0] + _fetch64(data, i + 8)) & _MASK, 37) * mul) & _MASK
    y = (_rotate_right((y + v[1] + _fetch64(data, i + 48)) & _MASK, 42) * mul) & _MASK
    x ^= (w[1] * 9) & _MASK
    y = (y + v[0] * 9 + _fetch64(data, i + 40)) & _MASK
    z = (_rotate_right((z + w[0]) & _MASK, 33) * mul) & _MASK
    v = _weak_hash_len32_with_seeds(data, i, (v[1] * mul) & _MASK, (x + w[0]) & _MASK)
    w = _weak_hash_len32_with_seeds(data, i + 32, (z + w[1]) & _MASK,
                                    (y + _fetch64(data, i + 16)) & _MASK)
    z, x = x, z
    return _hash_len16(
        (_hash_len16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _MASK,
        (_hash_len16(v[1], w[1], mul) + x) & _MASK, mul)


def _rotate_left(value, shift):
    return ((value << shift) | (value >> (64 - shift))) & _MASK


def siphash(data, key):
    """SipHash-2-4 of `data` (bytes) keyed with `key` = (k0, k1), two 64-bit ints."""
    k0, k1 = (int(k) & _MASK for k in key)
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def sip_round(v0, v1, v2, v3):
        v0 = (v0 + v1) & _MASK
        v1 = _rotate_left(v1, 13) ^ v0
        v0 = _rotate_left(v0, 32)
        v2 = (v2 + v3) & _MASK
        v3 = _rotate_left(v3, 16) ^ v2
        v0 = (v0 + v3) & _MASK
        v3 = _rotate_left(v3, 21) ^ v0
        v2 = (v2 + v1) & _MASK
        v1 = _rotate_left(v1, 17) ^ v2
        v2 = _rotate_left(v2, 32)
        return v0, v1, v2, v3

    n = len(data)
    full = n - n % 8
    # The last word holds the remaining bytes and, in its top byte, the length mod 256.
    words = [_fetch64(data, i) for i in range(0, full, 8)]
    words.append(int.from_bytes(data[full:], "little") | ((n & 0xFF) << 56))
    for m in words:
        v3 ^= m
        for _ in range(2):
            v0, v1, v2, v3 = sip_round(v0, v1, v2, v3)
        v0 ^= m
    v2 ^= 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def as_hash_bytes(values):
    """The bytes TensorFlow hashes for each value of `values` (array of str, bytes or
    ints): UTF-8 for text, the decimal digits for integers (`tf.strings.as_string`)."""
    values = np.asarray(values)
    if values.dtype.kind == "S":
        return [bytes(v) for v in values.ravel()]
    if values.dtype.kind in "iub":
        return [str(int(v)).encode() for v in values.ravel()]
    return [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in values.ravel()]


def hash_buckets(values, num_buckets, key=None):
    """Bucket of each value: fingerprint64 (or SipHash with `key`) modulo `num_buckets`.

    values: array of any shape (str, bytes or ints). Returns int64 array of the same shape.
    Each distinct value is hashed once.
    """
    values = np.asarray(values)
    if values.size == 0:
        return np.zeros(values.shape, dtype=np.int64)
    uniques, inverse = np.unique(values.ravel(), return_inverse=True)
    hashes = [siphash(b, key) if key is not None else fingerprint64(b)
              for b in as_hash_bytes(uniques)]
    buckets = np.array([h % num_buckets for h in hashes], dtype=np.int64)
    return buckets[inverse.ravel()].reshape(values.shape)

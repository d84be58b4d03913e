"""MinHash signatures of word shingles, vectorized with numpy, identical to datasketch's.

A signature is what `datasketch.MinHash(num_perm, seed, scheme=..., hashfunc=...)` holds after
`update_batch(shingles(normalize_text(text), ngram_size))` (tested value for value), so signatures can be
loaded into datasketch's `MinHashLSH` with `MinHash(hashvalues=sig, seed=seed, scheme=scheme)`.

Permutation schemes (datasketch 2.0, `datasketch/minhash.py`):
- "affine32" (datasketch >= 2.0 default): h = fmix32(hash32(shingle)) (MurmurHash3's finalizer),
  then a_k * h + b_k mod 2^32 with odd a_k; `a, b` drawn from `np.random.RandomState(seed)` exactly as
  datasketch draws them.
- "legacy" (datasketch < 2.0): (a_k * h + b_k) mod (2^61 - 1), then & 0xffffffff, computed in uint64
  where a_k * h + b_k wraps mod 2^64 just as datasketch's numpy expression does (the wrap is part of
  what "identical" means). The Mersenne modulo is done with shifts and masks, not a division.
Signatures of different schemes, seeds or shingle hashes are not comparable; the index stores all three.

Shingle hash functions (32-bit values, as `hashfunc` in datasketch):
- "poly32" (default): a polynomial hash of the shingle's UTF-8 bytes, sum_j (byte_j + 1) * P^j mod 2^64,
  finalized with MurmurHash3's fmix64, high 32 bits. Over a batch it is two gathers from a prefix sum of
  the concatenated normalized text: no Python work per shingle. `poly_hash32` is the scalar reference;
  pass it as `hashfunc` to datasketch for identical signatures.
- "sha1": datasketch's default `sha1_hash32` (first 4 bytes of SHA-1, little-endian), one hashlib call
  per shingle; use it to compare with sketches built by plain `datasketch.MinHash()`.
The permutation step (num_perm multiply-adds and a min per shingle) runs on (chunk, num_perm) blocks with
`np.minimum.reduceat` per document; it dominates the cost with "poly32".
"""
from __future__ import annotations

import hashlib
import struct
from typing import Sequence

import numpy as np

from dedup.config import DedupConfig
from dedup.normalize import normalize_text

MASK32 = (1 << 32) - 1
MASK64 = (1 << 64) - 1
MERSENNE_PRIME = (1 << 61) - 1
EMPTY_VALUE = MASK32  # the value of a permutation no shingle reached (datasketch's max hash)

POLY_MULTIPLIER = 0x9E3779B97F4A7C15  # odd, so it has an inverse mod 2^64
POLY_INVERSE = pow(POLY_MULTIPLIER, -1, 1 << 64)
FMIX64 = (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53)
FMIX32 = (0x85EBCA6B, 0xC2B2AE35)
BAND_MULTIPLIER = 0x9FB21C651E98DF25  # band hashing: odd multiplier of a multiply-xorshift mix

CHUNK_SHINGLES = 8192  # shingles per permutation block: (128, 8192) uint32 = 4 MiB
CHUNK_BYTES = 1 << 20  # normalized UTF-8 bytes per prefix-sum block of the poly32 hash


# ---------------------------------------------------------------------------- scalar reference hashes


def sha1_hash32(data: bytes) -> int:
    """datasketch's default hash function: the first 4 bytes of SHA-1, little-endian."""
    return struct.unpack("<I", hashlib.sha1(data).digest()[:4])[0]


def _fmix64(value: int) -> int:
    value ^= value >> 33
    value = (value * FMIX64[0]) & MASK64
    value ^= value >> 33
    value = (value * FMIX64[1]) & MASK64
    return value ^ (value >> 33)


def poly_hash32(data: bytes) -> int:
    """Scalar reference of the "poly32" shingle hash (pass as `hashfunc` to datasketch)."""
    value, power = 0, 1
    for byte in data:
        value = (value + (byte + 1) * power) & MASK64
        power = (power * POLY_MULTIPLIER) & MASK64
    return _fmix64(value) >> 32


HASHFUNCS = {"poly32": poly_hash32, "sha1": sha1_hash32}


# ---------------------------------------------------------------------------------- vectorized parts


def permutations(num_perm: int, seed: int, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of datasketch's `MinHash._init_permutations`, drawn from the same RandomState stream."""
    gen = np.random.RandomState(seed)
    if scheme == "legacy":
        pairs = [(gen.randint(1, MERSENNE_PRIME, dtype=np.uint64), gen.randint(0, MERSENNE_PRIME, dtype=np.uint64))
                 for _ in range(num_perm)]
        a, b = np.array(pairs, dtype=np.uint64).T
        return np.ascontiguousarray(a), np.ascontiguousarray(b)
    if scheme == "affine32":
        a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        return a, b
    raise ValueError(f"unknown scheme {scheme!r}")


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer on a uint32 array (wrapping multiplies, as datasketch's `_fmix`)."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(FMIX32[0])
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(FMIX32[1])
    return values ^ (values >> np.uint32(16))


def fmix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer on a uint64 array."""
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(FMIX64[0])
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(FMIX64[1])
    return values ^ (values >> np.uint64(33))


class _Powers:
    """P^j and P^-j mod 2^64 for j < length, grown on demand (cached per process)."""

    def __init__(self) -> None:
        self.forward = np.ones(1, dtype=np.uint64)
        self.inverse = np.ones(1, dtype=np.uint64)

    def get(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.forward) < length:
            size = max(length, 2 * len(self.forward))
            ones = np.ones(1, dtype=np.uint64)
            # cumprod wraps mod 2^64, which is the arithmetic wanted
            self.forward = np.concatenate((ones, np.cumprod(np.full(size - 1, POLY_MULTIPLIER, dtype=np.uint64))))
            self.inverse = np.concatenate((ones, np.cumprod(np.full(size - 1, POLY_INVERSE, dtype=np.uint64))))
        return self.forward, self.inverse


_POWERS = _Powers()


def _poly32_spans(raw: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """poly32 hashes of raw[starts[i]:ends[i]] for every span, from one prefix sum over `raw`."""
    forward, inverse = _POWERS.get(len(raw) + 1)
    codes = np.frombuffer(raw, dtype=np.uint8).astype(np.uint64) + np.uint64(1)
    prefix = np.zeros(len(raw) + 1, dtype=np.uint64)
    np.cumsum(codes * forward[: len(raw)], out=prefix[1:])  # wraps mod 2^64, as intended
    values = (prefix[ends] - prefix[starts]) * inverse[starts]
    return (fmix64(values) >> np.uint64(32)).astype(np.uint32)


def _sha1_spans(raw: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """sha1_hash32 of raw[starts[i]:ends[i]]: one hashlib call per span (the only per-shingle Python)."""
    sha1 = hashlib.sha1
    digests = b"".join([sha1(raw[s:e]).digest() for s, e in zip(starts.tolist(), ends.tolist())])
    return np.frombuffer(digests, dtype="<u4")[::5].astype(np.uint32)


def _shingle_spans(raw: bytes, doc_starts: np.ndarray, ngram_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Byte spans of every shingle of the documents concatenated in `raw` ("\\n" after each document).

    Returns (starts, ends, doc_of_shingle), in document order. In normalized text words are separated by
    exactly one space, so the bytes from the first word's start to the last word's end are the shingle.
    """
    buffer = np.frombuffer(raw, dtype=np.uint8)
    separators = np.flatnonzero((buffer == 0x20) | (buffer == 0x0A))
    word_starts = np.concatenate(([0], separators[:-1] + 1))
    word_ends = separators
    # empty documents leave a word of length 0 between two newlines: drop those
    keep = word_ends > word_starts
    word_starts, word_ends = word_starts[keep], word_ends[keep]
    words_per_doc = np.diff(np.searchsorted(word_starts, np.concatenate((doc_starts, [len(raw)]))))
    first_word = np.concatenate(([0], np.cumsum(words_per_doc)[:-1]))
    shingles_per_doc = np.where(words_per_doc >= ngram_size, words_per_doc - ngram_size + 1, np.minimum(words_per_doc, 1))
    span_words = np.minimum(words_per_doc, ngram_size)  # words per shingle of each document
    total = int(shingles_per_doc.sum())
    doc_of = np.repeat(np.arange(len(doc_starts)), shingles_per_doc)
    offsets = np.concatenate(([0], np.cumsum(shingles_per_doc)[:-1]))
    first = first_word[doc_of] + (np.arange(total) - offsets[doc_of])
    last = first + span_words[doc_of] - 1
    return word_starts[first], word_ends[last], doc_of


def _permute_min(hashes: np.ndarray, doc_of: np.ndarray, num_docs: int, a: np.ndarray, b: np.ndarray,
                 scheme: str) -> np.ndarray:
    """Signatures (num_docs, num_perm) uint32: per document, the min over its shingles of each permutation.

    Blocks are laid out (num_perm, chunk) so that the per-document min is `np.minimum.reduceat` along the
    contiguous axis (about 40x faster than along axis 0 of a (chunk, num_perm) block).
    """
    num_perm = len(a)
    out = np.full((num_docs, num_perm), EMPTY_VALUE, dtype=np.uint32)
    if scheme == "affine32":
        mixed = fmix32(hashes.astype(np.uint32))
        block = np.empty((num_perm, CHUNK_SHINGLES), dtype=np.uint32)
    else:
        mixed = hashes.astype(np.uint64)
        block = np.empty((num_perm, CHUNK_SHINGLES), dtype=np.uint64)
        high = np.empty((num_perm, CHUNK_SHINGLES), dtype=np.uint64)
    prime = np.uint64(MERSENNE_PRIME)
    a_column, b_column = a[:, None], b[:, None]
    for i0 in range(0, len(mixed), CHUNK_SHINGLES):
        i1 = min(i0 + CHUNK_SHINGLES, len(mixed))
        phv = block[:, : i1 - i0]
        np.multiply(a_column, mixed[None, i0:i1], out=phv)  # wraps mod 2^32 (affine32) or 2^64 (legacy)
        np.add(phv, b_column, out=phv)
        if scheme == "legacy":
            # x mod (2^61 - 1) = (x & p) + (x >> 61), minus p once if that reaches p (2^61 = 1 mod p)
            top = high[:, : i1 - i0]
            np.right_shift(phv, np.uint64(61), out=top)
            np.bitwise_and(phv, prime, out=phv)
            np.add(phv, top, out=phv)
            np.greater_equal(phv, prime, out=top, casting="unsafe")
            np.multiply(top, prime, out=top)
            np.subtract(phv, top, out=phv)
            np.bitwise_and(phv, np.uint64(MASK32), out=phv)
        docs = doc_of[i0:i1]
        seg = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
        mins = np.minimum.reduceat(phv, seg, axis=1).T  # (segments, num_perm)
        rows = docs[seg]
        out[rows] = np.minimum(out[rows], mins.astype(np.uint32, copy=False))
    return out


class MinHasher:
    """Signatures for batches of texts under one configuration (permutations drawn once)."""

    def __init__(self, ngram_size: int = 5, num_perm: int = 128, seed: int = 1, scheme: str = "affine32",
                 shingle_hash: str = "poly32") -> None:
        if shingle_hash not in HASHFUNCS:
            raise ValueError(f"unknown shingle_hash {shingle_hash!r}")
        self.ngram_size = ngram_size
        self.num_perm = num_perm
        self.seed = seed
        self.scheme = scheme
        self.shingle_hash = shingle_hash
        self.a, self.b = permutations(num_perm, seed, scheme)

    @classmethod
    def from_config(cls, config: DedupConfig) -> "MinHasher":
        return cls(config.ngram_size, config.num_perm, config.seed, config.scheme, config.shingle_hash)

    @property
    def hashfunc(self):
        """The scalar shingle hash to pass to `datasketch.MinHash(hashfunc=...)`."""
        return HASHFUNCS[self.shingle_hash]

    def _blocks(self, normalized: Sequence[str]):
        """(first doc, raw bytes, doc starts) blocks of about CHUNK_BYTES of normalized UTF-8."""
        i = 0
        while i < len(normalized):
            parts, starts, size, j = [], [], 0, i
            while j < len(normalized) and (j == i or size < CHUNK_BYTES):
                encoded = normalized[j].encode("utf-8") + b"\n"
                starts.append(size)
                parts.append(encoded)
                size += len(encoded)
                j += 1
            yield i, b"".join(parts), np.array(starts, dtype=np.int64), j
            i = j

    def shingle_hashes(self, normalized: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(hashes, doc_of): the 32-bit hash of every shingle of every normalized text, in order."""
        hashes, docs = [], []
        for first, raw, starts, _ in self._blocks(normalized):
            s, e, doc_of = _shingle_spans(raw, starts, self.ngram_size)
            hashes.append(_poly32_spans(raw, s, e) if self.shingle_hash == "poly32" else _sha1_spans(raw, s, e))
            docs.append(doc_of + first)
        if not hashes:
            return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int64)
        return np.concatenate(hashes), np.concatenate(docs)

    def signatures_normalized(self, normalized: Sequence[str]) -> np.ndarray:
        """(len(normalized), num_perm) uint32 signatures of already normalized texts (all EMPTY_VALUE if empty)."""
        hashes, doc_of = self.shingle_hashes(normalized)
        return _permute_min(hashes, doc_of, len(normalized), self.a, self.b, self.scheme)

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), num_perm) uint32 signatures of raw texts (normalized here)."""
        return self.signatures_normalized([normalize_text(text) for text in texts])

    def shingle_sets(self, normalized: Sequence[str]) -> list[np.ndarray]:
        """Sorted unique shingle hashes per text (for exact Jaccard verification of candidate pairs)."""
        return self.signatures_and_sets(normalized)[1]

    def signatures_and_sets(self, normalized: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Signatures and shingle sets from one hashing pass over the texts."""
        hashes, doc_of = self.shingle_hashes(normalized)
        signatures = _permute_min(hashes, doc_of, len(normalized), self.a, self.b, self.scheme)
        bounds = np.searchsorted(doc_of, np.arange(len(normalized) + 1))
        return signatures, [np.unique(hashes[bounds[i]:bounds[i + 1]]) for i in range(len(normalized))]


def jaccard(left: np.ndarray, right: np.ndarray) -> float:
    """Jaccard similarity of two sorted unique hash arrays (0.0 when both are empty)."""
    if len(left) == 0 and len(right) == 0:
        return 0.0
    common = len(np.intersect1d(left, right, assume_unique=True))
    return common / (len(left) + len(right) - common)


def band_hashes(signatures: np.ndarray, num_bands: int, rows_per_band: int) -> np.ndarray:
    """(n, num_bands) int64: one 64-bit hash of each band's `rows_per_band` values.

    Band j covers signature positions [j * r, (j + 1) * r), the same ranges as datasketch's
    `MinHashLSH.hashranges`; two documents share a bucket of band j iff those values are equal (up to a
    2^-64 collision chance). Multiply-xorshift mix then fmix64, vectorized over documents, in blocks of
    rows that stay in cache (a column of a (n, 128) matrix is a strided read).
    """
    if num_bands * rows_per_band > signatures.shape[1]:
        raise ValueError(f"{num_bands=} * {rows_per_band=} > signature length {signatures.shape[1]}")
    out = np.empty((signatures.shape[0], num_bands), dtype=np.uint64)
    multiplier = np.uint64(BAND_MULTIPLIER)
    block = 8192
    for start in range(0, signatures.shape[0], block):
        rows = signatures[start:start + block]
        for band in range(num_bands):
            h = np.full(rows.shape[0], (band + 1) * 0x632BE59BD9B4E019 & MASK64, dtype=np.uint64)
            for column in range(band * rows_per_band, (band + 1) * rows_per_band):
                h ^= rows[:, column]  # uint32 -> uint64 (same-kind cast)
                h *= multiplier
                h ^= h >> np.uint64(29)
            out[start:start + block, band] = fmix64(h)
    return out.view(np.int64)


def signature_jaccard(left: np.ndarray, right: np.ndarray) -> float:
    """MinHash estimate of the Jaccard similarity: the fraction of equal signature values."""
    return float(np.count_nonzero(left == right)) / len(left)

"""Exact-text hashes and cc_net-style repeated-line removal, per document (engine-free).

Exact dedup: SHA-1 of the normalized text (`dedup.normalize`), truncated to 16 bytes (a collision
among 10^12 documents has probability ~10^-15).

Repeated lines (cc_net, Wenzek et al. 2019, `cc_net/dedup.py`): each line's normalized form is hashed
(SHA-1, first 8 bytes, as cc_net); the corpus-wide count of documents holding a hash is computed
elsewhere (a dict here, a groupBy in Spark); lines whose hash is in `min_docs_for_repeated_line` or more
documents are removed from every document that holds them. cc_net removes every line seen twice in its
shard; here the count is over distinct documents, lines shorter than `min_line_chars` normalized
characters are ignored (neither counted nor removed: "Yes.", "Chapter 1"), and a line repeated inside
one document only is left to the Gopher repetition filter.
"""
from __future__ import annotations

import hashlib

from dedup.normalize import normalize_lines


def exact_hash(normalized: str) -> bytes | None:
    """16-byte SHA-1 prefix of the normalized text; None for an empty text (it takes no part)."""
    if not normalized:
        return None
    return hashlib.sha1(normalized.encode("utf-8")).digest()[:16]


def _line_hash(normalized_line: str) -> int:
    return int.from_bytes(hashlib.sha1(normalized_line.encode("utf-8")).digest()[:8], "little", signed=True)


def line_hashes(text: str, min_line_chars: int) -> list[int]:
    """Per line of `text` (split on "\\n"): the int64 hash of its normalized form, or 0 if it is too short.

    0 marks an ignored line (a real hash is 0 with probability 2^-64; such a line would just be kept).
    """
    return [_line_hash(line) if len(line) >= min_line_chars and line else 0 for line in normalize_lines(text)]


def distinct_line_hashes(text: str, min_line_chars: int) -> list[int]:
    """The distinct non-zero line hashes of a document, sorted (what is counted across documents)."""
    return sorted(set(line_hashes(text, min_line_chars)) - {0})


def remove_lines(text: str, repeated: set[int] | frozenset[int], min_line_chars: int,
                 hashes: list[int] | None = None) -> tuple[str, int, int]:
    """(new text, lines removed, characters removed): lines whose hash is in `repeated` are dropped.

    `hashes` are `line_hashes(text, min_line_chars)` when the caller has them. Kept lines are joined with
    a newline exactly as they were; a text without repeated lines comes back unchanged (the same string).
    """
    if not repeated:
        return text, 0, 0
    if hashes is None:
        hashes = line_hashes(text, min_line_chars)
    if not any(h in repeated for h in hashes):
        return text, 0, 0
    lines = text.split("\n")
    kept = [line for line, h in zip(lines, hashes, strict=True) if h == 0 or h not in repeated]
    new_text = "\n".join(kept)
    return new_text, len(lines) - len(kept), len(text) - len(new_text)

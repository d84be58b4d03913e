"""Configuration of the de-duplication stage (one frozen dataclass, validated by `pipeline.config`).

Defaults and where they come from (numbers: benchmarks/RESULTS.md, "De-duplication (issue 5)"):
- `ngram_size = 5` word shingles on normalized text (REFERENCE: datatrove/FineWeb, text-dedup);
- `num_perm = 128`, `seed = 1`, `scheme = "affine32"`: datasketch 2.0's `MinHash` defaults, so
  `MinHash(num_perm=128, seed=1, hashfunc=poly_hash32)` built on the same shingles holds the same values
  (and plain `MinHash()` does with `shingle_hash = "sha1"`). 256 permutations bought no recall or
  precision on the edited-copies set at twice the permutation cost;
- `threshold = 0.5`, bands x rows derived like datasketch's `MinHashLSH` (`_optimal_param`, equal
  weights: 25 x 5 at 128 permutations), and `verify_jaccard = True`. On lightly edited copies of real
  articles behind site boilerplate (5-gram Jaccard 0.6-1.0 with the original) the pair recall is 0.12 at
  0.8 (9 x 13), 0.46 at 0.7 (14 x 9), 0.78 at 0.6 (18 x 7) and 0.98 at 0.5. Without verification, 0.5
  also merges short pages of one site through their shared boilerplate (pair precision 0.03 on 40-150
  word articles); checking each candidate edge's exact shingle Jaccard against the threshold keeps the
  precision at 1.0 for the same recall. A pair at Jaccard >= 0.5 shares half its 5-grams: a near-copy;
- repeated lines (cc_net): a normalized line found in `min_docs_for_repeated_line` = 3 or more of the
  documents that survived exact and near dedup is boilerplate. cc_net removes every line seen twice in
  a ~5 GB shard; 3 leaves alone a line that two documents happen to share (a quotation, a heading) in
  the small corpora of `run_stages` and tests, and is as aggressive as cc_net on a crawl, where site
  boilerplate is in thousands of pages. `min_line_chars = 20` normalized characters (about 4 words):
  shorter lines ("yes", "chapter", "share") are common in unrelated documents and are left to the line
  filters; `max_removed_char_frac = 0.5`: a page that was more than half boilerplate is a navigation or
  index page rather than an article;
- `shingle_hash = "poly32"`: a vectorized hash of the shingle bytes (no Python work per shingle, 5-8x
  datasketch's throughput); "sha1" gives datasketch's default hash function (`sha1_hash32`) at 1.3-2x.
"""
from __future__ import annotations

from dataclasses import dataclass

from contract.bounds import bounded, check_bounds
from dedup.lsh import optimal_param

SCHEMES = ("affine32", "legacy")
SHINGLE_HASHES = ("poly32", "sha1")
# A document's MinHash is a (shingles x num_perm) uint64 matrix: 80 MB for a 10,000-shingle page at 1024
# permutations (num_perm = 1e8 asked for 3 TiB). datasketch's examples stop at 256.
MAX_NUM_PERM = 1024


@dataclass(frozen=True)
class DedupConfig:
    exact: bool = True  # drop documents whose normalized text equals a kept one's
    near: bool = True  # MinHash LSH near-duplicates + connected components
    # words per shingle; shorter documents are one shingle of all their words
    ngram_size: int = bounded(5, ge=1, le=1000)
    num_perm: int = bounded(128, ge=2, le=MAX_NUM_PERM)  # MinHash permutations (signature length)
    seed: int = bounded(1, ge=0, le=2**32 - 1)  # seed of the permutations (numpy RandomState, as datasketch)
    scheme: str = "affine32"  # datasketch permutation scheme: "affine32" (2.0 default) or "legacy" (< 2.0)
    shingle_hash: str = "poly32"  # "poly32" (vectorized) or "sha1" (datasketch's default sha1_hash32)
    # word 5-gram Jaccard similarity from which two documents are near-duplicates
    threshold: float = bounded(0.5, gt=0, lt=1)
    num_bands: int = bounded(0, ge=0)  # LSH bands; 0 = derived from threshold and num_perm like datasketch
    rows_per_band: int = bounded(0, ge=0)  # rows (permutations) per band; 0 = derived with num_bands
    verify_jaccard: bool = True  # keep only candidate edges whose exact shingle Jaccard is >= threshold
    repeated_lines: bool = True  # cc_net-style removal of lines repeated across documents
    min_docs_for_repeated_line: int = bounded(3, ge=2)  # a line in at least this many surviving documents is removed
    # normalized lines shorter than this are neither counted nor removed
    min_line_chars: int = bounded(20, ge=0, le=1 << 20)
    # drop a document that lost more than this fraction of its chars
    max_removed_char_frac: float = bounded(0.5, ge=0, le=1)
    index_paths: tuple[str, ...] = ()  # previous runs' OUT/dedup/ directories to dedup against
    write_index: bool = True  # persist this run's kept signatures to OUT/dedup/index for later runs
    # Spark connected components: checkpoint every this many iterations
    cc_checkpoint_interval: int = bounded(3, ge=1, le=1000)
    # Spark connected components: fail loudly after this many iterations
    cc_max_iterations: int = bounded(50, ge=1, le=10_000)

    def __post_init__(self) -> None:
        check_bounds(self)
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {self.scheme!r}")
        if self.shingle_hash not in SHINGLE_HASHES:
            raise ValueError(f"shingle_hash must be one of {SHINGLE_HASHES}, got {self.shingle_hash!r}")
        if (self.num_bands == 0) != (self.rows_per_band == 0):
            raise ValueError(f"set both num_bands and rows_per_band or neither, "
                             f"got num_bands={self.num_bands} rows_per_band={self.rows_per_band}")
        if self.num_bands * self.rows_per_band > self.num_perm:
            raise ValueError(f"num_bands * rows_per_band = {self.num_bands * self.rows_per_band} "
                             f"> num_perm = {self.num_perm}")

    def bands(self) -> tuple[int, int]:
        """(num_bands, rows_per_band): as configured, or datasketch's optimum for the threshold."""
        if self.num_bands:
            return self.num_bands, self.rows_per_band
        return optimal_param(self.threshold, self.num_perm)

"""Per-document dedup features as Arrow batch functions (engine-free; Spark runs them in `mapInArrow`).

Each function maps `Iterator[pa.RecordBatch] -> Iterator[pa.RecordBatch]` with a fixed output schema,
and uses the same code as the single-machine path (`dedup.normalize`, `dedup.minhash`, `dedup.lines`),
so both paths see the same hashes. uint32 values (signatures, shingle hashes) travel as int32 with the
same bits (Spark has no unsigned types).
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import pyarrow as pa

from dedup.config import DedupConfig
from dedup.decisions import DECISION_SCHEMA, REASON_LINES
from dedup.lines import distinct_line_hashes, exact_hash, remove_lines
from dedup.minhash import MinHasher, band_hashes, jaccard, signature_jaccard
from dedup.normalize import normalize_text

BatchFn = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]


def _list_array(rows: np.ndarray, value_type: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """A list array of the rows of a 2-D numpy array (null where `valid` is False)."""
    count, width = rows.shape
    offsets = pa.array(np.arange(count + 1, dtype=np.int32) * width, type=pa.int32())
    values = pa.array(np.ascontiguousarray(rows).reshape(-1), type=value_type)
    array = pa.ListArray.from_arrays(offsets, values)
    if valid is not None and not valid.all():
        array = pa.ListArray.from_arrays(offsets, values, mask=pa.array(~valid))
    return array


def features_schema(with_signature: bool, with_shingles: bool) -> pa.Schema:
    fields = [
        pa.field("id", pa.string()),
        pa.field("quality", pa.float64()),
        pa.field("exact_hash", pa.binary()),  # null: no letters (takes no part in exact/near dedup)
        pa.field("bands", pa.list_(pa.int64())),  # null with exact_hash
        pa.field("line_hashes", pa.list_(pa.int64())),  # distinct hashes of the lines long enough to count
    ]
    if with_signature:
        fields.append(pa.field("signature", pa.list_(pa.int32())))
    if with_shingles:
        fields.append(pa.field("shingles", pa.list_(pa.int32())))  # sorted unique shingle hashes
    return pa.schema(fields)


def features_fn(config: DedupConfig, with_signature: bool, with_shingles: bool) -> BatchFn:
    """(id, text, quality) batches -> features_schema batches."""
    schema = features_schema(with_signature, with_shingles)
    num_bands, rows_per_band = config.bands()

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        minhasher = MinHasher.from_config(config)
        for batch in batches:
            texts = [text if text is not None else "" for text in batch.column("text").to_pylist()]
            normalized = [normalize_text(text) for text in texts]
            hashes = [exact_hash(x) for x in normalized]
            valid = np.array([h is not None for h in hashes], dtype=bool)
            if with_shingles:
                signatures, sets = minhasher.signatures_and_sets(normalized)
            else:
                signatures = minhasher.signatures_normalized(normalized)
            lines = [distinct_line_hashes(text, config.min_line_chars) if config.repeated_lines else [] for text in texts]
            columns = [
                batch.column("id"),
                batch.column("quality").cast(pa.float64()),
                pa.array(hashes, type=pa.binary()),
                _list_array(band_hashes(signatures, num_bands, rows_per_band), pa.int64(), valid),
                pa.array(lines, type=pa.list_(pa.int64())),
            ]
            if with_signature:
                columns.append(_list_array(signatures.view(np.int32), pa.int32(), valid))
            if with_shingles:
                columns.append(pa.array([s.view(np.int32) for s in sets], type=pa.list_(pa.int32())))
            yield pa.RecordBatch.from_arrays(columns, schema=schema)

    return run


INDEX_BANDS_SCHEMA = pa.schema([pa.field("id", pa.string()), pa.field("exact_hash", pa.binary()),
                                pa.field("bands", pa.list_(pa.int64())), pa.field("signature", pa.list_(pa.int32()))])


def index_bands_fn(config: DedupConfig) -> BatchFn:
    """Indexed documents (id, exact_hash, signature as list<int64>) -> INDEX_BANDS_SCHEMA (bands recomputed)."""
    num_bands, rows_per_band = config.bands()
    schema = INDEX_BANDS_SCHEMA

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            flat = batch.column("signature").flatten().to_numpy(zero_copy_only=False)
            signatures = flat.astype(np.uint32).reshape(batch.num_rows, config.num_perm)
            yield pa.RecordBatch.from_arrays(
                [batch.column("id"), batch.column("exact_hash"),
                 _list_array(band_hashes(signatures, num_bands, rows_per_band), pa.int64()),
                 _list_array(signatures.view(np.int32), pa.int32())], schema=schema)

    return run


VERIFY_SCHEMA = pa.schema([pa.field("src", pa.string()), pa.field("dst", pa.string()), pa.field("keep", pa.bool_())])


def verify_fn(config: DedupConfig) -> BatchFn:
    """Candidate edges with both ends' data -> keep = similarity >= threshold.

    Input columns: src, dst, src_shingles, dst_shingles (list<int32>, null for indexed documents),
    src_signature, dst_signature (list<int32>). Exact Jaccard of the shingle sets when both ends are this
    run's documents, the MinHash estimate when one is indexed (its text is not kept).
    """

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            data = batch.to_pydict()
            keep = []
            for i in range(batch.num_rows):
                left, right = data["src_shingles"][i], data["dst_shingles"][i]
                if left is not None and right is not None:
                    similarity = jaccard(np.array(left, dtype=np.int32).view(np.uint32),
                                         np.array(right, dtype=np.int32).view(np.uint32))
                else:
                    similarity = signature_jaccard(np.array(data["src_signature"][i]), np.array(data["dst_signature"][i]))
                keep.append(similarity >= config.threshold)
            yield pa.RecordBatch.from_arrays([batch.column("src"), batch.column("dst"), pa.array(keep, type=pa.bool_())],
                                             schema=VERIFY_SCHEMA)

    return run


def finish_fn(config: DedupConfig) -> BatchFn:
    """The last step: (id, text, dup_cluster, dup_cluster_size, dedup_drop_reason, repeated list<int64>)
    -> DECISION_SCHEMA batches, exactly as the local path's step 3: a survivor (null reason) loses its
    repeated lines (`remove_lines`) and is dropped as `too_many_repeated_lines` when more than
    `max_removed_char_frac` of its characters went (its text then stays as it was).
    """

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            data = batch.to_pydict()
            texts, reasons, lines_removed, chars_removed = [], [], [], []
            for text, reason, repeated in zip(data["text"], data["dedup_drop_reason"], data["repeated"]):
                lines = chars = None
                if reason is None and config.repeated_lines:
                    text = text if text is not None else ""
                    new_text, lines, chars = remove_lines(text, set(repeated or ()), config.min_line_chars)
                    if text and chars / len(text) > config.max_removed_char_frac:
                        reason = REASON_LINES
                    else:
                        text = new_text
                texts.append(text)
                reasons.append(reason)
                lines_removed.append(lines)
                chars_removed.append(chars)
            yield pa.RecordBatch.from_arrays(
                [batch.column("id"), pa.array(texts, type=pa.string()), batch.column("dup_cluster"),
                 batch.column("dup_cluster_size").cast(pa.int32()), pa.array(reasons, type=pa.string()),
                 pa.array(lines_removed, type=pa.int32()), pa.array(chars_removed, type=pa.int32())],
                schema=DECISION_SCHEMA)

    return run

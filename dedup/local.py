"""Single-machine de-duplication of an Arrow table: exact, then MinHash LSH near-dedup, then repeated lines.

The path `run_stages` uses, and the reference the Spark path (`pipeline.spark.dedup`) is tested against:
both compute the same decisions (`dedup.decisions`) from the same engine-free pieces.

Order (each step sees only the survivors of the previous one):
1. exact: documents with equal normalized text form a group; all but its representative are
   `dedup:exact_duplicate` (a group that holds an indexed document keeps that one);
2. near: MinHash signatures of the exact survivors' normalized text -> band buckets -> star edges to each
   bucket's minimum -> (optionally verified) -> connected components; all but each component's
   representative are `dedup:near_duplicate`;
3. repeated lines: line hashes are counted over the documents that survived 1 and 2, and removed.
Why near-dedup before line removal (cc_net runs line dedup alone, so it has no such choice):
- a document's signature depends on its own text only, not on which lines happen to be frequent in this
  corpus, so the same page gets the same signature in every crawl and the persisted index stays valid;
- counting lines over near-dedup survivors counts a syndicated article once: counted over all its copies,
  its paragraphs would look like boilerplate and be cut out of every copy, the kept one included;
- measured (benchmarks/RESULTS.md): on edited copies of real articles behind site boilerplate, cc_net's
  order (lines first) loses pair recall (0.90 against 0.98 on 120-900-word articles, 0.71 against 0.98
  on 40-150-word ones: unchanged paragraphs shared by an article's copies are counted as boilerplate and
  cut from all of them) for no gain in precision;
- the risk of this order, boilerplate shared by the short pages of one site inflating their similarity
  into one giant component, is what `verify_jaccard` (on by default) removes: pair precision 1.0 with it,
  0.03 without it on the 40-150-word set.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dedup.config import DedupConfig
from dedup.decisions import (
    DECISION_SCHEMA, DEDUP_FIELDS, INDEXED_PREFIX, NEW_PREFIX, REASON_EXACT, REASON_LINES, REASON_NEAR, rank_key,
)
from dedup.index import INDEX_SCHEMA, index_table, read_index, signature_matrix, write_index
from dedup.lines import exact_hash, line_hashes, remove_lines
from dedup.lsh import connected_components, star_edges
from dedup.minhash import MinHasher, band_hashes, jaccard, signature_jaccard
from dedup.normalize import normalize_text


@dataclass
class DedupResult:
    decisions: pa.Table  # DECISION_SCHEMA, one row per participating document, in input order
    index: pa.Table  # INDEX_SCHEMA rows of the kept documents (what `write_index` persists)


def check_unique(ids: Sequence[str]) -> None:
    counts = Counter(ids)
    if len(counts) != len(ids):
        repeated = sorted(doc_id for doc_id, count in counts.items() if count > 1)
        raise ValueError(f"dedup needs unique ids; {len(repeated)} ids repeat, e.g. {repeated[:3]}")


def near_components(keys: Sequence[str], signatures: np.ndarray, config: DedupConfig, anchors: np.ndarray | None = None,
                    verify=None) -> np.ndarray:
    """Component label (a row number) of each row; rows are nodes, `keys` order the bucket centers.

    `verify(u, v) -> bool`, if given, keeps only the candidate edges it accepts.
    """
    num_bands, rows_per_band = config.bands()
    order = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
    bands = band_hashes(signatures, num_bands, rows_per_band)[order]  # reorder the bands, not the signatures
    sources, targets = star_edges(bands, None if anchors is None else anchors[order])
    sources, targets = order[sources], order[targets]  # back to input rows
    if verify is not None and len(sources):
        keep = np.array([verify(int(u), int(v)) for u, v in zip(sources, targets)], dtype=bool)
        sources, targets = sources[keep], targets[keep]
    return connected_components(len(keys), sources, targets)


def dedup_documents(ids: Sequence[str], texts: Sequence[str | None], quality: Sequence[float | None],
                    config: DedupConfig, index: pa.Table | None = None, want_index: bool = False) -> DedupResult:
    """Decisions for participating documents (and the index rows of the kept ones if `want_index`)."""
    check_unique(ids)
    n = len(ids)
    texts = [text if text is not None else "" for text in texts]
    normalized = [normalize_text(text) for text in texts]
    hashes = [exact_hash(x) for x in normalized]
    index = index if index is not None else INDEX_SCHEMA.empty_table()
    m = index.num_rows
    index_ids = index.column("id").to_pylist()
    index_hashes = index.column("exact_hash").to_pylist()
    # nodes 0..n-1 are this run's documents, n..n+m-1 the indexed ones
    rank = [rank_key(ids[i], quality[i]) for i in range(n)] + [rank_key(doc_id, None, indexed=True) for doc_id in index_ids]

    def node_id(node: int) -> str:
        return ids[node] if node < n else index_ids[node - n]

    # 1. exact: a group's representative is its minimum rank (an indexed document if there is one)
    exact_rep = list(range(n))
    if config.exact:
        groups: dict[bytes, list[int]] = defaultdict(list)
        for i, h in enumerate(hashes):
            if h is not None:
                groups[h].append(i)
        for j, h in enumerate(index_hashes):
            if h in groups:
                groups[h].append(n + j)
        for members in groups.values():
            if len(members) > 1:
                rep = min(members, key=rank.__getitem__)
                for node in members:
                    if node < n:
                        exact_rep[node] = rep

    # 2. near: components over this run's exact survivors and the indexed documents
    minhasher = MinHasher.from_config(config)
    candidates = [i for i in range(n) if hashes[i] is not None and exact_rep[i] == i]
    signatures: dict[int, np.ndarray] = {}
    comp_rep: dict[int, int] = {}  # node -> its component's representative (components of >= 2 nodes)
    indexed_in_comp: dict[int, int] = {}  # representative -> indexed documents in its component
    if config.near and candidates:
        texts_of_candidates = [normalized[i] for i in candidates]
        if config.verify_jaccard:
            new_signatures, shingle_sets = minhasher.signatures_and_sets(texts_of_candidates)
        else:
            new_signatures = minhasher.signatures_normalized(texts_of_candidates)
        signatures = dict(zip(candidates, new_signatures))
        nodes = candidates + list(range(n, n + m))
        all_signatures = np.concatenate([new_signatures, signature_matrix(index, config.num_perm)]) if m else new_signatures
        keys = [NEW_PREFIX + ids[i] for i in candidates] + [INDEXED_PREFIX + doc_id for doc_id in index_ids]
        anchors = np.array([node < n for node in nodes]) if m else None
        verify = None
        if config.verify_jaccard:
            sets = dict(zip(candidates, shingle_sets))

            def verify(u: int, v: int) -> bool:
                a, b = nodes[u], nodes[v]
                if a < n and b < n:
                    return jaccard(sets[a], sets[b]) >= config.threshold
                return signature_jaccard(all_signatures[u], all_signatures[v]) >= config.threshold

        labels = near_components(keys, all_signatures, config, anchors, verify)
        members: dict[int, list[int]] = defaultdict(list)
        for row, label in enumerate(labels.tolist()):
            members[label].append(nodes[row])
        for group in members.values():
            if len(group) > 1:
                rep = min(group, key=rank.__getitem__)
                indexed_in_comp[rep] = sum(node >= n for node in group)
                for node in group:
                    comp_rep[node] = rep

    # final representative and reason of each document
    final: list[int | None] = [None] * n
    reasons: list[str | None] = [None] * n
    for i in range(n):
        if hashes[i] is None:
            continue
        group_rep = exact_rep[i]
        final[i] = comp_rep.get(group_rep, group_rep)
        if group_rep != i:
            reasons[i] = REASON_EXACT
        elif final[i] != i:
            reasons[i] = REASON_NEAR
    new_members = Counter(rep for rep in final if rep is not None)

    def cluster_size(rep: int) -> int:
        return new_members[rep] + indexed_in_comp.get(rep, 1 if rep >= n else 0)

    sizes = [cluster_size(rep) if rep is not None else 1 for rep in final]
    clusters = [node_id(rep) if rep is not None and size > 1 else None for rep, size in zip(final, sizes)]

    # 3. repeated lines, counted over the survivors of 1 and 2
    out_texts = list(texts)
    lines_removed: list[int | None] = [None] * n
    chars_removed: list[int | None] = [None] * n
    survivors = [i for i in range(n) if reasons[i] is None]
    if config.repeated_lines:
        per_doc = {i: line_hashes(texts[i], config.min_line_chars) for i in survivors}
        counts = Counter(h for i in survivors for h in set(per_doc[i]) - {0})
        repeated = {h for h, count in counts.items() if count >= config.min_docs_for_repeated_line}
        for i in survivors:
            new_text, lines_removed[i], chars_removed[i] = remove_lines(
                texts[i], repeated, config.min_line_chars, per_doc[i])
            if texts[i] and chars_removed[i] / len(texts[i]) > config.max_removed_char_frac:
                reasons[i] = REASON_LINES  # the text stays as it was, so the rejected row shows it
            else:
                out_texts[i] = new_text

    decisions = pa.Table.from_pydict(
        {"id": list(ids), "text": out_texts, "dup_cluster": clusters, "dup_cluster_size": sizes,
         "dedup_drop_reason": reasons, "repeated_lines_removed": lines_removed, "repeated_chars_removed": chars_removed},
        schema=DECISION_SCHEMA,
    )
    index_rows = INDEX_SCHEMA.empty_table()
    if want_index:
        kept = [i for i in range(n) if reasons[i] is None and hashes[i] is not None]
        missing = [i for i in kept if i not in signatures]
        if missing:
            signatures.update(zip(missing, minhasher.signatures_normalized([normalized[i] for i in missing])))
        matrix = np.stack([signatures[i] for i in kept]) if kept else np.zeros((0, config.num_perm), dtype=np.uint32)
        index_rows = index_table([ids[i] for i in kept], [hashes[i] for i in kept], matrix)
    return DedupResult(decisions, index_rows)


def participating(table: pa.Table) -> pa.Table:
    """Rows that take part in dedup: those no earlier stage dropped."""
    return table.filter(pc.is_null(table.column("drop_reason")))


def dedup_table(table: pa.Table, config: DedupConfig, index_dir: str | None = None) -> pa.Table:
    """The decisions (DECISION_SCHEMA) for the rows of `table` with a null `drop_reason`.

    `table` needs `id` (unique), `text`, `drop_reason`, and may have `quality_score`. Indexes of previous
    runs (`config.index_paths`) are read and matched against; with `index_dir`, this run's kept documents
    are written there as a new index (`dedup.index`).
    """
    rows = participating(table)
    quality = (rows.column("quality_score").to_pylist() if "quality_score" in rows.column_names
               else [None] * rows.num_rows)
    index = read_index(config.index_paths, config) if config.index_paths else None
    result = dedup_documents(rows.column("id").to_pylist(), rows.column("text").to_pylist(), quality, config,
                             index, want_index=index_dir is not None)
    if index_dir is not None:
        write_index(index_dir, result.index, config)
    return result.decisions


def apply_decisions(table: pa.Table, decisions: pa.Table) -> pa.Table:
    """`table` with dedup's decisions joined by id: new `text`, signal columns, and `drop_reason` set from
    `dedup_drop_reason` only where it was null. Rows without a decision, and rows an earlier stage dropped
    (they took no part, even where another row has their id), keep their values (null signals); decisions
    for ids not in `table` are ignored (decisions of a whole corpus may be applied part by part).
    """
    check_unique(decisions.column("id").to_pylist())
    found = pc.index_in(table.column("id"), value_set=decisions.column("id"))
    position = pc.if_else(pc.is_null(table.column("drop_reason")), found, pa.scalar(None, found.type))
    has_decision = pc.is_valid(position)

    def taken(name: str) -> pa.ChunkedArray | pa.Array:
        return decisions.column(name).take(position)

    columns = {
        "text": pc.if_else(has_decision, taken("text"), table.column("text")),
        "drop_reason": pc.coalesce(table.column("drop_reason"), taken("dedup_drop_reason")),
    }
    for field in DEDUP_FIELDS:
        columns[field.name] = taken(field.name).cast(field.type)
    result = table
    for name, values in columns.items():
        index = result.schema.get_field_index(name)
        if index >= 0:
            result = result.set_column(index, result.schema.field(name), values.cast(result.schema.field(name).type))
        else:
            field = next(f for f in DEDUP_FIELDS if f.name == name)
            result = result.append_column(field, values)
    return result

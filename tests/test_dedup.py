"""De-duplication, single-machine path: signatures, LSH, clusters, representatives, repeated lines, index.

Expectations are computed independently of the code under test: datasketch's own MinHash for the
signatures, brute-force Jaccard over all pairs of shingle sets for which documents must merge.
"""
from __future__ import annotations

import random
import unicodedata
from itertools import combinations
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dedup.config import DedupConfig
from dedup.decisions import DECISION_SCHEMA, REASON_EXACT, REASON_LINES, REASON_NEAR, decision_summary, summary_line
from dedup.index import IndexMismatchError, read_index
from dedup.lines import remove_lines
from dedup.local import apply_decisions, dedup_table
from dedup.lsh import connected_components, optimal_param, star_edges
from dedup.minhash import MinHasher, band_hashes, poly_hash32, sha1_hash32
from dedup.normalize import normalize_lines, normalize_text, reference_pattern, shingles
from tests.dedup_cases import BOILERPLATE, NULL_SCORE_FATES, chain_texts, null_score_clusters, table, variant, words


def shingle_set(text: str, n: int = 5) -> set[bytes]:
    return set(shingles(normalize_text(text), n))


def true_jaccard(a: str, b: str) -> float:
    left, right = shingle_set(a), shingle_set(b)
    return len(left & right) / len(left | right)


def by_id(decisions: pa.Table) -> dict[str, dict]:
    return {row["id"]: row for row in decisions.to_pylist()}


def clusters_of(decisions: pa.Table) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for row in decisions.to_pylist():
        groups.setdefault(row["dup_cluster"] or row["id"], set()).add(row["id"])
    return {frozenset(group) for group in groups.values()}


# --------------------------------------------------------------------------------------------- normalize


def test_normalize_strips_case_punctuation_digits_and_keeps_marks():
    assert normalize_text("  Hello,   WORLD!! 2024\n\tNew-York_City ") == "hello world new york city"
    assert normalize_text("ﬁne Ｆｕｌｌ") == "fine full"  # NFKC: ligature and full-width forms
    assert normalize_text("naïve café") == "naïve café"
    assert normalize_text("हिन्दी, भाषा!") == "हिन्दी भाषा"  # vowel signs and virama are combining marks
    assert normalize_text("…!!! 42") == ""
    assert normalize_lines("A, b\n\n  C!") == ["a b", "", "c"]


def test_normalization_equals_its_regex_definition():
    rng = random.Random(3)
    pool = [chr(c) for c in range(32, 127)] + [chr(c) for c in range(0xA0, 0x3000, 7)] + list(
        "\u200b\u2019\u2014\u0663\u00b2\u2160\u0301\u093f\u0e31\u1680\u2028\x85\uff10\U0001d7ce\U00010400\t\n_")
    pattern = reference_pattern()
    for _ in range(2000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 30)))
        expected = pattern.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()
        assert normalize_text(text) == expected, repr(text)
        ascii_text = text.encode("ascii", "ignore").decode().lower()
        assert normalize_text(ascii_text) == pattern.sub(" ", ascii_text).strip(), repr(ascii_text)
    assert normalize_text("a\ud800b") == "a b"  # a lone surrogate is a separator, not an error


def test_shingles_short_and_empty_documents():
    assert shingles("a b c", 5) == [b"a b c"]
    assert shingles("a b c d e", 5) == [b"a b c d e"]
    assert shingles("a b c d e f", 5) == [b"a b c d e", b"b c d e f"]
    assert shingles("", 5) == []


# ------------------------------------------------------------------------------------ datasketch equality


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
@pytest.mark.parametrize("shingle_hash", ["poly32", "sha1"])
def test_signatures_equal_datasketch(scheme, shingle_hash):
    datasketch = pytest.importorskip("datasketch")
    rng = random.Random(7)
    texts = [" ".join(words(rng, rng.randint(1, 400))) for _ in range(40)]
    texts += ["", "one", "Two words!", "a b c d e", "Ünïcödé — ﬁne 12 x_y",
              "हिन्दी भाषा का इतिहास बहुत पुराना है"]
    minhasher = MinHasher(ngram_size=5, num_perm=128, seed=1, scheme=scheme, shingle_hash=shingle_hash)
    signatures = minhasher.signatures(texts)
    hashfunc = {"poly32": poly_hash32, "sha1": None}[shingle_hash]  # None = datasketch's default sha1_hash32
    for text, signature in zip(texts, signatures):
        expected = datasketch.MinHash(num_perm=128, seed=1, scheme=scheme, hashfunc=hashfunc)
        expected.update_batch(shingles(normalize_text(text), 5))
        assert expected.hashvalues.astype(np.uint64).tolist() == signature.astype(np.uint64).tolist(), text[:40]


def test_scalar_hashes_are_datasketch_compatible():
    from datasketch.hashfunc import sha1_hash32 as datasketch_sha1

    assert sha1_hash32(b"a b c d e") == datasketch_sha1(b"a b c d e")
    assert poly_hash32(b"") == 0 and 0 <= poly_hash32(b"x") < 2**32
    assert poly_hash32(b"ab") != poly_hash32(b"ba")


def test_signatures_load_into_datasketch_lsh():
    datasketch = pytest.importorskip("datasketch")
    rng = random.Random(11)
    base = words(rng, 300)
    near = list(base)
    near[150] = "different"
    texts = [" ".join(base), " ".join(near), " ".join(words(rng, 300))]
    minhasher = MinHasher(shingle_hash="sha1")  # datasketch's defaults throughout
    signatures = minhasher.signatures(texts)
    lsh = datasketch.MinHashLSH(threshold=0.7, num_perm=128)
    for key, signature in zip("abc", signatures):
        lsh.insert(key, datasketch.MinHash(hashvalues=signature, seed=1, scheme="affine32"))
    query = datasketch.MinHash()  # built the plain datasketch way
    query.update_batch(shingles(normalize_text(texts[1]), 5))
    assert sorted(lsh.query(query)) == ["a", "b"]


def test_optimal_param_matches_datasketch():
    lsh = pytest.importorskip("datasketch.lsh")
    for threshold, num_perm in [(0.5, 128), (0.7, 128), (0.8, 128), (0.72, 112), (0.9, 64)]:
        assert optimal_param(threshold, num_perm) == lsh._optimal_param(threshold, num_perm, 0.5, 0.5)
    assert DedupConfig(threshold=0.8).bands() == (9, 13)  # REFERENCE: datasketch's 9 x 13 at 0.8
    assert DedupConfig(threshold=0.7).bands() == (14, 9)
    assert DedupConfig().bands() == (25, 5)  # the default threshold 0.5
    assert DedupConfig(num_bands=20, rows_per_band=5).bands() == (20, 5)


def test_config_rejects_bad_values():
    for bad in [dict(num_bands=4), dict(num_bands=20, rows_per_band=7), dict(scheme="affine64"),
                dict(threshold=1.0), dict(min_docs_for_repeated_line=1), dict(shingle_hash="md5")]:
        with pytest.raises(ValueError):
            DedupConfig(**bad)


# ------------------------------------------------------------------------------------ LSH and components


def test_connected_components_of_a_chain_in_scrambled_order():
    rng = np.random.default_rng(0)
    n = 200
    order = rng.permutation(n)  # the chain visits nodes in random order
    sources, targets = order[:-1], order[1:]
    labels = connected_components(n + 3, sources, targets)  # nodes 200..202 are isolated
    assert labels[:n].tolist() == [0] * n
    assert labels[n:].tolist() == [n, n + 1, n + 2]


def test_star_edges_point_to_bucket_minimum():
    bands = np.array([[5, 1], [5, 2], [7, 2], [5, 9]], dtype=np.int64)
    sources, targets = star_edges(bands)
    assert sorted(zip(sources.tolist(), targets.tolist())) == [(1, 0), (2, 1), (3, 0)]
    anchored = star_edges(bands, anchors=np.array([False, False, True, False]))
    assert sorted(zip(anchored[0].tolist(), anchored[1].tolist())) == [(2, 1)]


def test_known_jaccard_merges_above_threshold_and_not_below():
    rng = random.Random(5)
    texts = {}
    for group in range(12):
        base = words(rng, 400)
        texts[f"g{group:02d}-0"] = " ".join(base)
        # 2 replaced words -> Jaccard ~0.95 with the base; 60 -> ~0.25 (far from the thresholds 0.5 and 0.7)
        for k, replaced in enumerate([2, 3, 60, 70], start=1):
            texts[f"g{group:02d}-{k}"] = " ".join(variant(base, rng, replaced))
    ids = sorted(texts)
    # expected clusters: components of the graph of pairs with brute-force Jaccard >= the threshold
    parent = {doc_id: doc_id for doc_id in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in combinations(ids, 2):
        similarity = true_jaccard(texts[a], texts[b])
        assert not 0.45 < similarity < 0.88, (a, b, similarity)  # no pair near the boundary
        if similarity >= 0.7:
            parent[find(a)] = find(b)
    expected: dict[str, set[str]] = {}
    for doc_id in ids:
        expected.setdefault(find(doc_id), set()).add(doc_id)
    for config in (DedupConfig(threshold=0.7, verify_jaccard=False, repeated_lines=False),
                   DedupConfig(threshold=0.7, verify_jaccard=True, repeated_lines=False),
                   DedupConfig(repeated_lines=False)):  # the default: 0.5 with verification
        decisions = dedup_table(table([{"id": i, "text": texts[i]} for i in ids]), config)
        assert clusters_of(decisions) == {frozenset(group) for group in expected.values()}, config
    assert len(expected) == 12 * 3  # each group: base + 2 light variants together, 2 heavy variants alone
    rows = by_id(decisions)
    assert rows["g00-0"]["dup_cluster"] == "g00-0" and rows["g00-0"]["dup_cluster_size"] == 3
    assert rows["g00-1"]["dedup_drop_reason"] == REASON_NEAR and rows["g00-1"]["dup_cluster"] == "g00-0"
    assert rows["g00-3"]["dup_cluster"] is None and rows["g00-3"]["dup_cluster_size"] == 1


def test_chain_ends_in_one_cluster():
    texts = chain_texts()
    assert true_jaccard(texts["c00"], texts["c01"]) > 0.9
    assert true_jaccard(texts["c00"], texts["c14"]) < 0.4  # the ends are not near-duplicates of each other
    # verified edges all have Jaccard >= 0.7, so c00 and c14 can only meet through the chain
    decisions = dedup_table(table([{"id": k, "text": v} for k, v in texts.items()]),
                            DedupConfig(verify_jaccard=True, repeated_lines=False))
    assert clusters_of(decisions) == {frozenset(texts)}
    rows = by_id(decisions)
    assert rows["c14"]["dup_cluster"] == "c00" and rows["c14"]["dup_cluster_size"] == 15


def test_verification_removes_false_candidates():
    rng = random.Random(21)
    base = words(rng, 300)
    texts = {"a": " ".join(base), "b": " ".join(variant(base, rng, 22))}
    similarity = true_jaccard(texts["a"], texts["b"])
    assert 0.35 < similarity < 0.55
    rows = table([{"id": k, "text": v} for k, v in texts.items()])
    # permissive bands (42 x 3: candidates at Jaccard 0.45 with probability 0.98) make them a candidate pair
    # although the threshold is 0.6; verification compares the exact Jaccard with the threshold
    loose = DedupConfig(threshold=0.6, num_bands=42, rows_per_band=3, verify_jaccard=False, repeated_lines=False)
    assert clusters_of(dedup_table(rows, loose)) == {frozenset("ab")}
    verified = DedupConfig(threshold=0.6, num_bands=42, rows_per_band=3, verify_jaccard=True, repeated_lines=False)
    assert clusters_of(dedup_table(rows, verified)) == {frozenset("a"), frozenset("b")}
    below = DedupConfig(threshold=0.3, num_bands=42, rows_per_band=3, verify_jaccard=True, repeated_lines=False)
    assert clusters_of(dedup_table(rows, below)) == {frozenset("ab")}


# ------------------------------------------------------------------------- exact dedup and representatives


def test_exact_duplicates_keep_best_quality_then_lowest_id():
    rng = random.Random(2)
    text = " ".join(words(rng, 80))
    rows = [
        {"id": "d3", "text": text, "quality_score": 0.5},
        {"id": "d1", "text": text.upper() + " !!", "quality_score": 0.9},  # same normalized text
        {"id": "d2", "text": "  " + text.replace(" ", "\n"), "quality_score": 0.9},
        {"id": "d0", "text": text, "quality_score": None},  # no score ranks last
        {"id": "d4", "text": text, "quality_score": float("nan")},
        {"id": "d5", "text": text, "drop_reason": "gopher:too_few_words"},  # takes no part
        {"id": "e1", "text": "12 345 !!!"},  # no letters: no exact/near dedup
        {"id": "e2", "text": "678 ..."},
    ]
    decisions = dedup_table(table(rows), DedupConfig())
    assert decisions.schema == DECISION_SCHEMA
    assert decisions.column("id").to_pylist() == ["d3", "d1", "d2", "d0", "d4", "e1", "e2"]
    got = by_id(decisions)
    assert {k: (v["dup_cluster"], v["dup_cluster_size"], v["dedup_drop_reason"]) for k, v in got.items()} == {
        "d1": ("d1", 5, None),
        "d2": ("d1", 5, REASON_EXACT),
        "d3": ("d1", 5, REASON_EXACT),
        "d0": ("d1", 5, REASON_EXACT),
        "d4": ("d1", 5, REASON_EXACT),
        "e1": (None, 1, None),
        "e2": (None, 1, None),
    }
    assert got["d2"]["repeated_lines_removed"] is None and got["d1"]["repeated_lines_removed"] == 0
    summary = decision_summary(decisions)
    assert summary["dropped_by_reason"] == {REASON_EXACT: 4} and summary["kept"] == 3
    assert summary["clusters_by_size"] == {"2": 0, "3-5": 1, "6-10": 0, "11-100": 0, "101+": 0}
    assert summary["largest_cluster"] == {"representative": "d1", "size": 5}
    assert summary_line(summary).startswith("Dedup kept 3 of 7 documents (42.9%); dropped: 4 dedup:exact_duplicate")


def test_a_missing_quality_score_ranks_below_zero():
    rows = null_score_clusters(random.Random(6))
    near = [row["text"].split() for row in rows if row["id"].startswith("null-near")]
    # near copies by construction, far above the 0.5 threshold
    assert all(true_jaccard(" ".join(near[1]), " ".join(other)) > 0.9 for other in (near[0], near[2]))
    got = by_id(dedup_table(table(rows), DedupConfig()))
    assert {k: (v["dup_cluster"], v["dedup_drop_reason"]) for k, v in got.items()} == NULL_SCORE_FATES


def test_representative_does_not_depend_on_input_order():
    rng = random.Random(4)
    rows = []
    for group in range(6):
        base = words(rng, 200)
        for k in range(4):
            rows.append({"id": f"{rng.randrange(10**6):06d}", "text": " ".join(variant(base, rng, k)),
                         "quality_score": rng.choice([None, 0.1, 0.5, 0.5, 0.9])})
    rows += [{"id": f"s{k}", "text": " ".join(words(rng, 50))} for k in range(5)]
    config = DedupConfig(min_docs_for_repeated_line=2)
    reference = sorted(dedup_table(table(rows), config).to_pylist(), key=lambda row: row["id"])
    for seed in range(4):
        shuffled = list(rows)
        random.Random(seed).shuffle(shuffled)
        assert sorted(dedup_table(table(shuffled), config).to_pylist(), key=lambda row: row["id"]) == reference
    # in every cluster the representative has the highest score (null last), then the lowest id
    members: dict[str, list[dict]] = {}
    for row, decision in zip(sorted(rows, key=lambda r: r["id"]), reference):
        if decision["dup_cluster"]:
            members.setdefault(decision["dup_cluster"], []).append(row)
    assert len(members) == 6
    for rep, group in members.items():
        best = min(group, key=lambda r: (r["quality_score"] is None, -(r["quality_score"] or 0.0), r["id"]))
        assert best["id"] == rep


def test_duplicate_ids_are_refused():
    with pytest.raises(ValueError, match="unique ids"):
        dedup_table(table([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]), DedupConfig())


# ----------------------------------------------------------------------------------------- repeated lines


def test_repeated_lines_are_removed_and_counted():
    rng = random.Random(8)
    bodies = [" ".join(words(rng, 60)) for _ in range(5)]
    rows = [
        {"id": "p1", "text": "\n".join([BOILERPLATE[0], bodies[0], BOILERPLATE[1]])},
        {"id": "p2", "text": "\n".join([bodies[1], BOILERPLATE[0].upper() + "!", BOILERPLATE[1]])},
        {"id": "p3", "text": "\n".join([bodies[2], BOILERPLATE[0]])},
        {"id": "p4", "text": "\n".join([bodies[3], "Shared by two documents only, long enough", "Share"])},
        {"id": "p5", "text": "\n".join([bodies[4], "Shared by two documents only, long enough", "Share", "Share"])},
        {"id": "p6", "text": "\n".join(["Share", BOILERPLATE[1], BOILERPLATE[0], "short body"])},
    ]
    config = DedupConfig(min_docs_for_repeated_line=3, min_line_chars=20, max_removed_char_frac=0.5)
    got = by_id(dedup_table(table(rows), config))
    # BOILERPLATE[0] is in 4 documents, [1] in 3: removed; the two-document line and "Share" (short) stay
    assert got["p1"]["text"] == bodies[0]
    assert (got["p1"]["repeated_lines_removed"], got["p1"]["repeated_chars_removed"]) == (
        2, len(BOILERPLATE[0]) + len(BOILERPLATE[1]) + 2)
    assert got["p2"]["text"] == bodies[1] and got["p2"]["repeated_lines_removed"] == 2
    assert got["p3"]["text"] == bodies[2] and got["p3"]["repeated_chars_removed"] == len(BOILERPLATE[0]) + 1
    assert got["p4"]["text"] == rows[3]["text"] and got["p4"]["repeated_lines_removed"] == 0
    assert got["p5"]["repeated_lines_removed"] == 0
    # p6 loses 2 of 4 lines, 99 of 113 characters: dropped, its text kept as it was
    assert got["p6"]["dedup_drop_reason"] == REASON_LINES and got["p6"]["text"] == rows[5]["text"]
    assert got["p6"]["repeated_chars_removed"] == len(BOILERPLATE[1]) + len(BOILERPLATE[0]) + 2
    assert [got[k]["dedup_drop_reason"] for k in ["p1", "p2", "p3", "p4", "p5"]] == [None] * 5


def test_remove_lines_keeps_unrepeated_text_identical():
    text = "first line here\nsecond line here\n"
    assert remove_lines(text, {1, 2}, 5)[0] is text
    assert remove_lines("", {1}, 5) == ("", 0, 0)


def test_lines_of_merged_duplicates_count_once():
    """A paragraph shared only by near-duplicates is counted once (after near dedup), so it stays."""
    rng = random.Random(12)
    paragraph = " ".join(words(rng, 40))
    body = " ".join(words(rng, 300))
    rows = [{"id": f"n{k}", "text": paragraph + "\n" + body + " " + " ".join(words(rng, 3))} for k in range(4)]
    got = by_id(dedup_table(table(rows), DedupConfig(min_docs_for_repeated_line=3)))
    assert got["n0"]["dedup_drop_reason"] is None and got["n0"]["text"] == rows[0]["text"]
    assert [got[f"n{k}"]["dedup_drop_reason"] for k in (1, 2, 3)] == [REASON_NEAR] * 3


# --------------------------------------------------------------------------------------------- apply


def test_apply_decisions_joins_by_id_and_keeps_earlier_reasons():
    rng = random.Random(13)
    text = " ".join(words(rng, 50))
    rows = [{"id": "b", "text": text}, {"id": "a", "text": text + " ."},
            {"id": "c", "text": "other", "drop_reason": "langid:below_threshold"},
            {"id": "d", "text": " ".join(words(rng, 30))}]
    original = table(rows)
    decisions = dedup_table(original, DedupConfig())
    shuffled = decisions.take(pa.array([2, 0, 1]))  # decisions in another order
    applied = apply_decisions(original, shuffled)
    assert applied.column("id").to_pylist() == ["b", "a", "c", "d"]
    assert applied.column("drop_reason").to_pylist() == [REASON_EXACT, None, "langid:below_threshold", None]
    assert applied.column("dup_cluster").to_pylist() == ["a", "a", None, None]
    assert applied.column("dup_cluster_size").to_pylist() == [2, 2, None, 1]
    assert applied.schema.field("dup_cluster_size").type == pa.int32()
    assert applied.column("text").to_pylist() == [r["text"] for r in rows]


# ---------------------------------------------------------------------------------------------- index


def test_new_crawl_against_previous_index(tmp_path: Path):
    rng = random.Random(17)
    old = {f"old{k}": " ".join(words(rng, 150)) for k in range(5)}
    first = dedup_table(table([{"id": k, "text": v} for k, v in old.items()]), DedupConfig(),
                        index_dir=str(tmp_path / "run1/dedup/index"))
    assert first.column("dedup_drop_reason").null_count == 5
    index = read_index([str(tmp_path / "run1/dedup")], DedupConfig())
    assert index.column("id").to_pylist() == sorted(old)
    new = {
        "new-exact": old["old1"].upper(),
        "new-near": " ".join(variant(old["old2"].split(), rng, 1)),
        "new-near-2": " ".join(variant(old["old2"].split(), rng, 2)),
        "new-own": " ".join(words(rng, 150)),
        "old3": old["old3"],  # the same id in both runs is still matched (keys "i..." vs "n...")
    }
    config = DedupConfig(index_paths=(str(tmp_path / "run1/dedup"),))
    got = by_id(dedup_table(table([{"id": k, "text": v, "quality_score": 1.0} for k, v in new.items()]), config))
    exact = got["new-exact"]
    assert (exact["dedup_drop_reason"], exact["dup_cluster"], exact["dup_cluster_size"]) == (REASON_EXACT, "old1", 2)
    assert (got["new-near"]["dedup_drop_reason"], got["new-near"]["dup_cluster"]) == (REASON_NEAR, "old2")
    assert (got["new-near-2"]["dedup_drop_reason"], got["new-near-2"]["dup_cluster_size"]) == (REASON_NEAR, 3)
    assert got["old3"]["dedup_drop_reason"] == REASON_EXACT and got["old3"]["dup_cluster"] == "old3"
    assert got["new-own"]["dedup_drop_reason"] is None and got["new-own"]["dup_cluster"] is None
    with pytest.raises(IndexMismatchError, match="num_perm"):
        dedup_table(table([{"id": "x", "text": "y"}]), DedupConfig(num_perm=64, index_paths=config.index_paths))


def test_index_files_are_deterministic(tmp_path: Path):
    rng = random.Random(19)
    rows = [{"id": f"{rng.randrange(10**6)}", "text": " ".join(words(rng, 40))} for _ in range(30)]
    dedup_table(table(rows), DedupConfig(), index_dir=str(tmp_path / "a"))
    dedup_table(table(list(reversed(rows))), DedupConfig(), index_dir=str(tmp_path / "b"))
    for name in ["part-00000.parquet", "_index.json"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    stored = pq.read_table(tmp_path / "a" / "part-00000.parquet")
    assert stored.column("id").to_pylist() == sorted(r["id"] for r in rows)
    signatures = MinHasher().signatures([r["text"] for r in sorted(rows, key=lambda r: r["id"])])
    assert stored.column("signature").to_pylist() == signatures.tolist()


def test_band_hashes_depend_only_on_their_band():
    signatures = np.arange(2 * 128, dtype=np.uint32).reshape(2, 128)
    changed = signatures.copy()
    changed[1, 9] += 1  # second row of band 1 (rows 9..17 with 9 rows per band)
    before, after = band_hashes(signatures, 14, 9), band_hashes(changed, 14, 9)
    assert (before[0] == after[0]).all()
    assert (before[1] != after[1]).tolist() == [False, True] + [False] * 12

"""Documents for the dedup tests of both engines (test_dedup.py, the single-machine path, and test_dedup_spark.py,
the Spark path): random words, near variants, a chain of overlapping texts, clusters with missing quality
scores and the fates the rule gives them, boilerplate lines.
"""
from __future__ import annotations

import random

import pyarrow as pa

from dedup.decisions import REASON_EXACT, REASON_NEAR

VOCABULARY = (
    "river stone market winter garden letter window morning harbor engine village silver forest bridge "
    "teacher doctor kitchen candle mountain island summer paper button orange travel museum signal "
    "violin tunnel basket planet ladder pepper jacket mirror rocket castle anchor pencil meadow canyon "
    "glacier lantern compass feather thunder blanket cabinet saddle orchard marble quarry beacon "
    "harvest pillow shadow tractor velvet whistle yogurt zipper almond bakery cellar dolphin falcon "
    "granite hammock iceberg jungle kettle lobster magnet nutmeg oyster parrot quilt raven sandal "
    "tomato umbrella vessel walnut"
).split()


def words(rng: random.Random, count: int) -> list[str]:
    """Random words with a numbered tail so that shingles rarely repeat by chance."""
    return [f"{rng.choice(VOCABULARY)}{rng.choice(VOCABULARY)}" for _ in range(count)]


SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("drop_reason", pa.string()),
                    ("quality_score", pa.float64())])


def table(rows: list[dict]) -> pa.Table:
    base = {"id": None, "text": None, "drop_reason": None, "quality_score": None}
    return pa.Table.from_pylist([base | row for row in rows], schema=SCHEMA)


def variant(base: list[str], rng: random.Random, replaced: int) -> list[str]:
    out = list(base)
    for position in rng.sample(range(len(out)), replaced):
        out[position] = f"x{rng.randrange(10**9)}"
    return out


def chain_texts(length: int = 15, shift: int = 20, width: int = 600) -> dict[str, str]:
    rng = random.Random(9)
    stream = words(rng, width + shift * length)
    return {f"c{k:02d}": " ".join(stream[k * shift: k * shift + width]) for k in range(length)}


def null_score_clusters(rng: random.Random) -> list[dict]:
    """An exact and a near cluster in which the lowest id has no score and another member scores 0.0: a
    missing score (null or NaN) ranks below every score, 0.0 and negative ones included. Shared with
    test_dedup_spark.py, so both engines are held to the rule."""
    exact, near = words(rng, 120), words(rng, 400)
    return [
        {"id": "null-exact-a", "text": " ".join(exact), "quality_score": None},
        {"id": "null-exact-b", "text": " ".join(exact).upper(), "quality_score": float("nan")},
        {"id": "null-exact-c", "text": " ".join(exact) + " !", "quality_score": 0.0},
        {"id": "null-near-a", "text": " ".join(variant(near, rng, 1)), "quality_score": None},
        {"id": "null-near-b", "text": " ".join(near), "quality_score": -0.0},
        {"id": "null-near-c", "text": " ".join(variant(near, rng, 2)), "quality_score": -0.5},
    ]


# the representative and reason of each member of null_score_clusters (independent of the code: the rule)
NULL_SCORE_FATES = {
    "null-exact-a": ("null-exact-c", REASON_EXACT), "null-exact-b": ("null-exact-c", REASON_EXACT),
    "null-exact-c": ("null-exact-c", None),
    "null-near-a": ("null-near-b", REASON_NEAR), "null-near-b": ("null-near-b", None),
    "null-near-c": ("null-near-b", REASON_NEAR),
}


BOILERPLATE = ["Subscribe to our newsletter for weekly updates", "Copyright Example Media Group, all rights reserved"]

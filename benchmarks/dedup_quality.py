"""Near-dedup quality on real text: edited copies of Wikipedia sections behind site boilerplate, and the
Clough & Stevenson corpus of plagiarised short answers.

1. Edited copies (built here from /work/shared/data/quality/wikitext2): every section of a WikiText-2
   article (120-900 words, whole paragraphs) is one "article", published on one of --sites sites: a
   page is the site's header lines + the article + the site's footer lines + a per-page "Related:" line
   (boilerplate that pages of a site share, as on the web). A share of the articles get 1-3 copies,
   each on a random site, with --min-rate..--max-rate of the words substituted, deleted or duplicated
   ("a few percent of words changed"); a copy is kept when its word 5-gram Jaccard with the original
   page is in [0.6, 1.0] (the rate is halved up to 5 times until it is; else the copy is left out).
   Truth: an article and its copies are one group. Pair recall = true pairs (same group) that end in
   one cluster / all true pairs; pair precision = true pairs among all pairs that end in one cluster.
   Different articles of one site share only boilerplate: their pairs are the precision test.
2. Clough & Stevenson (/work/shared/data/neardup/clough_stevenson): 95 answers graded cut / light /
   heavy / non plagiarism of one of 5 source texts; all 100 texts are de-duplicated together. Per grade:
   the share of (answer, source) pairs that end in one cluster; precision is given for three
   definitions of a true duplicate (cut; cut+light; cut+light+heavy: answers of those grades and their
   source form one group).

"lines first" runs cc_net's order instead of the project's: repeated-line removal over the exact
survivors, then near dedup over the cleaned text (composed from two `dedup_table` calls).

    .venv/bin/python benchmarks/dedup_quality.py --data /work/shared/data --json benchmarks/results/dedup_quality.json
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dedup.config import DedupConfig  # noqa: E402
from dedup.local import apply_decisions, dedup_table  # noqa: E402
from dedup.normalize import normalize_text, shingles  # noqa: E402

SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("drop_reason", pa.string())])
HEADING = re.compile(r"^ (=+) (.*) \1 $")


# ----------------------------------------------------------------------------------------- edited copies


def wikitext_sections(folder: Path, min_words: int = 120, max_words: int = 900) -> list[str]:
    """Sections of WikiText-2 articles (valid + test) as paragraphs joined by newlines."""
    sections: list[str] = []
    for name in ("valid.txt", "test.txt"):
        paragraphs: list[str] = []

        def flush() -> None:
            words, kept = 0, []
            for paragraph in paragraphs:
                if words >= min_words and words + len(paragraph.split()) > max_words:
                    break
                kept.append(paragraph)
                words += len(paragraph.split())
            if words >= min_words:
                sections.append("\n".join(kept))
            paragraphs.clear()

        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            if HEADING.match(line):
                flush()
            elif line.strip():
                paragraphs.append(line.strip())
        flush()
    return sections


def site_boilerplate(site: int) -> tuple[list[str], list[str]]:
    name = f"The {['Daily', 'Weekly', 'Morning', 'Evening', 'Global', 'Local', 'Open', 'Free'][site % 8]} " \
           f"{['Courier', 'Herald', 'Observer', 'Chronicle', 'Gazette', 'Review', 'Journal', 'Post'][site // 8 % 8]}"
    header = [
        f"{name} - independent reporting since 19{site + 10}",
        "Home | News | Science | History | Culture | Sport | Opinion | Contact us",
        f"You are reading {name}. Sign in to save articles and manage your newsletter subscriptions.",
    ]
    footer = [
        f"Support {name}: our journalism depends on readers like you. Subscribe today from just one euro a week.",
        f"Copyright {name} Media Group. All rights reserved. Reproduction without permission is prohibited.",
        "Privacy policy | Cookie settings | Terms of use | Advertise with us | Careers",
    ]
    return header, footer


def page(article: str, site: int, related: list[str]) -> str:
    header, footer = site_boilerplate(site)
    related_line = "Related: " + " | ".join(" ".join(title.split()[:6]) for title in related)
    return "\n".join(header + [article] + footer + [related_line])


def edit(text: str, rate: float, rng: random.Random, vocabulary: list[str]) -> str:
    """Substitute, delete or duplicate each word with probability `rate` (line structure kept)."""
    lines = []
    for line in text.split("\n"):
        words = []
        for word in line.split(" "):
            if rng.random() >= rate:
                words.append(word)
                continue
            action = rng.random()
            if action < 0.6:
                words.append(rng.choice(vocabulary))
            elif action < 0.8:
                continue
            else:
                words.extend([word, rng.choice(vocabulary)])
        lines.append(" ".join(words))
    return "\n".join(lines)


def shingle_set(text: str) -> set[bytes]:
    return set(shingles(normalize_text(text), 5))


def jaccard(a: set[bytes], b: set[bytes]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def build_copies_set(folder: Path, sites: int, articles: int, copy_share: float, min_rate: float, max_rate: float,
                     seed: int, min_words: int = 120, max_words: int = 900) -> dict:
    rng = random.Random(seed)
    sections = wikitext_sections(folder, min_words, max_words)
    rng.shuffle(sections)
    sections = sections[:articles]
    vocabulary = sorted({w for s in sections for w in s.split() if w.isalpha()})
    docs, group_of, site_of = {}, {}, {}
    copy_similarity = []
    for number, article in enumerate(sections):
        site = rng.randrange(sites)
        original_id = f"a{number:04d}-0"
        docs[original_id] = page(article, site, rng.sample(sections, 3))
        group_of[original_id], site_of[original_id] = number, site
        if rng.random() >= copy_share:
            continue
        original = shingle_set(docs[original_id])
        for copy in range(1, rng.randint(1, 3) + 1):
            copy_site = rng.randrange(sites)
            rate = rng.uniform(min_rate, max_rate)
            for _ in range(6):
                text = page(edit(article, rate, rng, vocabulary), copy_site, rng.sample(sections, 3))
                similarity = jaccard(original, shingle_set(text))
                if similarity >= 0.6:
                    break
                rate /= 2
            if similarity < 0.6:  # another site's boilerplate alone takes a short article below 0.6
                continue
            copy_id = f"a{number:04d}-{copy}"
            docs[copy_id], group_of[copy_id], site_of[copy_id] = text, number, copy_site
            copy_similarity.append(similarity)
    # the precision test: pages of one site with different articles (they share only boilerplate)
    sets = {doc_id: shingle_set(text) for doc_id, text in docs.items()}
    by_site = defaultdict(list)
    for doc_id, site in site_of.items():
        by_site[site].append(doc_id)
    same_site = [jaccard(sets[a], sets[b]) for members in by_site.values() for a, b in combinations(members, 2)
                 if group_of[a] != group_of[b]]
    true_pairs = [jaccard(sets[a], sets[b]) for a, b in combinations(sorted(docs), 2) if group_of[a] == group_of[b]]
    return {"docs": docs, "group_of": group_of, "copy_similarity": copy_similarity, "same_site": same_site,
            "true_pair_similarity": true_pairs, "articles": len(sections)}


# ----------------------------------------------------------------------------------------------- metrics


def clusters(decisions: pa.Table) -> dict[str, str]:
    """doc id -> cluster key (the representative; a document in no cluster is its own)."""
    return {row["id"]: row["dup_cluster"] or row["id"] for row in decisions.select(["id", "dup_cluster"]).to_pylist()}


def pair_scores(cluster_of: dict[str, str], group_of: dict[str, object]) -> dict[str, float]:
    by_cluster: dict[str, Counter] = defaultdict(Counter)
    for doc_id, cluster in cluster_of.items():
        by_cluster[cluster][group_of.get(doc_id, ("alone", doc_id))] += 1
    predicted = sum(sum(c.values()) * (sum(c.values()) - 1) // 2 for c in by_cluster.values())
    correct = sum(n * (n - 1) // 2 for c in by_cluster.values() for n in c.values())
    groups = Counter(group_of.get(doc_id, ("alone", doc_id)) for doc_id in cluster_of)
    actual = sum(n * (n - 1) // 2 for n in groups.values())
    return {"pairs_predicted": predicted, "pairs_true": actual, "pairs_correct": correct,
            "precision": correct / predicted if predicted else 1.0, "recall": correct / actual if actual else 1.0}


def run(docs: dict[str, str], config: DedupConfig, lines_first: bool) -> tuple[pa.Table, float]:
    table = pa.Table.from_pylist([{"id": k, "text": v, "drop_reason": None} for k, v in docs.items()], schema=SCHEMA)
    start = time.perf_counter()
    if not lines_first:
        decisions = dedup_table(table, config)
    else:
        from dataclasses import replace

        first = dedup_table(table, replace(config, near=False))
        cleaned = apply_decisions(table, first).select(["id", "text", "drop_reason"])
        second = dedup_table(cleaned, replace(config, repeated_lines=False))
        lost = first.filter(pa.compute.is_valid(first.column("dedup_drop_reason")))
        decisions = pa.concat_tables([second, lost.select(second.column_names)])
    return decisions, time.perf_counter() - start


# ------------------------------------------------------------------------------------ clough & stevenson


def clough_stevenson(folder: Path) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """(texts by file name, file -> (task, category)) for the 95 answers and 5 sources."""
    data = folder / "data"
    info = {}
    with open(data / "file_information.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            info[row["File"]] = (row["Task"], row["Category"])
    for task in "abcde":
        info[f"orig_task{task}.txt"] = (task, "source")
    texts = {name: (data / name).read_text(encoding="utf-8", errors="replace") for name in info}
    return texts, info


def clough_scores(cluster_of: dict[str, str], info: dict[str, tuple[str, str]]) -> dict:
    result = {"recall_by_grade": {}, "precision": {}}
    for grade in ("cut", "light", "heavy", "non"):
        answers = [name for name, (_, category) in info.items() if category == grade]
        merged = sum(cluster_of[name] == cluster_of[f"orig_task{info[name][0]}.txt"] for name in answers)
        result["recall_by_grade"][grade] = {"answers": len(answers), "merged_with_source": merged,
                                           "share": merged / len(answers)}
    for positives in (("cut",), ("cut", "light"), ("cut", "light", "heavy")):
        group_of = {name: task for name, (task, category) in info.items() if category in positives + ("source",)}
        scores = pair_scores(cluster_of, group_of)
        result["precision"]["+".join(positives)] = {k: scores[k] for k in ("precision", "recall", "pairs_predicted",
                                                                         "pairs_correct", "pairs_true")}
    return result


# -------------------------------------------------------------------------------------------------- main


NO_VERIFY = dict(verify_jaccard=False)
CONFIGS = [
    ("default: t0.5 (25x5) + verify", {}, False),
    ("t0.5 (25x5)", dict(threshold=0.5, **NO_VERIFY), False),
    ("t0.6 (18x7) + verify", dict(threshold=0.6), False),
    ("t0.6 (18x7)", dict(threshold=0.6, **NO_VERIFY), False),
    ("t0.7 (14x9) + verify", dict(threshold=0.7), False),
    ("t0.7 (14x9)", dict(threshold=0.7, **NO_VERIFY), False),
    ("t0.8 (9x13)", dict(threshold=0.8, **NO_VERIFY), False),
    ("t0.5, 256 perms (42x6) + verify", dict(threshold=0.5, num_perm=256), False),
    ("t0.5 (25x5) + verify, lines first", {}, True),
    ("t0.5 (25x5), lines first", dict(threshold=0.5, **NO_VERIFY), True),
    ("t0.7 (14x9), lines first", dict(threshold=0.7, **NO_VERIFY), True),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="/work/shared/data")
    parser.add_argument("--sites", type=int, default=12)
    parser.add_argument("--articles", type=int, default=700)
    parser.add_argument("--copy-share", type=float, default=0.5)
    parser.add_argument("--min-rate", type=float, default=0.005)
    parser.add_argument("--max-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-words", type=int, default=120, help="shortest article (words, whole paragraphs)")
    parser.add_argument("--max-words", type=int, default=900)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    data = Path(args.data)
    wikitext, clough = data / "quality" / "wikitext2", data / "neardup" / "clough_stevenson"
    if not wikitext.is_dir() or not clough.is_dir():
        print(f"{wikitext} or {clough} is absent: this benchmark needs /work/shared/data (see its README.md)")
        return 2
    copies = build_copies_set(wikitext, args.sites, args.articles, args.copy_share, args.min_rate, args.max_rate, args.seed,
                              args.min_words, args.max_words)
    docs, group_of = copies["docs"], copies["group_of"]
    sim, same = copies["copy_similarity"], sorted(copies["same_site"])
    groups = Counter(group_of.values())
    print(f"Edited copies: {len(docs)} pages = {copies['articles']} articles on {args.sites} sites + {len(sim)} copies "
          f"({sum(1 for n in groups.values() if n > 1)} articles copied); copy-original 5-gram Jaccard "
          f"min {min(sim):.3f} median {statistics.median(sim):.3f} max {max(sim):.3f}; all true pairs (copies "
          f"among themselves too): min {min(copies['true_pair_similarity']):.3f}; {len(same)} same-site pairs of different "
          f"articles: median {statistics.median(same):.3f}, p99 {same[int(0.99 * len(same))]:.3f}, max {same[-1]:.3f}")
    texts, info = clough_stevenson(clough)
    grade_similarity = defaultdict(list)
    for name, (task, category) in info.items():
        if category != "source":
            grade_similarity[category].append(jaccard(shingle_set(texts[name]), shingle_set(texts[f"orig_task{task}.txt"])))
    print("Clough & Stevenson answer-source 5-gram Jaccard, median (max) per grade: " + ", ".join(
        f"{g} {statistics.median(v):.3f} ({max(v):.3f}) n={len(v)}" for g, v in sorted(grade_similarity.items())))
    results = {"copies_set": {"pages": len(docs), "articles": copies["articles"], "copies": len(sim),
                              "copy_jaccard": [min(sim), statistics.median(sim), max(sim)],
                              "same_site_pairs": len(same), "same_site_jaccard_median_p99_max":
                                  [statistics.median(same), same[int(0.99 * len(same))], same[-1]]},
               "clough_jaccard_median_by_grade": {g: statistics.median(v) for g, v in grade_similarity.items()},
               "configs": []}
    print("\n| config | copies: pair precision | pair recall | predicted pairs | seconds | "
          "C&S merged with source: cut | light | heavy | non | C&S precision (cut+light) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, overrides, lines_first in CONFIGS:
        config = DedupConfig(**overrides)
        decisions, seconds = run(docs, config, lines_first)
        scores = pair_scores(clusters(decisions), group_of)
        dropped = Counter(decisions.column("dedup_drop_reason").to_pylist())
        cs_decisions, _ = run(texts, config, lines_first)
        cs = clough_scores(clusters(cs_decisions), info)
        grades = cs["recall_by_grade"]
        print(f"| {name} | {scores['precision']:.4f} | {scores['recall']:.4f} | {scores['pairs_predicted']} | {seconds:.1f} | "
              + " | ".join(f"{grades[g]['merged_with_source']}/{grades[g]['answers']}" for g in ("cut", "light", "heavy", "non"))
              + f" | {cs['precision']['cut+light']['precision']:.3f} |")
        results["configs"].append({"name": name, "overrides": overrides, "lines_first": lines_first, "bands": config.bands(),
                                   "copies": scores, "drop_reasons": {str(k): v for k, v in dropped.items()},
                                   "seconds": seconds, "clough_stevenson": cs})
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

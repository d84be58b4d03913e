"""PII scrubbing quality: recall and precision per entity type, PII left in the scrubbed text, and how many
PII-free web documents the scrub alters (issues 6 and 18).

Labeled data:
- presidio-research's generated test set (`pii/presidio_generated/generated_{large,small}.json`): templated
  sentences with labeled spans; the six pattern types (EMAIL_ADDRESS, PHONE_NUMBER, IP_ADDRESS,
  CREDIT_CARD, IBAN_CODE, US_SSN) are scored, other labels (PERSON, ADDRESS, ...) only show up when a
  hit lands on them. Its cards are all 16-digit Visa/Mastercard and its phones Faker's formats.
- A format set made here (seeded, no third-party data): Luhn-valid numbers of every card issuer and
  length (JCB, Maestro 12-19, UnionPay, 19-digit Visa, Diners, Discover, Amex, Mir), grouped and
  ungrouped, and python-phonenumbers' example mobile and fixed-line numbers of 40 regions in E.164,
  international and national format, each in a sentence with and without a phone/card word.
- With `--faker-split dev|heldout` (issue 18): benchmarks/pii_faker_set.py's Faker set, a split at a
  time (every Faker card type, every Faker locale's phone numbers, emails, IPs, IBANs, SSNs in web-like
  templates), and its PII-free documents (order, invoice, tracking, ISBN numbers, timestamps, ...).
  `heldout` is the split the rules were not written against: score it once, at the end.

Unlabeled PII-free-ish documents (what the scrub must leave alone):
- readability test pages (main text by trafilatura with the pipeline's settings),
- the WARC files' HTML responses (the pipeline's own reader and extraction),
- Wikipedia articles (WikiText-2 valid/test, detokenized: " @-@ " -> "-", ...): dense in dates and numbers,
- Project Gutenberg chunks of 50 lines,
- the gold main text of the extraction dev set's 977 pages (CleanEval, CleanPortalEval, Dragnet, L3S).
Every altered document is listed with its replaced spans, so a person can tell real PII (a contact email
on a web page) from a false positive; benchmarks/RESULTS.md records that judgement.

Metrics, per entity type on the labeled sets:
- recall: labeled spans overlapped by a hit of the same type; precision: hits of a type that overlap a
  labeled span of that type (hits on spans labeled otherwise are listed by label);
- left: labeled spans of which at least one letter or digit is still in the scrubbed text (a hit of any
  type removes characters), and the fraction of the spans' letters and digits left.
The same is reported for presidio's defaults (its predefined recognizers for the six entities, no-op NLP
engine, default threshold 0) as the baseline.

    .venv/bin/python benchmarks/pii_eval.py --data /work/shared/data --faker-split dev --faker-split heldout

`--json FILE` writes every miss, stray hit and altered span (real people's contact data from the web
documents: keep it out of the repository). `--faker-only` skips the presidio and format sets and keeps
only the Gutenberg and extraction gold documents. `--set key=value` changes one PiiConfig field (a TOML
literal, e.g. `--set keep_private_ips=false`).
"""
from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import random
import sys
import time
import tomllib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filters.pii.stage import PATTERN_ENTITIES, PiiConfig, PiiStage  # noqa: E402
from filters.pii.validators import luhn_valid  # noqa: E402

Span = tuple[int, int, str]  # (start, end, entity type)
Finder = Callable[[str], list[Span]]


@dataclasses.dataclass
class Example:
    source: str
    text: str
    spans: list[Span]  # gold, all labels


# ------------------------------------------------------------------------------------------ labeled data


def presidio_generated(folder: str) -> list[Example]:
    examples = []
    for name in ("generated_large.json", "generated_small.json"):
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            for number, record in enumerate(json.load(handle)):
                spans = [(s["start_position"], s["end_position"], s["entity_type"]) for s in record["spans"]]
                examples.append(Example(f"{name}#{number}", record["full_text"], spans))
    return examples


CARD_FORMATS: tuple[tuple[str, str, int], ...] = (  # (issuer, prefix, length)
    ("visa", "4", 16), ("visa", "4", 19), ("mastercard", "51", 16), ("mastercard", "2221", 16),
    ("amex", "34", 15), ("amex", "37", 15), ("discover", "6011", 16), ("discover", "65", 19),
    ("jcb", "3528", 16), ("jcb", "3589", 19), ("diners", "36", 14), ("diners", "300", 16),
    ("maestro", "5018", 12), ("maestro", "6759", 13), ("maestro", "6304", 16), ("maestro", "5893", 19),
    ("unionpay", "62", 16), ("unionpay", "62", 19), ("mir", "2200", 16),
)
PHONE_REGIONS_TESTED: tuple[str, ...] = (
    "US", "CA", "GB", "IE", "DE", "AT", "CH", "FR", "BE", "NL", "ES", "PT", "IT", "SE", "NO", "DK", "FI", "PL",
    "CZ", "RU", "UA", "TR", "GR", "IL", "EG", "ZA", "NG", "KE", "IN", "PK", "CN", "JP", "KR", "SG", "ID", "PH",
    "AU", "NZ", "BR", "MX", "AR",
)
WITH_CONTEXT = ("Please call me on {} after six.", "My card number is {} and it expires soon.")
WITHOUT_CONTEXT = "I wrote {} on the back of the envelope."


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return next(body + digit for digit in "0123456789" if luhn_valid(body + digit))


def grouped(number: str, separator: str) -> str:
    if len(number) == 15:
        parts = [number[:4], number[4:10], number[10:]]  # Amex 4-6-5
    else:
        parts = [number[i:i + 4] for i in range(0, len(number), 4)]
    return separator.join(parts)


def format_set(seed: int = 6) -> list[Example]:
    """Cards of every issuer and length and phones of many regions, each in a sentence."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    rng = random.Random(seed)
    examples = []

    def add(source: str, value: str, entity: str, template: str) -> None:
        start = template.index("{}")
        examples.append(Example(source, template.format(value), [(start, start + len(value), entity)]))

    for issuer, prefix, length in CARD_FORMATS:
        for i in range(4):
            number = luhn_complete(prefix, length, rng)
            value = number if i < 2 else grouped(number, " " if i == 2 else "-")
            add(f"card/{issuer}-{length}", value, "CREDIT_CARD", WITH_CONTEXT[1] if i % 2 else WITHOUT_CONTEXT)
    formats = {"e164": PhoneNumberFormat.E164, "international": PhoneNumberFormat.INTERNATIONAL,
               "national": PhoneNumberFormat.NATIONAL}
    for region in PHONE_REGIONS_TESTED:
        for kind, number_type in (("mobile", PhoneNumberType.MOBILE), ("fixed", PhoneNumberType.FIXED_LINE)):
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is None:
                continue
            for name, number_format in formats.items():
                value = phonenumbers.format_number(example, number_format)
                for template in (WITH_CONTEXT[0], WITHOUT_CONTEXT):
                    context = "context" if template == WITH_CONTEXT[0] else "no-context"
                    add(f"phone/{name}/{context}/{region}-{kind}", value, "PHONE_NUMBER", template)
    return examples


# ---------------------------------------------------------------------------------------- unlabeled data


def readability_documents(folder: str) -> Iterator[tuple[str, str]]:
    import trafilatura

    from pipeline.extract import ExtractConfig

    settings = ExtractConfig().trafilatura_settings()
    for path in sorted(glob.glob(os.path.join(folder, "*", "source.html"))):
        with open(path, "rb") as handle:
            text = trafilatura.extract(handle.read(), **settings)
        if text:
            yield f"readability/{Path(path).parent.name}", text


def warc_documents(folder: str) -> Iterator[tuple[str, str]]:
    from pipeline.config import Config
    from pipeline.corpus import InputTally, process_input

    paths = sorted(glob.glob(os.path.join(folder, "**", "*.warc.gz"), recursive=True)
                   + glob.glob(os.path.join(folder, "**", "*.warc"), recursive=True))
    config = Config()
    for path in paths:
        for batch in process_input(path, config, InputTally(path)):
            for row in batch.to_pylist():
                if row["text"]:
                    yield f"warc/{Path(path).name}@{row['warc_offset']}", row["text"]


def wikitext_documents(folder: str) -> Iterator[tuple[str, str]]:
    for name in ("valid.txt", "test.txt"):
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        title, body = None, []
        for line in lines + [" = end = "]:
            stripped = line.strip()
            is_title = stripped.startswith("= ") and stripped.endswith(" =") and not stripped.startswith("= =")
            if is_title:
                if title is not None and body:
                    text = "\n".join(body)
                    for token, plain in ((" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", ".")):
                        text = text.replace(token, plain)
                    yield f"wikitext/{name}/{title}", text
                title, body = stripped.strip("= ").strip(), []
            elif stripped:
                body.append(stripped)


def gutenberg_documents(folder: str, lines_per_chunk: int = 50, max_chunks_per_book: int = 60
                        ) -> Iterator[tuple[str, str]]:
    for path in sorted(glob.glob(os.path.join(folder, "*.txt"))):
        if Path(path).name.startswith("SOURCE"):
            continue
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        chunks = [lines[i:i + lines_per_chunk] for i in range(0, len(lines), lines_per_chunk)]
        step = max(1, len(chunks) // max_chunks_per_book)  # spread over the book, licence header included
        for index in range(0, len(chunks), step)[:max_chunks_per_book]:
            text = "\n".join(chunks[index])
            if text.strip():
                yield f"gutenberg/{Path(path).stem}@{index * lines_per_chunk}", text


def extraction_gold_documents(folder: str) -> Iterator[tuple[str, str]]:
    """The ground-truth main text of the extraction dev set's pages (CleanEval, Dragnet, L3S, ...), one
    document per page: real web prose, written by people, with the numbers web pages have."""
    for path in sorted(glob.glob(os.path.join(folder, "*", "gold", "*.txt"))):
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        if text.strip():
            yield f"extraction_gold/{Path(path).parent.parent.name}/{Path(path).stem}", text


def web_documents(data: str, cache: str | None = None, sources: tuple[str, ...] | None = None
                  ) -> dict[str, list[tuple[str, str]]]:
    """PII-free-ish documents by source (readability, warc, wikitext, gutenberg, extraction_gold), all or
    `sources`; cached as JSON if asked."""
    if cache and os.path.isfile(cache):
        with open(cache, encoding="utf-8") as handle:
            return {source: [tuple(doc) for doc in docs] for source, docs in json.load(handle).items()
                    if sources is None or source in sources}
    loaders = {
        "readability": (os.path.join(data, "extraction/readability/test/test-pages"), readability_documents),
        "warc": (os.path.join(data, "warc"), warc_documents),
        "wikitext": (os.path.join(data, "quality/wikitext2"), wikitext_documents),
        "gutenberg": (os.path.join(data, "text/gutenberg"), gutenberg_documents),
        "extraction_gold": (os.path.join(data, "extraction/dev"), extraction_gold_documents),
    }
    documents: dict[str, list[tuple[str, str]]] = {}
    for source, (folder, loader) in loaders.items():
        if sources is not None and source not in sources:
            continue
        if os.path.isdir(folder):
            documents[source] = list(loader(folder))
        else:
            print(f"{folder} not found: no {source} documents", file=sys.stderr)
    if cache:
        with open(cache, "w", encoding="utf-8") as handle:
            json.dump(documents, handle)
    return documents


# ------------------------------------------------------------------------------------------ detectors


def project_finder(stage: PiiStage) -> Finder:
    return lambda text: [(hit.start, hit.end, hit.entity_type) for hit in stage.find(text)]


def presidio_default_finder() -> Finder:
    """presidio's predefined recognizers for the six entities, as `AnalyzerEngine` would load them, on the
    no-op NLP engine (no spaCy model here) and default threshold 0. The email recognizer's tldextract call
    is pointed at the bundled suffix list (it would try the network)."""
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return extractor(pattern_text).fqdn != ""

    nlp_engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}])
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (OfflineEmailRecognizer(), PhoneRecognizer(), IpRecognizer(), CreditCardRecognizer(),
                       IbanRecognizer(), UsSsnRecognizer()):
        registry.add_recognizer(recognizer)
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])
    entities = list(PATTERN_ENTITIES)
    return lambda text: [(r.start, r.end, r.entity_type)
                         for r in engine.analyze(text, language="en", entities=entities)]


# -------------------------------------------------------------------------------------------- metrics


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score_labeled(examples: list[Example], find: Finder, entities: tuple[str, ...]) -> dict[str, Any]:
    """Per entity: gold, recall, precision, spans left, characters left; plus misses and stray hits."""
    stats: dict[str, Counter] = defaultdict(Counter)
    misses: dict[str, list[str]] = defaultdict(list)
    stray: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for example in examples:
        hits = find(example.text)
        covered = bytearray(len(example.text))
        for start, end, _ in hits:
            covered[start:end] = b"\x01" * (end - start)
        gold = [span for span in example.spans if span[2] in entities]
        for start, end, entity in gold:
            s = stats[entity]
            s["gold"] += 1
            if any(h[2] == entity and overlaps(h[:2], (start, end)) for h in hits):
                s["found"] += 1
            chars = [i for i in range(start, end) if example.text[i].isalnum()]
            left = sum(1 for i in chars if not covered[i])
            s["chars"] += len(chars)
            s["chars_left"] += left
            if left:
                s["left"] += 1
                misses[entity].append(f"{example.source}: {example.text[start:end]!r}")
        for start, end, entity in hits:
            s = stats[entity]
            s["hits"] += 1
            if any(g[2] == entity and overlaps(g[:2], (start, end)) for g in gold):
                s["true_hits"] += 1
            else:
                labels = sorted({g[2] for g in example.spans if overlaps(g[:2], (start, end))}) or ["(none)"]
                s["stray_on_" + "+".join(labels)] += 1
                stray[entity].append({"source": example.source, "hit": example.text[start:end], "labels": labels,
                                      "context": example.text[max(0, start - 40):end + 20]})
    table = {}
    for entity in entities:
        s = stats[entity]
        table[entity] = {
            "gold": s["gold"], "found": s["found"], "recall": _ratio(s["found"], s["gold"]),
            "hits": s["hits"], "precision": _ratio(s["true_hits"], s["hits"]),
            "spans_left": s["left"], "spans_left_fraction": _ratio(s["left"], s["gold"]),
            "chars_left_fraction": _ratio(s["chars_left"], s["chars"]),
            "stray_hits_by_label": {k[len("stray_on_"):]: v for k, v in sorted(s.items()) if k.startswith("stray_on_")},
            "misses": misses[entity], "stray_hits": stray[entity],
        }
    total = Counter()
    for entity in entities:
        for key in ("gold", "left", "chars", "chars_left"):
            total[key] += stats[entity][key]
    table["ALL"] = {"gold": total["gold"], "spans_left": total["left"],
                    "spans_left_fraction": _ratio(total["left"], total["gold"]),
                    "chars_left_fraction": _ratio(total["chars_left"], total["chars"])}
    return table


def score_formats(examples: list[Example], find: Finder) -> dict[str, dict[str, Any]]:
    """Fraction of each format group's spans left in the text (any letter or digit not replaced)."""
    groups: dict[str, Counter] = defaultdict(Counter)
    for example in examples:
        start, end, _ = example.spans[0]
        hits = find(example.text)
        covered = set()
        for hit_start, hit_end, _ in hits:
            covered.update(range(hit_start, hit_end))
        left = any(example.text[i].isalnum() and i not in covered for i in range(start, end))
        parts = example.source.split("/")
        key = "/".join(parts[:2]) if parts[0] == "card" else "/".join(parts[:3])
        groups[key]["n"] += 1
        groups[key]["left"] += left
    return {key: {"n": c["n"], "left": c["left"], "left_fraction": _ratio(c["left"], c["n"])}
            for key, c in sorted(groups.items())}


def score_web(documents: dict[str, list[tuple[str, str]]], stage: PiiStage) -> dict[str, Any]:
    """Per source: documents, skipped by the pre-check, altered by the scrub, and every altered span."""
    report: dict[str, Any] = {}
    for source, docs in documents.items():
        skipped = altered = 0
        spans = []
        by_entity: Counter = Counter()
        for doc_id, text in docs:
            if stage.precheck_regex is not None and stage.precheck_regex.search(text) is None:
                skipped += 1
                continue
            hits = stage.find(text)
            if hits:
                altered += 1
                for hit in hits:
                    by_entity[hit.entity_type] += 1
                    spans.append({"doc": doc_id, "entity": hit.entity_type, "hit": text[hit.start:hit.end],
                                  "context": text[max(0, hit.start - 50):hit.end + 30]})
        report[source] = {"documents": len(docs), "skipped_by_precheck": skipped, "altered": altered,
                          "altered_fraction": _ratio(altered, len(docs)), "hits_by_entity": dict(by_entity),
                          "altered_spans": spans}
    n_docs = sum(r["documents"] for r in report.values())
    n_altered = sum(r["altered"] for r in report.values())
    n_skipped = sum(r["skipped_by_precheck"] for r in report.values())
    report["ALL"] = {"documents": n_docs, "skipped_by_precheck": n_skipped, "altered": n_altered,
                     "altered_fraction": _ratio(n_altered, n_docs)}
    return report


def windows_agree(stage: PiiStage, texts: list[str]) -> dict[str, Any]:
    """How many texts get other hits from presidio on the pre-check windows than on the whole text."""
    from filters.pii.stage import resolve_overlaps

    differ = []
    for text in texts:
        windowed = [(h.start, h.end, h.entity_type) for h in stage.find(text)]
        whole = [(h.start, h.end, h.entity_type) for h in resolve_overlaps(stage.analyze(text))]
        if windowed != whole:
            differ.append({"windowed": windowed, "whole": whole, "text": text[:200]})
    return {"texts": len(texts), "differ": len(differ), "differences": differ}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


# -------------------------------------------------------------------------------------------- report


def labeled_table(project: dict[str, Any], baseline: dict[str, Any], entities: tuple[str, ...]) -> str:
    lines = ["| entity | spans | recall | precision | spans left | chars left | "
             "presidio defaults: recall | precision | spans left |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for entity in entities + ("ALL",):
        p, b = project[entity], baseline[entity]
        lines.append(
            f"| {entity} | {p['gold']} | {_pct(p.get('recall'))} | {_pct(p.get('precision'))} | "
            f"{p['spans_left']} ({_pct(p['spans_left_fraction'])}) | {_pct(p['chars_left_fraction'])} | "
            f"{_pct(b.get('recall'))} | {_pct(b.get('precision'))} | "
            f"{b['spans_left']} ({_pct(b['spans_left_fraction'])}) |"
        )
    return "\n".join(lines)


def formats_table(project: dict[str, Any], baseline: dict[str, Any]) -> str:
    lines = ["| format group | spans | left (project) | left (presidio defaults) |", "|---|---:|---:|---:|"]
    for key, p in project.items():
        b = baseline[key]
        lines.append(f"| {key} | {p['n']} | {p['left']} ({_pct(p['left_fraction'])}) | "
                     f"{b['left']} ({_pct(b['left_fraction'])}) |")
    return "\n".join(lines)


def web_table(web: dict[str, Any]) -> str:
    lines = ["| source | documents | skipped by pre-check | altered | altered % | hits by entity |",
             "|---|---:|---:|---:|---:|---|"]
    for source, r in web.items():
        hits = ", ".join(f"{k} {v}" for k, v in sorted(r.get("hits_by_entity", {}).items()))
        lines.append(f"| {source} | {r['documents']} | {r['skipped_by_precheck']} "
                     f"({_pct(_ratio(r['skipped_by_precheck'], r['documents']))}) | {r['altered']} | "
                     f"{_pct(r['altered_fraction'])} | {hits} |")
    return "\n".join(lines)


def parse_sets(assignments: list[str]) -> dict[str, Any]:
    values = {}
    for assignment in assignments:
        key, _, raw = assignment.partition("=")
        value = tomllib.loads(f"v = {raw}")["v"]
        values[key.strip()] = tuple(value) if isinstance(value, list) else value
    return values


def faker_set(split: str) -> tuple[list[Example], list[tuple[str, str]]]:
    """benchmarks/pii_faker_set.py's records of one split: labeled examples and PII-free (id, text)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pii_faker_set import generate

    labeled, free = [], []
    for row in generate(split):
        if row["pii_free"]:
            free.append((f"{row['id']} {row['template']}", row["text"]))
        else:
            spans = [(span["start"], span["end"], span["entity"]) for span in row["spans"]]
            details = ",".join(span["detail"] for span in row["spans"])
            labeled.append(Example(f"{row['id']} {row['template']} [{details}]", row["text"], spans))
    return labeled, free


def print_misses(project: dict[str, Any], entities: tuple[str, ...], show: int) -> None:
    for entity in entities:
        p = project[entity]
        if p["misses"] or p["stray_hits"]:
            print(f"\n{entity}: left {p['spans_left']}, stray hits by label {p['stray_hits_by_label']}")
            for miss in p["misses"][:show]:
                print(f"  left   {miss}")
            for hit in p["stray_hits"][:show]:
                print(f"  stray  {hit['hit']!r} on {hit['labels']}: {hit['context']!r}")


def print_web(web: dict[str, Any]) -> None:
    print(web_table(web))
    for source, r in web.items():
        for span in r.get("altered_spans", []):
            print(f"  {span['doc']} {span['entity']} {span['hit']!r}: {span['context']!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="/work/shared/data", help="the shared data folder")
    parser.add_argument("--json", help="write the full report (every miss, stray hit and altered span) here")
    parser.add_argument("--set", action="append", default=[], help="PiiConfig field=value (TOML literal)")
    parser.add_argument("--web-cache", help="cache the extracted web documents in this JSON file")
    parser.add_argument("--show", type=int, default=15, help="misses and stray hits to print per entity")
    parser.add_argument("--faker-split", action="append", choices=("dev", "heldout"), default=[],
                        help="also score this split of benchmarks/pii_faker_set.py (issue 18)")
    parser.add_argument("--faker-only", action="store_true",
                        help="only the Faker splits, their PII-free documents, Gutenberg and extraction gold pages")
    args = parser.parse_args(argv)

    generated = os.path.join(args.data, "pii", "presidio_generated")
    if not os.path.isdir(generated):
        sys.exit(f"{generated} not found: the presidio generated set is needed (give --data)")
    config = PiiConfig(**parse_sets(args.set))
    stage = PiiStage(config)
    entities = tuple(e for e in config.entities if e in PATTERN_ENTITIES)
    print(f"config: {config}")
    started = time.perf_counter()
    baseline_finder = presidio_default_finder()
    payload: dict[str, Any] = {"config": dataclasses.asdict(config)}
    texts: list[str] = []

    for split in args.faker_split:
        labeled, free = faker_set(split)
        project = score_labeled(labeled, project_finder(stage), entities)
        baseline = score_labeled(labeled, baseline_finder, entities)
        print(f"\n## Faker set, split {split} ({len(labeled)} texts with PII)\n")
        print(labeled_table(project, baseline, entities))
        print_misses(project, entities, args.show)
        web = score_web({f"faker {split} PII-free": free}, stage)
        print(f"\n## Faker set, split {split}: PII-free documents\n")
        print_web(web)
        payload[f"faker_{split}"] = {"project": project, "presidio_defaults": baseline, "pii_free": web}
        texts += [e.text for e in labeled] + [text for _, text in free]

    documents = web_documents(args.data, args.web_cache, ("gutenberg", "extraction_gold") if args.faker_only else None)
    if not args.faker_only:
        labeled = presidio_generated(generated)
        formats = format_set()
        project = score_labeled(labeled, project_finder(stage), entities)
        baseline = score_labeled(labeled, baseline_finder, entities)
        project_formats = score_formats(formats, project_finder(stage))
        baseline_formats = score_formats(formats, baseline_finder)
        print(f"\n## presidio generated set ({len(labeled)} texts)\n")
        print(labeled_table(project, baseline, entities))
        print_misses(project, entities, args.show)
        print(f"\n## format set ({len(formats)} texts)\n")
        print(formats_table(project_formats, baseline_formats))
        payload["presidio_generated"] = {"project": project, "presidio_defaults": baseline}
        payload["formats"] = {"project": project_formats, "presidio_defaults": baseline_formats}
        texts += [e.text for e in labeled + formats]

    web = score_web(documents, stage)
    print("\n## PII-free web documents\n")
    print_web(web)
    payload["web"] = web
    if stage.precheck_regex is not None:
        texts += [text for docs in documents.values() for _, text in docs]
        agreement = payload["windows_vs_whole"] = windows_agree(stage, texts)
        print(f"\npre-check windows vs whole texts: {agreement['differ']} of {agreement['texts']} texts get other hits")
    print(f"\n({time.perf_counter() - started:.1f} s)")

    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        tmp = args.json + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=1, ensure_ascii=False)
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

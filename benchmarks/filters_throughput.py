"""Documents per second per core (one process) for langid and the heuristics, against datatrove.

Same documents as benchmarks/filters_agreement.py (trafilatura text of the readability pages and of the
WARC HTML responses, Gutenberg chunks of 50 lines). Each measurement runs every document once after a
warm-up pass (models loaded, regexes compiled, spaCy tokenizer built), timed with perf_counter, best of
`--repeat` runs, in CPU seconds of this one process (docs/s per core):
- langid: our `LangidStage.measure_many` + decide in batches vs datatrove's `LanguageFilter` one
  document at a time, both with the same lid.176.ftz model;
- heuristics, per family: our stage with only that family on vs datatrove's filter (C4QualityFilter,
  GopherQualityFilter, GopherRepetitionFilter, FineWebQualityFilter) on the same texts;
- the whole `heuristics` stage (C4 cleanup, both Gopher families, FineWeb, bad words) called directly and
  through the Arrow adapter (`chain_batches`), vs datatrove's four filters one after the other.

    .venv/bin/python benchmarks/filters_throughput.py \
        --readability /work/shared/data/extraction/readability/test/test-pages \
        --warc /work/shared/data/warc --gutenberg /work/shared/data/text/gutenberg
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmarks.measure import best_cpu_seconds, machine_line  # noqa: E402

from filters_agreement import FAMILIES, datatrove_filters, load_documents, only_family  # noqa: E402

from filters.heuristics.stage import HeuristicsConfig, HeuristicsStage  # noqa: E402
from filters.langid import LangidConfig, LangidStage  # noqa: E402
from pipeline.schema import document_schema  # noqa: E402
from pipeline.stages import batched, chain_batches  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readability")
    parser.add_argument("--warc")
    parser.add_argument("--gutenberg")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-rows", type=int, default=256)
    args = parser.parse_args()
    try:
        import datatrove  # noqa: F401
        import spacy  # noqa: F401
        from datatrove.data import Document
        from datatrove.pipeline.filters import LanguageFilter
    except ImportError as error:
        sys.exit(f"this benchmark needs datatrove, spacy and fasteners installed: {error}")

    documents = load_documents(args.readability, args.warc, args.gutenberg)
    texts = [text for _, text in documents]
    n = len(texts)
    chars = sum(map(len, texts))
    print(f"{n} documents, {chars / n:,.0f} characters on average; one process on {machine_line()}")
    rows: list[tuple[str, float, float | None]] = []

    # ---- language ID
    langid = LangidStage(LangidConfig())
    docs = [{"text": t} for t in texts]

    def ours_langid() -> None:
        for start in range(0, n, args.batch_rows):
            chunk = docs[start : start + args.batch_rows]
            for doc, signals in zip(chunk, langid.measure_many(chunk)):
                langid.decide({**doc, **signals})

    theirs = LanguageFilter(languages=["en"], language_threshold=0.65)
    theirs.model._model = langid.model  # same lid.176.ftz (datatrove would download lid.176.bin)

    def datatrove_langid() -> None:
        for text in texts:
            theirs.filter(Document(text=text, id="x"))

    rows.append(("langid (lid.176.ftz)", best_cpu_seconds(ours_langid, args.repeat), best_cpu_seconds(datatrove_langid, args.repeat)))

    # ---- heuristics per family
    their_filters = datatrove_filters()
    for family in FAMILIES:
        stage = HeuristicsStage(only_family(family))

        def ours(stage: HeuristicsStage = stage) -> None:
            for text in texts:
                doc = {"text": text}
                doc.update(stage.measure(doc))
                stage.decide(doc)

        def datatrove_one(filter_=their_filters[family]) -> None:
            for text in texts:
                filter_.filter(Document(text=text, id="x"))

        rows.append((f"heuristics: {family} only", best_cpu_seconds(ours, args.repeat), best_cpu_seconds(datatrove_one, args.repeat)))

    # ---- the whole heuristics stage
    stage = HeuristicsStage(HeuristicsConfig())

    def ours_all() -> None:
        for text in texts:
            doc = {"text": text}
            doc.update(stage.measure(doc))
            stage.decide(doc)

    schema = document_schema(stage.fields)
    batches = list(batched(({"id": str(i), "text": t, "drop_reason": None} for i, t in enumerate(texts)), schema,
                           args.batch_rows))

    def ours_adapter() -> None:
        for _ in chain_batches([stage], schema, compute_all_signals=True)(iter(batches)):
            pass

    def datatrove_all() -> None:  # each filter sees every document, as our stage measures every family
        for text in texts:
            for family in ("gopher_repetition", "gopher_quality", "c4", "fineweb"):
                their_filters[family].filter(Document(text=text, id="x"))

    all_theirs = best_cpu_seconds(datatrove_all, args.repeat)
    rows.append(("heuristics: whole stage, all families + bad words", best_cpu_seconds(ours_all, args.repeat), all_theirs))
    rows.append(("heuristics: whole stage through the Arrow adapter", best_cpu_seconds(ours_adapter, args.repeat), None))

    print()
    print(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print("| what | ours (docs/s per core) | datatrove (docs/s per core) | speed-up |")
    print("|---|---|---|---|")
    for name, ours_s, theirs_s in rows:
        theirs_text = f"{n / theirs_s:,.0f}" if theirs_s else "-"
        speedup = f"{theirs_s / ours_s:.1f}x" if theirs_s else "-"
        print(f"| {name} | {n / ours_s:,.0f} | {theirs_text} | {speedup} |")


if __name__ == "__main__":
    main()

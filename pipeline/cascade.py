"""Cheap-first cascade: before trafilatura runs on a page, drop what the later stages will drop anyway.

trafilatura is most of the corpus job's CPU (~95% of FineWeb's, datatrove#182), and most pages of a crawl are
dropped by rules that need far less than its text. FineWeb already runs datatrove's URLFilter before
Trafilatura; this goes one step further, in the spirit of DCLM's resiliparse-first extraction.

The cascade knows no stage. It asks each configured stage that runs before the global dedup stage for its
pre-check (`DocumentStage.precheck`, contract/stage.py) and runs them cheapest first: those that read the
URL, then those that read resiliparse's text of all visible elements, then those that read its main-content
text (`PAGE_PARTS`), in stage order within each. resiliparse parses the page once, on the first pre-check
that reads text, and only for the texts some pre-check reads. The first pre-check that drops the page
decides. Its row carries that pre-check's signals and the `cascade_*` signals of the ones before it (a
stage's own columns are written only where that stage decided). With the default stages:
0. optout: the `optout` stage itself on the response's headers and HTML head (`optout:<rule>`);
1. url: the `url` stage itself on the record's URL (`url:<rule>`: its decision depends on the URL alone);
2. heuristics: too few visible words for Gopher's minimum -> `cascade:too_few_words`;
3. langid: lid.176 on the main-content text's prefix says no kept language -> `cascade:language_not_kept`.

Pre-checks that read a part only the raw record has (`RECORD_ONLY_PARTS`, the "http" part: headers and HTML
head) are the stage's decision itself, not a shortcut: the stage chain never sees headers. They run whether
the cascade is on or off, `compute_all_signals` included, and they come first, so an opted-out page gets the
same `optout:*` reason, and every other page the same output, in every mode.
Everything else goes through trafilatura and the stage chain unchanged, so every page the cascade lets
through gets byte-identical output with the cascade on or off; only rows it dropped carry `cascade_*` columns.

Why fast-text reasons say `cascade:` rather than the full path's: the full path's reason depends on
trafilatura's text, which was never made. A non-English page may have ended as `extract:no_text`,
`langid:below_threshold` or a heuristics rule; naming it `langid:language_not_kept` would state a measurement
nobody took. A URL rule keeps its stage's reason because its measurement does not depend on the text.

Only stages before dedup are asked: a document dropped there takes no part in dedup, so dropping it earlier
changes nothing downstream, while a stage after dedup would have let it take part in dedup first. The margins
(`extract.cascade_*`) are conservative on purpose: on real and generated pages the kept set equals the
cascade-off run's (benchmarks/RESULTS.md, "End-to-end throughput (issue 10)").

resiliparse runs in this process, not in the trafilatura sandbox: it is a C parser built for Common Crawl and
has no Python recursion or backtracking to run away with; a page it cannot parse, or nested too deep for its
main-content pass (pipeline/html_text.py), goes to the full path.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

from contract.stage import CASCADE, PAGE_PARTS, RECORD_ONLY_PARTS, DocumentStage, Page, PrecheckSettings
from pipeline.config import Config
from pipeline.extract import ExtractConfig
from pipeline.extract_strategy import word_count
from pipeline.html_text import fast_texts
from pipeline.toml_config import config_hash


CASCADE_COLUMNS = f"{CASCADE}_"  # the cascade's own signal columns (pipeline.extract.EXTRACT_FIELDS)


class Prechecked(NamedTuple):
    dropped: dict[str, Any] | None  # the row's columns when a pre-check dropped the page
    main_words: int | None = None  # words of resiliparse's main-content text, when the pre-checks made it


def main_words(page: Page) -> int | None:
    """Words of the page's main-content text as the length check counts them (0 where resiliparse cannot
    parse the page, as there); None when no pre-check asked for the text."""
    if not page.made():
        return None
    text = page.main_text()
    return word_count(text) if text is not None else 0


def precheck_settings(extract: ExtractConfig) -> PrecheckSettings:
    return PrecheckSettings(min_words_fraction=extract.cascade_min_words_fraction,
                            lang_prefix_chars=extract.cascade_lang_prefix_chars,
                            min_lang_chars=extract.cascade_min_lang_chars,
                            min_kept_lang_prob=extract.cascade_min_kept_lang_prob)


class Cascade:
    """The pre-checks of the stages before dedup, cheapest first (`pipeline.extract.Prefilter`)."""

    def __init__(self, stages: Sequence[DocumentStage], settings: PrecheckSettings,
                 parts: Sequence[str] = PAGE_PARTS) -> None:
        """`parts`: the page parts whose pre-checks run (all of them, or only `RECORD_ONLY_PARTS` when the
        cascade is off)."""
        self.settings = settings
        reads = {stage.name: stage.precheck_reads(settings) for stage in stages}
        unknown = set(reads.values()) - set(PAGE_PARTS) - {None}
        if unknown:
            raise ValueError(f"pre-checks read unknown page parts {sorted(unknown)} (known: {PAGE_PARTS})")
        reads = {name: part for name, part in reads.items() if part in parts}
        # sorted() is stable: stage order within each part
        self.prechecks = sorted((stage for stage in stages if reads.get(stage.name) is not None),
                                key=lambda stage: PAGE_PARTS.index(reads[stage.name]))
        self.visible, self.main = "visible_text" in reads.values(), "main_text" in reads.values()

    def check(self, url: str | None, html: str, http_headers: tuple[tuple[str, str], ...] = ()) -> Prechecked:
        """The columns of a page dropped before trafilatura (drop_reason and signals), or, for a page to
        extract, the words of the main-content text the pre-checks made (the extraction's length check
        needs the same count: pipeline/extract_strategy.py)."""
        page = Page(url, lambda: fast_texts(html, visible=self.visible, main=self.main), http_headers, html)
        carried: dict[str, Any] = {}
        for stage in self.prechecks:
            measured, reason = stage.precheck(page, self.settings)
            if reason is not None:
                return Prechecked(carried | measured | {"drop_reason": reason})
            carried |= {column: value for column, value in measured.items() if column.startswith(CASCADE_COLUMNS)}
        return Prechecked(None, main_words(page) if self.main else None)


_CASCADES: dict[str, Cascade | None] = {}


def cascade_for(config: Config, stages_before_dedup: Sequence[DocumentStage]) -> Cascade | None:
    """The cascade for `config`, built once per worker process; None when no stage offers a pre-check that
    runs.

    Off with `extract.cascade = false` and with `pipeline.compute_all_signals` (that mode asks every stage to
    measure every document, which needs trafilatura's text): then only the pre-checks of `RECORD_ONLY_PARTS`
    run, since they are the only place their stage decides.
    """
    full = config.extract.cascade and not config.pipeline.compute_all_signals
    key = config_hash(config)
    if key not in _CASCADES:
        cascade = Cascade(stages_before_dedup, precheck_settings(config.extract),
                          PAGE_PARTS if full else RECORD_ONLY_PARTS)
        _CASCADES[key] = cascade if cascade.prechecks else None
    return _CASCADES[key]

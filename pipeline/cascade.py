"""Cheap-first cascade: before trafilatura runs on a page, drop what the later stages will drop anyway.

trafilatura is most of the corpus job's CPU (~95% of FineWeb's, datatrove#182), and most pages of a crawl are
dropped by rules that need far less than its text. FineWeb already runs datatrove's URLFilter before
Trafilatura; this goes one step further, in the spirit of DCLM's resiliparse-first extraction. For each
response that would go to trafilatura (status 200, HTML), in this order:

1. URL (exact): the `url` stage's own `measure` and `decide` on the record's URL. Its decision depends on
   the URL alone, so a drop gets exactly the stage's reason (`url:<rule>`) and signal columns.
2. resiliparse parses the HTML once (C, ~0.2 ms a page) and, only for the rules that are on:
   a. too few words: all visible text (`main_content=False`, roughly an upper bound of what trafilatura can
      return) has fewer than `extract.cascade_min_words_fraction` x `heuristics.gopher_quality.min_words`
      words -> `cascade:too_few_words`;
   b. language: lid.176 (the langid stage's model) on the first `extract.cascade_lang_prefix_chars`
      characters of the main-content text (`main_content=True`, the closest cheap stand-in for trafilatura's
      text). When they hold at least `extract.cascade_min_lang_chars` non-space characters and the kept
      languages' total probability is below `extract.cascade_min_kept_lang_prob` ->
      `cascade:language_not_kept`.
Everything else goes through trafilatura and the stage chain unchanged, so every page the cascade lets
through gets byte-identical output with the cascade on or off; only rows it dropped carry `cascade_*` columns.

Why the reasons say `cascade:` rather than the full path's: the full path's reason depends on trafilatura's
text, which was never made. A non-English page may have ended as `extract:no_text`, `langid:below_threshold`
or a heuristics rule; naming it `langid:language_not_kept` would state a measurement nobody took. The URL rule
is the exception because its measurement does not depend on the text. (The URL-dropped row may still differ
from the full path's in one way: where an earlier stage such as langid would have dropped the page first,
the full path names that stage; the kept set is the same.)

Only rules of stages that run before the global dedup stage are applied: a document dropped there takes no
part in dedup, so dropping it earlier changes nothing downstream, while a stage after dedup would have let it
take part in dedup first. The margins are conservative on purpose: on real and generated pages the kept set
equals the cascade-off run's (benchmarks/RESULTS.md, "End-to-end throughput (issue 10)").

resiliparse runs in this process, not in the trafilatura sandbox: it is a C parser built for Common Crawl and
has no Python recursion or backtracking to run away with; a page it cannot parse, or nested too deep for its
main-content pass (pipeline/html_text.py), goes to the full path.
"""
from __future__ import annotations

from typing import Any

from filters.langid import LABEL_PREFIX, LangidStage, normalize_for_prediction
from filters.text import patterns
from filters.url import UrlFilterStage
from pipeline.config import DEDUP_STAGE, Config, config_hash
from pipeline.html_text import fast_texts

CASCADE_PREFIX = "cascade"  # drop reasons the cascade itself decides: "cascade:<rule>"


def stages_before_global(stages: tuple[str, ...]) -> tuple[str, ...]:
    """The configured stages that run before the global dedup stage: only their rules may be applied early."""
    return stages[: stages.index(DEDUP_STAGE)] if DEDUP_STAGE in stages else stages


def visible_word_count(text: str) -> int:
    """Words of `text`, estimated from above for scripts without spaces: whitespace-separated chunks, plus one
    per Han/Kana/Thai/... character (the heuristics count each as 1/chars_per_word <= 1 word)."""
    words = len(text.split())
    if not text.isascii():  # skips the regex for the common all-ASCII page
        words += len(patterns().scriptio_continua.findall(text))
    return words


def non_space_chars(text: str) -> int:
    return sum(map(len, text.split()))


def kept_language_probability(labels: tuple[str, ...], probs: list[float], languages: frozenset[str]) -> float:
    """Total probability fastText gives the kept languages (labels with or without "__label__")."""
    return sum(prob for label, prob in zip(labels, probs, strict=True)
               if (label[len(LABEL_PREFIX):] if label.startswith(LABEL_PREFIX) else label) in languages)


class Cascade:
    """The cascade's checks for one config (`pipeline.extract.Prefilter`); `cascade_for` builds one per process."""

    def __init__(self, config: Config) -> None:
        stages = stages_before_global(config.pipeline.stages)
        extract, gopher = config.extract, config.heuristics.gopher_quality
        self.url_stage = UrlFilterStage(config.url) if "url" in stages else None
        self.langid_stage = LangidStage(config.langid) if "langid" in stages and config.langid.languages else None
        self.languages = frozenset(config.langid.languages)
        # Never stricter than the langid stage itself, whatever its per-language thresholds.
        self.min_kept_lang_prob = min(extract.cascade_min_kept_lang_prob, *config.langid.min_score.values())
        self.lang_prefix_chars = extract.cascade_lang_prefix_chars
        self.min_lang_chars = max(extract.cascade_min_lang_chars, config.langid.min_chars)
        self.min_visible_words: float | None = None
        if "heuristics" in stages and gopher.enabled:
            self.min_visible_words = extract.cascade_min_words_fraction * gopher.min_words

    @property
    def has_rules(self) -> bool:
        return self.url_stage is not None or self.langid_stage is not None or self.min_visible_words is not None

    def language(self, main_text: str) -> dict[str, Any] | None:
        """cascade_lang, cascade_lang_score and cascade_kept_lang_prob of the main-content text's prefix;
        None when the prefix is too short for fastText to be trusted."""
        prefix = normalize_for_prediction(main_text[: self.lang_prefix_chars])
        if non_space_chars(prefix) < self.min_lang_chars:
            return None
        labels, probs = self.langid_stage.model.predict(prefix, k=-1)  # every label: the kept ones' sum
        top = labels[0][len(LABEL_PREFIX):] if labels[0].startswith(LABEL_PREFIX) else labels[0]
        return {
            "cascade_lang": top,
            "cascade_lang_score": float(probs[0]),
            "cascade_kept_lang_prob": float(kept_language_probability(labels, probs.tolist(), self.languages)),
        }

    def check(self, url: str | None, html: str) -> dict[str, Any] | None:
        """Columns of a page dropped before trafilatura (drop_reason and signals), or None to extract it."""
        if self.url_stage is not None:
            signals = self.url_stage.measure({"url": url})
            rule = self.url_stage.decide(signals)
            if rule is not None:
                return signals | {"drop_reason": f"{self.url_stage.name}:{rule}"}
        wants_words, wants_lang = self.min_visible_words is not None, self.langid_stage is not None
        if not (wants_words or wants_lang):
            return None
        texts = fast_texts(html, visible=wants_words, main=wants_lang)
        if texts is None:
            return None
        visible, main = texts
        signals: dict[str, Any] = {}
        if wants_words:
            signals["cascade_visible_words"] = visible_word_count(visible)
            if signals["cascade_visible_words"] < self.min_visible_words:
                return signals | {"drop_reason": f"{CASCADE_PREFIX}:too_few_words"}
        if wants_lang:
            language = self.language(main)
            if language is not None and language["cascade_kept_lang_prob"] < self.min_kept_lang_prob:
                return signals | language | {"drop_reason": f"{CASCADE_PREFIX}:language_not_kept"}
        return None


_CASCADES: dict[str, Cascade | None] = {}


def cascade_for(config: Config) -> Cascade | None:
    """The cascade for `config`, built once per worker process; None when it is off or has no rule to apply.

    Off with `pipeline.compute_all_signals`: that mode asks every stage to measure every document, which
    needs trafilatura's text.
    """
    if not config.extract.cascade or config.pipeline.compute_all_signals:
        return None
    key = config_hash(config)
    if key not in _CASCADES:
        cascade = Cascade(config)
        _CASCADES[key] = cascade if cascade.has_rules else None
    return _CASCADES[key]

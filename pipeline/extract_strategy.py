"""What the extraction child runs on one page: trafilatura, with a length check against resiliparse.

The length check (the default, chosen on 977 real pages of four benchmarks; benchmarks/RESULTS.md,
"Extraction quality"):
1. run trafilatura's default preset, and count the words of its text and of resiliparse's main-content text;
2. under `length_check_min_ratio` of resiliparse's words, trafilatura dropped content: rerun with favor_recall;
3. over `length_check_max_ratio` of them, it kept boilerplate that resiliparse left out: rerun with
   favor_precision. Otherwise (or when resiliparse finds no words) the default's text stands.
A page costs one trafilatura call plus one resiliparse parse (~2 ms; none where the cascade's pre-checks
made the same main-content text and send its count along), and a second call on the few pages outside the
band (23 of 309 development pages). Everything here is a pure function of the page and the settings, so the
child's output does not depend on the pages it saw before (trafilatura's `deduplicate` is never set).

With `favor_precision` or `favor_recall` set, or `length_check` off, that one trafilatura preset runs alone.
trafilatura and resiliparse are imported when a `PageExtractor` is built, inside the child, after its
memory cap is set.
"""
from __future__ import annotations

import re
from typing import Any

WORD_RE = re.compile(r"\w+")  # Unicode-aware: accented and CJK words count


def word_count(text: str | None) -> int:
    return len(WORD_RE.findall(text)) if text else 0


def length_check_preset(first_words: int, reference_words: int, min_ratio: float, max_ratio: float) -> str | None:
    """The preset to rerun with ("favor_recall" or "favor_precision") when the default preset's word count is
    outside [min_ratio, max_ratio] x resiliparse's main-content word count; None to keep the default's text."""
    if reference_words == 0:  # no reference to compare with
        return None
    if first_words < min_ratio * reference_words:
        return "favor_recall"
    if first_words > max_ratio * reference_words:
        return "favor_precision"
    return None


class PageExtractor:
    """Main text of one HTML page per call, as configured by `ExtractConfig.worker_settings()`."""

    def __init__(self, settings: dict[str, Any]) -> None:
        import trafilatura

        from pipeline.html_text import fast_texts

        self._extract, self._fast_texts = trafilatura.extract, fast_texts
        self.trafilatura_settings: dict[str, Any] = settings["trafilatura"]
        self.length_check: dict[str, float] | None = settings.get("length_check")
        self.calls = 0  # trafilatura calls so far (the benchmark reports them per page)

    def trafilatura(self, html: str, preset: str | None = None) -> str | None:
        self.calls += 1
        overrides = {preset: True} if preset else {}
        return self._extract(html, **{**self.trafilatura_settings, **overrides})

    def reference_words(self, html: str) -> int:
        """Words of resiliparse's main-content text; 0 when it cannot parse the page or it is nested too deep."""
        texts = self._fast_texts(html, visible=False, main=True)
        return word_count(texts[1]) if texts is not None else 0

    def extract(self, html: str, reference_words: int | None = None) -> str | None:
        """`reference_words`: resiliparse's main-content words of `html` where the caller counted them (the
        cascade makes the same text); counted here otherwise."""
        text = self.trafilatura(html)
        if self.length_check is None:
            return text
        if reference_words is None:
            reference_words = self.reference_words(html)
        preset = length_check_preset(word_count(text), reference_words, **self.length_check)
        return text if preset is None else self.trafilatura(html, preset)

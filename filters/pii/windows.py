"""Where presidio looks: the pre-check regex, the windows around its matches, and the way back to the text.

Most web documents hold no PII candidate at all, and presidio's cost grows with the length of what it is
given. One compiled regex built from the configured entities ('@' between word characters for emails; six
digits with at most two separator characters between them for phones, cards, SSNs and IBANs; a dotted quad
or hex groups with colons for IPs) matches inside every candidate of every configured entity. A text
without a match is not analyzed at all; otherwise presidio analyzes only the windows of WINDOW_MARGIN
characters around the matches, joined by WINDOW_SEPARATOR, and the hits are shifted back to the text's
offsets. The hits are the same as on the whole text (benchmarks/pii_eval.py checks it on every document),
at a cost that grows with the candidates instead of the length (benchmarks/RESULTS.md, "PII throughput").
Names need no digits, so there is no pre-check when an NER entity is configured.
"""
from __future__ import annotations

import bisect
import re
from typing import Any, Iterable

# What every candidate of an entity contains, as regex branches that start with '@', ':' or a digit (the
# scan skips other characters quickly). A run of 6+ digits with at most two separator characters between
# them is in every phone number (7+ digits), card, SSN and IBAN; the greedy {5,} makes one match per run.
_PRECHECK_PARTS: dict[str, tuple[str, ...]] = {
    "EMAIL_ADDRESS": (r"@(?<=\w@)\w",),
    "PHONE_NUMBER": (r"\d(?:[ ().\-/]{0,2}\d){5,}",),
    "CREDIT_CARD": (r"\d(?:[ ().\-/]{0,2}\d){5,}",),
    "US_SSN": (r"\d(?:[ ().\-/]{0,2}\d){5,}",),
    "IBAN_CODE": (r"\d(?:[ ().\-/]{0,2}\d){5,}",),
    "IP_ADDRESS": (r"\d\.\d{1,3}\.\d{1,3}\.\d", r":(?::|(?<=[0-9A-Fa-f]:)[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:)"),
}
# Characters of text kept on each side of a pre-check match: more than any entity extends beyond the
# match it contains (an email local part: <= 64; IBAN, IPv6: < 50) plus the context a recognizer looks at
# (48 before, 24 after).
WINDOW_MARGIN = 128
WINDOW_SEPARATOR = "\n\n"  # no candidate spans a line break, and context stops at a blank line


def precheck_pattern(entities: Iterable[str]) -> re.Pattern[str] | None:
    """One regex that matches in every text that may hold one of `entities`: each entity's candidate
    contains a match. None when there is no such regex (an NER entity: names need no digits)."""
    parts: list[str] = []
    for entity in entities:
        if entity not in _PRECHECK_PARTS:
            return None
        parts.extend(part for part in _PRECHECK_PARTS[entity] if part not in parts)
    return re.compile("|".join(parts)) if parts else None


def precheck_windows(text: str, precheck: re.Pattern[str]) -> list[tuple[int, int]]:
    """(start, end) of the merged windows of WINDOW_MARGIN chars around every pre-check match.

    Every candidate of a configured entity contains a match, so it lies inside a window with its context;
    a window edge is at least WINDOW_MARGIN chars from any match and so never cuts a candidate.
    """
    windows: list[list[int]] = []
    for match in precheck.finditer(text):
        start, end = max(0, match.start() - WINDOW_MARGIN), min(len(text), match.end() + WINDOW_MARGIN)
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    return [(start, end) for start, end in windows]


def join_windows(text: str, windows: list[tuple[int, int]]) -> str:
    """The text of `windows`, in order, joined by WINDOW_SEPARATOR: what presidio analyzes."""
    return WINDOW_SEPARATOR.join(text[start:end] for start, end in windows)


def shift_to_text(hits: Iterable[Any], windows: list[tuple[int, int]]) -> None:
    """Move hits (presidio results: `start`, `end`) found in join_windows(text, windows) to text's offsets,
    in place (the hits are presidio's own objects, passed on to the anonymizer)."""
    joined_starts: list[int] = []  # where each window starts in the joined text
    shifts: list[int] = []  # text offset - joined offset, per window
    position = 0
    for start, end in windows:
        joined_starts.append(position)
        shifts.append(start - position)
        position += end - start + len(WINDOW_SEPARATOR)
    for hit in hits:
        index = bisect.bisect_right(joined_starts, hit.start) - 1
        window_end = windows[index][1]
        hit.start += shifts[index]
        hit.end += shifts[index]
        if hit.end > window_end:  # would mean a candidate spans the separator
            raise AssertionError(f"hit {hit} crosses the end of pre-check window {windows[index]}")

"""The article texts of `sample_data/texts/`: one `Text` per `.txt` file, PII marks resolved and checked.

A text file is header lines (`site:`, `title:`, optional `lang:`/`slug:`), a blank line, then paragraphs
separated by blank lines; `[[TYPE:value]]` marks a PII string.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TEXTS_DIR = Path(__file__).resolve().parents[1] / "texts"

PII_MARK = re.compile(r"\[\[([A-Z_]+):(.+?)\]\]")


@dataclass(frozen=True)
class Text:
    """One article text: `texts/<lang>/NN-slug.txt` or `texts/special/name.txt` (header lines, blank, paragraphs)."""
    key: str                                  # "en/04-weeknight-lentil-soup", "special/pii-en-club"
    lang: str
    site: str
    title: str
    paragraphs: tuple[str, ...]
    pii: tuple[tuple[str, str], ...] = ()     # (type, exact string) in order of appearance
    slug: str = ""                            # URL slug; from the file name when the header has none


def load_text(path: Path) -> Text:
    """Parse one text file; `[[TYPE:value]]` marks a PII string and is replaced by the value."""
    head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
    meta = dict(line.split(": ", 1) for line in head.splitlines())
    lang = meta.get("lang", path.parent.name)
    pii = tuple((m.group(1), m.group(2)) for m in PII_MARK.finditer(body))
    paragraphs = tuple(PII_MARK.sub(lambda m: m.group(2), p).strip() for p in body.split("\n\n") if p.strip())
    slug = meta.get("slug", re.sub(r"^\d+-", "", path.stem))
    return Text(f"{path.parent.name}/{path.stem}", lang, meta["site"], meta["title"], paragraphs, pii, slug)


def load_texts(texts_dir: Path = TEXTS_DIR) -> dict[str, Text]:
    texts = [load_text(p) for p in sorted(texts_dir.glob("*/*.txt"))]
    return {t.key: t for t in texts}


# PII value checks: the values must be valid for their type (Luhn, IBAN mod 97), so detectors can find them.
def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def check_pii(text: Text) -> None:
    for pii_type, value in text.pii:
        if pii_type == "CREDIT_CARD" and not luhn_valid(value):
            raise ValueError(f"{text.key}: {value=} fails the Luhn check")
        if pii_type == "IBAN_CODE" and not iban_valid(value):
            raise ValueError(f"{text.key}: {value=} has a wrong IBAN checksum")

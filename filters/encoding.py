"""The `encoding` stage: drop text whose encoding broke on the way (replacement characters, mojibake).

Pages decoded with the wrong charset reach a corpus in two shapes: U+FFFD replacement characters where bytes
could not be decoded at all, and mojibake, where UTF-8 bytes were read as Windows-1252 ("cafÃ©" for "café",
"itâ€™s" for "it's"). Both teach a model characters that no writer meant. FineWeb repairs some mojibake with
ftfy; this stage measures how much of a text is broken and drops the documents where it is more than a trace.

Mojibake is matched as what UTF-8 becomes when read as Windows-1252: a lead character of a two-byte sequence
(U+00C2-U+00DF read as "Â".."ß") or of a three-byte one (U+00E0-U+00EF, "à".."ï") followed by the characters
that continuation bytes 0x80-0xBF become (C1 punctuation such as "€", "™", "œ", and U+00A0-U+00BF). Real words
rarely hold such pairs ("Ã" is followed by a letter in Portuguese, never by "©"), so the fraction stays 0 on
clean text of every language.

Not in the default stages: add "encoding" to `pipeline.stages` (before dedup, so broken copies take no part
in it). Written as the README's "Add a stage" example: this module plus one line in pipeline/registry.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from contract.bounds import bounded
from contract.stage import Document, DocumentStage, Rule, Threshold

REPLACEMENT_CHAR = "\ufffd"
# Windows-1252's characters for the bytes 0x80-0x9F it defines, then Latin-1's for 0xA0-0xBF.
_CP1252_CONTINUATION = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ" + "".join(map(chr, range(0xA0, 0xC0)))
_MOJIBAKE = re.compile(f"[\u00c2-\u00df][{_CP1252_CONTINUATION}]|[\u00e0-\u00ef][{_CP1252_CONTINUATION}]{{2}}")


@dataclass(frozen=True)
class EncodingConfig:
    """Settings of the `encoding` stage."""

    max_replacement_frac: float = bounded(0.01, ge=0, le=1)  # U+FFFD per non-space character
    max_mojibake_frac: float = bounded(0.01, ge=0, le=1)  # characters in mojibake sequences per non-space character


def non_space_chars(text: str) -> int:
    return sum(map(len, text.split()))


def encoding_signals(text: str) -> dict[str, float]:
    """Replacement characters and characters in mojibake sequences, each per non-space character (0 for no text)."""
    chars = non_space_chars(text)
    if not chars:
        return {"encoding_replacement_frac": 0.0, "encoding_mojibake_frac": 0.0}
    mojibake_chars = sum(len(match) for match in _MOJIBAKE.findall(text))
    return {"encoding_replacement_frac": text.count(REPLACEMENT_CHAR) / chars,
            "encoding_mojibake_frac": mojibake_chars / chars}


class EncodingStage(DocumentStage):
    """Measures broken encoding; drops text with more than a trace of it."""

    name = "encoding"
    config_class = EncodingConfig
    fields = (pa.field("encoding_replacement_frac", pa.float64()), pa.field("encoding_mojibake_frac", pa.float64()))

    def __init__(self, config: EncodingConfig | None = None) -> None:
        self.config = config if config is not None else EncodingConfig()

    def measure(self, doc: Document) -> dict[str, Any]:
        return encoding_signals(doc.get("text") or "")

    @classmethod
    def rules(cls, config: EncodingConfig) -> tuple[Rule, ...]:
        return (
            Rule("replacement_chars", "U+FFFD replacement characters: bytes the page's charset could not decode",
                 "encoding_replacement_frac",
                 (Threshold(">", config.max_replacement_frac, "encoding.max_replacement_frac"),)),
            Rule("mojibake", "UTF-8 read as Windows-1252 (\"cafÃ©\" for \"café\")", "encoding_mojibake_frac",
                 (Threshold(">", config.max_mojibake_frac, "encoding.max_mojibake_frac"),)),
        )

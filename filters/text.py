"""Word and sentence splitting shared by the heuristic filters.

datatrove (FineWeb) splits words with spaCy's blank "en" tokenizer and counts sentences with spaCy's
Sentencizer; the Gopher and FineWeb thresholds were tuned on those counts. Loading spaCy costs seconds
and its tokenizer is ~10x slower than the rules themselves, so this module re-implements the way spaCy
tokenizes (written here from its documented algorithm, with our own, smaller rule tables):

1. the text is cut at whitespace into chunks (tokens never span whitespace);
2. a chunk that is a special case stays as the special case says ("Mr.", "e.g.", "A.", "don't" -> "do",
   "n't", "we're" -> "we", "'re", "dont" -> "do", "nt", "cannot" -> "can", "not", "and/or", emoticons);
3. otherwise prefixes (opening punctuation, quotes, currency signs, symbols such as ©, "...") are cut off
   its start and suffixes (closing punctuation, quotes, symbols, "'s", a period after a lowercase letter
   or digit or after two capitals, units and currency after a number) off its end, one at a time,
   re-checking special cases;
4. what remains is one token if it is a URL, else it is split at infixes only: "..." and "…", symbols
   (©, °), a hyphen or ":/<>=" between a letter/digit and a letter ("e-mail", "a/b"), an arithmetic sign
   between digits ("5-6"), a comma between letters, a period between a lowercase and a capital letter
   ("end.Next").
So "yesterday.--A", "read:--", "•item", "-Poco", "1,000", "3.5", "x.y.z", "a@b.com" stay one token, and
"(v2.0)." gives "(", "v2.0", ")", ".". Two fast paths skip the rules for a plain word and for a plain
word with one trailing comma, period, quote... (most chunks), with the same result.

Known differences from spaCy (its English exception table has ~1,300 entries; we generate the
contractions and keep the frequent abbreviations): times like "10am", rare abbreviations ("Calif."),
contractions with two clitics ("couldn't've"), emoji outside the BMP.

Letters, digits and combining marks (Unicode categories L, N, M) are word characters, so words in
scripts with vowel signs (Devanagari, Thai, ...) are not cut at every mark.

Languages written without spaces between words (Chinese, Japanese, Thai) use character-based counts:
with `char_based=True` every character of those scripts is one token, and the heuristics turn
characters into an estimated word count with a per-language characters-per-word factor.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

# Unicode's Sentence_Terminal property (UAX #29), written out: the characters that end a sentence in
# some script. FineWeb's "line ends in punctuation" and the sentence counter use it (spaCy's
# Sentencizer uses a subset of it; datatrove's own set differs in a few Khmer/Balinese characters).
TERMINAL_PUNCTUATION: str = (
    "!.?\u0589\u061d\u061e\u061f\u06d4\u0700\u0701\u0702\u07f9\u0837\u0839\u083d\u083e\u0964\u0965"
    "\u104a\u104b\u1362\u1367\u1368\u166e\u1735\u1736\u17d4\u17d5\u1803\u1809\u1944\u1945\u1aa8\u1aa9"
    "\u1aaa\u1aab\u1b4e\u1b4f\u1b5a\u1b5b\u1b5e\u1b5f\u1b7d\u1b7e\u1b7f\u1c3b\u1c3c\u1c7e\u1c7f\u2024"
    "\u203c\u203d\u2047\u2048\u2049\u2cf9\u2cfa\u2cfb\u2e2e\u2e3c\u2e53\u2e54\u2e60\u2e61\u3002\ua4ff"
    "\ua60e\ua60f\ua6f3\ua6f7\ua876\ua877\ua8ce\ua8cf\ua92f\ua9c8\ua9c9\uaa5d\uaa5e\uaa5f\uaaf0\uaaf1"
    "\uabeb\ufe12\ufe15\ufe16\ufe52\ufe56\ufe57\uff01\uff0e\uff1f\uff61"
    "\U00010a56\U00010a57\U00010f55\U00010f56\U00010f57\U00010f58\U00010f59\U00010f86\U00010f87"
    "\U00010f88\U00010f89\U00011047\U00011048\U000110be\U000110bf\U000110c0\U000110c1\U00011141"
    "\U00011142\U00011143\U000111c5\U000111c6\U000111cd\U000111de\U000111df\U00011238\U00011239"
    "\U0001123b\U0001123c\U000112a9\U000113d4\U000113d5\U0001144b\U0001144c\U000115c2\U000115c3"
    "\U000115c9\U000115ca\U000115cb\U000115cc\U000115cd\U000115ce\U000115cf\U000115d0\U000115d1"
    "\U000115d2\U000115d3\U000115d4\U000115d5\U000115d6\U000115d7\U00011641\U00011642\U0001173c"
    "\U0001173d\U0001173e\U00011944\U00011946\U00011a42\U00011a43\U00011a9b\U00011a9c\U00011c41"
    "\U00011c42\U00011ef7\U00011ef8\U00011f43\U00011f44\U00016a6e\U00016a6f\U00016af5\U00016b37"
    "\U00016b38\U00016b44\U00016d6e\U00016d6f\U00016e98\U0001bc9f\U0001da88"
)
TERMINAL_PUNCTUATION_SET: frozenset[str] = frozenset(TERMINAL_PUNCTUATION)

# Scripts written without spaces between words: Han (CJK ideographs, extensions, compatibility),
# Hiragana, Katakana (with the phonetic extensions and half-width forms), Thai, Lao, Khmer, Myanmar.
SCRIPTIO_CONTINUA_CLASS: str = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
    "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"
    "\u0e00-\u0e7f\u0e80-\u0eff\u1780-\u17ff\u1000-\u109f"
)


# Common English abbreviations that keep their period (a subset of spaCy's English exceptions).
_ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Messrs Dr Prof Rev Gen Gov Sen Rep Adm St Mt Jr Inc Ltd Co Corp Bros vs "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split()
)


def _contractions() -> dict[str, list[str]]:
    """English contractions split as spaCy's exception table does: "don't" -> "do", "n't", "we're" -> "we",
    "'re", also written without the apostrophe ("dont" -> "do", "nt"), lowercase or capitalized."""
    stems = {
        "n't": "ai are ca could dare did do does had has have is may might must need ought sha should was were wo "
               "would",
        "'ve": "could how i might must not should there these they those we what when where who why would you",
        "'d": "he how i it she that there these they this those we what when where who why you",
        "'ll": "he how i it she that there these they this those we what when where who why you",
        "'re": "how there these they those we what when where who why you",
        "'m": "i",
    }
    # Without the apostrophe these are ordinary words, so spaCy does not split them.
    not_bare = {"hell", "ill", "shell", "well", "its", "were", "shed", "whore"}
    table: dict[str, list[str]] = {}
    for clitic, words in stems.items():
        for stem in words.split():
            for form in (stem, stem.capitalize()) if stem != "i" else ("i", "I"):
                for apostrophe in ("'", "\u2019"):
                    written = clitic.replace("'", apostrophe)
                    table[form + written] = [form, written]
                bare = clitic.replace("'", "")
                if form.lower() + bare not in not_bare:
                    table[form + bare] = [form, bare]
    for stem in "he she that what there how when where who why".split():  # "hes" -> "he", "s"
        for form in (stem, stem.capitalize()):
            table[form + "s"] = [form, "s"]
    for whole, parts in (("cannot", ["can", "not"]), ("gonna", ["gon", "na"]), ("gotta", ["got", "ta"]),
                         ("yall", ["y", "all"]), ("y'all", ["y'", "all"])):
        table[whole] = parts
        table[whole.capitalize()] = [parts[0].capitalize(), *parts[1:]]
    return table


_SPECIAL_TOKENS: dict[str, list[str]] = {
    **_contractions(),
    **{f"{a}.": [f"{a}."] for a in _ABBREVIATIONS},
    # Dialect forms spaCy keeps whole (a few of its exceptions).
    **{t: [t] for t in ("'em", "\u2019em", "'bout", "'cause", "'til", "ol'", "doin'", "goin'", "havin'",
                        "nothin'", "somethin'", "comin'", "gettin'", "sayin'", "talkin'", "makin'", "lovin'")},
    **{t: [t] for t in ("e.g.", "E.g.", "E.G.", "i.e.", "I.e.", "I.E.", "a.m.", "p.m.", "Ph.D.", "v.s.", "and/or",
                        "w/o", "C++", "''")},
    **{e: [e] for e in (":)", ":-)", ":(", ":-(", ";)", ";-)", ":D", ":P", ":p", ":/", ":-/", "<3", "):", "(:",
                        "[:", ":]", "=)", "=(", "^_^", "-_-", ":o", ":O", ":|", ":*", "8)", "xD")},
}
_PUNCT_SPECIALS_BY_LAST: dict[str, tuple[str, ...]] = {}
_PUNCT_SPECIALS_BY_FIRST: dict[str, tuple[str, ...]] = {}
for _special in sorted((t for t in _SPECIAL_TOKENS if not any(c.isalnum() for c in t)), key=len, reverse=True):
    _PUNCT_SPECIALS_BY_LAST[_special[-1]] = (*_PUNCT_SPECIALS_BY_LAST.get(_special[-1], ()), _special)
    _PUNCT_SPECIALS_BY_FIRST[_special[0]] = (*_PUNCT_SPECIALS_BY_FIRST.get(_special[0], ()), _special)

# Opening/closing punctuation and quotes that affix rules cut off chunk ends.
_PUNCT = "…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪"
_QUOTES = "'\"”“`‘´’‚„»«「」『』（）〔〕【】《》〈〉⟦⟧"
_CURRENCY = "$£€¥฿₽﷼\u20a0-\u20bf"
_UNITS = (
    "km|km²|km³|m|m²|m³|dm|dm²|dm³|cm|cm²|cm³|mm|mm²|mm³|ha|µm|nm|yd|in|ft|kg|g|mg|µg|t|lb|oz|m/s|km/h|"
    "kmh|mph|hPa|Pa|mbar|mb|MB|kb|KB|gb|GB|tb|TB|T|G|M|K|%"
)


def _class_of_categories(categories: tuple[str, ...], extra: str = "") -> str:
    """A regex character-class body with every Basic Multilingual Plane code point whose general category
    starts with one of `categories` (e.g. ("L", "N", "M") or ("Ll",)), as ranges, plus `extra`.

    Only the BMP: `re` compiles a class of BMP characters into one bitmap lookup, while every range above
    U+FFFF is tested one by one (that made tokenizing 10x slower). Characters of the other planes are
    rare in web text; CJK extension ideographs are added by the caller through `extra`.
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        if unicodedata.category(chr(code)).startswith(categories):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges
    ) + extra


class _Patterns:
    """The compiled tokenizer rules; built once per process on first use (~0.3 s)."""

    def __init__(self) -> None:
        word = _class_of_categories(("L", "N", "M"), "\U00020000-\U0003134f")
        alpha = _class_of_categories(("L",))
        lower = _class_of_categories(("Ll",))
        upper = _class_of_categories(("Lu",))
        punct = re.escape(_PUNCT)
        quotes = re.escape(_QUOTES)
        symbols = _class_of_categories(("So",))
        self.prefix = re.compile(
            rf"\.\.+|……|US\$|C\$|A\$|\+(?![0-9])|[§%=—–{punct}{quotes}{_CURRENCY}{symbols}]"
        ).match
        self.suffix = re.compile(
            "(?:"
            + "|".join([
                r"\.\.+", "……", f"[{punct}{quotes}{symbols}]", "['’][sS]", "[—–]", r"(?<=[0-9])\+",
                r"(?<=°[FfCcKk])\.", rf"(?<=[0-9])(?:US\$|C\$|A\$|[{_CURRENCY}])", f"(?<=[0-9])(?:{_UNITS})",
                rf"(?<=[0-9{lower}{punct}{quotes}])\.", rf"(?<=[{upper}][{upper}])\.",
            ])
            + r")\Z"
        ).search
        self.infix = re.compile("|".join([
            r"\.\.+", "…", f"[{symbols}]", r"(?<=[0-9])[+\-*^](?=[0-9-])",
            rf"(?<=[{lower}{quotes}])\.(?=[{upper}{quotes}])", rf"(?<=[{alpha}]),(?=[{alpha}])",
            rf"(?<=[{alpha}0-9])(?:---|--|——|-|–|—|~)(?=[{alpha}])", rf"(?<=[{alpha}0-9])[:<>=/](?=[{alpha}])",
        ]))
        self.url = re.compile(
            r"(?:[a-zA-Z][a-zA-Z0-9+.\-]*://|www\.)[^\s/?#]*\.[a-zA-Z]{2,}(?::[0-9]+)?(?:[/?#]\S*)?"
        ).fullmatch
        self.letter_with_period = re.compile(rf"[{alpha}]\.").fullmatch  # "A." "n." (spaCy's exceptions)
        self.scriptio_continua = re.compile(f"[{SCRIPTIO_CONTINUA_CLASS}]")
        self.scriptio_split = re.compile(f"[{SCRIPTIO_CONTINUA_CLASS}]|[^{SCRIPTIO_CONTINUA_CLASS}]+").findall
        self.has_word_char = re.compile(f"[{word}]").search
        self.has_letter = re.compile(f"[{alpha}]").search  # str.isalpha on any character
        self.all_punct = re.compile(f"[{_class_of_categories(('P',))}]+").fullmatch
        # Sentence boundary (spaCy Sentencizer): after a token that is a sentence terminal, the next token
        # that is not punctuation starts a new sentence. Tokens are classed f (terminal), p (punctuation), w.
        self.boundary = re.compile(r"f[fp]*w")

    def punct_special_at_end(self, chunk: str) -> str | None:
        """A punctuation-only special case ("''", "):") that ends a longer chunk, or None."""
        for special in _PUNCT_SPECIALS_BY_LAST.get(chunk[-1], ()):
            if len(chunk) > len(special) and chunk.endswith(special):
                return special
        return None

    def punct_special_at_start(self, chunk: str) -> str | None:
        """A punctuation-only special case that starts a longer chunk ("''Hello"), or None."""
        for special in _PUNCT_SPECIALS_BY_FIRST.get(chunk[0], ()):
            if len(chunk) > len(special) and chunk.startswith(special):
                return special
        return None

    def special(self, chunk: str) -> list[str] | None:
        """The tokens of a special case, or None."""
        found = _SPECIAL_TOKENS.get(chunk)
        if found is None and self.letter_with_period(chunk):
            return [chunk]
        return found

    def tokenize_chunk(self, chunk: str, out: list[str]) -> None:
        """Append the tokens of one whitespace-free chunk to `out` (steps 2-4 of the module docstring)."""
        suffixes: list[str] = []
        while chunk:
            special = self.special(chunk)
            if special is not None:
                out.extend(special)
                chunk = ""
                break
            end_special = self.punct_special_at_end(chunk)
            if end_special:  # spaCy finds these special cases inside affixes too: "them):" -> "them", "):"
                suffixes.append(end_special)
                chunk = chunk[: -len(end_special)]
                continue
            start_special = self.punct_special_at_start(chunk)
            if start_special:
                out.append(start_special)
                chunk = chunk[len(start_special):]
                continue
            prefix = self.prefix(chunk)
            if prefix and prefix.end() < len(chunk):
                out.append(prefix.group())
                chunk = chunk[prefix.end():]
                continue
            suffix = self.suffix(chunk)
            if suffix and suffix.start() > 0:
                suffixes.append(suffix.group())
                chunk = chunk[: suffix.start()]
                continue
            break
        if chunk:
            if self.url(chunk):
                out.append(chunk)
            else:
                start = 0
                for match in self.infix.finditer(chunk):
                    if match.start() > start:
                        out.append(chunk[start : match.start()])
                    if match.end() > match.start():
                        out.append(match.group())
                    start = match.end()
                if start < len(chunk):
                    out.append(chunk[start:])
        out.extend(reversed(suffixes))


@lru_cache(maxsize=1)
def patterns() -> _Patterns:
    return _Patterns()


# Punctuation that, glued to the end of a plain word, is always a token of its own.
_SIMPLE_TRAILING = frozenset(",;:!?)]}\"'\u201d\u2019\u00bb")


def split_words(text: str, char_based: bool = False) -> list[str]:
    """Tokens of `text` in order (words and punctuation), spaCy-like; see the module docstring.

    With `char_based`, each Han/Kana/Thai/Lao/Khmer/Myanmar character is a token of its own.
    """
    p = patterns()
    tokens: list[str] = []
    append, tokenize_chunk = tokens.append, p.tokenize_chunk
    for chunk in text.split():
        if chunk.isalpha() and chunk not in _SPECIAL_TOKENS:  # fast path: a plain word
            append(chunk)
            continue
        head, last = chunk[:-1], chunk[-1]
        # Fast path: a plain word and one closing mark; a period only where spaCy's suffix rule cuts it
        # (after a lowercase letter or two capitals) and the word is not an abbreviation.
        if head.isalpha() and head not in _SPECIAL_TOKENS and (
            last in _SIMPLE_TRAILING
            or (last == "." and (head[-1].islower() or head[-2:].isupper()) and len(head) > 1
                and head not in _ABBREVIATIONS)
        ):
            append(head)
            append(last)
        else:
            tokenize_chunk(chunk, tokens)
    return split_characters(tokens) if char_based else tokens


def split_characters(tokens: list[str]) -> list[str]:
    """`tokens` with each Han/Kana/Thai/Lao/Khmer/Myanmar character a token of its own (`split_words`'s
    `char_based`)."""
    p = patterns()
    split, scriptio_continua = p.scriptio_split, p.scriptio_continua.search
    return [part for token in tokens for part in (split(token) if scriptio_continua(token) else (token,))]


@lru_cache(maxsize=65536)
def _token_class(token: str) -> str:
    if token in TERMINAL_PUNCTUATION_SET:
        return "f"
    return "p" if patterns().all_punct(token) else "w"


def count_sentences(line: str) -> int:
    """Sentences in one line, as spaCy's Sentencizer counts them on its tokens (0 for a blank line)."""
    return sentence_count(split_words(line))


def sentence_count(tokens: list[str]) -> int:
    """Sentences in one line's tokens (`split_words`), as spaCy's Sentencizer counts them."""
    if not tokens:
        return 0
    classes = "".join(map(_token_class, tokens))
    return 1 + len(patterns().boundary.findall(classes))


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, 0.0 for an empty denominator (only reachable with a rule turned off)."""
    return numerator / denominator if denominator else 0.0


def duplicates(items: list[str]) -> tuple[int, int]:
    """(items equal to an earlier item, their characters): Gopher's duplicate lines/paragraphs."""
    counts = Counter(items)
    dup_items = len(items) - len(counts)
    dup_chars = sum(len(item) * (count - 1) for item, count in counts.items() if count > 1)
    return dup_items, dup_chars

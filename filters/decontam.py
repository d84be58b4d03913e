"""The `decontam` stage: find benchmark text in the corpus by word n-gram overlap; drop the document or cut it out.

A corpus that holds the text of the benchmarks its model is judged on makes those scores meaningless. GPT-3
(Brown et al. 2020, appendix C), lm-evaluation-harness and NeMo Curator (`TaskDecontamination`) look for 13-word
n-grams of each benchmark item in the training documents; this stage does the same, per document, on any engine.

Normalization, the same on both sides: casefold, split on whitespace, strip from each word every character that
is not a letter or digit (Unicode punctuation, symbols, "_"), drop words left empty. So case, punctuation,
doubled spaces and line wrapping cannot hide a match ("Hello, World!" and "hello\n world" are the same words).

The benchmark set: `eval_paths` lists files, folders or globs of JSONL (`.jsonl`, `.json`, either gzipped),
Parquet or plain text (`.txt`, `.txt.gz`); each file is one benchmark, named by its file stem. In a JSONL or
Parquet item, each field of `text_fields` is a text of its own (a list or table field: each string in it); in
a plain text file each paragraph (blank-line separated) is one text, so a wrapped item stays one text. A text of
at least `ngram_size` words contributes its n-grams; a shorter one of at least `min_item_words` words matches as
a whole (the same words in a row); shorter texts (one-word answers, "True") are skipped and counted, never
matched: they would match every corpus.

The set is built once per process, when the stage is constructed (`pipeline.corpus.build_stages`: on the driver
before any task starts, so a missing file fails there), as a sorted numpy uint64 array of 64-bit hashes of the
normalized n-grams and short texts, with a uint16 array saying which benchmarks each hash came from. It is plain
state of the stage (no `_loaded*` attribute), so a pickled stage carries it to a worker; PySpark broadcasts any
pickled command over 1 MB by itself (pyspark 4.3 `core/rdd.py` `_prepare_for_python_RDD`: `if len(pickled_command)
> ...getBroadcastThreshold(...)`, default 1M; `sql/udf.py` `_wrap_function` sends mapInArrow functions through
it). The Spark job builds the stages on the driver and ships them with its tasks (`pipeline.corpus.adopt_stages`),
so the set is built once per run and the eval files need only be readable by the driver.
Memory: 8 bytes per distinct n-gram for its hash plus 2 for its benchmarks (4 beyond 65,536 combinations of
benchmarks): 10 MB per million n-grams (HumanEval's prompts and solutions: 9,497 hashes, 95 KB pickled).
False positives of 64-bit hashing: a document window not in the set collides with one of its N hashes with
probability about N / 2**64 (word hashes are blake2b; windows a polynomial over them mod 2**64): for N = 10
million n-grams, 5.4e-13 per window looked up, about one false match per 1.8 trillion corpus words (a document
is looked up once per word and window length: 13, plus each length of the whole-matched short texts, at most
`ngram_size - min_item_words + 1` = 6 lengths). Exact sets of strings would cost ~100 bytes per n-gram instead.

`mode = "drop"`: a document with any match is `decontam:ngram_overlap`. `mode = "cut"` (GPT-3's scheme as NeMo
Curator had it): each matched span is removed with `cut_margin_chars` characters each side (overlapping
removals merge into one cut), pieces shorter than `min_piece_chars` are dropped, the rest are joined with a
blank line ("\\n\\n", a paragraph break where text was taken out); a document cut more than `max_cuts` times is
`decontam:too_many_cuts` (its text left whole, for inspection), one of which nothing is left `decontam:all_cut`.

Not in the default stages: add "decontam" to `pipeline.stages` (before dedup, so contaminated copies take no
part in it) with `decontam.eval_paths`.
"""
from __future__ import annotations

import glob
import gzip
import hashlib
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from contract.bounds import bounded
from contract.stage import Document, DocumentStage, Rule, Threshold

MODES = ("drop", "cut")
JSON_SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".json.gz")
PARQUET_SUFFIXES = (".parquet",)
TEXT_SUFFIXES = (".txt", ".txt.gz")
EVAL_SUFFIXES = JSON_SUFFIXES + PARQUET_SUFFIXES + TEXT_SUFFIXES
PIECE_SEPARATOR = "\n\n"  # joins the pieces left by cut mode

_NOT_ALNUM = re.compile(r"[\W_]+")  # within a token (no whitespace): everything but letters and digits
_NOT_ALNUM_OR_SPACE = re.compile(r"[^\w\s]|_")  # the same over a whole text, keeping the spaces between words
_TOKEN = re.compile(r"\S+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
_PRIME = np.uint64(0x100000001B3 | 3)  # odd, = 3 mod 4: (P - 1) has one factor of 2, so swaps rarely collide


@dataclass(frozen=True)
class DecontamConfig:
    """Settings of the `decontam` stage."""

    eval_paths: tuple[str, ...] = ()  # files, folders or globs of JSONL, Parquet or plain text; one benchmark a file
    text_fields: tuple[str, ...] = ("question", "choices", "answer", "prompt", "canonical_solution", "text")
    ngram_size: int = bounded(13, ge=1, le=100)  # words (GPT-3, lm-evaluation-harness)
    min_item_words: int = bounded(8, ge=1, le=100)  # shorter texts than ngram_size match whole from this many words
    mode: str = "drop"  # "drop" the document, or "cut" the matched spans out
    cut_margin_chars: int = bounded(200, ge=0, le=1 << 20)  # removed each side of a matched span
    min_piece_chars: int = bounded(200, ge=0, le=1 << 20)  # shorter pieces left by the cuts are dropped too
    max_cuts: int = bounded(10, ge=0, le=1 << 20)  # more cuts than this: the document is dropped

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")


@dataclass(frozen=True)
class BenchmarkSummary:
    """What one eval file contributed to the n-gram set."""

    name: str
    path: str
    items: int  # records (paragraphs for plain text)
    texts: int  # field values (list elements) holding text
    ngram_texts: int  # texts of at least ngram_size words: matched by their n-grams
    whole_texts: int  # texts of min_item_words..ngram_size-1 words: matched whole
    skipped_short_texts: int  # texts under min_item_words words: never matched
    distinct_hashes: int


# ---- normalization and hashing (the same for benchmark texts and documents)

def normalized_words(text: str) -> list[str]:
    """Casefolded words of `text` with everything but letters and digits stripped; empty words dropped."""
    return _NOT_ALNUM_OR_SPACE.sub("", text.casefold()).split()


def normalized_tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of each whitespace-separated token of `text` that `normalized_words` keeps, with its
    character offsets in `text`: the same words, in the same order."""
    tokens = []
    for match in _TOKEN.finditer(text):
        word = _NOT_ALNUM.sub("", match.group().casefold())
        if word:
            tokens.append((match.start(), match.end(), word))
    return tokens


def word_hashes(words: list[str]) -> np.ndarray:
    """A stable 64-bit hash (blake2b) per word, hashing each distinct word once: (len(words),) uint64."""
    table = {word: int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
             for word in set(words)}
    return np.fromiter((table[word] for word in words), dtype=np.uint64, count=len(words))


def window_hashes(hashes: np.ndarray, size: int) -> np.ndarray:
    """Hash of every run of `size` consecutive words, by start: (len - size + 1,) uint64; the run's length is
    hashed in, so a short text cannot equal an n-gram but by chance."""
    count = len(hashes) - size + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    windows = np.full(count, size, dtype=np.uint64)
    for offset in range(size):  # uint64 arithmetic wraps: a polynomial mod 2**64
        windows = windows * _PRIME + hashes[offset:offset + count]
    return windows


# ---- reading eval files

def _suffix(path: str) -> str | None:
    return next((suffix for suffix in EVAL_SUFFIXES if path.lower().endswith(suffix)), None)


def benchmark_name(path: str) -> str:
    """The file's name without its eval suffix: "data/HumanEval.jsonl.gz" -> "HumanEval"."""
    name = Path(path).name
    suffix = _suffix(name)
    return name[:-len(suffix)] if suffix else Path(path).stem


def expand_eval_paths(paths: tuple[str, ...]) -> list[str]:
    """The eval files `paths` name (files, folders searched recursively for eval suffixes, globs), each once, in
    order; ValueError naming a path that does not exist, matches nothing or is not an eval file."""
    files: list[str] = []
    for entry in paths:
        if any(char in entry for char in "*?["):
            found = sorted(p for p in glob.glob(entry, recursive=True) if Path(p).is_file() and _suffix(p))
            if not found:
                raise ValueError(f"decontam.eval_paths: {entry!r} matches no {'/'.join(EVAL_SUFFIXES)} file")
        elif Path(entry).is_dir():
            found = sorted(str(p) for p in Path(entry).rglob("*") if p.is_file() and _suffix(p.name)
                           and not any(part.startswith(".") for part in p.relative_to(entry).parts))
            if not found:
                raise ValueError(f"decontam.eval_paths: folder {entry!r} holds no {'/'.join(EVAL_SUFFIXES)} file")
        elif Path(entry).is_file():
            if not _suffix(entry):
                raise ValueError(f"decontam.eval_paths: {entry!r} is not one of {'/'.join(EVAL_SUFFIXES)}")
            found = [entry]
        else:
            raise ValueError(f"decontam.eval_paths: {entry!r} does not exist")
        files += [path for path in found if path not in files]
    return files


def _open_text(path: str) -> str:
    if path.lower().endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return handle.read()
    return Path(path).read_text(encoding="utf-8")


def _json_records(path: str) -> Iterator[Any]:
    content = _open_text(path)
    if content.lstrip().startswith("["):  # a .json file holding one array
        yield from json.loads(content)
        return
    for number, line in enumerate(content.splitlines(), 1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not JSON: {error}") from error


def _strings(value: Any) -> Iterator[str]:
    """The strings of a field's value: itself, or each string inside a list or table (choices, answers)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def eval_items(path: str, text_fields: tuple[str, ...]) -> list[list[str]]:
    """The texts of each item of one eval file (ValueError naming the file when it cannot be read)."""
    try:
        if _suffix(path) in TEXT_SUFFIXES:
            return [[paragraph] for paragraph in _PARAGRAPH_BREAK.split(_open_text(path)) if paragraph.strip()]
        if _suffix(path) in PARQUET_SUFFIXES:
            names = pq.read_schema(path).names
            columns = [name for name in text_fields if name in names]
            if not columns:
                raise ValueError(f"{path}: no column of decontam.text_fields {list(text_fields)} (has {names})")
            records = pq.read_table(path, columns=columns).to_pylist()
        else:
            records = list(_json_records(path))
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError, pa.ArrowException) as error:
        raise ValueError(f"{path}: cannot read the eval file: {error}") from error
    items = []
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise ValueError(f"{path}: item {number} is a {type(record).__name__}, not an object")
        items.append([text for name in text_fields for text in _strings(record.get(name))])
    if not any(items):
        raise ValueError(f"{path}: no item has a field of decontam.text_fields {list(text_fields)}")
    return items


# ---- the n-gram set

@dataclass(frozen=True)
class NgramIndex:
    """Sorted hashes of the benchmarks' n-grams and short texts, and which benchmarks each came from."""

    ngram_size: int
    sizes: tuple[int, ...]  # window lengths to look up: ngram_size, then each short text length present
    hashes: np.ndarray  # (n,) uint64, sorted, distinct
    owners: np.ndarray  # (n,) uint16/uint32: index into owner_names
    owner_names: tuple[str, ...]  # "HumanEval" or "a,b" when a hash is in several benchmarks (names sorted)
    benchmarks: tuple[BenchmarkSummary, ...]

    def hits(self, windows: np.ndarray) -> np.ndarray:
        """Index into `hashes` of each window found, -1 for the others: (len(windows),) int64."""
        where = np.minimum(np.searchsorted(self.hashes, windows), len(self.hashes) - 1)
        return np.where(self.hashes[where] == windows, where, -1)

    def find(self, words: list[str]) -> tuple[int, str | None]:
        """(windows of `words` found, the benchmarks they came from sorted and comma-joined or None)."""
        hashes = word_hashes(words)
        matched, owners = 0, set()
        for size in self.sizes:
            found = self.hits(window_hashes(hashes, size))
            found = found[found >= 0]
            matched += len(found)
            owners.update(self.owners[found].tolist())
        names = sorted({name for owner in owners for name in self.owner_names[owner].split(",")})
        return matched, ",".join(names) or None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans in `text` of every window found (first word's start, last word's end), by start."""
        tokens = normalized_tokens(text)
        hashes = word_hashes([word for _, _, word in tokens])
        spans = []
        for size in self.sizes:
            for start in np.flatnonzero(self.hits(window_hashes(hashes, size)) >= 0).tolist():
                spans.append((tokens[start][0], tokens[start + size - 1][1]))
        return sorted(spans)


def text_hashes(words: list[str], config: DecontamConfig) -> tuple[np.ndarray, str]:
    """The hashes one benchmark text adds and how it is matched ("ngrams", "whole" or "skipped")."""
    if len(words) >= config.ngram_size:
        return window_hashes(word_hashes(words), config.ngram_size), "ngrams"
    if len(words) >= config.min_item_words:
        return window_hashes(word_hashes(words), len(words)), "whole"
    return np.empty(0, dtype=np.uint64), "skipped"


def benchmark_hashes(path: str, config: DecontamConfig) -> tuple[np.ndarray, set[int], BenchmarkSummary]:
    """One eval file: its distinct hashes (sorted), the short text lengths it holds, its summary."""
    items = eval_items(path, config.text_fields)
    parts, lengths, kinds = [], set(), {"ngrams": 0, "whole": 0, "skipped": 0}
    for texts in items:
        for text in texts:
            words = normalized_words(text)
            hashes, kind = text_hashes(words, config)
            kinds[kind] += 1
            parts.append(hashes)
            if kind == "whole":
                lengths.add(len(words))
    hashes = np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.uint64)
    summary = BenchmarkSummary(benchmark_name(path), path, len(items), sum(kinds.values()), kinds["ngrams"],
                               kinds["whole"], kinds["skipped"], len(hashes))
    return hashes, lengths, summary


def build_index(config: DecontamConfig) -> NgramIndex:
    """The n-gram set of every eval file; ValueError naming the problem when there is nothing to match."""
    if not config.eval_paths:
        raise ValueError("decontam.eval_paths is empty: name the benchmark files to decontaminate against")
    per_file = [benchmark_hashes(path, config) for path in expand_eval_paths(config.eval_paths)]
    by_name: dict[str, str] = {}
    for _, _, summary in per_file:
        if "," in summary.name:
            raise ValueError(f"decontam.eval_paths: benchmark name {summary.name!r} ({summary.path}) holds a comma")
        if summary.name in by_name:
            raise ValueError(f"decontam.eval_paths: two benchmarks named {summary.name!r}: "
                             f"{by_name[summary.name]} and {summary.path}")
        by_name[summary.name] = summary.path
    empty = [summary.path for _, _, summary in per_file if not summary.distinct_hashes]
    if empty:
        raise ValueError(f"decontam.eval_paths: {empty[0]} has no text of at least decontam.min_item_words "
                         f"= {config.min_item_words} words in decontam.text_fields")
    names = [summary.name for _, _, summary in per_file]
    hashes = np.concatenate([h for h, _, _ in per_file])
    benchmark = np.concatenate([np.full(len(h), i, dtype=np.int64) for i, (h, _, _) in enumerate(per_file)])
    order = np.lexsort((benchmark, hashes))
    hashes, benchmark = hashes[order], benchmark[order]
    distinct, first, counts = np.unique(hashes, return_index=True, return_counts=True)
    owners = benchmark[first]  # a hash of one benchmark: that benchmark's index
    owner_names = list(names)
    combinations: dict[str, int] = {}
    for position in np.flatnonzero(counts > 1).tolist():  # a hash in several benchmarks (rare): their combination
        start = first[position]
        combined = ",".join(sorted(names[i] for i in benchmark[start:start + counts[position]].tolist()))
        owners[position] = combinations.setdefault(combined, len(owner_names))
        if owners[position] == len(owner_names):
            owner_names.append(combined)
    lengths = sorted(set().union(*(lengths for _, lengths, _ in per_file)) - {config.ngram_size})
    return NgramIndex(config.ngram_size, (config.ngram_size, *lengths), distinct,
                      owners.astype(np.uint16 if len(owner_names) <= 1 << 16 else np.uint32),
                      tuple(owner_names), tuple(summary for _, _, summary in per_file))


# ---- cut mode

def cut_windows(spans: list[tuple[int, int]], margin_chars: int, text_chars: int) -> list[tuple[int, int]]:
    """Each span widened by `margin_chars` each side (within the text), overlapping or touching ones merged."""
    windows: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        start, end = max(0, start - margin_chars), min(text_chars, end + margin_chars)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    return windows


def cut_text(text: str, windows: list[tuple[int, int]], min_piece_chars: int) -> str:
    """`text` without `windows`: the pieces between them of at least `min_piece_chars` characters, joined by
    PIECE_SEPARATOR ("" when none is left)."""
    bounds = [0] + [edge for window in windows for edge in window] + [len(text)]
    pieces = [text[bounds[i]:bounds[i + 1]] for i in range(0, len(bounds), 2)]
    return PIECE_SEPARATOR.join(piece for piece in pieces if piece and len(piece) >= min_piece_chars)


class DecontamStage(DocumentStage):
    """Finds benchmark n-grams in documents; drops them (`drop`) or cuts the matches out (`cut`)."""

    name = "decontam"
    config_class = DecontamConfig
    fields = (pa.field("decontam_matches", pa.int32()), pa.field("decontam_benchmarks", pa.string()),
              pa.field("decontam_cuts", pa.int32()))

    def __init__(self, config: DecontamConfig | None = None) -> None:
        self.config = config if config is not None else DecontamConfig()
        self.index = build_index(self.config)  # plain state: pickled with the stage

    def measure(self, doc: Document) -> dict[str, Any]:
        text = doc.get("text") or ""
        matches, benchmarks = self.index.find(normalized_words(text))
        signals: dict[str, Any] = {"decontam_matches": matches, "decontam_benchmarks": benchmarks,
                                   "decontam_cuts": None}
        if self.config.mode == "cut":
            windows = cut_windows(self.index.spans(text), self.config.cut_margin_chars, len(text)) if matches else []
            signals["decontam_cuts"] = len(windows)
            if windows and len(windows) <= self.config.max_cuts:  # over max_cuts: dropped whole, text kept
                signals["text"] = cut_text(text, windows, self.config.min_piece_chars)
        return signals

    @classmethod
    def rules(cls, config: DecontamConfig) -> tuple[Rule, ...]:
        if config.mode == "drop":
            return (Rule("ngram_overlap", f"shares a {config.ngram_size}-word n-gram (or a whole short text) with a "
                         "benchmark of decontam.eval_paths", "decontam_matches",
                         test=lambda doc: bool(doc["decontam_matches"])),)
        return (
            Rule("too_many_cuts", "benchmark text in more places than decontam.max_cuts cuts remove",
                 "decontam_cuts", (Threshold(">", config.max_cuts, "decontam.max_cuts"),)),
            Rule("all_cut", "nothing left once the benchmark text and its margins are cut out: every piece was "
                 "shorter than decontam.min_piece_chars", "decontam_cuts",
                 test=lambda doc: bool(doc["decontam_cuts"]) and not doc["text"]),
        )

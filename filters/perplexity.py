"""The `perplexity` stage: cc_net's metric filter, a KenLM n-gram model per language (Wenzek et al. 2020).

Measure, for a document whose language (`lang`, from langid) has a model in `perplexity.model_dir`:
- each line of the text is normalized as cc_net does (`normalize_line`): lowercased, accents stripped (NFD,
  combining marks dropped, then NFC so Hangul stays whole), every Unicode digit -> "0", cc_net's table of
  Unicode punctuation mapped to ASCII (`UNICODE_PUNCT`), control characters -> a space (cc_net deletes them,
  which glues words together);
- then tokenized (`tokenize_line`, where cc_net uses a SentencePiece model per language): a token is a run of
  word characters (`\\w`, letters, digits, underscore), one Han/kana character, or one other non-space
  character (punctuation, symbols); tokens are joined by one space. "<s>" cannot be a token (it is "< s >");
- `perplexity` = 10 ** (-sum of log10 p(line </s> | <s>) / sum of (tokens + 1)) over the non-empty lines,
  as cc_net's DocLM (each line a sentence with its own <s> and </s>; cc_net normalizes the whole document
  before splitting it, which removes the newlines and so scores one line: here each line is normalized
  on its own). Not rounded (cc_net rounds to 0.1). Empty lines are skipped; a document with no token is null;
- `perplexity_bucket` = "head" below the language's 30th percentile cutoff, "middle" below the 60th, else
  "tail" (cc_net's PerplexityBucket), from `model_dir/cutoffs.json` ({"en": {"p30": .., "p60": ..}}); null
  where the language has no cutoffs.
A document in a language without a model gets null signals and is never dropped for it.

Decide: `perplexity:above_threshold` when `perplexity > max_perplexity[lang]` (a per-language table; a
language not in it uses its "default" entry; an empty table, the default, only annotates).

Models: `<lang>.arpa` or `<lang>.bin` (KenLM binary), as written by `jobs/train_perplexity_model.py` or by
lmplz + build_binary; loaded with the `kenlm` module of the `ufal-kenlm` wheel, lazily, once per worker.
Not in the default stages: add "perplexity" to `pipeline.stages` after langid.

`backend = "gpt"` scores with the bundled GPT instead (`gpt_checkpoint`: a `trainer.train` checkpoint or
output folder; `gpt_tokenizer`: the tokenizer.json its shards were made with): one model for every language, so
every document with text gets a perplexity (exp of its mean token NLL, trainer/score.py) and no bucket. The
scorer needs torch and the model code, which live with the trainer: it is loaded by name on first use, in the
worker (`GPT_SCORER`), so this module, like every filter, imports nothing of the project but the contract.
"""
from __future__ import annotations

import importlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import pyarrow as pa

from contract.bounds import bounded
from contract.stage import DEFAULT_LANGUAGE, Document, DocumentStage, Rule, Threshold

MODEL_SUFFIXES = (".bin", ".arpa")  # a binary beside an ARPA of the same language wins (faster to load)
CUTOFFS_FILE = "cutoffs.json"
HEAD_PERCENTILE, TAIL_PERCENTILE = "p30", "p60"  # cc_net's bucket edges

# cc_net's text_normalizer.UNICODE_PUNCT: full-width and typographic punctuation to its ASCII form.
UNICODE_PUNCT = {
    "，": ",", "。": ".", "、": ",", "„": '"', "”": '"', "“": '"', "«": '"', "»": '"', "１": '"', "」": '"',
    "「": '"', "《": '"', "》": '"', "´": "'", "∶": ":", "：": ":", "？": "?", "！": "!", "（": "(", "）": ")",
    "；": ";", "–": "-", "—": " - ", "．": ". ", "～": "~", "’": "'", "…": "...", "━": "-", "〈": "<", "〉": ">",
    "【": "[", "】": "]", "％": "%", "►": "-",
}
_PUNCT_TABLE = str.maketrans(UNICODE_PUNCT)
_CONTROL_TABLE = str.maketrans({code: " " for code in [*range(0, 32), *range(127, 160)]})
_DIGIT = re.compile(r"\d")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana and Han: one token per character
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")


BACKENDS = ("kenlm", "gpt")
GPT_SCORER = "trainer.score:GptScorer"  # loaded by name: it needs torch and trainer/ (see the docstring)


@dataclass(frozen=True)
class PerplexityConfig:
    """Settings of the `perplexity` stage."""

    model_dir: str | None = None  # <lang>.arpa / <lang>.bin per language, and cutoffs.json (backend "kenlm")
    # drop above this perplexity, per language with a "default"; empty (the default): annotate only
    max_perplexity: dict[str, float] = bounded(default_factory=dict, gt=0)
    backend: str = "kenlm"  # "kenlm" (cc_net) or "gpt" (the bundled GPT, trainer/score.py)
    gpt_checkpoint: str | None = None  # backend "gpt": a trainer.train ckpt-N.pt, or its output folder
    gpt_tokenizer: str | None = None  # backend "gpt": the tokenizer.json the model's shards were made with
    gpt_device: str = "auto"  # backend "gpt": "auto" (cuda when there is one), "cpu", "cuda", "cuda:1", ...
    gpt_batch_windows: int = bounded(16, ge=1, le=4096)  # windows per forward pass on a GPU

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")


def normalize_line(line: str) -> str:
    """cc_net's normalization of one line (see the module docstring), before tokenizing."""
    line = line.strip().lower()
    if not line.isascii():  # ASCII has no accents to strip (and most lines are ASCII: skip the slow path)
        line = unicodedata.normalize("NFC", "".join(c for c in unicodedata.normalize("NFD", line)
                                                    if unicodedata.category(c) != "Mn"))
    return _DIGIT.sub("0", line).translate(_PUNCT_TABLE).translate(_CONTROL_TABLE)


def tokenize_line(normalized: str) -> list[str]:
    return _TOKEN.findall(normalized)


def model_lines(text: str) -> list[str]:
    """The sentences the model scores: each non-empty line, normalized and tokenized, tokens joined by spaces."""
    lines = (" ".join(tokenize_line(normalize_line(line))) for line in text.split("\n"))
    return [line for line in lines if line]


def log10_prob_and_tokens(lines: Iterable[str], score: Callable[[str], float]) -> tuple[float, int]:
    """(sum of log10 p(line </s> | <s>), tokens + one </s> per line) with `score` = KenLM's Model.score."""
    total, tokens = 0.0, 0
    for line in lines:
        total += score(line)
        tokens += line.count(" ") + 2
    return total, tokens


def perplexity_of(log10_prob: float, tokens: int) -> float:
    return 10.0 ** (-log10_prob / tokens)


def bucket(perplexity: float, cutoffs: dict[str, float]) -> str:
    if perplexity < cutoffs[HEAD_PERCENTILE]:
        return "head"
    return "middle" if perplexity < cutoffs[TAIL_PERCENTILE] else "tail"


def model_files(model_dir: str) -> dict[str, str]:
    """{language: model path} of a model folder (`<lang>.bin` preferred over `<lang>.arpa`); the language is
    the name up to its first dot."""
    if not os.path.isdir(model_dir):
        raise FileNotFoundError(f"perplexity.model_dir is not a folder: {model_dir}")
    found: dict[str, str] = {}
    for suffix in reversed(MODEL_SUFFIXES):
        for name in sorted(os.listdir(model_dir)):
            if name.endswith(suffix) and not name.startswith((".", "_")):
                found[name.split(".")[0]] = os.path.join(model_dir, name)  # cc_net's "en.arpa.bin" is "en"
    if not found:
        raise FileNotFoundError(f"perplexity.model_dir {model_dir} holds no <lang>.arpa or <lang>.bin model")
    return found


def read_cutoffs(model_dir: str) -> dict[str, dict[str, float]]:
    path = os.path.join(model_dir, CUTOFFS_FILE)
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as stream:
        cutoffs = json.load(stream)
    for lang, edges in cutoffs.items():
        if not (isinstance(edges, dict) and all(isinstance(edges.get(k), (int, float))
                                                for k in (HEAD_PERCENTILE, TAIL_PERCENTILE))):
            raise ValueError(f"{path}: {lang!r} needs numbers {HEAD_PERCENTILE} and {TAIL_PERCENTILE}")
    return cutoffs


def load_kenlm(path: str) -> Any:
    import kenlm

    config = kenlm.Config()
    config.show_progress = False  # its progress bar would fill every worker's log
    return kenlm.Model(path, config)


class PerplexityStage(DocumentStage):
    """KenLM perplexity per language: writes `perplexity` and `perplexity_bucket`; drops above a threshold."""

    name = "perplexity"
    config_class = PerplexityConfig
    fields = (pa.field("perplexity", pa.float64()), pa.field("perplexity_bucket", pa.string()))
    per_language_fields = ("perplexity",)

    def __init__(self, config: PerplexityConfig | None = None) -> None:
        self.config = config if config is not None else PerplexityConfig()
        if self.config.backend == "gpt":
            for key in ("gpt_checkpoint", "gpt_tokenizer"):
                path = getattr(self.config, key)
                if path is None or not os.path.exists(path):
                    raise ValueError(f"perplexity.backend = 'gpt' needs perplexity.{key}: {path!r} does not exist")
            self.models, self.cutoffs = {}, {}
            return
        if self.config.model_dir is None:
            raise ValueError("perplexity stage: no models configured; set perplexity.model_dir to a folder of "
                             "<lang>.arpa/.bin models (e.g. written by jobs/train_perplexity_model.py)")
        self.models = model_files(self.config.model_dir)  # fails on the driver, before a job starts
        self.cutoffs = read_cutoffs(self.config.model_dir)

    def model(self, lang: str | None) -> Any:
        """The language's KenLM model, loaded once per process on first use (kept out of pickles); None
        for a language without one."""
        if lang not in self.models:
            return None
        loaded = self.__dict__.setdefault("_loaded_models", {})
        if lang not in loaded:
            loaded[lang] = load_kenlm(self.models[lang])
        return loaded[lang]

    def scorer(self) -> Any:
        """The GPT scorer (backend "gpt"), built once per process on first use (kept out of pickles)."""
        scorer = self.__dict__.get("_loaded_scorer")
        if scorer is None:
            module, _, name = GPT_SCORER.partition(":")
            config = self.config
            scorer = self._loaded_scorer = getattr(importlib.import_module(module), name)(
                config.gpt_checkpoint, config.gpt_tokenizer, config.gpt_device, config.gpt_batch_windows)
        return scorer

    def measure_many(self, docs: Sequence[Document]) -> list[dict[str, Any]]:
        if self.config.backend != "gpt":
            return [self.measure(doc) for doc in docs]
        values = self.scorer().perplexities([doc.get("text") or "" for doc in docs])
        return [{"perplexity": value, "perplexity_bucket": None} for value in values]

    def measure(self, doc: Document) -> dict[str, Any]:
        if self.config.backend == "gpt":
            return self.measure_many([doc])[0]
        lang = doc.get("lang")
        model = self.model(lang)
        if model is None:
            return {"perplexity": None, "perplexity_bucket": None}
        log10_prob, tokens = log10_prob_and_tokens(model_lines(doc.get("text") or ""), model.score)
        if not tokens:
            return {"perplexity": None, "perplexity_bucket": None}
        perplexity = perplexity_of(log10_prob, tokens)
        cutoffs = self.cutoffs.get(lang)
        return {"perplexity": perplexity, "perplexity_bucket": bucket(perplexity, cutoffs) if cutoffs else None}

    @classmethod
    def rules(cls, config: PerplexityConfig) -> tuple[Rule, ...]:
        means = "the language's n-gram model finds the text too unlike its reference text (perplexity too high)"
        table = config.max_perplexity
        if DEFAULT_LANGUAGE in table:
            return (Rule("above_threshold", means, "perplexity",
                         (Threshold.per_language(">", table, "perplexity.max_perplexity"),)),)

        def above(doc: Document) -> bool:  # only the listed languages have a threshold
            limit = table.get(doc.get("lang") or DEFAULT_LANGUAGE)
            return limit is not None and doc["perplexity"] is not None and doc["perplexity"] > limit

        note = f"only for {', '.join(sorted(table))}" if table else "annotate only: perplexity.max_perplexity is empty"
        return (Rule("above_threshold", means, "perplexity", test=above, note=note),)

"""Tokenizer training: a deterministic, size-bounded sample of the corpus -> byte-level BPE or Unigram
(Hugging Face `tokenizers`) -> `tokenizer.json` and a compression report on held-out documents.

Sample. Each document gets u = blake2b(seed, id) in [0, 1). Documents with u < heldout_fraction are held
out (never trained on); the rest compete for the training budget. Per pool (one pool, or one per
language with `language_weights`, "*" pooling the languages not named), the sample is the longest run of
documents in increasing u whose text fits in the pool's byte budget. It is kept in a bounded max-heap
while the corpus streams past, so memory is bounded by `sample_bytes` (plus `heldout_bytes` per
language) whatever the corpus size, and the sample depends neither on file order nor on batch size
(bottom-k sampling, as in datatrove's and Dolma's samplers).

Model. GPT-2's byte-level scheme for both models: the ByteLevel pre-tokenizer (GPT-2 regex, no prefix
space) maps every UTF-8 byte to a symbol and the ByteLevel decoder maps back, and all 256 byte symbols
are in the vocabulary, so no text is out of vocabulary and decode(encode(text)) == text for every string.
NFKC is off by default because it breaks that equality (ﬁ -> fi, full-width -> ASCII); with `nfkc = true`
the tokenizer normalizes and the round trip gives NFKC(text). Special tokens take ids 0.. in config order
(`<|endoftext|>` = 0, `<|pad|>` = 1). Encoding in this project sets `encode_special_tokens`, so a literal
"<|endoftext|>" inside a document is encoded as text and can never be mistaken for a document boundary.

Determinism. BPE training gives the same tokenizer.json bytes on every run. HF's Unigram trainer sums
floats in hash-map order, so its piece scores differ in the last digits between runs (same pieces), and it
appends the required characters it did not learn in hash-set order with made-up scores. `canonical_unigram`
rounds the scores, gives that fallback block one score and sorts pieces by (score, piece), which makes the
file reproducible (checked by the tests; it is the same model up to ties among the rarest byte symbols).
"""
from __future__ import annotations

import heapq
import json
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pyarrow.compute as pc
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from pipeline.outputs import OutputDir
from pipeline.toml_config import config_hash
from tokenizer.config import TokenizerConfig, TrainTokenizerJobConfig
from tokenizer.corpus import UNKNOWN_LANGUAGE, column_or_none, corpus_parts, read_batches, unit_hash

UNIGRAM_SCORE_DECIMALS = 6
UNIGRAM_FALLBACK_STEP = 1e-4  # tokenizers' UnigramTrainer: score step between appended required characters
OTHER_LANGUAGES = "*"


class _BudgetHeap:
    """The documents of smallest priority whose bytes fit in `budget` (a max-heap on priority)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.bytes = 0
        self._heap: list[tuple[float, str, int, str]] = []  # (-priority, id, bytes, text)

    def wants(self, priority: float, n_bytes: int) -> bool:
        if n_bytes > self.budget:
            return False
        return self.bytes + n_bytes <= self.budget or priority < -self._heap[0][0]

    def add(self, priority: float, doc_id: str, n_bytes: int, text: str) -> None:
        heapq.heappush(self._heap, (-priority, doc_id, n_bytes, text))
        self.bytes += n_bytes
        while self.bytes > self.budget:
            self.bytes -= heapq.heappop(self._heap)[2]

    def texts(self) -> list[str]:
        """Texts in increasing priority (id breaks ties)."""
        return [text for _, _, _, text in sorted(self._heap, key=lambda item: (-item[0], item[1]))]


@dataclass
class Sample:
    train: list[str]  # in increasing priority
    heldout: dict[str, list[str]]  # language -> texts
    documents_seen: int = 0
    bytes_seen: int = 0
    train_bytes_by_pool: dict[str, int] = field(default_factory=dict)


def _pool_budgets(config: TokenizerConfig) -> dict[str, int]:
    if not config.language_weights:
        return {OTHER_LANGUAGES: config.sample_bytes}
    total = sum(config.language_weights.values())
    return {lang: int(config.sample_bytes * weight / total) for lang, weight in config.language_weights.items()}


def sample_corpus(corpus_dir: str | Path, config: TokenizerConfig) -> Sample:
    """Stream the corpus once and keep the training and held-out samples (see the module docstring)."""
    budgets = _pool_budgets(config)
    pools = {name: _BudgetHeap(budget) for name, budget in budgets.items()}
    heldout: dict[str, _BudgetHeap] = {}
    seed = str(config.seed)
    seen = seen_bytes = 0
    for part in corpus_parts(corpus_dir):
        for batch in read_batches(part, ("id", "text", "lang"), config.batch_rows):
            ids = batch.column("id").to_pylist()
            langs = column_or_none(batch, "lang")
            sizes = pc.fill_null(pc.binary_length(batch.column("text")), 0).to_pylist()
            texts = batch.column("text")
            for row, (doc_id, lang, n_bytes) in enumerate(zip(ids, langs, sizes)):
                if not n_bytes:
                    continue  # empty or null text: nothing to learn from
                seen += 1
                seen_bytes += n_bytes
                lang = lang or UNKNOWN_LANGUAGE
                u = unit_hash("tokenizer-sample", seed, doc_id)
                if u < config.heldout_fraction:
                    heap = heldout.setdefault(lang, _BudgetHeap(config.heldout_bytes))
                    priority = u / config.heldout_fraction
                else:
                    heap = pools.get(lang) or pools.get(OTHER_LANGUAGES)
                    if heap is None:
                        continue  # a language with no share
                    priority = (u - config.heldout_fraction) / (1.0 - config.heldout_fraction)
                if heap.wants(priority, n_bytes):
                    heap.add(priority, doc_id, n_bytes, texts[row].as_py())
    train = [text for name in sorted(pools) for text in pools[name].texts()]
    return Sample(train=train, heldout={lang: heldout[lang].texts() for lang in sorted(heldout)},
                  documents_seen=seen, bytes_seen=seen_bytes,
                  train_bytes_by_pool={name: pools[name].bytes for name in sorted(pools)})


def new_tokenizer(config: TokenizerConfig) -> tuple[Tokenizer, trainers.Trainer]:
    """An untrained tokenizer and its trainer (see the module docstring for the choices)."""
    specials = list(config.special_tokens)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    if config.model == "bpe":
        tokenizer = Tokenizer(models.BPE())
        trainer = trainers.BpeTrainer(vocab_size=config.vocab_size, min_frequency=config.min_frequency,
                                      special_tokens=specials, initial_alphabet=alphabet, show_progress=False)
    else:
        tokenizer = Tokenizer(models.Unigram())
        trainer = trainers.UnigramTrainer(vocab_size=config.vocab_size, special_tokens=specials,
                                          initial_alphabet=alphabet, max_piece_length=config.max_piece_length,
                                          show_progress=False)
    if config.nfkc:
        tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer, trainer


def canonical_unigram(tokenizer: Tokenizer, n_specials: int) -> Tokenizer:
    """The same Unigram model written reproducibly (module docstring): scores rounded, and the trainer's
    fallback block (required characters it appends after the learned pieces, in hash-set order, at
    min_score - k * 1e-4) given one score, so that pieces sort by (score desc, piece) the same every run."""
    data = json.loads(tokenizer.to_str())
    vocab = data["model"]["vocab"]
    specials, pieces = vocab[:n_specials], vocab[n_specials:]
    start = len(pieces) - 1
    while (start > 0 and len(pieces[start - 1][0]) == 1
           and 0 <= pieces[start - 1][1] - pieces[start][1] <= UNIGRAM_FALLBACK_STEP * 1.01):
        start -= 1
    if pieces and len(pieces[-1][0]) == 1:
        floor = min(score for _, score in pieces[start:])
        pieces = pieces[:start] + [[piece, floor] for piece, _ in pieces[start:]]
    pieces = sorted(([piece, round(score, UNIGRAM_SCORE_DECIMALS)] for piece, score in pieces),
                    key=lambda item: (-item[1], item[0]))
    data["model"]["vocab"] = specials + pieces
    data["model"]["unk_id"] = None
    by_piece = {piece: i for i, (piece, _) in enumerate(data["model"]["vocab"])}
    for added in data.get("added_tokens", []):
        added["id"] = by_piece[added["content"]]
    return Tokenizer.from_str(json.dumps(data, ensure_ascii=False))


def train_tokenizer(texts: Iterable[str], n_texts: int, config: TokenizerConfig) -> Tokenizer:
    tokenizer, trainer = new_tokenizer(config)
    tokenizer.train_from_iterator(iter(texts), trainer=trainer, length=n_texts)
    if config.model == "unigram":
        tokenizer = canonical_unigram(tokenizer, len(config.special_tokens))
    for i, token in enumerate(config.special_tokens):
        if tokenizer.token_to_id(token) != i:
            raise RuntimeError(f"special token {token!r}: {tokenizer.token_to_id(token)=} != expected id {i}")
    return tokenizer


def for_encoding(tokenizer: Tokenizer) -> Tokenizer:
    """`tokenizer`, set (in place) to encode special-token strings in a document as plain text."""
    tokenizer.encode_special_tokens = True
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def expected_decoding(text: str, nfkc: bool) -> str:
    """What decode(encode(text)) must give back: the text, or its NFKC form when the tokenizer normalizes."""
    return unicodedata.normalize("NFKC", text) if nfkc else text


def compression_report(tokenizer: Tokenizer, heldout: dict[str, list[str]], nfkc: bool,
                       batch_rows: int = 256) -> dict[str, dict[str, float | int]]:
    """Per language and overall: documents, UTF-8 bytes, characters, tokens, bytes and characters per
    token, and documents whose round trip does not give back the (normalized) text."""
    tokenizer = for_encoding(Tokenizer.from_str(tokenizer.to_str()))  # a copy: the caller's stays as it is
    rows: dict[str, dict[str, float | int]] = {}
    total = {"documents": 0, "bytes": 0, "characters": 0, "tokens": 0, "roundtrip_failures": 0}
    for lang, texts in heldout.items():
        counts = {"documents": len(texts), "bytes": 0, "characters": 0, "tokens": 0, "roundtrip_failures": 0}
        for start in range(0, len(texts), batch_rows):
            batch = texts[start:start + batch_rows]
            ids = [encoding.ids for encoding in tokenizer.encode_batch(batch, add_special_tokens=False)]
            decoded = tokenizer.decode_batch(ids, skip_special_tokens=False)
            for text, token_ids, back in zip(batch, ids, decoded):
                counts["bytes"] += len(text.encode("utf-8"))
                counts["characters"] += len(text)
                counts["tokens"] += len(token_ids)
                counts["roundtrip_failures"] += back != expected_decoding(text, nfkc)
        for key in total:
            total[key] += counts[key]
        rows[lang] = counts
    rows["all"] = total
    for counts in rows.values():
        counts["bytes_per_token"] = round(counts["bytes"] / counts["tokens"], 4) if counts["tokens"] else 0.0
        counts["characters_per_token"] = round(counts["characters"] / counts["tokens"], 4) if counts["tokens"] else 0.0
    return rows


def hf_files(config: TokenizerConfig) -> dict[str, dict]:
    """tokenizer_config.json and special_tokens_map.json: `transformers.AutoTokenizer.from_pretrained(DIR)`
    then loads tokenizer.json as a PreTrainedTokenizerFast with the right special tokens."""
    specials = {"bos_token": config.separator_token, "eos_token": config.separator_token,
                "pad_token": config.pad_token}
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        **specials,
        "additional_special_tokens": list(config.extra_special_tokens),
        "clean_up_tokenization_spaces": False,  # the default True would change " ." to "." on decode
        "add_prefix_space": False,
        "model_max_length": 1_000_000_000_000_000_019_884_624_838_656,  # transformers' "no limit" value
    }
    return {"tokenizer_config.json": tokenizer_config,
            "special_tokens_map.json": {**specials, "additional_special_tokens": list(config.extra_special_tokens)}}



def train_and_write(corpus_dir: str | Path, output_dir: str | Path, job_config: TrainTokenizerJobConfig,
                    log: Callable[[str], None] = print) -> dict:
    """Sample, train, report; writes tokenizer.json, the transformers side files, report.json and the
    resolved config into `output_dir` (each atomically). Returns the report."""
    config = job_config.tokenizer
    out = OutputDir(str(output_dir))
    out.claim(job_config, ())
    started = time.perf_counter()
    sample = sample_corpus(corpus_dir, config)
    train_bytes = sum(sample.train_bytes_by_pool.values())
    log(f"Sampled {len(sample.train)} documents ({train_bytes / 1e6:.1f} MB) for training and "
        f"{sum(map(len, sample.heldout.values()))} held out, of {sample.documents_seen} documents "
        f"({sample.bytes_seen / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    if not sample.train:
        raise ValueError(f"no training text in {corpus_dir} (documents seen: {sample.documents_seen})")
    started = time.perf_counter()
    tokenizer = train_tokenizer(sample.train, len(sample.train), config)
    log(f"Trained {config.model} with {tokenizer.get_vocab_size()} tokens in {time.perf_counter() - started:.1f} s")
    out.write_bytes("tokenizer.json", tokenizer.to_str(pretty=True).encode("utf-8"))
    for name, value in hf_files(config).items():
        out.write_json(name, value)
    report = {
        "config_hash": config_hash(job_config),
        "model": config.model,
        "vocab_size": tokenizer.get_vocab_size(),
        "special_tokens": {token: tokenizer.token_to_id(token) for token in config.special_tokens},
        "sample": {"documents_seen": sample.documents_seen, "bytes_seen": sample.bytes_seen,
                   "train_documents": len(sample.train), "train_bytes_by_pool": sample.train_bytes_by_pool,
                   "heldout_documents": {lang: len(texts) for lang, texts in sample.heldout.items()}},
        "heldout_compression": compression_report(tokenizer, sample.heldout, config.nfkc),
    }
    out.write_json("report.json", report)
    return report


def format_report(report: dict) -> str:
    lines = [f"{'language':<10} {'docs':>6} {'bytes':>10} {'tokens':>9} {'bytes/token':>12} {'chars/token':>12}"]
    for lang, row in report["heldout_compression"].items():
        lines.append(f"{lang:<10} {row['documents']:>6} {row['bytes']:>10} {row['tokens']:>9} "
                     f"{row['bytes_per_token']:>12.3f} {row['characters_per_token']:>12.3f}")
    return "\n".join(lines)

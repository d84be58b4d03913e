"""Corpus -> packed token shards, engine-free: per-part encoding, a deterministic shard plan, packing.

Design (the output bytes never depend on scheduling or on the number of workers):

1. Encode, one unit of work per corpus part file (like the corpus job's one task per WARC file). A task
   streams its part in `batch_rows` record batches, decides per document from its `id` alone the split
   (val if blake2b("val", id) < val_fraction, no seed, so the split survives a change of sampling weights)
   and the number of copies (language x source weight w: floor(w) copies, one more if
   blake2b(seed, id) < w - floor(w)), encodes the kept texts with `Tokenizer.encode_batch`, and writes
   `_parts/<part>.bin/.idx` (the shard format, every document already prefixed with the separator, in
   row order) and `_parts/<part>.docs.arrow` (row, id, split, copies) atomically, then a marker
   `_parts/_done/<part>.json` with the counts. A part with a marker is not encoded again.
2. Plan, on the driver, from the document lengths of the part caches only: for each split, for each copy
   c = 0, 1, ... (a document with k copies appears in passes 0..k-1, so repeats are spread like epochs,
   never adjacent), for each part in sorted name order, documents in row order are packed greedily into
   shards of at most `shard_tokens` tokens (a longer document gets a shard of its own; documents are
   never split across shards). A shard is a list of segments (part, copy, row range).
3. Pack, one unit of work per shard: concatenate the segments' token ranges and write
   `{split}-NNNNN.bin/.idx` in `tokenize.output_format` (nanogpt: tokenizer/shards.py; megatron:
   tokenizer/megatron.py, the same tokens with each separator moved to the end of its document) plus `{split}-NNNNN.docs.parquet` (id, part, row of every document: lineage
   back to warc_path + warc_offset), then a marker `_done/{split}-NNNNN.json` with the sha256 digests
   and the plan key. A shard whose marker has the same plan key and whose files still have the recorded
   digests is skipped.
4. `manifest.json` (written last): per shard tokens, documents and sha256; the tokenizer's sha256; the
   dtype; the config; the source corpus (part names, sizes, rows) and per-language counts.

`_run.json` holds the identity of the run (output config hash, tokenizer sha256, corpus fingerprint);
a rerun into the same directory with another identity is refused rather than mixing shards. A finished
run removes `_parts/` (unless asked to keep it) and the temporaries of a killed run; rerunning a finished
run only verifies the digests. The engine maps `encode_part` and `pack_shard` over their items (Ray Data
in tokenizer/ray_engine.py, or a plain loop), so this module imports no engine. Corpus, tokenizer and output
may be URIs (s3://...): every access, the workers' too, is pyarrow's (README, "Object storage (S3)").
"""
from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.ipc as ipc
from tokenizers import Tokenizer

from pipeline.outputs import OutputDir, RunMismatchError
from storage.atomic import write_atomic
from storage.parquet import write_parquet
from tokenizer.config import TokenizeConfig, TokenizeJobConfig, output_config, output_config_hash
from tokenizer.corpus import (UNKNOWN_LANGUAGE, absolute_location, column_or_none, corpus_fingerprint, corpus_parts,
                              join_location, part_name, read_batches, read_location, unit_hash)
from tokenizer.megatron import manifest_format, megatron_dtype, open_megatron_shards, write_megatron_shard
from tokenizer.shards import (FORMAT_OF_DTYPE, ShardFormatError, ShardInfo, ShardReader, open_shards,
                              read_manifest, sha256_file, token_dtype, write_shard)
from tokenizer.train import for_encoding

SPLITS = ("train", "val")
PARTS_DIR = "_parts"
DONE_DIR = "_done"
MANIFEST_FILE = "manifest.json"
DOCS_SCHEMA = pa.schema([("row", pa.int64()), ("id", pa.string()), ("split", pa.uint8()), ("copies", pa.uint16())])
LINEAGE_SCHEMA = pa.schema([("id", pa.string()), ("part", pa.string()), ("row", pa.int64())])
MAX_COPIES = 2**16 - 1


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs; picklable."""
    corpus_dir: str
    output_dir: str
    tokenizer_path: str
    tokenizer_sha256: str
    config: TokenizeConfig
    vocab_size: int


# ---- per-document decisions -------------------------------------------------------------------------

def document_split(doc_id: str, val_fraction: float) -> str:
    return "val" if unit_hash("val", doc_id) < val_fraction else "train"


def document_copies(doc_id: str, lang: str | None, source: str | None, split: str, config: TokenizeConfig) -> int:
    """How many times the document goes into its split (0 = left out)."""
    weight = (config.language_weights.get(lang or UNKNOWN_LANGUAGE, 1.0)
              * config.source_weights.get(source or "", 1.0))
    whole = math.floor(weight)
    copies = whole + (unit_hash("tokenize-sample", str(config.seed), doc_id) < weight - whole)
    if copies > MAX_COPIES:
        raise ValueError(f"document {doc_id}: {copies=} > {MAX_COPIES}")
    return min(copies, 1) if split == "val" else copies


# ---- tokenizer ----------------------------------------------------------------------------------------

_TOKENIZERS: dict[tuple[str, str], Tokenizer] = {}


def load_tokenizer(path: str, sha256: str | None = None) -> Tokenizer:
    """The tokenizer at `path` (local or URI) set for encoding documents (cached per process); checks its sha256."""
    data = read_location(path)
    actual = hashlib.sha256(data).hexdigest()
    if sha256 is not None and actual != sha256:
        raise RunMismatchError(f"{path}: tokenizer changed during the run ({actual=} != {sha256=})")
    key = (path, actual)
    if key not in _TOKENIZERS:
        _TOKENIZERS[key] = for_encoding(Tokenizer.from_str(data.decode("utf-8")))
    return _TOKENIZERS[key]


def separator_id(tokenizer: Tokenizer, token: str) -> int:
    token_id = tokenizer.token_to_id(token)
    if token_id is None:
        raise ValueError(f"separator token {token!r} is not in the tokenizer's vocabulary")
    return token_id


# ---- 1. encode one part ---------------------------------------------------------------------------

def _part_paths(part: str) -> dict[str, str]:
    """The part cache's files, relative to the output directory."""
    stem = Path(part).stem
    return {"bin": f"{PARTS_DIR}/{stem}.bin", "docs": f"{PARTS_DIR}/{stem}.docs.arrow",
            "done": f"{PARTS_DIR}/{DONE_DIR}/{stem}.json"}


def _add_stats(stats: dict, split: str, lang: str, copies: int, tokens: int) -> None:
    row = stats.setdefault(split, {}).setdefault(lang, {"documents": 0, "unique_documents": 0, "tokens": 0})
    row["documents"] += copies
    row["unique_documents"] += 1
    row["tokens"] += copies * tokens


def encode_part(part: str, settings: Settings) -> dict[str, Any]:
    """Encode corpus part `part` into its cache under _parts/ (skipped when its marker exists)."""
    out = OutputDir(settings.output_dir)
    paths = _part_paths(part)
    if out.exists(paths["done"]):
        return out.read_json(paths["done"])
    config = settings.config
    tokenizer = load_tokenizer(settings.tokenizer_path, settings.tokenizer_sha256)
    sep = separator_id(tokenizer, config.separator_token)
    dtype = token_dtype(tokenizer.get_vocab_size())
    separator = np.array([sep], dtype=dtype)
    pieces: list[np.ndarray] = []
    docs: dict[str, list] = {name: [] for name in DOCS_SCHEMA.names}
    stats: dict = {}
    counts = {"rows": 0, "null_text": 0, "dropped_by_weight": 0}
    row_base = 0
    columns = ("id", "text", "lang", config.source_column)
    for batch in read_batches(join_location(settings.corpus_dir, part), columns, config.batch_rows):
        ids = batch.column("id").to_pylist()
        texts = batch.column("text").to_pylist()
        langs = column_or_none(batch, "lang")
        sources = column_or_none(batch, config.source_column)
        kept: list[tuple[int, str, int, str]] = []  # (row, split, copies, lang)
        kept_texts: list[str] = []
        for offset, (doc_id, text, lang, source) in enumerate(zip(ids, texts, langs, sources)):
            if text is None:
                counts["null_text"] += 1  # no text is not a document; counted, never an exception
                continue
            split = document_split(doc_id, config.val_fraction)
            copies = document_copies(doc_id, lang, source, split, config)
            if copies == 0:
                counts["dropped_by_weight"] += 1
                continue
            kept.append((row_base + offset, split, copies, lang or UNKNOWN_LANGUAGE))
            kept_texts.append(text)
        encodings = tokenizer.encode_batch_fast(kept_texts, add_special_tokens=False) if kept_texts else []
        for (row, split, copies, lang), encoding in zip(kept, encodings):
            tokens = np.asarray(encoding.ids, dtype=dtype)
            pieces += (separator, tokens)
            docs["row"].append(row)
            docs["id"].append(ids[row - row_base])
            docs["split"].append(SPLITS.index(split))
            docs["copies"].append(copies)
            _add_stats(stats, split, lang, copies, len(tokens) + 1)
        row_base += batch.num_rows
    counts["rows"] = row_base
    if row_base != len(docs["row"]) + counts["null_text"] + counts["dropped_by_weight"]:
        raise RuntimeError(f"{part}: rows read {row_base} != documents {len(docs['row'])} + null_text "
                           f"{counts['null_text']} + dropped_by_weight {counts['dropped_by_weight']}")
    summary: dict[str, Any] = {"part": part, "documents": len(docs["row"]), "max_copies": max(docs["copies"], default=0),
                               **counts, "stats": stats}
    out.fs.create_dir(out.path(f"{PARTS_DIR}/{DONE_DIR}"), recursive=True)
    if docs["row"]:
        tokens = np.concatenate(pieces)
        lengths = np.array([len(p) for p in pieces[1::2]], dtype=np.int64) + 1
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        info = write_shard(out.path(paths["bin"]), tokens, starts, sep, out.fs)
        sink = io.BytesIO()
        with ipc.new_file(sink, DOCS_SCHEMA) as writer:
            writer.write_table(pa.table(docs, schema=DOCS_SCHEMA))
        write_atomic(out.path(paths["docs"]), [sink.getvalue()], out.fs)
        summary.update(tokens=info.tokens, sha256=info.sha256)
    else:
        summary.update(tokens=0, sha256=None)
    write_atomic(out.path(paths["done"]), [json.dumps(summary, sort_keys=True).encode("utf-8")], out.fs)
    return summary


# ---- 2. plan ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    part: str
    copy: int  # pass number: documents with copies > copy
    first: int  # position range [first, stop) in the part cache's documents
    stop: int
    documents: int
    tokens: int


@dataclass(frozen=True)
class ShardPlan:
    split: str
    index: int
    segments: tuple[Segment, ...]

    @property
    def name(self) -> str:
        return f"{self.split}-{self.index:05d}"

    @property
    def tokens(self) -> int:
        return sum(segment.tokens for segment in self.segments)

    @property
    def documents(self) -> int:
        return sum(segment.documents for segment in self.segments)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "ShardPlan":
        data = json.loads(text)
        return cls(data["split"], data["index"], tuple(Segment(**s) for s in data["segments"]))


def _part_cache(out: OutputDir, part: str) -> tuple[ShardReader, pa.Table] | None:
    """The part's cached tokens and its documents table (memory-mapped on a local disk), or None if it has none."""
    paths = _part_paths(part)
    if not out.exists(paths["bin"]):
        return None
    docs_path = out.path(paths["docs"])
    on_disk = isinstance(out.fs, pafs.LocalFileSystem)
    with ipc.open_file(pa.memory_map(docs_path) if on_disk else out.fs.open_input_file(docs_path)) as reader:
        docs = reader.read_all()
    return ShardReader(out.path(paths["bin"]), filesystem=out.fs), docs


def _selected(docs: pa.Table, split: str, copy: int) -> np.ndarray:
    """Positions of the part cache's documents in `split` with more than `copy` copies."""
    splits = docs.column("split").to_numpy()
    copies = docs.column("copies").to_numpy()
    return np.flatnonzero((splits == SPLITS.index(split)) & (copies > copy))


def plan_shards(output_dir: str, summaries: list[dict[str, Any]], shard_tokens: int) -> list[ShardPlan]:
    """Greedy packing of every split's documents into shards, in (copy, part, row) order. Reads one part
    cache's index at a time, so the driver's memory is bounded by the largest part."""
    out = OutputDir(output_dir)
    parts = [summary["part"] for summary in summaries if summary["documents"]]
    max_copies = max((summary["max_copies"] for summary in summaries if summary["documents"]), default=0)
    plans: list[ShardPlan] = []
    for split in SPLITS:
        index, segments, filled = 0, [], 0
        for copy in range(max_copies):
            for part in parts:
                cache = _part_cache(out, part)
                if cache is None:
                    raise FileNotFoundError(f"part cache of {part} is missing from {output_dir}/{PARTS_DIR}")
                reader, docs = cache
                chosen = _selected(docs, split, copy)
                cumulative = np.concatenate([[0], np.cumsum(reader.document_lengths()[chosen])])
                i = 0
                while i < len(chosen):
                    fit = int(np.searchsorted(cumulative, cumulative[i] + shard_tokens - filled, side="right")) - 1 - i
                    if fit == 0 and filled == 0:
                        fit = 1  # a document longer than a shard gets a shard of its own
                    if fit > 0:
                        tokens = int(cumulative[i + fit] - cumulative[i])
                        segments.append(Segment(part, copy, int(chosen[i]), int(chosen[i + fit - 1]) + 1, fit, tokens))
                        filled += tokens
                        i += fit
                    if i < len(chosen):  # the next document does not fit: close the shard
                        plans.append(ShardPlan(split, index, tuple(segments)))
                        index, segments, filled = index + 1, [], 0
        if segments:
            plans.append(ShardPlan(split, index, tuple(segments)))
    return plans


# ---- 3. pack one shard --------------------------------------------------------------------------------

def write_output_shard(path: str, tokens: np.ndarray, starts: np.ndarray, separator: int,
                       settings: Settings, filesystem: pafs.FileSystem | None = None) -> ShardInfo:
    """The writer of `tokenize.output_format`: the one step where the formats differ (plan, lineage,
    markers and resume are shared). `tokens` are in the part caches' layout (separator first)."""
    if settings.config.output_format == "megatron":
        return write_megatron_shard(path, tokens, starts, separator, settings.vocab_size, filesystem)
    return write_shard(path, tokens, starts, separator, filesystem)


def _shard_paths(name: str) -> dict[str, str]:
    """A shard's files, relative to the output directory."""
    return {"bin": f"{name}.bin", "idx": f"{name}.idx", "docs": f"{name}.docs.parquet",
            "done": f"{DONE_DIR}/{name}.json"}


def plan_key(plan: ShardPlan, identity_sha256: str) -> str:
    return unit_hash_hex(identity_sha256, plan.to_json())


def unit_hash_hex(*keys: str) -> str:
    return hashlib.sha256("\x1f".join(keys).encode("utf-8")).hexdigest()


def _completed(out: OutputDir, paths: dict[str, str], key: str) -> dict[str, Any] | None:
    """The marker of a shard written with this plan key whose files still have their digests."""
    if not out.exists(paths["done"]):
        return None
    marker = out.read_json(paths["done"])
    if marker.get("plan_key") != key:
        return None
    for kind, digest in (("bin", "sha256"), ("idx", "idx_sha256"), ("docs", "docs_sha256")):
        if not out.exists(paths[kind]) or sha256_file(out.path(paths[kind]), out.fs) != marker[digest]:
            return None
    return marker


def pack_shard(plan_json: str, settings: Settings, identity_sha256: str) -> dict[str, Any]:
    """Write one planned shard (skipped when already complete); returns its manifest entry."""
    plan = ShardPlan.from_json(plan_json)
    out = OutputDir(settings.output_dir)
    paths = _shard_paths(plan.name)
    key = plan_key(plan, identity_sha256)
    if (marker := _completed(out, paths, key)) is not None:
        return marker
    pieces: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    lineage: dict[str, list] = {name: [] for name in LINEAGE_SCHEMA.names}
    separator = None
    for segment in plan.segments:
        cache = _part_cache(out, segment.part)
        if cache is None:
            raise FileNotFoundError(f"{plan.name}: part cache of {segment.part} is missing")
        reader, docs = cache
        separator = reader.separator_id
        chosen = _selected(docs, plan.split, segment.copy)
        chosen = chosen[(chosen >= segment.first) & (chosen < segment.stop)]
        if len(chosen) != segment.documents:
            raise ShardFormatError(f"{plan.name}: {segment.part} has {len(chosen)=} documents in "
                                   f"[{segment.first}, {segment.stop}), plan says {segment.documents=}")
        doc_lengths = reader.document_lengths()[chosen]
        # contiguous runs of chosen documents are one slice each (train documents mostly are)
        for run in np.split(chosen, np.flatnonzero(np.diff(chosen) != 1) + 1):
            start, _ = reader.bounds(int(run[0]))
            _, stop = reader.bounds(int(run[-1]))
            pieces.append(np.asarray(reader.tokens[start:stop]))
        lengths.append(doc_lengths)
        lineage["id"] += docs.column("id").take(chosen).to_pylist()
        lineage["row"] += docs.column("row").take(chosen).to_pylist()
        lineage["part"] += [segment.part] * len(chosen)
    tokens = np.concatenate(pieces)
    all_lengths = np.concatenate(lengths)
    starts = np.concatenate([[0], np.cumsum(all_lengths)[:-1]])
    if len(tokens) != plan.tokens:
        raise ShardFormatError(f"{plan.name}: {len(tokens)=} != {plan.tokens=}")
    info = write_output_shard(out.path(paths["bin"]), tokens, starts, separator, settings, out.fs)
    sink = io.BytesIO()
    write_parquet(pa.table(lineage, schema=LINEAGE_SCHEMA), sink)
    docs_sha256 = write_atomic(out.path(paths["docs"]), [sink.getvalue()], out.fs)
    entry = {"split": plan.split, **info.as_dict(), "docs_sha256": docs_sha256, "plan_key": key}
    out.fs.create_dir(out.path(DONE_DIR), recursive=True)
    write_atomic(out.path(paths["done"]), [json.dumps(entry, sort_keys=True).encode("utf-8")], out.fs)
    return entry


# ---- the run ----------------------------------------------------------------------------------------

Mapper = Callable[[Callable[..., dict[str, Any]], list[str], dict[str, Any]], list[dict[str, Any]]]


def serial_map(fn: Callable[..., dict[str, Any]], items: list[str], kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """The engine-free mapper: one item after another in this process."""
    return [fn(item, **kwargs) for item in items]


def _identity(config: TokenizeJobConfig, tokenizer_sha256: str, fingerprint: list[dict]) -> dict[str, Any]:
    return {"config_hash": output_config_hash(config), "tokenizer_sha256": tokenizer_sha256, "corpus": fingerprint}


def verify_manifest(output_dir: str | Path) -> dict[str, Any]:
    """The manifest, after checking every shard it lists (format, index, counts, sha256 digests)."""
    out = OutputDir(str(output_dir))
    manifest = read_manifest(out.root, out.fs)
    opener = open_megatron_shards if manifest["format"].get("name") == "megatron" else open_shards
    for split in SPLITS:
        opener(out.root, split, verify_sha256=True, filesystem=out.fs)
    for entry in manifest["shards"]:
        lineage = out.path(entry["name"].removesuffix(".bin") + ".docs.parquet")
        if sha256_file(lineage, out.fs) != entry["docs_sha256"]:
            raise ShardFormatError(f"{entry['name']}: lineage file does not match docs_sha256")
    return manifest


def _sum_stats(summaries: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    total: dict = {}
    for summary in summaries:
        for split, by_lang in summary["stats"].items():
            for lang, row in by_lang.items():
                into = total.setdefault(split, {}).setdefault(lang, dict.fromkeys(row, 0))
                for key, value in row.items():
                    into[key] += value
    return {split: dict(sorted(total[split].items())) for split in SPLITS if split in total}


def tokenize_corpus(corpus_dir: str, tokenizer_path: str, output_dir: str, job_config: TokenizeJobConfig,
                    mapper: Mapper = serial_map, keep_parts: bool = False,
                    log: Callable[[str], None] = print) -> dict[str, Any]:
    """The whole job (module docstring); `mapper` runs the per-part and per-shard work. Returns the manifest."""
    config = job_config.tokenize
    out = OutputDir(str(output_dir))
    parts = corpus_parts(corpus_dir)
    fingerprint = corpus_fingerprint(parts)
    tokenizer = load_tokenizer(str(tokenizer_path))
    tokenizer_sha256 = hashlib.sha256(read_location(str(tokenizer_path))).hexdigest()
    sep = separator_id(tokenizer, config.separator_token)
    dtype = token_dtype(tokenizer.get_vocab_size())
    identity = _identity(job_config, tokenizer_sha256, fingerprint)
    identity_sha256 = unit_hash_hex(json.dumps(identity, sort_keys=True))
    out.claim(job_config, (), identity, contents="shards")  # _run.json, then _config.toml
    if out.exists(MANIFEST_FILE):
        try:
            manifest = verify_manifest(output_dir)
        except (ShardFormatError, FileNotFoundError, KeyError) as error:
            log(f"Manifest present but the shards do not match it ({error}); completing the run")
        else:
            if manifest.get("identity_sha256") == identity_sha256:
                where = join_location(output_dir, MANIFEST_FILE)
                log(f"Up to date: {len(manifest['shards'])} shards verified against {where}")
                return manifest
    settings = Settings(absolute_location(corpus_dir), absolute_location(output_dir),
                        absolute_location(tokenizer_path), tokenizer_sha256, config, tokenizer.get_vocab_size())
    names = [part_name(part) for part in parts]
    summaries = sorted(mapper(encode_part, names, {"settings": settings}), key=lambda s: s["part"])
    if [s["part"] for s in summaries] != names:
        raise RuntimeError(f"encoded parts {[s['part'] for s in summaries]} != corpus parts {names}")
    rows_read, rows_in_footers = sum(s["rows"] for s in summaries), sum(int(f["rows"]) for f in fingerprint)
    if rows_read != rows_in_footers:
        raise RuntimeError(f"rows encoded {rows_read} != rows in the corpus files' footers {rows_in_footers}")
    log(f"Encoded {len(names)} parts: {sum(s['documents'] for s in summaries)} documents, "
        f"{sum(s['tokens'] for s in summaries)} tokens (separators included, before copies)")
    plans = plan_shards(settings.output_dir, summaries, config.shard_tokens)
    entries = mapper(pack_shard, [plan.to_json() for plan in plans],
                     {"settings": settings, "identity_sha256": identity_sha256})
    by_name = {entry["name"]: entry for entry in entries}
    shards = [{k: v for k, v in by_name[f"{plan.name}.bin"].items() if k != "plan_key"} for plan in plans]
    stats = _sum_stats(summaries)
    if config.output_format == "megatron":
        dtype = megatron_dtype(tokenizer.get_vocab_size())
        output_format = manifest_format(dtype)
    else:
        magic, version = FORMAT_OF_DTYPE[dtype]
        output_format = {"name": "nanogpt", "magic": magic, "version": version,
                         "bin": "modded-nanogpt/llm.c: 256 x int32 header (magic, version, tokens, documents, "
                                "separator id), then the tokens",
                         "idx": "TOKIDX v1: int64 token position of every document's separator",
                         "docs": "parquet: id, part, row of every document"}
    manifest = {
        "format": output_format,
        "dtype": dtype.name,
        "tokenizer": {"path": str(tokenizer_path), "sha256": tokenizer_sha256,
                      "vocab_size": tokenizer.get_vocab_size(), "separator_token": config.separator_token,
                      "separator_id": sep},
        "config": output_config(job_config)["tokenize"],
        "config_hash": output_config_hash(job_config),
        "source_corpus": {"path": str(corpus_dir), "parts": fingerprint,
                          "rows": sum(s["rows"] for s in summaries),
                          "null_text": sum(s["null_text"] for s in summaries),
                          "dropped_by_weight": sum(s["dropped_by_weight"] for s in summaries)},
        "splits": {split: {"shards": sum(1 for s in shards if s["split"] == split),
                           "tokens": sum(s["tokens"] for s in shards if s["split"] == split),
                           "documents": sum(s["documents"] for s in shards if s["split"] == split),
                           "by_language": stats.get(split, {})} for split in SPLITS},
        "shards": shards,
        "identity_sha256": identity_sha256,
    }
    out.write_bytes(MANIFEST_FILE, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    if not keep_parts and out.exists(PARTS_DIR):
        out.fs.delete_dir(out.path(PARTS_DIR))
    out.remove_temporaries(("",))  # every `*.tmp-*` a killed unit left, at any depth
    return manifest


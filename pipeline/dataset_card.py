"""The Hugging Face dataset card of a corpus: `OUT/corpus/README.md`, so the folder is a dataset repository.

Follows the Hub's card format (huggingface.co/docs/hub/datasets-cards): YAML front matter with `configs`
(the data files, as in datasets-manual-configuration) and `dataset_info.features` (the column types, as
`datasets.Features._to_yaml_list` writes them, derived here from the corpus's Arrow schema), then markdown
for people: the funnel (records read -> documents -> kept, drops by reason), languages kept, the config hash,
the command that produced the corpus and how to load it.

`render_card` is a pure function of the run's facts; `write_dataset_card` gathers them (the summary, the
corpus parts' schema, the kept languages from the run's statistics) and writes the card atomically. Same
run, same bytes: no timestamps, no output paths (two runs into different folders write the same card),
everything sorted.
Neither imports `datasets` or a YAML library: the front matter is written by the small emitter below, which
quotes every string YAML could read as something else (`no`, the Norwegian code, is a boolean to YAML 1.1).
"""
from __future__ import annotations

import re
import shlex
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipeline.config import Config
from pipeline.corpus import CORPUS, STATS, output_schema
from pipeline.outputs import OutputDir
from storage.atomic import TEMPORARY_MARK

CARD = f"{CORPUS}/README.md"
DATA_FILES = "*.parquet"  # the parts, relative to corpus/; markers and configs are not data
LANGUAGE_COLUMN = "lang"  # the langid stage's signal
UNKNOWN_LANGUAGE = "unknown"  # kept rows without a `lang` value (e.g. table inputs read without langid)
# Hub size buckets (the `size_categories` tag): upper bounds of each bucket's document count.
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
                   (10_000_000_000, "1B<n<10B"), (100_000_000_000, "10B<n<100B"), (1_000_000_000_000, "100B<n<1T"))

# Arrow type -> the `datasets` dtype name (datasets/features/features.py `_arrow_to_datasets_dtype`).
_PRIMITIVE_DTYPES: dict[pa.DataType, str] = {
    pa.null(): "null", pa.bool_(): "bool",
    pa.int8(): "int8", pa.int16(): "int16", pa.int32(): "int32", pa.int64(): "int64",
    pa.uint8(): "uint8", pa.uint16(): "uint16", pa.uint32(): "uint32", pa.uint64(): "uint64",
    pa.float16(): "float16", pa.float32(): "float32", pa.float64(): "float64",
    pa.string(): "string", pa.large_string(): "large_string", pa.binary(): "binary",
    pa.large_binary(): "large_binary", pa.date32(): "date32", pa.date64(): "date64",
}


# ------------------------------------------------------------------------------------------- features


def hf_type(type_: pa.DataType, column: str) -> dict[str, Any]:
    """The feature entry of an Arrow type without its name: {"dtype": "int64"}, {"list": "string"},
    {"list": {...nested}}, {"struct": [fields]}. ValueError naming the column for a type `datasets` has no
    name for here (maps, unions)."""
    if type_ in _PRIMITIVE_DTYPES:
        return {"dtype": _PRIMITIVE_DTYPES[type_]}
    if pa.types.is_timestamp(type_):
        return {"dtype": f"timestamp[{type_.unit}]" if type_.tz is None else f"timestamp[{type_.unit}, tz={type_.tz}]"}
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        inner = hf_type(type_.value_type, column)
        # as datasets' YAML simplifies them: `list: int64`, and a list of structs as the list of its fields
        simple = inner[next(iter(inner))] if list(inner) in (["dtype"], ["struct"]) else inner
        return {"large_list" if pa.types.is_large_list(type_) else "list": simple}
    if pa.types.is_struct(type_):
        return {"struct": [{"name": field.name, **hf_type(field.type, f"{column}.{field.name}")} for field in type_]}
    raise ValueError(f"column {column!r} has Arrow type {type_}, which the dataset card cannot name")


def hf_features(schema: pa.Schema) -> list[dict[str, Any]]:
    """`dataset_info.features` for a schema, in column order."""
    return [{"name": field.name, **hf_type(field.type, field.name)} for field in schema]


def size_category(documents: int) -> str:
    for bound, name in SIZE_CATEGORIES:
        if documents < bound:
            return name
    return "n>1T"


# ----------------------------------------------------------------------------------------------- YAML

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# YAML 1.1 reads these plain words as booleans or null (PyYAML, and so the Hub's parsers of that lineage)
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def yaml_string(text: str) -> str:
    """`text` as a YAML scalar that reads back as this string: plain when it is a simple word, otherwise
    double-quoted with every character outside printable ASCII escaped."""
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    escaped = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            escaped.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            escaped.append(char)
        else:
            escaped.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return '"' + "".join(escaped) + '"'


def yaml_scalar(value: str | int | bool | dict | list) -> str:
    if isinstance(value, (dict, list)):  # only empty ones: yaml_lines writes the others as blocks
        return "{}" if isinstance(value, dict) else "[]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return yaml_string(value)


def yaml_lines(value: Any, indent: int = 0) -> list[str]:
    """Block-style YAML of nested dicts, lists and scalars (dict keys in the order given)."""
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{yaml_string(key)}:")
                lines.extend(yaml_lines(item, indent + (2 if isinstance(item, dict) else 0)))
            else:
                lines.append(f"{pad}{yaml_string(key)}: {yaml_scalar(item)}")
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                nested = yaml_lines(item, indent + 2)
                lines.append(f"{pad}- {nested[0].lstrip()}")  # the first key on the dash's line
                lines.extend(nested[1:])
            else:
                lines.append(f"{pad}- {yaml_scalar(item)}")
        return lines
    return [pad + yaml_scalar(value)]


# ------------------------------------------------------------------------------------------- markdown


def cell(text: object) -> str:
    """Text safe inside a markdown table cell: no line breaks, pipes or HTML."""
    flat = " ".join(str(text).split())
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "&#124;")


def fenced(text: str, language: str = "") -> str:
    """A fenced code block longer than any run of backticks inside `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def funnel_section(summary: dict[str, Any]) -> list[str]:
    documents, kept = summary["documents"], summary["kept"]
    by_type = ", ".join(f"{kind} {count}" for kind, count in sorted(summary["records_by_type"].items()))
    lines = ["## Funnel", "", "| step | count | share of documents |", "|---|---:|---:|",
             f"| input files | {summary['inputs']} | |",
             f"| records read ({cell(by_type) or 'none'}) | {summary['records_read']} | |",
             f"| documents (one per response, WET conversion or table row) | {documents} | 100.0% |",
             f"| kept (this corpus) | {kept} | {percent(kept, documents)} |",
             f"| dropped | {summary['dropped']} | {percent(summary['dropped'], documents)} |", ""]
    reasons = sorted(summary["dropped_by_reason"].items(), key=lambda item: (-item[1], item[0]))
    if reasons:
        lines += ["Drops by reason (`<stage>:<reason>`, the first rule a document failed; the rows are in the "
                  "run's `rejected/` folder, not here):", "", "| reason | documents | share of documents |",
                  "|---|---:|---:|"]
        lines += [f"| `{cell(reason)}` | {count} | {percent(count, documents)} |" for reason, count in reasons]
        lines.append("")
    failed = summary["failed_inputs"]
    if failed:
        lines += [f"{len(failed)} input file(s) could not be read to the end (their readable records are counted "
                  "above):", "", "| input | records recovered | error |", "|---|---:|---|"]
        lines += [f"| {cell(f['warc_path'])} | {f['records_recovered']} | {cell(f['error'])} |" for f in failed]
        lines.append("")
    return lines


def languages_section(languages: dict[str, int] | None, kept: int) -> list[str]:
    lines = ["## Languages", ""]
    if languages is None:
        return lines + ["No language was identified in this run (no `langid` stage, so no `lang` column).", ""]
    lines += ["Documents kept per language (`lang`, fastText lid.176 codes):", "",
              "| language | documents | share of kept |", "|---|---:|---:|"]
    for code, count in sorted(languages.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"| {cell(code)} | {count} | {percent(count, kept)} |")
    return lines + [""]


def render_card(summary: dict[str, Any], schema: pa.Schema, languages: dict[str, int] | None, download_bytes: int,
                stages: Iterable[str], command: list[str]) -> str:
    """The card's text. `languages`: kept documents per `lang` value (None when the corpus has no `lang`
    column); `download_bytes`: the parts' total file size; `stages`: the run's configured stages; `command`:
    the argv that produced the corpus."""
    kept = summary["kept"]
    codes = sorted(code for code in (languages or {}) if code != UNKNOWN_LANGUAGE)
    metadata: dict[str, Any] = {"pretty_name": f"corpus {summary['config_hash'][:12]}"}
    if codes:
        metadata["language"] = codes
    # The texts are other people's web pages: no license can be claimed for them by this card.
    metadata |= {
        "license": "unknown",
        "task_categories": ["text-generation"],
        "size_categories": [size_category(kept)],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": DATA_FILES}]}],
        # No `splits`: `datasets` wants their Arrow size in bytes (num_bytes), known only after reading every
        # column of every part; the file bytes are cheap and exact.
        "dataset_info": {"config_name": "default", "features": hf_features(schema), "download_size": download_bytes},
    }
    columns = ["| column | Arrow type |", "|---|---|"] + [f"| `{cell(f.name)}` | {cell(f.type)} |" for f in schema]
    body = [
        "---", *yaml_lines(metadata), "---", "",
        f"# Corpus {summary['config_hash'][:12]}", "",
        f"{kept} documents kept of {summary['documents']} ({percent(kept, summary['documents'])}) read from "
        f"{summary['records_read']} records in {summary['inputs']} input files, by corpus-pipeline's corpus job. "
        "One row per document; `id` is the WARC-Record-ID (or the input's `id`), and `warc_path` + "
        "`warc_offset` locate the record it came from. The texts are web pages: their rights stay with their "
        "authors, and this card claims no license for them.", "",
        *funnel_section(summary),
        *languages_section(languages, kept),
        "## How it was made", "",
        f"- config hash: `{summary['config_hash']}` (the resolved config is `_config.toml` in the run's folder)",
        f"- stages: {', '.join(f'`{cell(name)}`' for name in stages)}",
        "- command (`OUT` stands for the output folder wherever it names one):", "",
        fenced(shlex.join(command), "sh"), "",
        "## Load it", "",
        "With Hugging Face `datasets` (one `train` split; `corpus` is this folder, or its repository id once "
        "uploaded to the Hub):", "",
        fenced('from datasets import load_dataset\n\n'
               'corpus = load_dataset("corpus", split="train")  # reads this card\'s configs and features\n'
               'corpus = load_dataset("parquet", data_files="corpus/*.parquet", split="train")  # the parts alone',
               "python"), "",
        "With pyarrow or pandas, read the Parquet parts (a bare `pq.read_table(\"corpus\")` would take this README "
        "for one):", "",
        fenced('import pyarrow.parquet as pq\n\n'
               'table = pq.read_table("corpus", ignore_prefixes=[".", "_", "README"])', "python"), "",
        "## Columns", "", *columns, "",
    ]
    return "\n".join(body)


# ---------------------------------------------------------------------------------------------- I/O


def corpus_parts(out: OutputDir) -> list[pafs.FileInfo]:
    """The corpus's Parquet parts, sorted by path: names starting with `_` or `.` and temporaries are not data."""
    if not out.exists(CORPUS):
        return []
    infos = out.fs.get_file_info(pafs.FileSelector(out.path(CORPUS), recursive=False))
    return sorted((info for info in infos
                   if info.type == pafs.FileType.File and info.base_name.endswith(".parquet")
                   and not info.base_name.startswith(("_", ".")) and TEMPORARY_MARK not in info.base_name),
                  key=lambda info: info.path)


def kept_languages(out: OutputDir, schema: pa.Schema) -> dict[str, int] | None:
    """Kept documents per `lang` value, from the run's statistics (OUT/stats/languages.parquet, written before
    the card: no pass over the rows), or None when the corpus has no `lang` column."""
    if LANGUAGE_COLUMN not in schema.names:
        return None
    table = out.read_parquet(f"{STATS}/languages.parquet")
    return {UNKNOWN_LANGUAGE if code is None else code: kept
            for code, kept in zip(table["lang"].to_pylist(), table["kept_documents"].to_pylist()) if kept}


def write_dataset_card(out: OutputDir, summary: dict[str, Any], config: Config, command: list[str]) -> str:
    """Write `corpus/README.md` for a finished run (after its statistics: it reads them and the parts' schema)
    and return its location as the user named the output (a path or a URI)."""
    parts = corpus_parts(out)
    schema = pq.read_schema(parts[0].path, filesystem=out.fs) if parts else output_schema(config)
    text = render_card(summary, schema, kept_languages(out, schema), sum(info.size for info in parts),
                       config.pipeline.stages, command)
    out.write_bytes(CARD, text.encode("utf-8"))
    return f"{out.uri.rstrip('/')}/{CARD}"

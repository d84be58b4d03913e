"""Small corpora for the tokenizer and trainer tests and benchmarks: the demo's article texts (12 languages, from
sample_data/texts) plus documents that break naive tokenizers, written as `part-*.parquet` files with the
corpus columns.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SAMPLE_TEXTS = Path(__file__).resolve().parents[1] / "sample_data" / "texts"
CORPUS_SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("url", pa.string()),
                           ("crawl", pa.string()), ("warc_path", pa.string()), ("warc_offset", pa.int64()),
                           ("lang", pa.string()), ("drop_reason", pa.string())])

TRICKY_TEXTS = {
    "empty": "",
    "special-strings": "A literal <|endoftext|> and <|pad|> inside a document must stay text.",
    "whitespace": "CRLF line\r\nnext\tline  two  spaces \u00a0nbsp, trailing   \n\n\n",
    "nfkc": "\ufb01ne \uff26\uff55\uff4c\uff4c \u2460 e\u0301 caf\u00e9 \u2126 x\u00b2",  # changes under NFKC
    "scripts": "emoji \U0001F600\U0001F44D\U0001F3FD, \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8, "
               "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac, \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "controls": "\x00 nul \x7f del \u200b zero-width \u202e bidi \ufeff bom",
}


def doc_id(name: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}>"


def sample_documents(with_tricky: bool = True) -> list[dict]:
    """One row per sample text (lang from its folder; `special/` has no lang), then the tricky texts."""
    rows = []
    for path in sorted(SAMPLE_TEXTS.glob("*/*.txt")):
        lang = None if path.parent.name == "special" else path.parent.name
        rows.append({"name": f"{path.parent.name}/{path.stem}", "text": path.read_text(encoding="utf-8"), "lang": lang})
    if with_tricky:
        rows += [{"name": f"tricky/{name}", "text": text, "lang": "en"} for name, text in TRICKY_TEXTS.items()]
    for i, row in enumerate(rows):
        row.update(id=doc_id(row.pop("name")), url=f"https://site.example/{i}",
                   crawl=("CC-MAIN-2026-08", "CC-MAIN-2026-13")[i % 2], warc_path="sample.warc.gz",
                   warc_offset=1000 * i, drop_reason=None)
    return rows


def write_corpus(directory: str | Path, rows: list[dict], parts: int = 3, schema: pa.Schema = CORPUS_SCHEMA,
                 row_group_rows: int = 7) -> list[Path]:
    """Rows dealt round-robin into `parts` files part-00000.parquet ... (small row groups on purpose)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for p in range(parts):
        chunk = rows[p::parts]
        table = pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in chunk], schema=schema)
        path = directory / f"part-{p:05d}.parquet"
        pq.write_table(table, path, row_group_size=row_group_rows)
        paths.append(path)
    (directory / "_config.toml").write_text("# not data\n", encoding="utf-8")
    return paths


def text_files_corpus(source_dir: str | Path, directory: str | Path, document_bytes: int = 8_000,
                      parts: int = 8) -> list[dict]:
    """A corpus from plain-text books (e.g. /work/shared/data/text/gutenberg): each book cut at blank lines
    into documents of about `document_bytes`, `lang` from SOURCES.txt ("<name> <commit> <file> language:
    xx") when present. Written round-robin into `parts` files; returns the rows."""
    source_dir = Path(source_dir)
    languages = {}
    sources = source_dir / "SOURCES.txt"
    if sources.exists():
        for line in sources.read_text(encoding="utf-8").splitlines():
            if "language:" in line:
                languages[line.split()[0]] = line.rsplit("language:", 1)[1].strip()
    rows = []
    for path in sorted(source_dir.glob("*.txt")):
        if path.name.startswith("SOURCE"):
            continue
        paragraphs = path.read_text(encoding="utf-8").split("\n\n")
        chunk: list[str] = []
        size = 0
        for i, paragraph in enumerate(paragraphs):
            chunk.append(paragraph)
            size += len(paragraph.encode("utf-8")) + 2
            if size >= document_bytes or i == len(paragraphs) - 1:
                rows.append({"id": doc_id(f"{path.stem}/{len(rows)}"), "text": "\n\n".join(chunk),
                             "lang": languages.get(path.stem), "url": f"https://books.example/{path.stem}",
                             "crawl": "gutenberg", "warc_path": path.name, "warc_offset": len(rows),
                             "drop_reason": None})
                chunk, size = [], 0
    write_corpus(directory, rows, parts=parts, row_group_rows=1000)
    return rows

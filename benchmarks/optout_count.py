"""Count the pages of real WARCs (and real HTML pages) that opt out of AI training, per source, with the
pipeline's own reading path and the `optout` stage's pre-check (filters/optout.py).

    .venv/bin/python benchmarks/optout_count.py ../shared/data/warc ../shared/data/warc/misc \
        --html ../shared/data/extraction/dev ../shared/data/extraction/readability

WARC inputs (files or folders; `.warc`, `.warc.gz`, WET/WAT files skipped) are read with `iter_records` and
`response_document`, with a cascade holding only the opt-out pre-check and no trafilatura, so a page counts
exactly when a corpus run drops it as `optout:*`. Beside the drops it counts what a page said that the stage
does not honour (any X-Robots-Tag header, any robots or crawler <meta>, any tdm-* header or meta), so the
numbers show what the real records hold, not only what the rules catch. `--html` folders: every `*.html`
below them, decoded as extraction decodes it, with no headers (the pages were saved without them): only the
<meta> sources can speak there. Prints one Markdown table for benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contract.stage import RECORD_ONLY_PARTS  # noqa: E402
from filters.optout import OptoutConfig, OptoutStage, html_head, meta_tags, optout_signals  # noqa: E402
from pipeline.cascade import Cascade, precheck_settings  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.extract import response_document  # noqa: E402
from pipeline.http import decode_html, decoded_body, parse_response  # noqa: E402
from pipeline.warc import WarcFileError, iter_records  # noqa: E402

REASONS = ("optout:x_robots_tag", "optout:tdm_reservation", "optout:meta_robots")
_CRAWLER_META = re.compile(r"robots|x-robots-tag|[a-z0-9_.\-]*bot|tdm-.*")


class _NoExtraction:
    """Stands in for the trafilatura sandbox: only what happens before extraction is counted."""

    def extract(self, html: str) -> tuple[str | None, str | None]:
        return None, "no_text"


def warc_files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for path in map(Path, paths):
        candidates = sorted(path.iterdir()) if path.is_dir() else [path]
        found += [p for p in candidates if p.is_file() and re.search(r"\.warc(\.gz)?$", p.name)
                  and not re.search(r"\.(wet|wat)\.", p.name)]
    return found


def _directive(item: str) -> str:
    """A robots item lowercased, without the value of a valued directive ("unavailable_after: <date>")."""
    item = item.strip().lower()
    return item.split(":", 1)[0] if item.startswith(("unavailable_after", "max-")) else item


def said(headers: tuple[tuple[str, str], ...], html: str, config: OptoutConfig) -> Counter:
    """What the page says about robots and TDM at all, honoured or not."""
    seen: Counter = Counter()
    seen["x-robots-tag header"] += any(name == "x-robots-tag" for name, _ in headers)
    seen["tdm-* header"] += any(name.startswith("tdm-") for name, _ in headers)
    metas = meta_tags(html_head(html, config.head_scan_chars)) if html else []
    names = {name for name, _ in metas}
    for name, content in metas:  # every robots directive seen, as "name: directive"
        if _CRAWLER_META.fullmatch(name) and not name.startswith("tdm-"):
            seen.update(f"said {name}: {_directive(item)}" for item in content.split(",") if item.strip())
    for name, value in headers:
        if name == "x-robots-tag" or name.startswith("tdm-"):
            seen.update(f"said {name} header: {_directive(item)}" for item in value.split(",") if item.strip())
    seen["robots/crawler <meta>"] += any(_CRAWLER_META.fullmatch(name) and not name.startswith("tdm-")
                                        for name in names)
    seen["tdm-* <meta>"] += any(name.startswith("tdm-") for name in names)
    return seen


def count_warc(path: Path, cascade: Cascade, config) -> Counter:
    counts: Counter = Counter()
    try:
        for record in _records(path, config.extract.max_payload_bytes):
            if record.record_type != "response":
                continue
            counts["responses"] += 1
            sandbox = _NoExtraction()
            doc = response_document(record, str(path), None, config.extract, sandbox, cascade)  # type: ignore[arg-type]
            reason = doc.get("drop_reason")
            if reason in REASONS or reason == "extract:no_text":  # no_text: reached extraction, so it was checked
                counts["html pages checked"] += 1
                counts[reason if reason in REASONS else "kept"] += 1
                response = parse_response(record.block)  # parsed once already: no PayloadError here
                body = decoded_body(response, config.extract.max_payload_bytes)
                counts.update(said(response.header_lines, decode_html(body, None)[0], config.optout))
    except WarcFileError as error:  # a clipped file: the records before the cut are counted
        counts["file errors"] += 1
        print(f"{path}: {error}", file=sys.stderr)
    return counts


def _records(path: Path, max_bytes: int):
    with open(path, "rb") as stream:
        yield from iter_records(stream, max_bytes)


def count_html(folder: Path, config: OptoutConfig) -> Counter:
    counts: Counter = Counter()
    for path in sorted(folder.rglob("*.html")):
        if path.name == "expected.html":  # the readability set's expected output, not a page
            continue
        html = decode_html(path.read_bytes(), None)[0]
        counts["html pages checked"] += 1
        signals = optout_signals((), html, config)
        reason = next((f"optout:{rule.name}" for rule in OptoutStage.rules(config) if rule.fails(signals)), "kept")
        counts[reason] += 1
        counts.update(said((), html, config))
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warcs", nargs="*", help="WARC files or folders of them")
    parser.add_argument("--html", nargs="*", default=[], help="folders of saved real HTML pages (no headers)")
    args = parser.parse_args(argv)
    config = load_config(None, [])
    cascade = Cascade([OptoutStage(config.optout)], precheck_settings(config.extract), RECORD_ONLY_PARTS)
    rows = [(str(path), count_warc(path, cascade, config)) for path in warc_files(args.warcs)]
    rows += [(str(folder) + " (HTML only)", count_html(Path(folder), config.optout)) for folder in args.html]
    seen_columns = ("x-robots-tag header", "tdm-* header", "robots/crawler <meta>", "tdm-* <meta>")
    columns = ("responses", "html pages checked", *REASONS, "kept", *seen_columns)
    print("| source | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    total: Counter = Counter()
    for name, counts in rows:
        total.update(counts)
        print(f"| {name} | " + " | ".join(str(counts[c]) for c in columns) + " |")
    print("| total | " + " | ".join(str(total[c]) for c in columns) + " |")
    print("\nDirectives seen (occurrences), honoured or not: " + ", ".join(
        f"`{key[5:]}` {count}" for key, count in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))
        if key.startswith("said ")))


if __name__ == "__main__":
    main()

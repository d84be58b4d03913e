"""The whole report page, OUT/report/index.html: the sections in order, a nav bar, the page's numbers as
embedded JSON (tests compare them with OUT/stats/), and a Content-Security-Policy that allows only the inline
style and script by their sha256. `write_report` reads the run's stats and writes the page."""
from __future__ import annotations

from typing import Any

import pyarrow as pa

from pipeline.inputs import is_uri
from pipeline.outputs import OutputDir
from pipeline.stats.rules import all_rules, threshold_rules
from pipeline.stats.store import (ensure_stats, read_run_config, read_signal_histograms, read_stats_tables,
                                  refresh_tokens)
from pipeline.stats.tables import TABLE_SCHEMAS
from reporting.assets import SCRIPT, STYLE
from reporting.markup import csp_hash, script_json
from reporting.sections import (
    keyed_section, section_benchmarks, section_clusters, section_funnel, section_perplexity, section_pii,
    section_reasons, section_rules, section_samples,
    section_signals, section_summary, section_tokens, section_whatif,
)
from reporting.svg import CURVE
from reporting.views import HISTOGRAM_COLUMNS, report_numbers, signal_views

REPORT = "report/index.html"


def render(summary: dict[str, Any], tables: dict[str, pa.Table], bars: dict[str, dict[str, Any]],
           whatifs: list[dict[str, Any]], config: Any) -> str:
    """The whole page from the stats, `signal_views` and the run's config (pure: same inputs, same string)."""
    rules = threshold_rules(config)
    data = {"numbers": report_numbers(summary, tables), "whatif": whatifs, "whatif_curve": CURVE}
    policy = (f"default-src 'none'; script-src {csp_hash(SCRIPT)}; style-src {csp_hash(STYLE)}; img-src 'none'; "
              "base-uri 'none'; form-action 'none'")
    nav = "".join(f'<a href="#{anchor}">{name}</a>' for anchor, name in (
        ("summary", "summary"), ("funnel", "funnel"), ("reasons", "reasons"), ("rules", "rules"),
        ("languages", "languages"), ("crawls", "crawls"), ("domains", "domains"), ("signals", "signals"), ("whatif", "what-if"),
        ("clusters", "clusters"), ("pii", "PII"), ("tokens", "tokens"), ("samples", "samples")))
    body = [
        section_summary(summary), section_funnel(summary), section_reasons(tables, summary["documents"]),
        section_rules(all_rules(config), summary),
        keyed_section("languages", "Languages", tables["languages"].to_pylist(), "lang"),
        keyed_section("crawls", "Crawls", tables["crawls"].to_pylist(), "crawl"),
        keyed_section("domains", "Top domains", tables["domains"].to_pylist(), "domain"),
        section_signals(summary, tables, bars, rules), section_whatif(whatifs), section_perplexity(tables),
        section_benchmarks(tables), section_clusters(summary, tables),
        section_pii(tables), section_tokens(summary, tables), section_samples(summary, tables, rules),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Corpus report</title><style>{STYLE}</style></head><body>"
        f"<h1>Corpus report</h1><nav>{nav}</nav>" + "".join(body)
        + f'<script type="application/json" id="report-data">{script_json(data)}</script>'
        + f"<script>{SCRIPT}</script></body></html>\n"
    )


def write_report(uri: str) -> str:
    """Write OUT/report/index.html (stats are computed first if the output has none); returns its location:
    the local path, or the URI for an output on an object store (the page is written beside the run, where
    its stats are, on every filesystem)."""
    out = OutputDir(uri)
    summary = refresh_tokens(out, ensure_stats(out))
    config, _ = read_run_config(out)
    tables = read_stats_tables(out, [name for name in TABLE_SCHEMAS if name != "histograms"])  # streamed below
    bars, whatifs = signal_views(read_signal_histograms(out, HISTOGRAM_COLUMNS), summary, tables["quantiles"], config)
    page = render(summary, tables, bars, whatifs, config)
    out.write_bytes(REPORT, page.encode("utf-8"))
    return out.uri_of(REPORT) if is_uri(uri) else out.path(REPORT)

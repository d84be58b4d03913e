"""HTML text for the report: escaping (every crawled string goes through `esc`), JSON safe inside a
<script> block, the CSP hash of inline sources, number formats and plain tables."""
from __future__ import annotations

import base64
import hashlib
import html
import json
from typing import Any, Iterable, Sequence


def esc(value: Any) -> str:
    """Text for HTML content and attribute values: every crawled string goes through here."""
    return html.escape("" if value is None else str(value), quote=True)


def script_json(value: Any) -> str:
    """JSON for a <script type="application/json"> block: `<`, `>` and `&` escaped, so `</script>` in a
    document cannot end the block; ensure_ascii also escapes U+2028/2029."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def csp_hash(source: str) -> str:
    """The Content-Security-Policy source that allows exactly this inline script or style."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def fmt_count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def fmt_value(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def label(reason: str | None) -> str:
    return "kept" if reason is None else reason


def key_label(key: str | None) -> str:
    return "(none)" if key is None else key


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], left: int = 1) -> str:
    """A table whose first `left` columns are text (left-aligned); every cell is escaped."""
    head = "".join(f'<th class="l">{esc(h)}</th>' if i < left else f"<th>{esc(h)}</th>" for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = "".join(f'<td class="l">{esc(c)}</td>' if i < left else f"<td>{esc(c)}</td>" for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"

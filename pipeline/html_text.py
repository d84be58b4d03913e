"""resiliparse's fast text of a page, for the checks that run beside trafilatura: the cascade's pre-checks
(pipeline/cascade.py, in the worker) and the extraction child's length check (pipeline/extract_strategy.py).

resiliparse's main-content extraction grows steeply with the depth of the element tree (measured: 4 ms at
500 nested elements, 0.5 s at 4,000, no answer within 300 s at 100,000), and the cascade runs it in the
worker process, outside the extraction sandbox's limits. A page nested deeper than `MAX_TREE_DEPTH` is
therefore treated like one resiliparse cannot parse: no fast text, and the full (sandboxed) path decides.
Real pages are far shallower (the 50 CleanEval pages checked: median depth 15, deepest 32); the depth test
is one CSS query in lexbor's C code (~0.2 ms a page).
"""
from __future__ import annotations

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLParserException, HTMLTree

MAX_TREE_DEPTH = 512  # elements nested deeper than this: no fast text
_TOO_DEEP_SELECTOR = " > ".join(["*"] * MAX_TREE_DEPTH)  # matches only at depth >= MAX_TREE_DEPTH


def fast_texts(html: str, visible: bool, main: bool) -> tuple[str, str] | None:
    """(all visible text, main-content text) by resiliparse from one parse; "" for the one not asked for.
    None when resiliparse cannot parse the page or it is nested too deep (the full path then decides)."""
    try:
        tree = HTMLTree.parse(html)
        if tree.document is None or tree.document.query_selector(_TOO_DEEP_SELECTOR) is not None:
            return None
        return (extract_plain_text(tree, main_content=False) if visible else "",
                extract_plain_text(tree, main_content=True) if main else "")
    except (HTMLParserException, UnicodeError):  # UnicodeError: lone surrogates resiliparse cannot encode
        return None

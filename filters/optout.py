"""The `optout` stage: drop responses whose HTTP headers or HTML say no to AI training or text and data mining.

A growing share of the web says, in the very response a crawler stored, that it does not want to be trained on.
This stage reads that answer from the WARC response (the "http" page part: its header lines and the head of
its decoded HTML) before anything is extracted, and honours three sources, each its own rule:

1. `optout:x_robots_tag`: an `X-Robots-Tag` header with `noai` or `noimageai` (addressed to anyone, or to
   any named agent: the directive itself is about AI use), or with `noindex` / `none` addressed to an AI
   training crawler of `optout.agents` (`X-Robots-Tag: CCBot: noindex`). Several headers and comma lists are
   read; a `name:` prefix sets the agent for the directives that follow it on that line, as Google documents
   (`X-Robots-Tag: googlebot: noindex, nofollow`), except the directives that carry a value themselves
   (`unavailable_after: ...`, `max-snippet: ...`).
2. `optout:tdm_reservation`: the W3C TDM Reservation Protocol (TDMRep, Community Group report 2024): a
   `tdm-reservation: 1` header or `<meta name="tdm-reservation" content="1">`. Only "1" reserves; "0" and
   anything malformed reserve nothing, as the protocol says. A `tdm-policy` (header or meta) is a URL of the
   licence offered: it is not fetched, only recorded (`optout_tdm_policy`) on the page dropped by the
   reservation; a policy without a reservation opts nothing out.
3. `optout:meta_robots`: `<meta name="robots" content="noai">` (or `noimageai`; also `http-equiv` instead of
   `name`, and `X-Robots-Tag` as the name), and per-agent meta names (`<meta name="CCBot" content="noindex">`,
   `<meta name="GPTBot" content="noai">`): an agent of `optout.agents` saying `noindex`, `none`, `noai` or
   `noimageai`, any other crawler's name (one ending in "bot", such as googlebot) saying `noai` or `noimageai`.

Not honoured (README, "Opt-out"): a plain `noindex` for every robot (a search-engine directive that login and
search-result pages carry for reasons of their own) or addressed to a search crawler; `nofollow`,
`noarchive`, `nosnippet`; robots.txt (not in a WARC: Common Crawl's crawler applied it when it fetched),
`ai.txt`, TDMRep's `/.well-known/tdmrep.json` and TDM policy documents behind URLs (nothing is fetched).
JSONL/Parquet rows and WET conversion records carry no headers or HTML: the stage decides nothing there.

Matching is case-insensitive and tolerant: header lines without a colon are skipped by the HTTP parser,
unknown tokens and empty list items are ignored, and the HTML is scanned with a few bounded regular
expressions over its first `optout.head_scan_chars` characters up to `</head>` (comments removed), never
parsed: a `<meta>` after the head or past that prefix is not seen.

The decision depends on the record alone, so it is taken in the pre-check, which runs whether the cascade is
on or off (contract/stage.py, `RECORD_ONLY_PARTS`); `measure` on a document row reads back the signals the
pre-check wrote, so with `compute_all_signals` a dropped row keeps them. An opted-out page is never extracted:
its text does not reach the output in any mode.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import pyarrow as pa

from contract.bounds import bounded
from contract.stage import Document, DocumentStage, Page, PrecheckSettings, Rule, flag

AI_DIRECTIVES = frozenset({"noai", "noimageai"})  # opt out whoever they are addressed to
AGENT_DIRECTIVES = AI_DIRECTIVES | {"noindex", "none"}  # opt out when addressed to an AI training crawler
# Robots directives that carry a value after a colon: "unavailable_after: 25 Jun 2010" names no agent.
_VALUED_DIRECTIVES = frozenset({"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"})
_AGENT_PREFIX = re.compile(r"\s*([a-z0-9][a-z0-9_.\-]*)\s*:(.*)", re.DOTALL)
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_META_TAG = re.compile(r"<meta\b([^<>]{0,4000})>?", re.IGNORECASE)  # bounded: no scan to the end per "<meta"
_ATTRIBUTE = re.compile(r"""([a-z_:][a-z0-9_:.\-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.IGNORECASE)
_ROBOTS_NAMES = ("robots", "x-robots-tag")  # <meta> names addressed to every robot
# Other <meta> names read as a crawler's: `optout.agents` and names like "googlebot", "bingbot"; never
# "description" or "keywords", whose free text may hold "noai" as a word.
_BOT_NAME = re.compile(r"[a-z0-9_.\-]*bot")


@dataclass(frozen=True)
class OptoutConfig:
    """Settings of the `optout` stage."""

    # User agents of AI training crawlers, compared lowercased: their `noindex` / `none` counts as an opt-out.
    # CCBot crawled the records this pipeline reads; the rest train models from the web.
    agents: tuple[str, ...] = ("ccbot", "gptbot", "chatgpt-user", "google-extended", "anthropic-ai", "claudebot",
                               "claude-web", "cohere-ai", "applebot-extended", "bytespider", "meta-externalagent",
                               "perplexitybot", "omgilibot", "diffbot", "amazonbot", "ai2bot")
    # Characters of decoded HTML scanned for <meta> tags (up to </head> when it comes first).
    head_scan_chars: int = bounded(65536, ge=1, le=1 << 24)


def _directives(value: str) -> Iterator[tuple[str | None, str]]:
    """(agent or None, directive) for each item of one robots value, all lowercased: "noai, GPTBot: noindex"
    gives (None, "noai"), ("gptbot", "noindex"). An `agent:` prefix holds for the items after it."""
    agent = None
    for item in value.lower().split(","):
        match = _AGENT_PREFIX.fullmatch(item)
        if match and match.group(1) not in _VALUED_DIRECTIVES:
            agent, item = match.group(1), match.group(2)
        directive = item.strip()
        if directive:
            yield agent, directive


def robots_optout(values: Iterable[tuple[str | None, str]], agents: frozenset[str]) -> str | None:
    """The first (agent, robots value) pair that opts out, as "agent: directive" or "directive"; None if none.
    The agent given with a value (a meta tag's name) is the default for its items."""
    for default_agent, value in values:
        for agent, directive in _directives(value):
            agent = agent or default_agent
            if directive in AI_DIRECTIVES or (directive in AGENT_DIRECTIVES and agent in agents):
                return f"{agent}: {directive}" if agent else directive
    return None


def html_head(html: str, max_chars: int) -> str:
    """The first `max_chars` characters of `html` up to `</head>`, with comments removed (a commented-out
    meta tag says nothing). A loop of finds, not a regex: linear whatever the comments."""
    head = html[:max_chars]
    end = _HEAD_END.search(head)
    head = head[: end.start()] if end else head
    pieces, position = [], 0
    while (start := head.find("<!--", position)) >= 0:
        pieces.append(head[position:start])
        close = head.find("-->", start + 4)
        if close < 0:
            return "".join(pieces)
        position = close + 3
    pieces.append(head[position:])
    return "".join(pieces)


def meta_tags(head: str) -> list[tuple[str, str]]:
    """(name lowercased, content stripped) of each <meta> with a `name` (or `http-equiv`) and a `content`."""
    tags = []
    for tag in _META_TAG.finditer(head):
        attributes: dict[str, str] = {}
        for attribute in _ATTRIBUTE.finditer(tag.group(1)):
            value = next(group for group in attribute.groups()[1:] if group is not None)
            attributes.setdefault(attribute.group(1).lower(), value)
        name = attributes.get("name") or attributes.get("http-equiv")
        if name is not None and "content" in attributes:
            tags.append((name.strip().lower(), attributes["content"].strip()))
    return tags


def _first_value(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in pairs if key == name and value), None)


def optout_signals(http_headers: Iterable[tuple[str, str]], html: str, config: OptoutConfig) -> dict[str, Any]:
    """The stage's signals for one response: each source's opt-out, or None where it says nothing."""
    agents = frozenset(agent.lower() for agent in config.agents)
    headers = [(name.lower(), value) for name, value in http_headers]
    metas = meta_tags(html_head(html, config.head_scan_chars)) if html else []
    x_robots = robots_optout(((None, value) for name, value in headers if name == "x-robots-tag"), agents)
    reservation = None
    if any(value.strip().strip("\"'") == "1" for name, value in headers if name == "tdm-reservation"):
        reservation = "header"
    elif any(value.strip("\"'") == "1" for name, value in metas if name == "tdm-reservation"):
        reservation = "meta"
    policy = _first_value(headers, "tdm-policy") or _first_value(metas, "tdm-policy")
    meta_robots = robots_optout(((None if name in _ROBOTS_NAMES else name, value) for name, value in metas
                                 if name in _ROBOTS_NAMES or name in agents or _BOT_NAME.fullmatch(name)), agents)
    return {"optout_x_robots_tag": x_robots, "optout_tdm_reservation": reservation,
            "optout_tdm_policy": policy.strip() if reservation and policy else None,
            "optout_meta_robots": meta_robots}



class OptoutStage(DocumentStage):
    """Drops responses that opt out of AI training or TDM in their headers or HTML head."""

    name = "optout"
    config_class = OptoutConfig
    fields = (
        pa.field("optout_x_robots_tag", pa.string()),  # the X-Robots-Tag directive that opted out ("gptbot: noai")
        pa.field("optout_tdm_reservation", pa.string()),  # "header" or "meta": where tdm-reservation was 1
        pa.field("optout_tdm_policy", pa.string()),  # the tdm-policy URL given with that reservation (not fetched)
        pa.field("optout_meta_robots", pa.string()),  # the <meta> robots directive that opted out ("ccbot: noindex")
    )

    def __init__(self, config: OptoutConfig | None = None) -> None:
        self.config = config if config is not None else OptoutConfig()

    def measure(self, doc: Document) -> dict[str, Any]:
        """Nothing new: a document row has no headers or HTML; the pre-check wrote the signals where it
        dropped, and they are kept as they are (null on every other row)."""
        return {}

    @classmethod
    def rules(cls, config: OptoutConfig) -> tuple[Rule, ...]:
        return (
            flag("x_robots_tag", "optout_x_robots_tag",
                 "an X-Robots-Tag header says noai/noimageai, or noindex to an AI crawler (optout.agents)"),
            flag("tdm_reservation", "optout_tdm_reservation",
                 "TDM rights reserved (W3C TDMRep: tdm-reservation 1, header or <meta>)"),
            flag("meta_robots", "optout_meta_robots",
                 "a robots <meta> says noai/noimageai, or an AI crawler's <meta> (optout.agents) says noindex"),
        )

    def precheck_reads(self, settings: PrecheckSettings) -> str | None:
        return "http"

    def precheck(self, page: Page, settings: PrecheckSettings) -> tuple[dict[str, Any], str | None]:
        """The stage's decision on the record's headers and HTML head: signals only where it drops."""
        signals = optout_signals(page.http_headers, page.html, self.config)
        rule = self.decide(signals)
        return (signals, f"{self.name}:{rule}") if rule is not None else ({}, None)

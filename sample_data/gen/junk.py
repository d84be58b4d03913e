"""Pages and responses a pipeline must drop: boilerplate, spam and lorem ipsum (left to the filters), and
non-HTML, non-200, empty-extraction and oversized responses (dropped with a named `expected_reason`).
"""
from __future__ import annotations

import json
import random
import struct
import zlib
from datetime import datetime, timedelta

from .exchange import Exchange, html_exchange, make_view
from .pages import esc, render_blog, render_boilerplate_listing, render_simple_page
from .texts import Text

OVERSIZED_TARGET_BYTES = 1_200_000  # the pipeline tests set payload caps below this

# Junk page words: short texts, so they live here rather than in texts/.
SPAM_KEYWORDS = ["replica watches", "cheap watches", "luxury watches", "watches sale", "discount watches"]
SPAM_CITIES = ["london", "paris", "new york", "berlin", "madrid", "rome", "tokyo", "sydney", "dubai", "toronto",
               "chicago", "amsterdam", "vienna", "warsaw", "lisbon", "oslo", "dublin", "prague", "milan", "zurich"]
LOREM_WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
               "et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip "
               "ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla "
               "pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt mollit "
               "anim id est laborum").split()


def build_oversized_page(texts: dict[str, Text], rng: random.Random) -> Exchange:
    """An article with a ~1.2 MB observation table; `payload_bytes` is the HTTP body size."""
    text = texts["special/oversized-en"]
    url = f"https://{text.site}/observations/daily-1990-2025/"
    head = render_blog(make_view(text, url, texts, rng)).split("</article>")
    rows, day = [], datetime(1990, 3, 1)
    skies = ["clear", "fair", "cloudy", "overcast", "light rain", "showers", "heavy rain", "fog", "frost", "snow"]
    winds = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"]
    table_head = ("<table class=\"observations\">\n<thead><tr><th>Date</th><th>Min (C)</th><th>Max (C)</th>"
                  "<th>Rain (mm)</th><th>Wind</th><th>Sky</th></tr></thead>\n<tbody>\n")
    size = len(head[0]) + len(table_head) + len(head[1]) + 40
    while size < OVERSIZED_TARGET_BYTES:
        low = round(rng.uniform(-6, 14), 1)
        row = (f"<tr><td>{day:%Y-%m-%d}</td><td>{low}</td><td>{round(low + rng.uniform(2, 12), 1)}</td>"
               f"<td>{round(max(0.0, rng.gauss(1.5, 3.0)), 1)}</td><td>{rng.choice(winds)}</td>"
               f"<td>{rng.choice(skies)}</td></tr>\n")
        rows.append(row)
        size += len(row)
        day += timedelta(days=1)
    page = head[0] + table_head + "".join(rows) + "</tbody>\n</table>\n</article>" + head[1]
    ex = html_exchange(text.key, url, "oversized", "en", page, labels={"title": text.title})
    ex.expected_reason = "warc:payload_too_large"
    ex.labels["payload_bytes"] = len(ex.body)
    return ex


def build_boilerplate_pages(rng: random.Random) -> list[Exchange]:
    listing = render_boilerplate_listing("en", "www.kitchen-table.example", "Soups and stews",
                                         "All our soup and stew recipes in one place.", [
        ("A weeknight red lentil soup", "Thirty minutes, one pot and a squeeze of lemon.",
         "/2025/weeknight-lentil-soup/"),
        ("Winter vegetable stew", "A hearty dish for cold evenings.", "/2025/winter-vegetable-stew/"),
        ("Chicken noodle soup", "Comfort in a bowl.", "/2024/chicken-noodle-soup/"),
        ("Ten tips for better stock", "Our readers share their secrets.", "/2024/better-stock/"),
    ])
    tag_page = render_boilerplate_listing("de", "www.radwege-im-norden.example", "Schlagwort: Fahrrad",
                                          "Alle Beiträge zum Thema Fahrrad.", [
        ("Mit dem Fahrrad an der Elbe entlang", "Fünf Tage von Magdeburg nach Hamburg.", "/2025/radtour-elbe/"),
        ("Die besten Fahrradschlösser", "Unser großer Vergleich.", "/2025/fahrradschloesser/"),
        ("Reifenpanne? Kein Problem", "So geht es schnell.", "/2024/reifenpanne/"),
    ])
    sign_in = render_simple_page("en", "Sign in", (
        "<h1>Sign in</h1>\n<form action=\"/login\" method=\"post\">"
        "<label>E-mail <input type=\"email\" name=\"email\"></label> "
        "<label>Password <input type=\"password\" name=\"password\"></label> "
        "<label><input type=\"checkbox\" name=\"remember\"> Remember me</label> <button>Sign in</button></form>\n"
        "<p>Please sign in to continue.</p>\n"
        "<p><a href=\"/forgot\">Forgot your password?</a> | <a href=\"/register\">Create an account</a></p>\n"),
        "www.two-wheel-tales.example")
    paywall = render_simple_page("en", "Members only", (
        "<h1>The secret history of the canal locks</h1>\n"
        "<p>This article is available to members only.</p>\n"
        "<p><a href=\"/join\">Join now</a> | <a href=\"/login\">Sign in</a> | <a href=\"/help\">Help</a></p>\n"),
        "www.riverside-chronicle.example", cookie_wall=True)
    coming_soon = render_simple_page("en", "Coming soon", (
        "<h1>Coming soon</h1>\n<p>Our new online shop opens in spring.</p>\n"
        "<p><a href=\"/\">Home</a> | <a href=\"/contact/\">Contact</a> | <a href=\"/imprint/\">Imprint</a></p>\n"),
        "www.garden-notes.example")
    pages = [  # (name, url, lang, html)
        ("boilerplate/listing", "https://www.kitchen-table.example/category/soups/", "en", listing),
        ("boilerplate/tag", "https://www.radwege-im-norden.example/schlagwort/fahrrad/", "de", tag_page),
        ("boilerplate/sign-in", "https://www.two-wheel-tales.example/login?next=/members/", "en", sign_in),
        ("boilerplate/paywall", "https://www.riverside-chronicle.example/members/canal-locks-history/", "en", paywall),
        ("boilerplate/coming-soon", "https://shop.garden-notes.example/", "en", coming_soon),
    ]
    return [html_exchange(name, url, "boilerplate", lang, page) for name, url, lang, page in pages]


def build_spam_pages(rng: random.Random) -> list[Exchange]:
    host = "www.best-cheap-watches-online.example"
    stuffed = " ".join(
        f"Buy {kw} {city} best price, cheap {kw} online free shipping, {kw} sale {city}."
        for kw in SPAM_KEYWORDS for city in rng.sample(SPAM_CITIES, 6))
    keyword_page = render_simple_page("en", "Buy Cheap Replica Watches Best Price Online Free Shipping", (
        "<h1>Buy cheap replica watches best price</h1>\n"
        f"<p>{esc(stuffed)}</p>\n"
        "<p>BUY NOW!!! BEST PRICE GUARANTEED!!! CHEAP WATCHES CHEAP WATCHES CHEAP WATCHES</p>\n"),
        host)
    # <br>-separated lines: trafilatura keeps repeated lines there (it drops repeated identical <p> elements)
    repeated = "<br>\n".join("Best casino bonus 2026, free spins no deposit, win real money now!" for _ in range(40))
    repeat_page = render_simple_page("en", "Best Casino Bonus 2026 Free Spins", (
        f"<h1>Best casino bonus 2026</h1>\n<div class=\"promo\">{repeated}</div>\n"
        "<p><a href=\"/go\">CLAIM YOUR BONUS</a></p>\n"),
        "www.top-casino-bonus-2026.example")
    links = "".join(f'<li><a href="/cheap-flights-{c.replace(" ", "-")}">cheap flights {c} best price</a></li>\n'
                    for c in SPAM_CITIES)
    link_farm = render_simple_page("en", "Cheap Flights Cheap Hotels Best Price", (
        "<h1>Cheap flights cheap hotels best price</h1>\n<ul>\n" + links + links.replace("flights", "hotels") +
        "</ul>\n<p>cheap flights cheap hotels cheap car hire best price best deals book now</p>\n"),
        "www.cheap-flights-hotels-deals.example")
    kredit_words = ["heute", "Berlin", "München", "Hamburg", "Köln", "billig", "schnell", "sicher", "online", "jetzt"]
    kredit = " ".join(f"Kredit sofort {w}, günstiger Kredit {w} ohne Schufa, Sofortkredit {w} online."
                      for w in kredit_words)
    kredit_page = render_simple_page("de", "Kredit sofort ohne Schufa günstig online", (
        f"<h1>Kredit sofort ohne Schufa</h1>\n<p>{esc(kredit)}</p>\n"
        "<p>JETZT KREDIT SICHERN!!! JETZT KREDIT SICHERN!!!</p>\n"),
        "www.kredit-sofort-ohne-schufa.example")
    pages = [  # (name, url, lang, html)
        ("spam/watches", f"https://{host}/replica-watches-cheap-best-price.html", "en", keyword_page),
        ("spam/casino", "https://www.top-casino-bonus-2026.example/free-spins/", "en", repeat_page),
        ("spam/link-farm", "https://www.cheap-flights-hotels-deals.example/", "en", link_farm),
        ("spam/kredit", "https://www.kredit-sofort-ohne-schufa.example/kredit-sofort.html", "de", kredit_page),
    ]
    return [html_exchange(name, url, "spam", lang, page) for name, url, lang, page in pages]


def lorem_paragraph(rng: random.Random, sentences: int, first: bool = False) -> str:
    out = ["Lorem ipsum dolor sit amet, consectetur adipiscing elit."] if first else []
    while len(out) < sentences:
        words = [rng.choice(LOREM_WORDS) for _ in range(rng.randint(7, 16))]
        if len(words) > 8:
            words[rng.randint(3, len(words) - 3)] += ","
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def build_lorem_pages(rng: random.Random) -> list[Exchange]:
    exchanges = []
    for i, (host, title) in enumerate([("www.new-theme-demo.example", "Sample Page"),
                                       ("www.bakery-template.example", "About Our Bakery")]):
        main = f"<h1>{title}</h1>\n" + "".join(
            f"<p>{lorem_paragraph(rng, rng.randint(4, 7), first=(j == 0))}</p>\n" for j in range(rng.randint(3, 5)))
        page = render_simple_page("en", title, main, host).replace('<html lang="en">', "<html>")
        exchanges.append(html_exchange(f"lorem/{i}", f"https://{host}/sample-page/", "lorem", None, page))
    return exchanges


def png_bytes(width: int = 24, height: int = 16) -> bytes:
    """A small RGB gradient PNG, built by hand (signature, IHDR, IDAT, IEND)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    raw = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 10, y * 15, 120)) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def pdf_bytes(line: str) -> bytes:
    """A one-page PDF 1.4 showing one line of text, with a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 72 720 Td ({line}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def build_other_responses(rng: random.Random) -> list[Exchange]:
    """Non-HTML, non-200 and empty-extraction responses."""
    not_html = "extract:not_html"
    observations = [{"date": f"2026-02-{d:02d}", "min_c": round(rng.uniform(-4, 6), 1),
                     "max_c": round(rng.uniform(4, 12), 1), "rain_mm": round(rng.uniform(0, 8), 1)}
                    for d in range(1, 11)]
    json_body = json.dumps({"station": "millbrook-allotments", "unit": "metric", "observations": observations},
                           indent=2, sort_keys=True).encode("utf-8")
    error_404 = render_simple_page("en", "Page not found", (
        "<h1>404 - Page not found</h1>\n<p>Sorry, the page you are looking for does not exist or has been moved.</p>\n"
        "<p><a href=\"/\">Back to the home page</a></p>\n"), "www.kitchen-table.example").encode("utf-8")
    redirect_target = "https://www.garden-notes.example/2025/tomatoes-from-seed/"
    redirect_body = (f'<html><head><title>301 Moved Permanently</title></head><body><h1>Moved Permanently</h1>'
                     f'<p>The document has moved <a href="{redirect_target}">here</a>.</p></body></html>\n').encode()
    error_500 = (b"<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head><body>\n"
                 b"<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to "
                 b"complete your request.</p>\n<hr><address>nginx</address>\n</body></html>\n")
    empty_page = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Garden Planner</title>\n'
                  '<script>window.__INITIAL_STATE__ = {"user": null, "beds": [], "version": "4.2.1"};</script>\n'
                  '</head>\n<body>\n<div id="root"></div>\n<div class="modal-container"></div>\n'
                  '<div id="toast"></div>\n<noscript></noscript>\n<script src="/static/js/app.3f9c2b.js"></script>\n'
                  "</body>\n</html>\n")
    return [
        Exchange("other/pdf", "https://www.riverside-chronicle.example/files/annual-report-2025.pdf", "not_html", None,
                 pdf_bytes("Millbrook Historical Society - Annual Report 2025"), "application/pdf",
                 payload_type="application/pdf", expected_reason=not_html),
        Exchange("other/png", "https://www.garden-notes.example/images/apple-blossom-thumb.png", "not_html", None,
                 png_bytes(), "image/png", payload_type="image/png", expected_reason=not_html),
        Exchange("other/json", "https://www.millbrook-weather.example/api/v1/latest.json", "not_html", None,
                 json_body, "application/json", payload_type="application/json", expected_reason=not_html),
        Exchange("other/404", "https://www.kitchen-table.example/recipes/grandmas-old-cake/", "non_200", None,
                 error_404, "text/html; charset=utf-8", status=404, payload_type="text/html",
                 expected_reason="warc:non_200_status"),
        Exchange("other/301", "https://garden-notes.example/2025/tomatoes-from-seed", "non_200", None,
                 redirect_body, "text/html; charset=iso-8859-1", status=301,
                 extra_headers=[("Location", redirect_target)], payload_type="text/html",
                 expected_reason="warc:non_200_status"),
        Exchange("other/500", "https://www.two-wheel-tales.example/events/calendar/", "non_200", None,
                 error_500, "text/html", status=500, payload_type="text/html", expected_reason="warc:non_200_status"),
        Exchange("other/empty", "https://app.garden-planner.example/", "empty_extraction", None,
                 empty_page.encode("utf-8"), "text/html; charset=utf-8", payload_type="text/html",
                 expected_reason="extract:no_text"),
    ]

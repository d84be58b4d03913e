"""HTTP payload decoding and charset resolution: header, meta, BOM, detection, and lying headers."""
from __future__ import annotations

import gzip

import brotli
import pytest

from pipeline.http import HttpResponse, decode_html, decoded_body, media_type, parse_response

CAFE = "Le café crème coûte deux euros à la gare, déjà très cher pour un matin d'été."
TOKYO = "東京の図書館は毎朝九時に開きます。静かな部屋で新聞を読む人が多いです。"


def html(body_text: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body><p>{body_text}</p></body></html>"


def test_header_charset_decodes_a_windows_1252_page():
    text, codec, source = decode_html(html(CAFE).encode("cp1252"), "windows-1252")
    assert (codec, source) == ("cp1252", "header") and CAFE in text


def test_latin1_label_is_decoded_as_its_windows_1252_superset():
    page = html("Prices in € are “quoted”").encode("cp1252")
    text, codec, _ = decode_html(page, "ISO-8859-1")
    assert codec == "cp1252" and "€" in text and "“quoted”" in text


def test_meta_charset_when_the_header_has_none():
    page = html(TOKYO, '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">').encode("cp932")
    text, codec, source = decode_html(page, None)
    assert (codec, source) == ("cp932", "meta") and TOKYO in text


def test_header_wins_over_a_conflicting_meta_when_it_decodes():
    page = html(CAFE, '<meta charset="iso-8859-5">').encode("utf-8")
    text, codec, source = decode_html(page, "utf-8")
    assert (codec, source) == ("utf-8", "header") and CAFE in text


def test_a_wrong_header_charset_falls_through_to_meta():
    page = html(TOKYO, '<meta charset="euc-jp">').encode("euc_jp")
    text, codec, source = decode_html(page, "utf-8")
    assert (codec, source) == ("euc_jp", "meta") and TOKYO in text


def test_undeclared_cyrillic_is_detected():
    russian = "Весной в нашем городе открывается новый парк, и жители приходят гулять туда каждый вечер. " * 3
    text, _, source = decode_html(html(russian).encode("cp1251"), None)
    assert source == "detected" and russian.strip() in text


def test_bom_overrides_everything():
    text, codec, source = decode_html(b"\xef\xbb\xbf" + html(CAFE).encode("utf-8"), "iso-8859-1")
    assert (codec, source) == ("utf-8", "bom") and CAFE in text


def test_parse_response_status_headers_body():
    response = parse_response(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nX-A: 1\r\n\r\n<p>gone</p>")
    assert (response.status, response.headers["content-type"], response.body) == (404, "text/html", b"<p>gone</p>")


@pytest.mark.parametrize("value, expected", [
    ("text/html; charset=UTF-8", ("text/html", "UTF-8")),
    ('TEXT/HTML;Charset="koi8-r"', ("text/html", "koi8-r")),
    ("application/pdf", ("application/pdf", None)),
    (None, (None, None)),
])
def test_media_type(value, expected):
    assert media_type(value) == expected


def _response(headers: dict[str, str], body: bytes) -> HttpResponse:
    return HttpResponse(200, headers, body)


def test_chunked_then_gzip_is_undone():
    payload = html(CAFE).encode()
    zipped = gzip.compress(payload, mtime=0)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (zipped[:10], zipped[10:])) + b"0\r\n\r\n"
    headers = {"transfer-encoding": "chunked", "content-encoding": "gzip"}
    assert decoded_body(_response(headers, chunked), 10_000) == payload


def test_brotli_is_undone():
    payload = html(TOKYO).encode()
    assert decoded_body(_response({"content-encoding": "br"}, brotli.compress(payload)), 10_000) == payload


def test_headers_that_lie_about_codings_keep_the_stored_body():
    payload = html(CAFE).encode()
    lying = {"transfer-encoding": "chunked", "content-encoding": "gzip"}
    assert decoded_body(_response(lying, payload), 10_000) == payload


# ---- Regressions from the fault corpus and fuzzing (issue 11) ----------------------------------------------

@pytest.mark.parametrize("status_line", ["HTTP/1.1 ²00 OK", "HTTP/1.1 2000000000000 OK", "HTTP/1.1 20 OK", "HTTP/1.1 ٢٠٠ OK"])
def test_a_status_that_is_not_three_ascii_digits_is_a_payload_error(status_line):
    """str.isdigit() accepts "²" (int() then raised ValueError) and huge numbers overflowed the int32 column."""
    from pipeline.http import PayloadError

    with pytest.raises(PayloadError, match="bad HTTP status line"):
        parse_response(status_line.encode("utf-8") + b"\r\nContent-Type: text/html\r\n\r\n<p>x</p>")


def test_sniffing_many_comments_without_a_tag_is_fast():
    """`(?:<!--.*?-->\\s*)*<html` backtracked exponentially: 40 comments took longer than the universe."""
    import subprocess
    import sys

    code = "from pipeline.http import looks_like_html; print(looks_like_html(b'<!---->' * 40 + b'x'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout == "False\n"


@pytest.mark.parametrize("body, expected", [
    (b"<!DOCTYPE html><p>", True), (b"  <!-- a -->\n<!--b--> <HTML lang=en>", True), (b"\xef\xbb\xbf<body>", True),
    (b"<!-- <html> never closed", False), (b"<div><html>", False), (b"<!-- a --><htmlx>", False), (b"", False),
])
def test_sniffing_html(body, expected):
    from pipeline.http import looks_like_html

    assert looks_like_html(body) is expected


@pytest.mark.parametrize("label", ["base64", "rot13", "hex", "zlib", "bz2", "undefined", "utf-8\x00", "\x00"])
def test_a_charset_label_naming_a_non_text_codec_is_ignored(label):
    """bytes.decode raises LookupError for bytes-to-bytes codecs, UnicodeError for "undefined", and
    codecs.lookup ValueError for a NUL: each once crashed the task from a crawled Content-Type."""
    page = html(CAFE).encode("utf-8")
    text, codec, source = decode_html(page, label)
    assert (codec, source) == ("utf-8", "detected") and CAFE in text
    meta = html(CAFE, f'<meta charset="{label}">').encode("utf-8")
    assert decode_html(meta, None)[1] == "utf-8"


def test_a_brotli_bomb_is_refused_without_being_expanded():
    """brotli.decompress expanded the whole bomb before its size was checked (200 MB from 40 KB)."""
    import tracemalloc

    from pipeline.http import PayloadError, decode_content

    bomb = brotli.compress(bytes(64 * 1024 * 1024), quality=1)
    tracemalloc.start()
    try:
        with pytest.raises(PayloadError, match="expands past 1000000 bytes"):
            decode_content(bomb, "br", 1_000_000)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_bytes < 8 * 1_000_000


def test_a_cut_brotli_body_is_taken_as_stored():
    payload = html(TOKYO).encode()
    cut = brotli.compress(payload)[:-4]
    assert decoded_body(_response({"content-encoding": "br"}, cut), 10_000) == cut

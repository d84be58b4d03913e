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
